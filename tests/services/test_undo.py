"""Undoing a delete (SQLite and PostgreSQL): restore_deleted puts back exactly the rows the delete
removed (ids, versions, children, the copies' links), from the delete's audit entry; it is
audited as "restore"; the deleter may undo their own delete and an admin any; everything else is
refused with nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlmodel import select

from mltrl.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mltrl.models import AuditEntry, Objective
from mltrl.services import Actor, okrs, risks, undo, users
from tests.factories import everything, make_history, make_project

ANA, TOM = Actor("ana"), Actor("tom")


def _state(engine) -> dict[str, list[tuple]]:
    """Every row of every table but the audit trail's (which a delete and its undo add to)."""
    return {name: rows for name, rows in everything(engine).items() if name != "auditentry"}


def refused(engine, call, error=Conflict, says: str = ""):
    before = everything(engine)
    with pytest.raises(error) as refusal:
        call()
    assert says in str(refusal.value), refusal.value
    assert everything(engine) == before
    return refusal.value


def _restore(session, actor, deletion):
    return undo.restore_deleted(session=session, actor=actor, entry_ids=list(deletion.entries))


@pytest.fixture
def quarter(session) -> dict:
    """Two technologies, an objective with two key results and three check-ins, and its copy."""
    make_project(session, "R02.1", "Mixed-variable BO")
    make_history(session, "R02.1", [("start", 3, None, "2026-06-01")])
    make_project(session, "P05.1", "Recycling sorter")
    objective = okrs.add_objective(session=session, actor=ANA, quarter="2027-Q1", title="Ship the sorter", owner="Ana")
    first = okrs.add_key_result(session=session, actor=ANA, objective_id=objective.id, code="R02.1", target_level=5,
                                note="The review's note")
    second = okrs.add_key_result(session=session, actor=ANA, objective_id=objective.id, code="P05.1",
                                 target_level=2, due="2027-02-15")
    okrs.edit_key_result(session=session, actor=ANA, key_result_id=second.id, expected_version=second.version,
                         owner="Tom")
    for kr, comment, confidence in [(first, "Good.", 8), (first, "Slower.", 6), (second, "On it.", 7)]:
        okrs.check_in(session=session, actor=ANA, key_result_id=kr.id, comment=comment, confidence=confidence)
    copy = okrs.copy_objective(session=session, actor=ANA, objective_id=objective.id)
    return {"objective": okrs.objective(session, objective.id).objective, "krs": [first, second], "copy": copy}


def test_undo_gives_back_exactly_what_deleting_an_objective_took(session, engine, quarter):
    objective = quarter["objective"]
    before = _state(engine)
    deletion = okrs.delete_objective(session=session, actor=TOM, objective_id=objective.id,
                                     expected_version=objective.version)
    assert deletion.what == "objective “Ship the sorter” with 2 key results and 3 check-ins"
    assert _state(engine) != before

    restored = _restore(session, TOM, deletion)
    assert restored.text == deletion.what
    assert _state(engine) == before  # same ids, versions, check-ins, and the copy linked again
    session.expire_all()
    assert session.get(Objective, quarter["copy"].id).copied_from_id == objective.id
    later = session.exec(select(AuditEntry).where(AuditEntry.id > deletion.entries[0])
                         .order_by(AuditEntry.id)).all()
    assert [(a.entity, a.action, a.actor) for a in later] == [
        ("keyresult", "restore", "tom"), ("keyresult", "restore", "tom"), ("objective", "restore", "tom"),
        ("objective", "relink", "tom")]
    assert later[2].after["restored_from"] == deletion.entries[0]
    assert [c["comment"] for c in later[0].after["check_ins"]] == ["Slower.", "Good."]

    # restored once: a second undo is refused, naming who restored it
    refused(engine, lambda: _restore(session, TOM, deletion), Conflict, "was restored already, by tom")
    # and the restored objective can be deleted and restored again
    again = okrs.delete_objective(session=session, actor=TOM, objective_id=objective.id,
                                  expected_version=objective.version)
    _restore(session, TOM, again)
    assert _state(engine) == before


def test_a_key_result_and_a_requirement_come_back_the_same(session, engine, quarter):
    first = quarter["krs"][0]
    risks.add_requirement(session=session, actor=ANA, code="R02.1", number="1.2", statement="Detects defects",
                          p_failure=0.2, value=4)
    risks.add_requirement(session=session, actor=ANA, code="R02.1", number="2", statement="Runs on the line",
                          p_failure=0.1, value=3)
    before = _state(engine)
    gone = okrs.delete_key_result(session=session, actor=ANA, key_result_id=first.id, expected_version=first.version)
    assert gone.what == "key result “R02.1 ≥ 5 by 2027-03-31” with 2 check-ins"
    _restore(session, ANA, gone)
    assert _state(engine) == before

    single = risks.delete_requirement(session=session, actor=ANA, code="R02.1", number="2")
    assert single.what == "requirement 2 “Runs on the line” of R02.1"
    versions = {r.number: r.version for r in risks.requirements(session, "R02.1")}
    summary = risks.edit_requirements(session=session, actor=ANA, code="R02.1", edits=[],
                                      deletions=[risks.RowEdit("1.2", versions["1.2"], {})])
    assert summary.deleted == 1 and summary.deletion.what == "requirement 1.2 “Detects defects” of R02.1"
    undo.restore_deleted(session=session, actor=ANA, entry_ids=[*single.entries, *summary.deletion.entries])
    assert _state(engine) == before


def test_what_took_the_place_of_a_deleted_thing_refuses_its_undo(session, engine, quarter):
    first = quarter["krs"][0]
    objective = quarter["objective"]
    gone = okrs.delete_key_result(session=session, actor=ANA, key_result_id=first.id, expected_version=first.version)
    okrs.add_key_result(session=session, actor=ANA, objective_id=objective.id, code="R02.1", target_level=5)
    refused(engine, lambda: _restore(session, ANA, gone), Conflict,
            "objective “Ship the sorter” has a key result for R02.1 reaching level 5 again")

    risks.add_requirement(session=session, actor=ANA, code="R02.1", number="3", statement="s", p_failure=0.1, value=2)
    req = risks.delete_requirement(session=session, actor=ANA, code="R02.1", number="3")
    risks.add_requirement(session=session, actor=ANA, code="R02.1", number="3", statement="New", p_failure=0.1,
                          value=2)
    refused(engine, lambda: _restore(session, ANA, req), Conflict, "R02.1 has a requirement 3 again (“New”)")

    # a key result deleted with its objective comes back with the objective, not alone
    second = okrs.key_result(session, quarter["krs"][1].id).key_result
    whole = okrs.delete_objective(session=session, actor=ANA, objective_id=objective.id,
                                  expected_version=objective.version)
    alone = session.exec(select(AuditEntry).where(AuditEntry.entity == "keyresult", AuditEntry.action == "delete",
                                                  AuditEntry.entity_id == str(second.id))).one()
    refused(engine, lambda: undo.restore_deleted(session=session, actor=ANA, entry_ids=[alone.id]), Conflict,
            f"its objective was deleted too. Restore the objective (audit entry {whole.entries[0]})")

    # a technology gone meanwhile (simulated: the trail names one that does not exist)
    entry = session.get(AuditEntry, whole.entries[0])
    rows = [dict(k) for k in entry.before["key_result_rows"]]
    rows[0]["project_id"], rows[0]["code"] = 999_999, "GONE.1"
    session.exec(update(AuditEntry).where(AuditEntry.id == entry.id)
                 .values(before={**entry.before, "key_result_rows": rows}))
    session.commit()
    session.expire_all()
    refused(engine, lambda: _restore(session, ANA, whole), Conflict, "its technology GONE.1 no longer exists")


def test_only_deletes_of_objectives_key_results_and_requirements_are_restored(session, engine, quarter):
    create = session.exec(select(AuditEntry).where(AuditEntry.action == "create")).first()
    refused(engine, lambda: undo.restore_deleted(session=session, actor=ANA, entry_ids=[create.id]), InvalidInput,
            "records a create of")
    refused(engine, lambda: undo.restore_deleted(session=session, actor=ANA, entry_ids=[10**6]), NotFound,
            "There is no audit entry 1000000")
    for bad, says in [([], "name the delete entries"), ([[1]], "whole numbers"), (["1"], "whole numbers"),
                      ([True], "whole numbers"), (list(range(1, 1002)), "at most 1000")]:
        refused(engine, lambda bad=bad: undo.restore_deleted(session=session, actor=ANA, entry_ids=bad),
                InvalidInput, says)
    refused(engine, lambda: undo.restore_deleted(session=session, actor=ANA, entry_ids=[2**40]), NotFound,
            "There is no audit entry")
    assert undo.restorable(session, create.id) is None


def test_all_or_nothing_when_one_of_several_is_refused(session, engine, quarter):
    risks.add_requirement(session=session, actor=ANA, code="R02.1", number="4", statement="s", p_failure=0.1, value=2)
    req = risks.delete_requirement(session=session, actor=ANA, code="R02.1", number="4")
    first = quarter["krs"][0]
    kr = okrs.delete_key_result(session=session, actor=ANA, key_result_id=first.id, expected_version=first.version)
    _restore(session, ANA, kr)
    refused(engine, lambda: undo.restore_deleted(session=session, actor=ANA, entry_ids=[*req.entries, *kr.entries]),
            Conflict, "restored already")


def test_an_entry_from_before_objectives_carried_their_key_results_restores_too(session, engine, quarter):
    objective = quarter["objective"]
    before = _state(engine)
    deletion = okrs.delete_objective(session=session, actor=ANA, objective_id=objective.id,
                                     expected_version=objective.version)
    entry = session.get(AuditEntry, deletion.entries[0])
    old = {k: v for k, v in entry.before.items() if k not in ("key_result_rows", "copies")}
    session.exec(update(AuditEntry).where(AuditEntry.id == entry.id).values(before=old))
    session.commit()
    session.expire_all()
    assert undo.restorable(session, entry.id).what == "objective “Ship the sorter” with 2 key results"
    _restore(session, ANA, deletion)
    after = _state(engine)
    assert {k: v for k, v in after.items() if k != "objective"} == {k: v for k, v in before.items() if k != "objective"}
    copy = quarter["copy"].id
    assert [r for r in after["objective"] if r[0] != copy] == [r for r in before["objective"] if r[0] != copy]


def test_an_id_taken_meanwhile_gives_a_new_one(session, engine, quarter):
    """SQLite hands the highest id out again: the objective comes back under a new id."""
    copy = quarter["copy"]
    deletion = okrs.delete_objective(session=session, actor=ANA, objective_id=copy.id, expected_version=copy.version)
    newcomer = okrs.add_objective(session=session, actor=ANA, quarter="2027-Q3", title="Newcomer")
    _restore(session, ANA, deletion)
    titles = {v.objective.title: v for v in okrs.objectives(session, "2027-Q2")}
    back = titles["Ship the sorter"]
    assert back.objective.copied_from_id == quarter["objective"].id
    assert [k.code for k in back.key_results] == ["R02.1", "P05.1"]
    assert okrs.objective(session, newcomer.id).objective.title == "Newcomer"


def test_a_copy_changed_since_the_delete_is_relinked_as_a_change(session, engine, quarter):
    objective, copy = quarter["objective"], quarter["copy"]
    deletion = okrs.delete_objective(session=session, actor=ANA, objective_id=objective.id,
                                     expected_version=objective.version)
    unlinked = okrs.objective(session, copy.id).objective.version
    okrs.edit_objective(session=session, actor=ANA, objective_id=copy.id, expected_version=unlinked,
                        owner="Somebody else")
    _restore(session, ANA, deletion)
    session.expire_all()
    relinked = session.get(Objective, copy.id)
    assert (relinked.copied_from_id, relinked.owner, relinked.version) == (objective.id, "Somebody else",
                                                                            unlinked + 2)


def test_the_deleter_undoes_their_own_delete_and_an_admin_any(session, engine, quarter):
    users.create_first_admin(session=session, actor=Actor("x"), name="ada", password="correct horse")
    for name, role in [("vic", "viewer"), ("eve", "editor"), ("rey", "reviewer")]:
        users.add_user(session=session, actor=Actor("ada"), name=name, role=role, password="correct horse")
    objective = quarter["objective"]
    first, second = quarter["krs"]
    by_eve = okrs.delete_key_result(session=session, actor=Actor("eve"), key_result_id=first.id,
                                    expected_version=first.version)
    by_rey = okrs.delete_key_result(session=session, actor=Actor("rey"), key_result_id=second.id,
                                    expected_version=second.version)
    refused(engine, lambda: _restore(session, Actor("vic"), by_eve), PermissionDenied, "vic is a viewer")
    refused(engine, lambda: _restore(session, Actor("rey"), by_eve), PermissionDenied,
            "Only eve, who deleted it, or an admin may restore the key result “R02.1 ≥ 5 by 2027-03-31”")
    _restore(session, Actor("eve"), by_eve)
    _restore(session, Actor("ada"), by_rey)
    assert [k.key_result.id for k in okrs.objective(session, objective.id).key_results] == [first.id, second.id]
    restores = session.exec(select(AuditEntry).where(AuditEntry.action == "restore").order_by(AuditEntry.id)).all()
    assert [(a.actor, a.entity_id) for a in restores] == [("eve", str(first.id)), ("ada", str(second.id))]


def test_restorable_says_what_would_come_back_or_why_not(session, engine, quarter):
    objective = quarter["objective"]
    deletion = okrs.delete_objective(session=session, actor=ANA, objective_id=objective.id,
                                     expected_version=objective.version)
    offer = undo.restorable(session, deletion.entries[0])
    assert (offer.what, offer.deleted_by, offer.problem) == (deletion.what, "ana", None)
    _restore(session, ANA, deletion)
    assert undo.restorable(session, deletion.entries[0]).problem.startswith("It was restored already, by ana on ")
    first = quarter["krs"][0]
    okrs.delete_key_result(session=session, actor=ANA, key_result_id=first.id, expected_version=first.version)
    twin = okrs.add_key_result(session=session, actor=ANA, objective_id=objective.id, code="R02.1", target_level=5)
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "delete").order_by(AuditEntry.id.desc())).first()
    assert undo.restorable(session, entry.id).problem == (
        "It cannot be restored: objective “Ship the sorter” has a key result for R02.1 reaching level 5 again "
        f"(key result {twin.id}).")
