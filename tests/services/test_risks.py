"""Requirements and risk registers against a real database (SQLite and PostgreSQL): inputs,
history, CSV all-or-nothing, and matrix counts made in SQL checked against an independent count."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest

from mltrl.domain import risk as rules
from mltrl.domain.errors import Conflict, InvalidInput, RowErrors
from mltrl.models import utcnow
from mltrl.services import Actor, risks
from tests.factories import everything, make_history, make_project

ANA = Actor("ana")


@pytest.fixture
def r02(session) -> str:
    make_project(session, "R02.1", "Mixed-variable BO")
    make_history(session, "R02.1", [("start", 4, None, "2026-01-05")])
    return "R02.1"


def req(session, number, p="0.3", value=5, **kw):
    return risks.add_requirement(session=session, actor=ANA, code="R02.1", number=number,
                                 statement=kw.pop("statement", f"Requirement {number} shall hold."),
                                 p_failure=p, value=value, **kw)


def test_requirements_sort_numerically_and_default_their_kind_by_level(session, r02):
    for number in ["1.10", "2", "1", "1.9", "1.2.3"]:
        req(session, number)
    assert [r.number for r in risks.requirements(session, r02)] == ["1", "1.2.3", "1.9", "1.10", "2"]
    assert {r.kind for r in risks.requirements(session, r02)} == {"research"}  # level 4
    assert req(session, "3", level=6).kind == "product"


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"p": "1.5"}, "p_failure", "outside 0 to 1"),
    ({"value": "11"}, "value", "outside 1-10"),
    ({"value": "2.5"}, "value", "not an integer"),
    ({"number": "1.x"}, "number", "n.subset.component"),
    ({"number": "1"}, "number", "already exists"),
    ({"verification_status": "done"}, "verification_status", "not started, in progress, passed, failed"),
])
def test_bad_requirements_are_refused_by_field_and_write_nothing(session, engine, r02, fields, field, words):
    req(session, "1")
    before = everything(engine)
    fields = dict(fields)
    number = fields.pop("number", "2")
    with pytest.raises(InvalidInput) as refusal:
        req(session, number, **fields)
    assert refusal.value.field == field and words in refusal.value.message
    assert everything(engine) == before


def test_risk_history_keeps_every_change_of_p_value_and_status(session, r02):
    row = risks.add_risk(session=session, actor=ANA, code=r02, title="Drift", category="data", p_failure="40%", value=6)
    row = risks.update_risk(session=session, actor=Actor("tom"), code=r02, risk_id=row.id,
                            expected_version=row.version, changes={"p_failure": 0.7})
    row = risks.update_risk(session=session, actor=ANA, code=r02, risk_id=row.id, expected_version=row.version,
                            changes={"mitigation": "Monitor weekly"})  # no p/value/status change: no history row
    row = risks.update_risk(session=session, actor=ANA, code=r02, risk_id=row.id, expected_version=row.version,
                            changes={"status": "mitigating"})
    history = risks.risk_history(session, row.id)
    assert [(e.actor, e.action, e.p_failure, e.value, e.status) for e in history] == [
        ("ana", "create", 0.4, 6, "open"), ("tom", "update", 0.7, 6, "open"), ("ana", "update", 0.7, 6, "mitigating")]
    with pytest.raises(Conflict):
        risks.update_risk(session=session, actor=ANA, code=r02, risk_id=row.id, expected_version=1, changes={"value": 2})


def test_accepting_records_who_why_and_until(session, r02):
    row = risks.add_risk(session=session, actor=ANA, code=r02, title="Vendor lock-in", category="project/business",
                         p_failure=0.5, value=4)
    with pytest.raises(InvalidInput, match="status"):
        risks.update_risk(session=session, actor=ANA, code=r02, risk_id=row.id, expected_version=row.version,
                          changes={"status": "accepted"})
    with pytest.raises(InvalidInput, match="until"):
        risks.accept_risk(session=session, actor=ANA, code=r02, risk_id=row.id, expected_version=row.version,
                          reason="cheap to switch later", until=utcnow() - timedelta(days=1))
    until = utcnow() + timedelta(days=180)
    row = risks.accept_risk(session=session, actor=Actor("lead"), code=r02, risk_id=row.id,
                            expected_version=row.version, reason="cheap to switch later", until=until)
    assert (row.status, row.accepted_by, row.accepted_reason) == ("accepted", "lead", "cheap to switch later")
    assert risks.risk_history(session, row.id)[-1].action == "accept"


def test_csv_round_trip_and_all_or_nothing(session, engine, r02):
    req(session, "1")
    text = "number,statement,p_failure,value,verification_status\n2,New one,25%,3,in progress\n1,Changed,0.9,9,passed\n"
    summary = risks.import_requirements(session=session, actor=ANA, code=r02, text=text)
    assert (summary.added, summary.updated) == (1, 1)
    exported = risks.export_requirements(session, r02)
    assert exported.splitlines()[0] == ",".join(risks.REQUIREMENT_COLUMNS)
    assert risks.import_requirements(session=session, actor=ANA, code=r02, text=exported) == risks.ImportSummary(0, 2)
    before = everything(engine)
    bad = "number,statement,p_failure,value\n3,fine,0.1,2\n4,bad value,0.1,12\n5,,0.1,2\n3,twice,0.1,2\n"
    with pytest.raises(RowErrors) as refusal:
        risks.import_requirements(session=session, actor=ANA, code=r02, text=bad)
    assert [(row, field) for row, field, _ in refusal.value.errors] == [(3, "value"), (4, "statement"), (5, "number")]
    with pytest.raises(InvalidInput, match="unknown column.*'colour'"):
        risks.import_requirements(session=session, actor=ANA, code=r02, text="number,statement,p_failure,value,colour\n")
    assert everything(engine) == before


def test_risks_csv_updates_by_title(session, r02):
    req(session, "1")
    text = ("title,category,p_failure,value,requirement,component,status\n"
            "Drift,data,0.5,8,1,R02.1,open\nBias,ethics,30%,9,,,mitigating\n")
    assert risks.import_risks(session=session, actor=ANA, code=r02, text=text) == risks.ImportSummary(2, 0)
    assert risks.import_risks(session=session, actor=ANA, code=r02, text=risks.export_risks(session, r02)) == \
        risks.ImportSummary(0, 2)
    with pytest.raises(RowErrors) as refusal:
        risks.import_risks(session=session, actor=ANA, code=r02,
                           text="title,category,p_failure,value,requirement\nX,weather,0.1,2,\nY,data,0.1,2,7\n")
    assert [(row, field) for row, field, _ in refusal.value.errors] == [(2, "category"), (3, "requirement")]


def test_matrix_counts_match_an_independent_count(session, r02):
    make_project(session, "P07.1", "Other")
    rng = random.Random(7)
    rows = []
    for i in range(120):
        code = rng.choice(["R02.1", "P07.1"])
        p, value = round(rng.choice([0, 0.2, 0.4, 0.6, 0.8, 1.0, rng.random()]), 3), rng.randint(1, 10)
        status = rng.choice(["open", "mitigating", "closed"])
        risks.add_risk(session=session, actor=ANA, code=code, title=f"risk {i}", category="technical",
                       p_failure=p, value=value, status=status)
        rows.append((code, p, value, status))

    def independent(code=None):
        return Counter(((min(5, int(p * 5) + 1)), (v + 1) // 2) for c, p, v, s in rows
                       if s != "closed" and (code is None or c == code))

    assert risks.matrix_counts(session) == dict(independent())
    assert risks.matrix_counts(session, "P07.1") == dict(independent("P07.1"))
    (pb, vb), n = independent().most_common(1)[0]
    assert len(risks.cell_items(session, pb, vb)) == n
    assert risks.matrix_counts(session, project_levels=[4]) == dict(independent("R02.1"))
    assert risks.matrix_counts(session, categories=["ethics"]) == {}
    assert sum(c["count"] for c in rules.matrix_cells(risks.matrix_counts(session))) == sum(independent().values())


def test_requirement_matrix_counts_requirements(session, r02):
    req(session, "1", p="0.9", value=10)
    req(session, "2", p="0.1", value=1)
    assert risks.matrix_counts(session, r02, requirements_matrix=True) == {(5, 5): 1, (1, 1): 1}


def test_registers_built_one_by_one_and_from_csv_give_the_same_matrices(session, r02):
    """What the add forms build (one use case per item) and what a CSV file of the same items
    builds give the same matrices, equal to a count made by hand from the items."""
    make_project(session, "P07.1", "Built from CSV")
    make_history(session, "P07.1", [("start", 4, None, "2026-01-05")])
    rng = random.Random(11)
    reqs, items = [], []
    for i in range(1, 41):
        p, value = round(rng.choice([0.0, 0.2, 0.4, 0.6, 0.8, 1.0, rng.random()]), 3), rng.randint(1, 10)
        reqs.append((str(i), p, value))
        req(session, str(i), p=f"{p * 100:g}%" if i % 2 else str(p), value=value)
    for i in range(60):
        p, value = round(rng.random(), 3), rng.randint(1, 10)
        status = rng.choice(["open", "mitigating", "closed"])
        items.append((f"risk {i}", p, value, status))
        risks.add_risk(session=session, actor=ANA, code=r02, title=f"risk {i}", category="data", p_failure=p,
                       value=value, status=status)
    req_csv = "number,statement,p_failure,value\n" + "".join(f"{n},Req {n},{p},{v}\n" for n, p, v in reqs)
    risk_csv = "title,category,p_failure,value,status\n" + "".join(f"{t},data,{p},{v},{s}\n" for t, p, v, s in items)
    risks.import_requirements(session=session, actor=ANA, code="P07.1", text=req_csv)
    risks.import_risks(session=session, actor=ANA, code="P07.1", text=risk_csv)

    def by_hand(rows):
        return dict(Counter((rules.p_band(p), rules.value_band(v)) for p, v in rows))

    open_risks = [(p, v) for _, p, v, s in items if s != "closed"]
    assert risks.matrix_counts(session, r02) == risks.matrix_counts(session, "P07.1") == by_hand(open_risks)
    assert (risks.matrix_counts(session, r02, requirements_matrix=True)
            == risks.matrix_counts(session, "P07.1", requirements_matrix=True)
            == by_hand([(p, v) for _, p, v in reqs]))
