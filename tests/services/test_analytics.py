"""Analytics reads against a real database (SQLite and PostgreSQL): the event table in recorded
order with switchback kinds, the technologies with their systems and owners, and time per level
as the CLI prints it, equal to figures worked out by hand."""

from __future__ import annotations

import pytest

from mltrl.services import analytics as reads
from tests.factories import day, make_history, make_project


@pytest.fixture
def history(session) -> None:
    make_project(session, "S", "System", owners=["ana", "bo"])
    make_project(session, "S.1", "Part", parent_code="S")
    make_project(session, "W", "Waiting")
    # S: 2 on 01-01, 3 on 01-11, 4 on 01-31, back to 2 (embedded) on 02-05, 3 on 02-15, 4 on 03-02.
    make_history(session, "S", [("start", 2, None, "2026-01-01"), ("graduation", None, None, "2026-01-11"),
                                ("graduation", None, None, "2026-01-31"), ("switchback", 2, "embedded", "2026-02-05"),
                                ("graduation", None, None, "2026-02-15"), ("graduation", None, None, "2026-03-02")])
    # S.1: 4 on 01-06, 5 on 01-26, back to 3 (discovery) on 01-26 too (the same day: a stay of 0 days).
    make_history(session, "S.1", [("start", 4, None, "2026-01-06"), ("graduation", None, None, "2026-01-26"),
                                  ("switchback", 3, "discovery", "2026-01-26")])


def test_the_event_table_is_in_recorded_order_with_switchback_kinds(session, history):
    events = reads.event_table(session)
    assert len(events) == 9 and list(events.columns) == reads.EVENT_COLUMNS
    s1 = events.loc[events["project_id"] == events["project_id"].iloc[-1]]
    assert list(s1["to_level"]) == [4, 5, 3] and list(s1["kind"]) == ["start", "graduation", "switchback"]
    assert s1["switchback_kind"].iloc[-1] == "discovery" and s1["from_level"].isna().iloc[0]
    assert str(events["at"].dt.tz) == "UTC" and events.groupby("project_id")["at"].is_monotonic_increasing.all()


def test_technologies_carry_their_system_owners_and_no_level(session, history):
    techs = reads.technologies(session).set_index("code")
    assert list(techs.index) == ["S", "S.1", "W"]
    assert techs.loc["S.1", "system"] == "S" and techs.loc["S", "owners"] == ["ana", "bo"]
    assert techs.loc["S", "level"] == 4 and techs.loc["S.1", "phase"] == "prototyping"
    assert techs.loc["W", "phase"] is None and techs.loc["W", "depth"] == 0


def test_time_per_level_as_the_cli_prints_it(session, history):
    records = reads.time_per_level(session, as_of=day("2026-04-10"))
    by_key = {(r["code"], r["level"]): r for r in records}
    assert [(r["code"], r["level"]) for r in records] == [("S", 2), ("S", 3), ("S", 4), ("S.1", 3), ("S.1", 4),
                                                          ("S.1", 5)]
    assert by_key[("S", 2)] == {"code": "S", "level": 2, "days": 20.0, "completed_days": 20.0, "ongoing_days": 0.0,
                                "intervals": 2}
    assert by_key[("S", 4)] == {"code": "S", "level": 4, "days": 44.0, "completed_days": 5.0, "ongoing_days": 39.0,
                                "intervals": 2}
    assert by_key[("S.1", 5)]["days"] == 0.0 and by_key[("S.1", 5)]["intervals"] == 1
    assert by_key[("S.1", 3)] == {"code": "S.1", "level": 3, "days": 74.0, "completed_days": 0.0,
                                  "ongoing_days": 74.0, "intervals": 1}
    # As of a date before a technology's history, it holds no level.
    assert reads.time_per_level(session, as_of=day("2025-12-31")) == []
