"""Timeline reads against a real database (SQLite and PostgreSQL): a technology's events with the
reviews that decided them and a fork's inherited past, a system's tree with its level over time,
and the portfolio's events in one query."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import event

from mltrl.domain import analytics, levels
from mltrl.domain.errors import NotFound
from mltrl.services import Actor, portfolio, reviews, timelines
from tests.factories import day, make_history, make_project

ANA = Actor("ana")


@pytest.fixture
def reviewed(session) -> int:
    """R02.1: started at 3, graduated to 4 by hand, then to 5 at a gated review; returns the review id."""
    make_project(session, "R02.1", "Mixed-variable BO")
    make_history(session, "R02.1", [("start", 3, None, "2025-06-02"), ("graduation", None, None, "2025-09-01")])
    review = reviews.open_review(session=session, actor=ANA, code="R02.1", panel=["ana"])
    reviews.decide(session=session, actor=ANA, review_id=review.id, expected_version=review.version,
                   decision="graduate", note="Proof of concept on real data", at=day("2025-10-01"))
    return review.id


def test_a_technologys_events_name_the_review_that_decided_them(session, reviewed):
    timeline = timelines.technology_timeline(session, "R02.1")
    events = timeline.events
    assert (timeline.code, timeline.name, timeline.forked_from, timeline.forked_at) == (
        "R02.1", "Mixed-variable BO", None, None)
    assert list(events["kind"]) == ["start", "graduation", "graduation"]
    assert list(events["to_level"]) == [3, 4, 5] and list(events["from_level"].astype(object)) == [pd.NA, 3, 4]
    assert list(events["review_id"].astype(object)) == [pd.NA, pd.NA, reviewed]
    assert list(events["at"]) == [day("2025-06-02"), day("2025-09-01"), day("2025-10-01")]
    assert events["note"].iloc[-1] == "Proof of concept on real data"
    assert not events["inherited"].any() and set(events["source"]) == {"R02.1"}
    assert events["event_id"].is_unique


def test_a_fork_carries_its_parents_past_before_the_fork(session, reviewed):
    make_history(session, "R02.1", [("switchback", 4, "discovery", "2025-11-01")])
    reviews.fork(session=session, actor=ANA, code="R02.1", new_code="R02.2", name="Applied branch",
                 at=day("2025-11-10"))
    make_history(session, "R02.1", [("graduation", None, None, "2025-12-01")])  # after the fork: not inherited
    make_history(session, "R02.2", [("switchback", 3, "review", "2025-12-15")])
    timeline = timelines.technology_timeline(session, "R02.2")
    events = timeline.events
    assert (timeline.forked_from, timeline.forked_at) == ("R02.1", day("2025-11-10"))
    assert list(events["inherited"]) == [True, True, True, True, False, False]
    assert list(events["source"]) == ["R02.1"] * 4 + ["R02.2"] * 2
    assert list(events["kind"]) == ["start", "graduation", "graduation", "discovery", "start", "review"]
    assert list(events["review_id"].astype(object))[2] == reviewed
    # A fork of a fork inherits both pasts, oldest first.
    reviews.fork(session=session, actor=ANA, code="R02.2", new_code="R02.3", name="Grandchild",
                 at=day("2026-01-05"))
    grandchild = timelines.technology_timeline(session, "R02.3").events
    assert list(grandchild["source"]) == ["R02.1"] * 4 + ["R02.2"] * 2 + ["R02.3"]
    assert grandchild["at"].is_monotonic_increasing


def test_no_history_and_unknown_codes(session):
    make_project(session, "R09.1")
    assert timelines.technology_timeline(session, "R09.1").events.empty
    system = timelines.system_timeline(session, "R09.1")
    assert system.events.empty and system.levels.empty and list(system.members["code"]) == ["R09.1"]
    with pytest.raises(NotFound):
        timelines.technology_timeline(session, "NOPE")


@pytest.fixture
def tree(session) -> None:
    """S with components A and B; A has its own component A1; T is another system."""
    make_project(session, "S", "System")
    make_project(session, "A", "Part A", parent_code="S")
    make_project(session, "B", "Part B", parent_code="S")
    make_project(session, "A1", "Part of A", parent_code="A")
    make_project(session, "T", "Elsewhere")
    make_history(session, "S", [("start", 6, None, "2024-01-01"), ("graduation", None, None, "2024-06-01")])
    make_history(session, "A", [("start", 5, None, "2024-02-01"), ("graduation", None, None, "2024-03-01"),
                                ("graduation", None, None, "2024-05-01"), ("graduation", None, None, "2024-07-01")])
    make_history(session, "A1", [("start", 7, None, "2024-04-01"), ("switchback", 4, "discovery", "2024-08-01")])
    make_history(session, "B", [("start", 9, None, "2024-01-15")])
    make_history(session, "T", [("start", 0, None, "2024-01-01")])


def test_a_systems_tree_histories_and_level_over_time(session, tree):
    system = timelines.system_timeline(session, "S")
    assert list(system.members["code"]) == ["S", "A", "A1", "B"]
    assert list(system.members["depth"]) == [0, 1, 2, 1]
    assert list(system.members["parent"].astype(object).where(system.members["parent"].notna(), None)) == [
        None, "S", "A", "S"]
    assert set(system.events["code"]) == {"S", "A", "A1", "B"}  # T is not in the tree
    assert list(system.levels["at"]) == [day(d) for d in ("2024-01-01", "2024-02-01", "2024-03-01", "2024-05-01",
                                                          "2024-06-01", "2024-07-01", "2024-08-01")]
    assert list(system.levels["level"]) == [6, 5, 6, 6, 7, 7, 4]
    assert list(system.levels["held_by"]) == ["S", "A", "A, S", "S", "A, A1, S", "A1, S", "A1"]
    # Today's system level is the portfolio's.
    frame = portfolio.portfolio_frame(session)
    assert int(frame.set_index("code").loc["S", "system_level"]) == int(system.levels["level"].iloc[-1])
    # A component's own subtree is a system too.
    sub = timelines.system_timeline(session, "A")
    assert list(sub.members["code"]) == ["A", "A1"] and int(sub.levels["level"].iloc[-1]) == 4


def test_the_system_level_at_every_moment_is_the_engines(session, tree):
    system = timelines.system_timeline(session, "S")
    parents = {"S": None, "A": "S", "B": "S", "A1": "A"}
    ev = system.events
    for moment, level in zip(system.levels["at"], system.levels["level"]):
        upto = ev[ev["at"] <= moment]
        now = upto.groupby("code")["to_level"].last().to_dict()
        assert levels.system_level("S", parents, now) == int(level)


def test_the_portfolio_events_come_in_one_query_with_kinds_and_reviews(session, engine, tree, reviewed):
    statements = []

    def listener(conn, cursor, statement, *rest):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        events = timelines.level_events(session)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(statements) == 1
    assert len(events) == 2 + 4 + 2 + 1 + 1 + 3
    assert set(events["kind"]) == {"start", "graduation", "discovery"}
    assert events["review_id"].notna().sum() == 1 and events["at"].is_monotonic_increasing
    frame = portfolio.portfolio_frame(session)
    lanes = timelines.lane_summary(frame, events)
    by_code = lanes.set_index("code")
    assert by_code.loc["A1", "switchbacks"] == 1 and by_code.loc["S", "switchbacks"] == 0
    assert by_code.loc["A1", "phase"] == "prototyping" and by_code.loc["R02.1", "level"] == 5
    segments = timelines.lane_segments(events)
    assert len(segments) == len(events)  # no two events of one technology at the same moment here
    shown = analytics.filter_portfolio(frame, phases=["research"])
    assert list(timelines.order_lanes(timelines.lane_summary(shown, events), "level")["code"]) == ["T"]


def test_lane_frame_agrees_with_the_pandas_definition_and_reads_no_event(session, tree):
    # A1 goes back to research (2) and up into prototyping (3) again: its phase began at the last return.
    make_history(session, "A1", [("graduation", None, None, "2024-09-01"), ("switchback", 2, "review", "2024-10-01"),
                                 ("graduation", None, None, "2024-11-01"), ("graduation", None, None, "2024-12-01")])
    make_project(session, "W", "Waiting")  # no level yet: no facts, last in every order
    as_of = day("2025-01-01")
    engine = session.get_bind()
    statements = []

    def listener(conn, cursor, statement, *rest):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        lanes = timelines.lane_frame(session, as_of=as_of)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(statements) <= 4  # projects, owners, grouped facts (and maybe a policy read)
    frame = portfolio.portfolio_frame(session, as_of=as_of)
    expected = timelines.lane_summary(frame, timelines.level_events(session), as_of=as_of)
    assert list(lanes["code"]) == list(frame["code"]) and list(lanes["depth"]) == list(frame["depth"])
    got, want = lanes.set_index("code"), expected.set_index("code")
    for column in ("switchbacks", "first_at", "phase_since", "days_in_phase", "phase"):
        assert got[column].astype(object).where(got[column].notna(), None).to_dict() == \
            want[column].astype(object).where(want[column].notna(), None).to_dict(), column
    assert got.loc["A1", "switchbacks"] == 2 and got.loc["A1", "phase_since"] == day("2024-11-01")
    assert got.loc["A1", "days_in_phase"] == (as_of - day("2024-11-01")).days
    assert got.loc["W", "switchbacks"] == 0 and pd.isna(got.loc["W", "first_at"]) and pd.isna(got.loc["W", "level"])
    assert list(timelines.order_lanes(lanes, "switchbacks")["code"])[:1] == ["A1"]
    assert list(timelines.order_lanes(lanes, "level")["code"])[-1] == "W"
    # The lanes on screen read their own events only.
    mine = timelines.lane_events(session, got.loc[["A1", "T"], "id"].tolist())
    assert set(mine["project_id"]) == set(got.loc[["A1", "T"], "id"]) and len(mine) == 6 + 1
    assert timelines.lane_events(session, []).empty
