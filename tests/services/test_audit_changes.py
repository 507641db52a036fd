"""Who changed a versioned record since the version a person opened (``audit_trail.changes_since``),
on SQLite and PostgreSQL: what a refused edit form shows beside its Save button."""

from datetime import date

from mltrl.services import Actor, audit_trail, level_moves, okrs, projects
from mltrl.services import risks as registers
from tests.factories import make_project

BOB = Actor("bob")
CI = Actor("ci", via="token ci-bot")


def _fields(change):
    return {f.field: (f.before, f.after) for f in change.fields}


def test_a_change_names_who_when_and_each_field_before_and_after(session):
    project = make_project(session, "R01.1", "Optimiser", owners=["Ann"])
    opened = project.version
    projects.update_project(session=session, actor=BOB, code="R01.1", expected_version=opened,
                            name="Bob's optimiser", owners=["Ann", "Bob"])
    [change] = audit_trail.changes_since(session, entity="project", entity_id=project.id, version=opened)
    assert (change.actor, change.via, change.action, change.version) == ("bob", None, "update", opened + 1)
    assert change.at.tzinfo is not None
    assert _fields(change) == {"name": ("Optimiser", "Bob's optimiser"), "owners": (["Ann"], ["Ann", "Bob"])}


def test_changes_come_oldest_first_with_level_moves_and_token_writes(session):
    project = make_project(session, "R02.1", "Detector")
    opened = project.version
    level_moves.record_start(session=session, actor=BOB, code="R02.1", level=3)
    projects.update_project(session=session, actor=CI, code="R02.1", expected_version=opened + 1, status="paused")
    changes = audit_trail.changes_since(session, entity="project", entity_id=project.id, version=opened)
    assert [(c.actor, c.via, c.action, c.version) for c in changes] == [
        ("bob", None, "level", opened + 1), ("ci", "token ci-bot", "update", opened + 2)]
    assert _fields(changes[0])["level"] == (None, 3)
    assert "level_since" in _fields(changes[0])
    assert _fields(changes[1]) == {"status": ("active", "paused")}
    # From the version after the first change, only the second one counts.
    later = audit_trail.changes_since(session, entity="project", entity_id=project.id, version=opened + 1)
    assert [c.actor for c in later] == ["ci"]
    assert audit_trail.changes_since(session, entity="project", entity_id=project.id, version=opened + 2) == []


def test_only_the_record_asked_about_and_not_the_bookkeeping(session):
    one = make_project(session, "R03.1", "One")
    other = make_project(session, "R04.1", "Other")
    opened = other.version
    projects.update_project(session=session, actor=BOB, code="R04.1", expected_version=opened, name="Two")
    assert audit_trail.changes_since(session, entity="project", entity_id=one.id, version=one.version) == []
    [change] = audit_trail.changes_since(session, entity="project", entity_id=other.id, version=opened)
    assert not {f.field for f in change.fields} & audit_trail.BOOKKEEPING


def test_check_ins_do_not_count_as_changes_of_their_key_result(session):
    make_project(session, "R05.1")
    objective = okrs.add_objective(session=session, actor=BOB, quarter="2027-Q1", title="Ship it")
    kr = okrs.add_key_result(session=session, actor=BOB, objective_id=objective.id, code="R05.1", target_level=4,
                             due=date(2027, 3, 31))
    opened = kr.version
    okrs.check_in(session=session, actor=CI, key_result_id=kr.id, comment="On its way", confidence=7)
    assert audit_trail.changes_since(session, entity="keyresult", entity_id=kr.id, version=opened) == []
    okrs.edit_key_result(session=session, actor=BOB, key_result_id=kr.id, expected_version=opened, note="Late")
    okrs.check_in(session=session, actor=CI, key_result_id=kr.id, comment="Still late", confidence=3)
    [change] = audit_trail.changes_since(session, entity="keyresult", entity_id=kr.id, version=opened)
    assert (change.actor, _fields(change)) == ("bob", {"note": ("", "Late")})


def test_a_delete_is_a_change_without_a_version_or_fields(session):
    make_project(session, "R06.1")
    req = registers.add_requirement(session=session, actor=BOB, code="R06.1", number="1", statement="Works",
                                    p_failure=0.2, value=5)
    opened = req.version
    registers.update_requirement(session=session, actor=BOB, code="R06.1", number="1", expected_version=opened,
                                 changes={"statement": "Works well"})
    registers.delete_requirement(session=session, actor=CI, code="R06.1", number="1")
    changes = audit_trail.changes_since(session, entity="requirement", entity_id=req.id, version=opened)
    assert [(c.actor, c.action, c.version) for c in changes] == [("bob", "update", opened + 1),
                                                                  ("ci", "delete", None)]
    assert _fields(changes[0]) == {"statement": ("Works", "Works well")} and changes[1].fields == ()


def test_a_record_created_after_the_person_looked_counts_from_version_zero(session):
    project = make_project(session, "R07.1", "New", actor=BOB)
    [change] = audit_trail.changes_since(session, entity="project", entity_id=project.id, version=0)
    assert (change.actor, change.action, change.version) == ("bob", "create", 1)
    assert _fields(change)["name"] == (None, "New")


def test_at_most_the_newest_changes_are_listed(session):
    project = make_project(session, "R08.1", "v0")
    for n in range(1, 6):
        projects.update_project(session=session, actor=BOB, code="R08.1", expected_version=n, name=f"v{n}")
    changes = audit_trail.changes_since(session, entity="project", entity_id=project.id, version=1, limit=3)
    assert [_fields(c)["name"][1] for c in changes] == ["v3", "v4", "v5"]
