"""Starts, graduations and switchbacks (``mltrl.services.level_moves``) on a real database."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, UTC

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from mltrl.domain.errors import Conflict, InvalidInput, NotFound, RuleViolation
from mltrl.services import Actor, level_moves, projects
from tests.factories import TESTER, audit_rows, day, everything, make_history, make_project, row_counts

def levels_of(session: Session, code: str) -> list[int]:
    return [e.to_level for e in level_moves.history(session, code)]


@pytest.fixture
def tech(session: Session) -> str:
    make_project(session, "R02.1", "Visual inspection")
    return "R02.1"


# --- one move, everything it writes -------------------------------------------------------------


def test_a_start_writes_one_event_two_audit_rows_and_the_mirrored_level(
    session: Session, engine: Engine, tech: str
) -> None:
    counts = row_counts(engine)
    outcome = level_moves.record_start(
        session=session, actor=Actor("ada"), code=tech, level=3, at=day("2024-01-15"), note="  from a paper  ",
    )
    assert outcome.warnings == ()
    after = row_counts(engine)
    assert after["levelevent"] == counts["levelevent"] + 1
    assert after["auditentry"] == counts["auditentry"] + 2
    assert after["project"] == counts["project"]

    (event,) = level_moves.history(session, tech)
    assert (event.kind, event.from_level, event.to_level, event.switchback_kind) == ("start", None, 3, None)
    assert event.at == day("2024-01-15")
    assert event.note == "from a paper"
    assert event.recorded_by == "ada"
    assert event.recorded_at.tzinfo is not None

    with Session(engine) as fresh:
        project = projects.get_project(fresh, tech)
        assert (project.level, project.level_since, project.version) == (3, day("2024-01-15"), 2)


def test_the_audit_rows_of_a_move_say_who_what_before_and_after(session: Session, tech: str) -> None:
    level_moves.record_start(session=session, actor=TESTER, code=tech, level=4, at=day("2024-01-01"))
    existing = len(audit_rows(session))
    outcome = level_moves.switch_back(session=session, actor=Actor("grace"), code=tech, level=2, at=day("2024-03-01"))
    event_row, project_row = audit_rows(session)[existing:]
    project = projects.get_project(session, tech)

    assert event_row.actor == project_row.actor == "grace"
    assert (event_row.entity, event_row.entity_id, event_row.action) == ("levelevent", str(outcome.event.id), "switchback")
    assert event_row.before is None
    assert event_row.after["code"] == tech
    assert (event_row.after["from_level"], event_row.after["to_level"]) == (4, 2)
    assert (event_row.after["kind"], event_row.after["switchback_kind"]) == ("switchback", "embedded")
    assert event_row.after["recorded_by"] == "grace"
    assert datetime.fromisoformat(event_row.after["at"]) == day("2024-03-01")

    assert (project_row.entity, project_row.entity_id, project_row.action) == ("project", str(project.id), "level")
    assert project_row.before["level"] == 4 and project_row.after["level"] == 2
    assert datetime.fromisoformat(project_row.before["level_since"]) == day("2024-01-01")
    assert datetime.fromisoformat(project_row.after["level_since"]) == day("2024-03-01")
    assert project_row.after["version"] == project_row.before["version"] + 1 == project.version


def test_the_first_start_is_audited_from_no_level(session: Session, tech: str) -> None:
    level_moves.record_start(session=session, actor=TESTER, code=tech, level=0, at=day("2024-01-01"))
    project_row = audit_rows(session)[-1]
    assert project_row.before == {"level": None, "level_since": None, "version": 1}
    assert project_row.after["level"] == 0


def test_each_move_moves_the_version_by_one(session: Session, tech: str) -> None:
    make_history(session, tech, [
        ("start", 3, None, "2024-01-01"), ("graduation", None, None, "2024-02-01"),
        ("switchback", 3, "discovery", "2024-03-01"),
    ])
    assert projects.get_project(session, tech).version == 4


def test_graduation_and_switchbacks_update_the_project_level(session: Session, tech: str) -> None:
    make_history(session, tech, [
        ("start", 2, None, "2023-01-01"), ("graduation", None, None, "2023-03-01"),
        ("graduation", None, None, "2023-06-01"), ("switchback", 2, None, "2023-09-01"),
        ("graduation", None, None, "2024-01-01"), ("switchback", 2, "discovery", "2024-02-01"),
    ])
    events = level_moves.history(session, tech)
    assert [(e.kind, e.from_level, e.to_level, e.switchback_kind) for e in events] == [
        ("start", None, 2, None),
        ("graduation", 2, 3, None),
        ("graduation", 3, 4, None),
        ("switchback", 4, 2, "embedded"),
        ("graduation", 2, 3, None),
        ("switchback", 3, 2, "discovery"),
    ]
    assert [level_moves.event_kind_label(e) for e in events] == [
        "start", "graduation", "graduation", "embedded", "graduation", "discovery",
    ]
    project = projects.get_project(session, tech)
    assert (project.level, project.level_since) == (2, day("2024-02-01"))
    assert level_moves.current_levels(session) == {tech: 2}


@pytest.mark.parametrize(("path", "sb_from", "sb_to"), [
    ([4], 4, 2), ([4, 5, 6, 7, 8, 9], 9, 4), ([7, 8, 9], 9, 7),
])
def test_a_switchback_without_kind_on_an_embedded_pair_is_recorded_embedded(
    session: Session, tech: str, path: list[int], sb_from: int, sb_to: int
) -> None:
    steps = [("start", path[0], None, "2024-01-01")]
    steps += [("graduation", None, None, f"2024-02-{i + 1:02d}") for i in range(len(path) - 1)]
    make_history(session, tech, steps)
    outcome = level_moves.switch_back(session=session, actor=TESTER, code=tech, level=sb_to, at=day("2024-03-01"))
    assert (outcome.event.from_level, outcome.event.to_level) == (sb_from, sb_to)
    assert outcome.event.switchback_kind == "embedded"


def test_a_switchback_kind_is_read_case_insensitively(session: Session, tech: str) -> None:
    level_moves.record_start(session=session, actor=TESTER, code=tech, level=6, at=day("2024-01-01"))
    outcome = level_moves.switch_back(session=session, actor=TESTER, code=tech, level=5, kind=" Review ", at=day("2024-01-02"))
    assert outcome.event.switchback_kind == "review"


def test_a_date_without_time_is_midnight_utc(session: Session, tech: str) -> None:
    outcome = level_moves.record_start(session=session, actor=TESTER, code=tech, level=1, at=date(2024, 5, 6))
    assert outcome.event.at == datetime(2024, 5, 6, tzinfo=UTC)


def test_an_offset_date_is_stored_in_utc(session: Session, tech: str) -> None:
    local = datetime(2024, 5, 6, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    level_moves.record_start(session=session, actor=TESTER, code=tech, level=1, at=local)
    (event,) = level_moves.history(session, tech)
    assert event.at == datetime(2024, 5, 5, 23, 30, tzinfo=UTC)
    assert event.at.utcoffset() == timedelta(0)


def test_an_undated_move_happens_now(session: Session, tech: str) -> None:
    before = datetime.now(UTC)
    outcome = level_moves.record_start(session=session, actor=TESTER, code=tech, level=1)
    assert before <= outcome.event.at <= datetime.now(UTC)
    assert outcome.warnings == ()


# --- warnings -----------------------------------------------------------------------------------


def test_a_switchback_to_a_never_held_level_is_recorded_with_a_warning(session: Session, tech: str) -> None:
    level_moves.record_start(session=session, actor=TESTER, code=tech, level=9, at=day("2024-01-01"))
    outcome = level_moves.switch_back(session=session, actor=TESTER, code=tech, level=7, at=day("2024-06-01"))
    assert len(outcome.warnings) == 1 and "never held level 7" in outcome.warnings[0]
    assert outcome.event.switchback_kind == "embedded"
    assert projects.get_project(session, tech).level == 7
    # back at 9 and down to 7 again: 7 was held by then, no warning
    make_history(session, tech, [("graduation", None, None, "2024-07-01"), ("graduation", None, None, "2024-08-01")])
    again = level_moves.switch_back(session=session, actor=TESTER, code=tech, level=7, at=day("2024-09-01"))
    assert again.warnings == ()


def test_a_future_dated_move_is_recorded_with_a_warning(session: Session, tech: str) -> None:
    later = datetime.now(UTC) + timedelta(days=30)
    outcome = level_moves.record_start(session=session, actor=TESTER, code=tech, level=2, at=later)
    assert any("future" in w for w in outcome.warnings)
    assert projects.get_project(session, tech).level == 2


# --- refusals write nothing ---------------------------------------------------------------------


REFUSED = [
    pytest.param("graduate", {}, "start-first", False, id="graduate-before-start"),
    pytest.param("switch_back", {"level": 0, "kind": "review"}, "start-first", False, id="switchback-before-start"),
    pytest.param("record_start", {"level": 10}, "level-range", False, id="start-at-10"),
    pytest.param("record_start", {"level": -1}, "level-range", False, id="start-at-minus-1"),
    pytest.param("record_start", {"level": 1}, "single-start", True, id="second-start"),
    pytest.param("switch_back", {"level": 4, "kind": "review"}, "same-level", True, id="switchback-same-level"),
    pytest.param("switch_back", {"level": 5, "kind": "discovery"}, "switchback-goes-down", True, id="switchback-up"),
    pytest.param("switch_back", {"level": 1}, "switchback-kind-required", True, id="switchback-without-kind"),
    pytest.param("switch_back", {"level": 3, "kind": "embedded"}, "embedded-pairs", True, id="embedded-4-3"),
    pytest.param("switch_back", {"level": 12, "kind": "review"}, "level-range", True, id="switchback-to-12"),
    pytest.param("graduate", {"at": day("2024-01-31")}, "chronological", True, id="graduate-before-last-event"),
    pytest.param("switch_back", {"level": 2, "at": day("2023-12-31")}, "chronological", True, id="switchback-before-last"),
]


@pytest.mark.parametrize(("use_case", "args", "rule", "started"), REFUSED)
def test_an_illegal_move_is_refused_by_its_rule_and_writes_nothing(
    session: Session, engine: Engine, tech: str, use_case: str, args: dict, rule: str, started: bool
) -> None:
    if started:
        make_history(session, tech, [("start", 3, None, "2024-01-01"), ("graduation", None, None, "2024-02-01")])
    before = everything(engine)
    history_before = levels_of(session, tech)
    args = {"at": day("2024-05-01"), **args}
    with pytest.raises(RuleViolation) as refused:
        getattr(level_moves, use_case)(session=session, actor=TESTER, code=tech, **args)
    assert refused.value.rule == rule
    assert everything(engine) == before
    assert levels_of(session, tech) == history_before
    assert projects.get_project(session, tech).level == (4 if started else None)


def test_the_chronological_refusal_names_both_dates(session: Session, engine: Engine, tech: str) -> None:
    level_moves.record_start(session=session, actor=TESTER, code=tech, level=3, at=day("2024-06-01"))
    before = everything(engine)
    with pytest.raises(RuleViolation, match="2024-05-31.*2024-06-01"):
        level_moves.graduate(session=session, actor=TESTER, code=tech, at=day("2024-05-31"))
    assert everything(engine) == before


def test_a_move_on_the_same_day_as_the_last_is_allowed(session: Session, tech: str) -> None:
    make_history(session, tech, [("start", 3, None, "2024-06-01"), ("graduation", None, None, "2024-06-01"),
                                 ("switchback", 3, "review", "2024-06-01")])
    assert levels_of(session, tech) == [3, 4, 3]


def test_an_undated_move_after_a_future_dated_one_is_refused(session: Session, engine: Engine, tech: str) -> None:
    level_moves.record_start(session=session, actor=TESTER, code=tech, level=2,
                             at=datetime.now(UTC) + timedelta(days=3))
    before = everything(engine)
    with pytest.raises(RuleViolation) as refused:
        level_moves.graduate(session=session, actor=TESTER, code=tech)
    assert refused.value.rule == "chronological"
    assert everything(engine) == before


@pytest.mark.parametrize(("use_case", "args", "field"), [
    pytest.param("switch_back", {"level": 2, "kind": "sideways"}, "kind", id="unknown-switchback-kind"),
    pytest.param("graduate", {"note": "n" * 2001}, "note", id="note-too-long"),
    pytest.param("graduate", {"at": "2024-05-01"}, "at", id="date-as-text"),
])
def test_bad_input_on_a_move_names_the_field_and_writes_nothing(
    session: Session, engine: Engine, tech: str, use_case: str, args: dict, field: str
) -> None:
    make_history(session, tech, [("start", 4, None, "2024-01-01")])
    before = everything(engine)
    args = {"at": day("2024-05-01"), **args}
    with pytest.raises(InvalidInput) as refused:
        getattr(level_moves, use_case)(session=session, actor=TESTER, code=tech, **args)
    assert refused.value.field == field
    assert everything(engine) == before


def test_a_move_on_an_unknown_project_is_not_found(session: Session, engine: Engine) -> None:
    before = everything(engine)
    with pytest.raises(NotFound, match="GHOST"):
        level_moves.record_start(session=session, actor=TESTER, code="GHOST", level=1)
    with pytest.raises(NotFound):
        level_moves.history(session, "GHOST")
    assert everything(engine) == before


def test_a_move_from_a_stale_copy_is_a_conflict_and_writes_nothing(
    session: Session, engine: Engine, tech: str
) -> None:
    level_moves.record_start(session=session, actor=TESTER, code=tech, level=3, at=day("2024-01-01"), expected_version=1)
    before = everything(engine)
    with pytest.raises(Conflict):
        level_moves.graduate(session=session, actor=TESTER, code=tech, at=day("2024-02-01"), expected_version=1)
    assert everything(engine) == before
    outcome = level_moves.graduate(session=session, actor=TESTER, code=tech, at=day("2024-02-01"), expected_version=2)
    assert outcome.event.to_level == 4


def test_two_people_graduating_at_once_cannot_both_succeed(engine: Engine, session: Session, tech: str) -> None:
    level_moves.record_start(session=session, actor=TESTER, code=tech, level=3, at=day("2024-01-01"))
    with Session(engine, expire_on_commit=False) as alice, Session(engine, expire_on_commit=False) as bob:
        seen_by_alice = projects.get_project(alice, tech).version
        seen_by_bob = projects.get_project(bob, tech).version
        level_moves.graduate(session=alice, actor=Actor("alice"), code=tech, at=day("2024-02-01"),
                             expected_version=seen_by_alice)
        before = everything(engine)
        with pytest.raises((Conflict, RuleViolation)):
            level_moves.graduate(session=bob, actor=Actor("bob"), code=tech, at=day("2024-02-01"),
                                 expected_version=seen_by_bob)
        assert everything(engine) == before
    assert levels_of(session, tech) == [3, 4]


# --- history ------------------------------------------------------------------------------------


def test_history_is_oldest_first_and_same_instant_events_keep_their_order(session: Session, tech: str) -> None:
    make_history(session, tech, [
        ("start", 0, None, "2021-01-01"), ("graduation", None, None, "2021-01-01"),
        ("graduation", None, None, "2021-01-01"), ("switchback", 1, "discovery", "2021-01-01"),
        ("graduation", None, None, "2022-01-01"),
    ])
    events = level_moves.history(session, tech)
    assert [e.to_level for e in events] == [0, 1, 2, 1, 2]
    assert [e.at for e in events] == sorted(e.at for e in events)


def test_histories_of_different_technologies_do_not_mix(session: Session, tech: str) -> None:
    make_project(session, "P01.1")
    make_history(session, tech, [("start", 5, None, "2024-01-01")])
    make_history(session, "P01.1", [("start", 1, None, "2020-01-01"), ("graduation", None, None, "2020-02-01")])
    # P01.1's old dates do not block R02.1, and the other way round
    level_moves.graduate(session=session, actor=TESTER, code=tech, at=day("2024-02-01"))
    level_moves.graduate(session=session, actor=TESTER, code="P01.1", at=day("2020-03-01"))
    assert levels_of(session, tech) == [5, 6]
    assert levels_of(session, "P01.1") == [1, 2, 3]
    assert level_moves.current_levels(session) == {tech: 6, "P01.1": 3}


def test_a_project_without_moves_has_an_empty_history(session: Session, tech: str) -> None:
    assert level_moves.history(session, tech) == []
    assert level_moves.current_levels(session) == {tech: None}
