"""Grids of edits that meet rows somebody else saved meanwhile (SQLite and PostgreSQL): the batch is
refused as a whole, nothing is written, and the refusal lists each such row (``RowErrors.stale``:
its key, id and the version stored now, None when gone), so a page can keep the person's edits and
say who changed what."""

from __future__ import annotations

import pytest

from mltrl.domain.errors import RowErrors, StaleRow
from mltrl.services import Actor, reviews, risks
from tests.factories import everything, make_history, make_project

ANA, BOB = Actor("ana"), Actor("bob")


@pytest.fixture
def registers(session) -> dict[str, object]:
    make_project(session, "R02.1", "Mixed-variable BO")
    one = risks.add_requirement(session=session, actor=ANA, code="R02.1", number="1", statement="Optimise.",
                                p_failure=0.5, value=5)
    two = risks.add_requirement(session=session, actor=ANA, code="R02.1", number="2", statement="Spare.",
                                p_failure=0.1, value=2)
    drift = risks.add_risk(session=session, actor=ANA, code="R02.1", title="Drift", category="data", p_failure=0.5,
                           value=8)
    return {"one": one.id, "two": two.id, "drift": drift.id}


def test_a_requirement_saved_meanwhile_refuses_the_grid_and_is_named_stale(session, engine, registers):
    risks.update_requirement(session=session, actor=BOB, code="R02.1", number="1", expected_version=1,
                             changes={"statement": "Bob's."})
    before = everything(engine)
    with pytest.raises(RowErrors) as refusal:
        risks.edit_requirements(session=session, actor=ANA, code="R02.1", deletions=[], edits=[
            risks.RowEdit(key="1", expected_version=1, changes={"value": 7}, row_id=registers["one"]),
            risks.RowEdit(key="2", expected_version=1, changes={"value": 3}, row_id=registers["two"])])
    assert refusal.value.stale == (StaleRow("1", registers["one"], 2),)
    assert [(row, field) for row, field, _ in refusal.value.errors] == [("requirement 1", "version")]
    assert everything(engine) == before  # all or nothing: requirement 2 was not saved either


def test_a_requirement_renumbered_meanwhile_is_found_by_its_id(session, registers):
    risks.update_requirement(session=session, actor=BOB, code="R02.1", number="1", expected_version=1,
                             changes={"number": "1.1"})
    edit = risks.RowEdit(key="1", expected_version=1, changes={"value": 7}, row_id=registers["one"])
    with pytest.raises(RowErrors) as refusal:
        risks.edit_requirements(session=session, actor=ANA, code="R02.1", edits=[edit], deletions=[])
    assert refusal.value.stale == (StaleRow("1", registers["one"], 2),)
    # On top of the version now stored, the edit lands on the renumbered requirement.
    risks.edit_requirements(session=session, actor=ANA, code="R02.1", deletions=[],
                            edits=[risks.RowEdit(key="1", expected_version=2, changes={"value": 7},
                                                 row_id=registers["one"])])
    assert [(r.number, r.value) for r in risks.requirements(session, "R02.1")] == [("1.1", 7), ("2", 2)]
    # Without an id, a number nobody holds any more is a row gone.
    with pytest.raises(RowErrors) as refusal:
        risks.edit_requirements(session=session, actor=ANA, code="R02.1", deletions=[],
                                edits=[risks.RowEdit(key="1", expected_version=3, changes={"value": 1})])
    assert refusal.value.stale == (StaleRow("1", None, None),)


def test_a_row_deleted_meanwhile_is_stale_without_a_version(session, engine, registers):
    risks.delete_requirement(session=session, actor=BOB, code="R02.1", number="2")
    with pytest.raises(RowErrors) as refusal:
        risks.edit_requirements(session=session, actor=ANA, code="R02.1", edits=[], deletions=[
            risks.RowEdit(key="2", expected_version=1, changes={}, row_id=registers["two"])])
    assert refusal.value.stale == (StaleRow("2", registers["two"], None),)


def test_a_risk_saved_meanwhile_is_named_stale(session, engine, registers):
    risks.update_risk(session=session, actor=BOB, code="R02.1", risk_id=registers["drift"], expected_version=1,
                      changes={"owner": "bob"})
    before = everything(engine)
    key = str(registers["drift"])
    with pytest.raises(RowErrors) as refusal:
        risks.edit_risks(session=session, actor=ANA, code="R02.1",
                         edits=[risks.RowEdit(key=key, expected_version=1, changes={"owner": "ana"})])
    assert refusal.value.stale == (StaleRow(key, registers["drift"], 2),)
    assert everything(engine) == before


def test_a_bad_cell_is_no_stale_row(session, registers):
    with pytest.raises(RowErrors) as refusal:
        risks.edit_requirements(session=session, actor=ANA, code="R02.1", deletions=[],
                                edits=[risks.RowEdit(key="1", expected_version=1, changes={"value": 11})])
    assert refusal.value.stale == ()


def test_checklist_scores_saved_meanwhile_refuse_the_save(session, engine):
    make_project(session, "R03.1", "Scored")
    make_history(session, "R03.1", [("start", 3, None, "2025-06-02")])
    keys = [c.key for c in reviews.standing(session, "R03.1").criteria]
    reviews.score_criterion(session=session, actor=BOB, code="R03.1", level=3, key=keys[0], percent=40)
    row_id, version = reviews.score_versions(session, "R03.1", 3)[keys[0]]
    before = everything(engine)
    # Ana opened the checklist before Bob scored: she saw no score for either criterion.
    with pytest.raises(RowErrors) as refusal:
        reviews.score_criteria(session=session, actor=ANA, code="R03.1", level=3,
                               scores={keys[0]: {"percent": 80}, keys[1]: {"percent": 20}},
                               expected_versions={keys[0]: 0, keys[1]: 0})
    assert refusal.value.stale == (StaleRow(keys[0], row_id, version),)
    assert everything(engine) == before
    # On top of Bob's version it goes through; without versions (the CLI, the API) as before.
    assert reviews.score_criteria(session=session, actor=ANA, code="R03.1", level=3,
                                  scores={keys[0]: {"percent": 80}, keys[1]: {"percent": 20}},
                                  expected_versions={keys[0]: 1, keys[1]: 0}) == 2
    assert reviews.score_criteria(session=session, actor=ANA, code="R03.1", level=3,
                                  scores={keys[1]: {"percent": 30}}) == 1
    assert {k: v for k, (_, v) in reviews.score_versions(session, "R03.1", 3).items()} == {keys[0]: 2, keys[1]: 2}


def test_a_template_saved_from_an_older_version_is_refused(session, engine):
    from mltrl.domain.errors import Conflict

    _, content = reviews.criteria_set(session)
    reviews.update_criteria(session=session, actor=BOB, level=4, criteria=content["4"][1:], note="shorter")
    before = everything(engine)
    with pytest.raises(Conflict) as refusal:
        reviews.update_criteria(session=session, actor=ANA, level=4, criteria=content["4"], base_version=1)
    assert refusal.value.current_version == 2
    with pytest.raises(Conflict):
        reviews.update_ethics_template(session=session, actor=ANA, before=[], after=[], positions=[],
                                       base_version=0)
    assert everything(engine) == before
    [saved] = reviews.template_versions(session, "criteria", since=1)
    assert (saved.version, saved.by, saved.note) == (2, "bob", "shorter")
    assert reviews.template_versions(session, "ethics", since=1) == []
    assert reviews.update_criteria(session=session, actor=ANA, level=4, criteria=content["4"], base_version=2) == 3
