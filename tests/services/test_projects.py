"""Registering and editing technologies (``mltrl.services.projects``) on a real database.

Also the cross-cutting contract every write service shares (``WRITE_SERVICES``), and the demo
portfolio loader, which goes through the same use cases.
"""

from __future__ import annotations

import inspect
from collections import Counter

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from mltrl.domain import levels
from mltrl.domain.errors import Conflict, InvalidInput, NotFound, RuleViolation
from mltrl.models import LevelEvent
from mltrl.services import WRITE_SERVICES, Actor, demo, level_moves, portfolio, projects, reviews
from tests.factories import TESTER, audit_rows, day, everything, make_history, make_project, row_counts

# --- add_project --------------------------------------------------------------------------------


def test_add_project_registers_the_technology_with_its_owners(session: Session, engine: Engine) -> None:
    project = projects.add_project(
        session=session, actor=Actor("ada"), code="  R02.1 ", name="  Visual   inspection ",
        summary="  Finds defects.  ", owners=["Ada", " Grace ", "", "Ada", "Linus"],
    )
    assert project.id is not None
    view = projects.view_project(session, "R02.1")
    assert view.project.name == "Visual inspection"
    assert view.project.summary == "Finds defects."
    assert view.project.status == "active"
    assert view.project.level is None and view.project.level_since is None
    assert view.project.created_by == "ada"
    assert view.project.version == 1
    assert view.owners == ["Ada", "Grace", "Linus"]
    assert view.parent_code is None
    assert row_counts(engine) == {"project": 1, "projectowner": 3, "levelevent": 0, "cardrevision": 0, "auditentry": 1}


def test_add_a_component_under_its_system(session: Session) -> None:
    make_project(session, "P05.1")
    make_project(session, "P06.1", parent_code="P05.1")
    make_project(session, "P07.1", parent_code=" P05.1 ")
    assert projects.view_project(session, "P06.1").parent_code == "P05.1"
    system = projects.get_project(session, "P05.1")
    assert [c.code for c in projects.children_of(session, system.id)] == ["P06.1", "P07.1"]
    assert projects.project_codes(session) == ["P05.1", "P06.1", "P07.1"]


def test_add_project_writes_one_audit_row(session: Session) -> None:
    project = make_project(session, "R01.1", "Causal diagnosis", owners=["Ada"], actor=Actor("grace"))
    (entry,) = audit_rows(session)
    assert entry.actor == "grace"
    assert (entry.entity, entry.entity_id, entry.action) == ("project", str(project.id), "create")
    assert entry.before is None
    assert entry.after["code"] == "R01.1"
    assert entry.after["name"] == "Causal diagnosis"
    assert entry.after["owners"] == ["Ada"]
    assert entry.at.tzinfo is not None


BAD_NEW_PROJECTS = [
    pytest.param({"code": ""}, "code", id="empty-code"),
    pytest.param({"code": "   "}, "code", id="blank-code"),
    pytest.param({"code": "R 02"}, "code", id="code-with-space"),
    pytest.param({"code": ".R02"}, "code", id="code-starting-with-dot"),
    pytest.param({"code": "R02/1"}, "code", id="code-with-slash"),
    pytest.param({"code": "R" * 33}, "code", id="code-too-long"),
    pytest.param({"name": ""}, "name", id="empty-name"),
    pytest.param({"name": " \t "}, "name", id="blank-name"),
    pytest.param({"name": "n" * 201}, "name", id="name-too-long"),
    pytest.param({"summary": "s" * 5001}, "summary", id="summary-too-long"),
    pytest.param({"status": "deleted"}, "status", id="unknown-status"),
    pytest.param({"status": ""}, "status", id="empty-status"),
    pytest.param({"owners": ["ok", "o" * 101]}, "owners", id="owner-name-too-long"),
    pytest.param({"parent_code": "NOPE"}, "parent", id="unknown-parent"),
    pytest.param({"parent_code": "bad parent!"}, "parent", id="malformed-parent"),
    pytest.param({"code": "R01.1"}, "code", id="duplicate-code"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_NEW_PROJECTS)
def test_a_bad_new_project_is_refused_naming_the_field_and_nothing_is_written(
    session: Session, engine: Engine, overrides: dict, field: str
) -> None:
    make_project(session, "R01.1", owners=["Ada"])
    counts, before = row_counts(engine), everything(engine)
    args = {"code": "R02.1", "name": "A name", **overrides}
    with pytest.raises(InvalidInput) as refused:
        projects.add_project(session=session, actor=TESTER, **args)
    assert refused.value.field == field
    assert str(refused.value).startswith(f"{field}: ")
    assert row_counts(engine) == counts
    assert everything(engine) == before


def test_the_refusal_names_the_allowed_range(session: Session) -> None:
    with pytest.raises(InvalidInput, match="at most 200 characters"):
        make_project(session, "R01.1", "n" * 201)
    with pytest.raises(InvalidInput, match="active, paused, retired"):
        make_project(session, "R01.1", status="gone")
    with pytest.raises(InvalidInput, match="already taken"):
        make_project(session, "R01.1")
        make_project(session, "R01.1")


def test_a_name_of_exactly_the_limit_is_accepted(session: Session) -> None:
    project = make_project(session, "R" * 32, "n" * 200, summary="s" * 5000, owners=["o" * 100])
    assert len(project.code) == 32 and len(project.name) == 200


# --- update_project -----------------------------------------------------------------------------


def test_update_project_changes_fields_bumps_the_version_and_audits(session: Session) -> None:
    make_project(session, "P05.1")
    project = make_project(session, "R01.1", "Old", owners=["Ada"])
    assert project.version == 1
    updated = projects.update_project(
        session=session, actor=Actor("linus"), code="R01.1", expected_version=1,
        name="New name", summary="Now with a summary", owners=["Grace", "Ada"], status="paused",
        parent_code="P05.1",
    )
    assert updated.version > 1
    view = projects.view_project(session, "R01.1")
    assert (view.project.name, view.project.summary, view.project.status) == ("New name", "Now with a summary", "paused")
    assert view.owners == ["Grace", "Ada"]
    assert view.parent_code == "P05.1"
    entry = audit_rows(session)[-1]
    assert (entry.actor, entry.entity, entry.entity_id, entry.action) == ("linus", "project", str(project.id), "update")
    assert entry.before["name"] == "Old" and entry.after["name"] == "New name"
    assert entry.before["owners"] == ["Ada"] and entry.after["owners"] == ["Grace", "Ada"]
    assert entry.before["status"] == "active" and entry.after["status"] == "paused"
    assert entry.before["version"] == 1 and entry.after["version"] == updated.version


@pytest.mark.parametrize("changes", [
    pytest.param({"name": "New"}, id="name"),
    pytest.param({"owners": ["Grace"]}, id="owners"),
    pytest.param({"parent_code": "P05.1"}, id="parent"),
    pytest.param({"name": "New", "owners": ["Grace"]}, id="name-and-owners"),
    pytest.param({"status": "paused", "parent_code": "P05.1"}, id="status-and-parent"),
    pytest.param({"name": "New", "owners": ["Grace"], "parent_code": "P05.1"}, id="all-at-once"),
])
def test_one_edit_moves_the_version_by_exactly_one(session: Session, changes: dict) -> None:
    """One save is one UPDATE: the version moves by exactly one, whatever changes together."""
    make_project(session, "P05.1")
    make_project(session, "R01.1", owners=["Ada"])
    updated = projects.update_project(session=session, actor=TESTER, code="R01.1", expected_version=1, **changes)
    assert updated.version == 2
    assert audit_rows(session)[-1].after["version"] == 2


def test_update_leaves_unnamed_fields_alone_and_can_detach_a_component(session: Session) -> None:
    make_project(session, "P05.1")
    make_project(session, "P06.1", "Camera", parent_code="P05.1", owners=["Ada"], summary="Eyes")
    projects.update_project(session=session, actor=TESTER, code="P06.1", expected_version=1, parent_code=None)
    view = projects.view_project(session, "P06.1")
    assert view.parent_code is None
    assert (view.project.name, view.project.summary, view.owners) == ("Camera", "Eyes", ["Ada"])


BAD_EDITS = [
    pytest.param({"name": ""}, "name", id="empty-name"),
    pytest.param({"name": "x" * 201}, "name", id="name-too-long"),
    pytest.param({"summary": "s" * 5001}, "summary", id="summary-too-long"),
    pytest.param({"status": "finished"}, "status", id="unknown-status"),
    pytest.param({"owners": ["o" * 101]}, "owners", id="owner-too-long"),
    pytest.param({"parent_code": "NOPE"}, "parent", id="unknown-parent"),
    pytest.param({"parent_code": "no good"}, "parent", id="malformed-parent"),
    pytest.param({"parent_code": "SYS"}, "parent", id="own-parent"),
    pytest.param({"parent_code": "COMP"}, "parent", id="parent-is-own-component"),
    pytest.param({"parent_code": "SUB"}, "parent", id="parent-is-deeper-component"),
    # a valid change first, then a bad one: the valid change must not stick either
    pytest.param({"name": "Renamed", "owners": ["Zed"], "status": "finished"}, "status", id="good-then-bad"),
    pytest.param({"name": "Renamed", "summary": "new", "parent_code": "SUB"}, "parent", id="good-then-loop"),
]


@pytest.mark.parametrize(("changes", "field"), BAD_EDITS)
def test_a_bad_edit_is_refused_naming_the_field_and_nothing_is_written(
    session: Session, engine: Engine, changes: dict, field: str
) -> None:
    make_project(session, "SYS", owners=["Ada"])
    make_project(session, "COMP", parent_code="SYS")
    make_project(session, "SUB", parent_code="COMP")
    counts, before = row_counts(engine), everything(engine)
    with pytest.raises(InvalidInput) as refused:
        projects.update_project(session=session, actor=TESTER, code="SYS", expected_version=1, **changes)
    assert refused.value.field == field
    assert row_counts(engine) == counts
    assert everything(engine) == before
    # and the session the page keeps using sees the stored values, not the refused ones
    view = projects.view_project(session, "SYS")
    assert view.project.name == "Technology SYS" and view.owners == ["Ada"] and view.project.version == 1


def test_a_parent_loop_is_explained(session: Session) -> None:
    make_project(session, "SYS")
    make_project(session, "COMP", parent_code="SYS")
    with pytest.raises(InvalidInput, match="cannot be its own component"):
        projects.update_project(session=session, actor=TESTER, code="SYS", expected_version=1, parent_code="COMP")


def test_editing_an_unknown_project_is_not_found(session: Session, engine: Engine) -> None:
    before = everything(engine)
    with pytest.raises(NotFound, match="NOPE"):
        projects.update_project(session=session, actor=TESTER, code="NOPE", expected_version=1, name="x")
    assert everything(engine) == before


def test_a_stale_edit_is_a_conflict_and_writes_nothing(session: Session, engine: Engine) -> None:
    make_project(session, "R01.1", "Original")
    projects.update_project(session=session, actor=TESTER, code="R01.1", expected_version=1, name="First edit")
    counts, before = row_counts(engine), everything(engine)
    with pytest.raises(Conflict):
        projects.update_project(session=session, actor=TESTER, code="R01.1", expected_version=1, name="Second edit")
    assert row_counts(engine) == counts
    assert everything(engine) == before
    assert projects.get_project(session, "R01.1").name == "First edit"


def test_two_people_saving_the_same_version_one_wins_the_other_gets_a_conflict(
    engine: Engine, session: Session
) -> None:
    """Each person has their own session, both opened the project at version 1."""
    make_project(session, "R01.1", "Original")
    with Session(engine, expire_on_commit=False) as alice, Session(engine, expire_on_commit=False) as bob:
        assert projects.get_project(alice, "R01.1").version == 1
        assert projects.get_project(bob, "R01.1").version == 1
        projects.update_project(session=alice, actor=Actor("alice"), code="R01.1", expected_version=1, name="Alice's")
        before = everything(engine)
        with pytest.raises(Conflict):
            projects.update_project(session=bob, actor=Actor("bob"), code="R01.1", expected_version=1, name="Bob's")
        assert everything(engine) == before
    with Session(engine) as fresh:
        project = projects.get_project(fresh, "R01.1")
        assert (project.name, project.version) == ("Alice's", 2)


# --- every write service ------------------------------------------------------------------------


def test_the_known_use_cases_are_registered() -> None:
    names = {fn.__name__ for fn in WRITE_SERVICES}
    assert {"add_project", "update_project", "record_start", "graduate", "switch_back", "load_demo"} <= names
    assert len(names) == len(WRITE_SERVICES)  # each registered once


@pytest.mark.parametrize("service", WRITE_SERVICES, ids=lambda fn: fn.__name__)
def test_every_write_service_is_keyword_only_and_decorated(service) -> None:
    assert getattr(service, "is_write_service", False) is True
    params = inspect.signature(service).parameters
    assert "session" in params and "actor" in params
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values()), params
    with pytest.raises(TypeError, match="keyword arguments only"):
        service(None, None)


@pytest.mark.parametrize("service", WRITE_SERVICES, ids=lambda fn: fn.__name__)
def test_every_write_service_needs_an_actor_and_a_session(service, session: Session, engine: Engine) -> None:
    before = everything(engine)
    with pytest.raises(TypeError, match="actor"):
        service(session=session, actor="just a string")
    with pytest.raises(TypeError, match="session"):
        service(session=None, actor=TESTER)
    assert everything(engine) == before


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_an_actor_needs_a_sensible_name(name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Actor(name)
    assert refused.value.field == "user"


def test_an_actor_name_is_trimmed() -> None:
    assert Actor("  ada ").name == "ada"


# --- the demo portfolio -------------------------------------------------------------------------


def test_the_demo_portfolio_loads_the_papers_stories(session: Session) -> None:
    added = demo.load_demo(session=session, actor=Actor("demo"))
    assert added >= 12
    assert demo.project_count(session) == added
    current = level_moves.current_levels(session)
    phases = {levels.phase_of(lv) for lv in current.values() if lv is not None}
    assert phases == set(levels.Phase)

    events = list(session.exec(select(LevelEvent)).all())
    kinds = Counter(e.switchback_kind for e in events if e.kind == "switchback")
    assert set(kinds) == {"discovery", "review", "embedded"}
    for e in events:
        if e.kind == "switchback" and (e.from_level, e.to_level) in levels.EMBEDDED_SWITCHBACKS:
            assert e.switchback_kind == "embedded", (e.from_level, e.to_level)
        if e.switchback_kind == "embedded":
            assert (e.from_level, e.to_level) in levels.EMBEDDED_SWITCHBACKS
    embedded_pairs = {(e.from_level, e.to_level) for e in events if e.switchback_kind == "embedded"}
    assert embedded_pairs == levels.EMBEDDED_SWITCHBACKS

    # every history is lawful and the mirrored level is the last event's
    for code, lv in current.items():
        hist = level_moves.history(session, code)
        if not hist:
            assert lv is None
            continue
        moves = [levels.Move(levels.EventKind(e.kind), e.to_level,
                             levels.SwitchbackKind(e.switchback_kind) if e.switchback_kind else None, e.at)
                 for e in hist]
        final, _ = levels.replay(moves)
        assert final.current == lv == hist[-1].to_level
        assert projects.get_project(session, code).level_since == hist[-1].at

    # everything is recorded as the loader, but the demo reviews' votes and the key results'
    # check-ins, made by the panel members and owners named, and the evidence, sent by a CI token
    assert {e.actor for e in audit_rows(session) if e.action not in ("vote", "check-in")
            and e.entity != "evidence"} == {"demo"}
    assert {(e.actor, e.via) for e in audit_rows(session) if e.entity == "evidence"} == {("ci-runner", "token nightly")}
    assert {e.actor for e in audit_rows(session) if e.action == "vote"} <= {
        name for r, _ in reviews.reviews(session) for name in r.panel}
    assert all(e.recorded_by == "demo" for e in events)


def test_the_demo_system_levels_follow_the_components(session: Session) -> None:
    demo.load_demo(session=session, actor=TESTER)
    rows = {r["code"]: r for r in portfolio.project_list(session)}
    for code, row in rows.items():
        subtree = [r["level"] for r in rows.values()
                   if r["level"] is not None and _inside(rows, r["code"], code)]
        assert row["system_level"] == (min(subtree) if subtree else None)
    assert any(r["parent"] for r in rows.values())
    systems = [r for r in rows.values() if any(c["parent"] == r["code"] for c in rows.values())]
    assert any(r["system_level"] < r["level"] for r in systems)


def _inside(rows: dict, code: str, ancestor: str) -> bool:
    while code is not None:
        if code == ancestor:
            return True
        code = rows[code]["parent"]
    return False


def test_loading_the_demo_twice_is_refused_and_writes_nothing(session: Session, engine: Engine) -> None:
    demo.load_demo(session=session, actor=TESTER)
    before = everything(engine)
    with pytest.raises(InvalidInput) as refused:
        demo.load_demo(session=session, actor=TESTER)
    assert refused.value.field == "database"
    assert "--if-empty" in str(refused.value)
    assert everything(engine) == before


def test_loading_the_demo_if_empty_skips_a_database_in_use(session: Session, engine: Engine) -> None:
    make_project(session, "MINE")
    before = everything(engine)
    assert demo.load_demo(session=session, actor=TESTER, if_empty=True) == 0
    assert everything(engine) == before
    assert projects.project_codes(session) == ["MINE"]


def test_a_broken_demo_file_loads_nothing(session: Session, engine: Engine, tmp_path) -> None:
    """One bad step in the middle rolls back the technologies loaded before it."""
    bad = tmp_path / "demo.json"
    bad.write_text(
        '{"format": 1, "technologies": ['
        '{"code": "A1", "name": "Fine", "history": [{"kind": "start", "to": 3, "at": "2024-01-01"}]},'
        '{"code": "B1", "name": "Broken", "history": [{"kind": "start", "to": 3, "at": "2024-01-01"},'
        ' {"kind": "switchback", "to": 5, "switchback_kind": "review", "at": "2024-02-01"}]}]}',
        encoding="utf-8",
    )
    before = everything(engine)
    with pytest.raises(RuleViolation):
        demo.load_demo(session=session, actor=TESTER, path=bad)
    assert everything(engine) == before


def test_a_demo_file_of_another_format_is_refused(session: Session, tmp_path) -> None:
    other = tmp_path / "demo.json"
    other.write_text('{"format": 99, "technologies": []}', encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        demo.load_demo(session=session, actor=TESTER, path=other)
    assert refused.value.field == "format"


def test_factories_history_helper_builds_through_the_services(session: Session) -> None:
    make_project(session, "R01.1")
    make_history(session, "R01.1", [("start", 2, None, "2024-01-01"), ("graduation", None, None, "2024-02-01")])
    project = projects.get_project(session, "R01.1")
    assert (project.level, project.level_since) == (3, day("2024-02-01"))


def test_system_level_of_agrees_with_the_portfolio_list(session):
    """The one-technology system level and project_list's agree for every node of a small tree."""
    actor = Actor("tester")
    for code, parent, level in [("S", None, 6), ("S.a", "S", 4), ("S.a.x", "S.a", 2), ("S.b", "S", None),
                                ("T", None, None), ("T.a", "T", 7)]:
        make_project(session, code, actor=actor, parent_code=parent)
        if level is not None:
            level_moves.record_start(session=session, actor=actor, code=code, level=level)
    expected = {r["code"]: r["system_level"] for r in portfolio.project_list(session)}
    got = {code: portfolio.system_level_of(session, projects.get_project(session, code).id) for code in expected}
    assert got == expected == {"S": 2, "S.a": 2, "S.a.x": 2, "S.b": None, "T": 7, "T.a": 7}
