"""Random and hostile values at the register's other entry points (issue 14), on SQLite and
PostgreSQL: adding requirements and risks, accepting, and grid saves give a result or a named
refusal (``InvalidInput``/``RowErrors``/``NotFound``/``Conflict``), never another exception, and a
refusal writes nothing."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from mltrl.domain.errors import InvalidInput, MltrlError
from mltrl.services import Actor, risks
from tests.factories import everything, make_history, make_project

ANA = Actor("ana")

hostile = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), st.text(max_size=40),
    st.sampled_from(["", " ", "inf", "1e309", "-0", "0x10", "nan", "30%", "1", "1.2", "data", "accepted", "open",
                     "nul\x00byte", "=HYPERLINK(\"x\")", "a" * 6000, "R02.1", "R0\x002.1", "2027-03-31"]),
    st.lists(st.text(max_size=3), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@pytest.fixture
def r02(session) -> str:
    make_project(session, "R02.1", "Mixed-variable BO")
    make_history(session, "R02.1", [("start", 4, None, "2026-01-05")])
    risks.add_requirement(session=session, actor=ANA, code="R02.1", number="1", statement="Holds.", p_failure=0.1,
                          value=2)
    risks.add_risk(session=session, actor=ANA, code="R02.1", title="Drift", category="data", p_failure=0.5, value=8)
    return "R02.1"


def _done_or_refused(engine, session, call):
    before = everything(engine)
    try:
        call()
    except MltrlError as refusal:
        assert str(refusal)
        session.rollback()
        assert everything(engine) == before, "a refusal wrote something"


SETTINGS = settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(field=st.sampled_from(["number", "statement", "p_failure", "value", "kind", "level", "verification_method",
                              "verification_status", "validation_status"]), value=hostile)
def test_hostile_requirement_fields(session: Session, engine, r02, field, value):
    fields = {"number": "2", "statement": "New.", "p_failure": 0.2, "value": 3} | {field: value}
    _done_or_refused(engine, session, lambda: risks.add_requirement(session=session, actor=ANA, code=r02, **fields))


@SETTINGS
@given(field=st.sampled_from(["title", "category", "p_failure", "value", "description", "component", "requirement",
                              "mitigation", "owner", "status"]), value=hostile)
def test_hostile_risk_fields(session: Session, engine, r02, field, value):
    fields = {"title": "New", "category": "data", "p_failure": 0.2, "value": 3} | {field: value}
    _done_or_refused(engine, session, lambda: risks.add_risk(session=session, actor=ANA, code=r02, **fields))


@SETTINGS
@given(reason=hostile, until=st.one_of(hostile, st.datetimes(min_value=datetime(1, 1, 2))))
def test_hostile_acceptances(session: Session, engine, r02, reason, until):
    row = risks.risks(session, r02)[0]
    _done_or_refused(engine, session, lambda: risks.accept_risk(
        session=session, actor=ANA, code=r02, risk_id=row.id, expected_version=row.version, reason=reason,
        until=until))


@SETTINGS
@given(column=st.sampled_from(risks.REQUIREMENT_COLUMNS + ["title", "status", "owner", "nonsense"]), value=hostile,
       version=st.one_of(st.just(None), st.integers(-2**70, 2**70)), key=st.one_of(st.just("1"), hostile))
def test_hostile_grid_saves(session: Session, engine, r02, column, value, version, key):
    req = risks.requirements(session, r02)[0]
    risk = risks.risks(session, r02)[0]
    edit = risks.RowEdit(key=key if key != "1" else req.number, expected_version=req.version if version is None
                         else version, changes={column: value})
    _done_or_refused(engine, session, lambda: risks.edit_requirements(session=session, actor=ANA, code=r02,
                                                                      edits=[edit], deletions=[]))
    edit = risks.RowEdit(key=key if key != "1" else str(risk.id), expected_version=risk.version if version is None
                         else version, changes={column: value})
    _done_or_refused(engine, session, lambda: risks.edit_risks(session=session, actor=ANA, code=r02, edits=[edit]))


def test_text_that_is_no_text_is_refused_by_name(session, engine, r02):
    before = everything(engine)
    for field, value in [("title", ["a"]), ("owner", 42), ("description", {"x": 1}), ("title", "a\x00b")]:
        with pytest.raises(InvalidInput) as refusal:
            risks.add_risk(session=session, actor=ANA, code=r02, **({"title": "x", "category": "data",
                                                                      "p_failure": 0.1, "value": 2} | {field: value}))
        assert refusal.value.field == field
    assert everything(engine) == before
