"""OKRs against a real database (SQLite and PostgreSQL): objectives of a quarter, key results with
their default due dates, check-ins, copies into the next quarter, deletes; every refusal names the
field and leaves the database as it was; every write is audited and needs the editor role."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from mltrl.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mltrl.models import AuditEntry, CheckIn, KeyResult, Objective, utcnow
from mltrl.services import Actor, okrs, users
from tests.factories import day, everything, make_history, make_project

ANA = Actor("ana")


@pytest.fixture
def techs(session) -> list[str]:
    make_project(session, "R02.1", "Mixed-variable BO")
    make_history(session, "R02.1", [("start", 3, None, "2026-06-01")])
    make_project(session, "P05.1", "Recycling sorter")
    return ["R02.1", "P05.1"]


def _objective(session, quarter="2027-Q1", title="Ship the sorter", **kw):
    return okrs.add_objective(session=session, actor=kw.pop("actor", ANA), quarter=quarter, title=title, **kw)


def _kr(session, objective_id, code="R02.1", level=5, **kw):
    return okrs.add_key_result(session=session, actor=kw.pop("actor", ANA), objective_id=objective_id, code=code,
                               target_level=level, **kw)


def _audits(session, entity: str, entity_id: int) -> list[tuple[str, str]]:
    return [(a.action, a.actor) for a in session.exec(
        select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.entity_id == str(entity_id))
        .order_by(AuditEntry.id)).all()]


def refused(engine, call, field: str, says: str = "") -> InvalidInput:
    """``call()`` is refused with InvalidInput naming ``field`` and writes nothing."""
    before = everything(engine)
    with pytest.raises(InvalidInput) as refusal:
        call()
    assert refusal.value.field == field, refusal.value
    assert says in str(refusal.value), refusal.value
    assert everything(engine) == before
    return refusal.value


# --- objectives and key results -------------------------------------------------------------------


def test_an_objective_with_key_results_reads_back_in_order(session, techs):
    objective = _objective(session, " 2027-q1 ", "  Ship   the sorter ", owner="Ana Ruiz")
    assert (objective.quarter, objective.title, objective.owner, objective.created_by) == (
        "2027-Q1", "Ship the sorter", "Ana Ruiz", "ana")
    assert objective.copied_from_id is None and objective.version == 1
    first = _kr(session, objective.id, "R02.1", 5)
    second = _kr(session, objective.id, "P05.1", "2", due=date(2027, 2, 15), owner="Tom", note="Needs\nfield data")
    third = _kr(session, objective.id, "R02.1", 6, due="2027-06-30")
    assert first.due == date(2027, 3, 31)  # the quarter's last day by default
    assert (second.target_level, second.due, second.owner, second.note) == (2, date(2027, 2, 15), "Tom",
                                                                          "Needs\nfield data")
    assert third.due == date(2027, 6, 30)  # any day is accepted, after the quarter too
    assert [first.position, second.position, third.position] == [0, 1, 2]

    _objective(session, "2026-Q4", "Earlier")
    _objective(session, "2027-Q1", "Second of the quarter")
    assert okrs.quarters(session) == ["2026-Q4", "2027-Q1"]
    views = okrs.objectives(session, "2027-Q1")
    assert [v.objective.title for v in views] == ["Ship the sorter", "Second of the quarter"]
    assert [(k.code, k.name, k.level, k.key_result.target_level) for k in views[0].key_results] == [
        ("R02.1", "Mixed-variable BO", 3, 5), ("P05.1", "Recycling sorter", None, 2), ("R02.1", "Mixed-variable BO", 3, 6)]
    assert views[1].key_results == ()
    assert okrs.objectives(session, "2031-Q2") == []
    assert okrs.objective(session, objective.id).key_results[1].key_result.id == second.id
    assert okrs.key_result(session, second.id).code == "P05.1"
    with pytest.raises(InvalidInput, match="quarter: 'Q1' is not a quarter"):
        okrs.objectives(session, "Q1")


def test_due_dates_round_trip_as_calendar_days(session, engine, techs):
    objective = _objective(session, "2027-Q4")
    kr = _kr(session, objective.id)
    session.expire_all()
    stored = session.get(KeyResult, kr.id)
    assert stored.due == date(2027, 12, 31) and type(stored.due) is date


def test_objective_refusals_name_the_field(session, engine, techs):
    refused(engine, lambda: _objective(session, "Q1-2027"), "quarter",
            "'Q1-2027' is not a quarter; write it as YYYY-Qn, e.g. 2027-Q1")
    refused(engine, lambda: _objective(session, "1999-Q4"), "quarter", "outside the years 2000-2100")
    refused(engine, lambda: _objective(session, title="   "), "title", "required")
    refused(engine, lambda: _objective(session, title="x" * 201), "title", "at most 200 characters")
    refused(engine, lambda: _objective(session, owner="o" * 101), "owner", "at most 100 characters")
    assert okrs.quarters(session) == []


def test_key_result_refusals_name_the_field(session, engine, techs):
    objective = _objective(session)
    _kr(session, objective.id, "R02.1", 5)
    for level, says in [(10, "10 is outside 0-9"), (-1, "-1 is outside 0-9"), ("five", "'five' is not a level"),
                        (4.5, "not a whole number"), (None, "None is not a level")]:
        refused(engine, lambda level=level: _kr(session, objective.id, "P05.1", level), "target_level", says)
    refused(engine, lambda: _kr(session, objective.id, "R02.1", 5, due=date(2027, 1, 31)), "target_level",
            "already has a key result for R02.1 reaching level 5")
    refused(engine, lambda: _kr(session, objective.id, "P05.1", 4, due="end of March"), "due", "is not a date")
    refused(engine, lambda: _kr(session, objective.id, "P05.1", 4, note="n" * 2001), "note", "at most 2000")
    refused(engine, lambda: _kr(session, objective.id, "P05.1", 4, owner="o" * 101), "owner", "at most 100")
    before = everything(engine)
    with pytest.raises(NotFound, match="No project with code 'NOPE'"):
        _kr(session, objective.id, "NOPE", 4)
    with pytest.raises(NotFound, match="There is no objective 999"):
        _kr(session, 999, "P05.1", 4)
    assert everything(engine) == before
    # the same technology and level in another objective is another key result
    assert _kr(session, _objective(session, title="Other").id, "R02.1", 5).position == 0


def test_writes_are_audited(session, techs):
    objective = _objective(session)
    kr = _kr(session, objective.id)
    okrs.edit_key_result(session=session, actor=Actor("tom"), key_result_id=kr.id, expected_version=kr.version,
                         note="Blocked on data")
    okrs.check_in(session=session, actor=Actor("tom"), key_result_id=kr.id, comment="On it", confidence=6)
    assert _audits(session, "objective", objective.id) == [("create", "ana")]
    assert _audits(session, "keyresult", kr.id) == [("create", "ana"), ("update", "tom"), ("check-in", "tom")]
    update = session.exec(select(AuditEntry).where(AuditEntry.action == "update")).one()
    assert (update.before["note"], update.after["note"], update.after["code"]) == ("", "Blocked on data", "R02.1")
    create = session.exec(select(AuditEntry).where(AuditEntry.entity == "keyresult",
                                                   AuditEntry.action == "create")).one()
    assert create.after == {**create.after, "due": "2027-03-31", "target_level": 5, "code": "R02.1"}


# --- edits and versions ---------------------------------------------------------------------------


def test_edits_change_what_is_given_and_refuse_stale_versions(session, engine, techs):
    objective = _objective(session, owner="Ana")
    edited = okrs.edit_objective(session=session, actor=ANA, objective_id=objective.id,
                                 expected_version=objective.version, title="Ship the sorter to two plants")
    assert (edited.title, edited.owner, edited.version) == ("Ship the sorter to two plants", "Ana", 2)
    cleared = okrs.edit_objective(session=session, actor=ANA, objective_id=objective.id, expected_version=2, owner="")
    assert (cleared.owner, cleared.version) == ("", 3)
    before = everything(engine)
    okrs.edit_objective(session=session, actor=ANA, objective_id=objective.id, expected_version=3,
                        title="Ship the sorter to two plants")  # nothing changes: nothing is written
    assert everything(engine) == before
    with pytest.raises(Conflict, match="changed since you opened it"):
        okrs.edit_objective(session=session, actor=ANA, objective_id=objective.id, expected_version=1, title="Stale")
    refused(engine, lambda: okrs.edit_objective(session=session, actor=ANA, objective_id=objective.id,
                                                expected_version=3, title=""), "title", "required")
    assert everything(engine) == before

    kr = _kr(session, objective.id, "R02.1", 5)
    _kr(session, objective.id, "R02.1", 6)
    kr = okrs.edit_key_result(session=session, actor=ANA, key_result_id=kr.id, expected_version=kr.version,
                              target_level=4, due="2027-02-28", owner="Tom")
    assert (kr.target_level, kr.due, kr.owner, kr.note, kr.version) == (4, date(2027, 2, 28), "Tom", "", 2)
    refused(engine, lambda: okrs.edit_key_result(session=session, actor=ANA, key_result_id=kr.id,
                                                 expected_version=2, target_level=6), "target_level",
            "already has a key result for R02.1 reaching level 6")
    refused(engine, lambda: okrs.edit_key_result(session=session, actor=ANA, key_result_id=kr.id,
                                                 expected_version=2, target_level=12), "target_level", "outside 0-9")
    refused(engine, lambda: okrs.edit_key_result(session=session, actor=ANA, key_result_id=kr.id,
                                                 expected_version=2, due="soon"), "due", "not a date")
    before = everything(engine)
    with pytest.raises(Conflict):
        okrs.edit_key_result(session=session, actor=ANA, key_result_id=kr.id, expected_version=1, note="stale")
    with pytest.raises(NotFound, match="There is no key result 999"):
        okrs.edit_key_result(session=session, actor=ANA, key_result_id=999, expected_version=1, note="x")
    assert everything(engine) == before


# --- check-ins ------------------------------------------------------------------------------------


def test_check_ins_are_dated_by_their_author_and_read_newest_first(session, engine, techs):
    kr = _kr(session, _objective(session).id)
    early = okrs.check_in(session=session, actor=Actor("tom"), key_result_id=kr.id, comment="Data arrived.",
                          confidence="7", at=day("2026-01-15"))
    late = okrs.check_in(session=session, actor=ANA, key_result_id=kr.id, comment="Pilot slipped\na month.",
                         confidence=3)
    middle = okrs.check_in(session=session, actor=ANA, key_result_id=kr.id, comment="Backfilled.", confidence=0,
                           at="2026-02-01")
    assert (early.author, early.confidence, early.at) == ("tom", 7, day("2026-01-15"))
    assert late.comment == "Pilot slipped\na month." and utcnow() - late.at < timedelta(minutes=1)
    view = okrs.key_result(session, kr.id)
    assert [c.id for c in view.check_ins] == [late.id, middle.id, early.id]
    assert view.latest_check_in.id == late.id
    assert [c.id for c in okrs.objectives(session, "2027-Q1")[0].key_results[0].check_ins] == [late.id, middle.id,
                                                                                               early.id]


@pytest.mark.parametrize(("kwargs", "field", "says"), [
    ({"confidence": 11}, "confidence", "11 is outside 0-10"),
    ({"confidence": -1}, "confidence", "-1 is outside 0-10"),
    ({"confidence": 7.5}, "confidence", "not a whole number"),
    ({"confidence": "high"}, "confidence", "'high' is not a confidence"),
    ({"confidence": True}, "confidence", "True is not a confidence"),
    ({"comment": "  "}, "comment", "required"),
    ({"comment": "c" * 2001}, "comment", "at most 2000 characters (got 2001)"),
    ({"at": utcnow() + timedelta(days=2)}, "at", "is in the future"),
    ({"at": "yesterday"}, "at", "not an ISO 8601 date"),
])
def test_check_in_refusals(session, engine, techs, kwargs, field, says):
    kr = _kr(session, _objective(session).id)
    arguments = {"comment": "Fine.", "confidence": 5} | kwargs
    refused(engine, lambda: okrs.check_in(session=session, actor=ANA, key_result_id=kr.id, **arguments), field, says)
    assert okrs.key_result(session, kr.id).check_ins == ()


# --- copies ---------------------------------------------------------------------------------------


def test_copy_into_the_next_quarter_moves_dues_and_leaves_check_ins_and_notes(session, engine, techs):
    source = _objective(session, "2027-Q4", "Ship the sorter", owner="Ana")
    at_end = _kr(session, source.id, "R02.1", 5, owner="Tom", note="Review: on track")
    mid = _kr(session, source.id, "P05.1", 3, due=date(2027, 11, 15))
    late = _kr(session, source.id, "R02.1", 6, due=date(2027, 12, 30))
    okrs.check_in(session=session, actor=ANA, key_result_id=at_end.id, comment="Good.", confidence=8)

    copy = okrs.copy_objective(session=session, actor=Actor("tom"), objective_id=source.id)
    assert (copy.quarter, copy.title, copy.owner, copy.copied_from_id, copy.created_by) == (
        "2028-Q1", "Ship the sorter", "Ana", source.id, "tom")
    view = okrs.objective(session, copy.id)
    assert [(k.code, k.key_result.target_level, k.key_result.due, k.key_result.owner, k.key_result.note)
            for k in view.key_results] == [
        ("R02.1", 5, date(2028, 3, 31), "Tom", ""),  # the quarter's end stays the quarter's end
        ("P05.1", 3, date(2028, 2, 15), "", ""),  # 45 days after the quarter's first day
        ("R02.1", 6, date(2028, 3, 31), "", ""),  # day 91 of Q4's 92 is the last of Q1 2028's 91
    ]
    assert all(k.check_ins == () for k in view.key_results)
    assert [k.key_result.position for k in view.key_results] == [0, 1, 2]
    assert len(okrs.key_result(session, at_end.id).check_ins) == 1  # the source keeps its own
    assert okrs.quarters(session) == ["2027-Q4", "2028-Q1"]
    assert _audits(session, "objective", copy.id) == [("copy", "tom")]
    copied = session.exec(select(AuditEntry).where(AuditEntry.entity == "keyresult",
                                                   AuditEntry.entity_id == str(view.key_results[1].key_result.id))).one()
    assert copied.after["copied_from"] == mid.id and late.id != mid.id

    again = okrs.copy_objective(session=session, actor=ANA, objective_id=copy.id, quarter="2028-q3")
    assert again.quarter == "2028-Q3" and again.copied_from_id == copy.id
    assert [k.key_result.due for k in okrs.objective(session, again.id).key_results] == [
        date(2028, 9, 30), date(2028, 8, 15), date(2028, 9, 30)]


def test_copy_refusals(session, engine, techs):
    source = _objective(session, "2027-Q1")
    refused(engine, lambda: okrs.copy_objective(session=session, actor=ANA, objective_id=source.id, quarter="next"),
            "quarter", "'next' is not a quarter")
    last = _objective(session, "2100-Q4", "The end of the calendar")
    refused(engine, lambda: okrs.copy_objective(session=session, actor=ANA, objective_id=last.id), "quarter",
            "2101 is outside the years 2000-2100")
    before = everything(engine)
    with pytest.raises(NotFound):
        okrs.copy_objective(session=session, actor=ANA, objective_id=12345)
    assert everything(engine) == before


# --- deletes --------------------------------------------------------------------------------------


def test_deleting_a_key_result_takes_its_check_ins_into_the_audit_trail(session, engine, techs):
    objective = _objective(session)
    kr = _kr(session, objective.id)
    other = _kr(session, objective.id, "P05.1", 2)
    okrs.check_in(session=session, actor=ANA, key_result_id=kr.id, comment="Good.", confidence=8)
    with pytest.raises(Conflict):
        okrs.delete_key_result(session=session, actor=ANA, key_result_id=kr.id, expected_version=kr.version + 1)
    okrs.delete_key_result(session=session, actor=ANA, key_result_id=kr.id, expected_version=kr.version)
    assert [k.key_result.id for k in okrs.objective(session, objective.id).key_results] == [other.id]
    assert session.exec(select(CheckIn)).all() == []
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "delete")).one()
    assert (entry.entity, entry.entity_id, entry.after) == ("keyresult", str(kr.id), None)
    assert [c["comment"] for c in entry.before["check_ins"]] == ["Good."]


def test_deleting_an_objective_deletes_its_key_results_and_unlinks_its_copies(session, engine, techs):
    objective = _objective(session)
    first, second = _kr(session, objective.id), _kr(session, objective.id, "P05.1", 2)
    okrs.check_in(session=session, actor=ANA, key_result_id=first.id, comment="Good.", confidence=8)
    copy = okrs.copy_objective(session=session, actor=ANA, objective_id=objective.id)
    kept = everything(engine)["keyresult"]
    before = everything(engine)
    with pytest.raises(Conflict):
        okrs.delete_objective(session=session, actor=ANA, objective_id=objective.id, expected_version=7)
    assert everything(engine) == before

    okrs.delete_objective(session=session, actor=Actor("tom"), objective_id=objective.id,
                          expected_version=objective.version)
    assert okrs.quarters(session) == ["2027-Q2"]
    assert session.exec(select(CheckIn)).all() == []
    assert {k.id for k in session.exec(select(KeyResult)).all()} == {r[0] for r in kept} - {first.id, second.id}
    session.expire_all()
    assert session.get(Objective, copy.id).copied_from_id is None
    assert _audits(session, "objective", objective.id) == [("create", "ana"), ("delete", "tom")]
    assert _audits(session, "objective", copy.id) == [("copy", "ana"), ("unlink", "tom")]
    assert _audits(session, "keyresult", first.id)[-1] == ("delete", "tom")
    assert _audits(session, "keyresult", second.id)[-1] == ("delete", "tom")
    entry = session.exec(select(AuditEntry).where(AuditEntry.entity == "objective",
                                                  AuditEntry.action == "delete")).one()
    assert entry.before["key_results"] == [first.id, second.id]


# --- roles ----------------------------------------------------------------------------------------


def test_okr_writes_need_the_editor_role(session, engine, techs):
    users.create_first_admin(session=session, actor=Actor("x"), name="ada", password="correct horse")
    for name, role in [("vic", "viewer"), ("eve", "editor")]:
        users.add_user(session=session, actor=Actor("ada"), name=name, role=role, password="correct horse")
    vic, eve = Actor("vic"), Actor("eve")
    objective = _objective(session, actor=eve)
    kr = _kr(session, objective.id, actor=eve)
    before = everything(engine)
    for call in [
        lambda: _objective(session, actor=vic),
        lambda: okrs.edit_objective(session=session, actor=vic, objective_id=objective.id, expected_version=1,
                                    title="Mine"),
        lambda: _kr(session, objective.id, "P05.1", 2, actor=vic),
        lambda: okrs.edit_key_result(session=session, actor=vic, key_result_id=kr.id, expected_version=1, note="n"),
        lambda: okrs.check_in(session=session, actor=vic, key_result_id=kr.id, comment="c", confidence=5),
        lambda: okrs.copy_objective(session=session, actor=vic, objective_id=objective.id),
        lambda: okrs.delete_key_result(session=session, actor=vic, key_result_id=kr.id, expected_version=1),
        lambda: okrs.delete_objective(session=session, actor=vic, objective_id=objective.id, expected_version=1),
    ]:
        with pytest.raises(PermissionDenied, match="vic is a viewer; this needs the editor role"):
            call()
    assert everything(engine) == before
    assert okrs.check_in(session=session, actor=eve, key_result_id=kr.id, comment="c", confidence=5).author == "eve"
    assert [v.objective.id for v in okrs.objectives(session, "2027-Q1")] == [objective.id]  # a viewer may read
