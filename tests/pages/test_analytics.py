"""The Analytics page under AppTest: time per level from a known history (figures worked out by
hand), each filter (dates, phase, owner, status), each tab's tables, CSV downloads, and a From date
after To refused with a message."""

from __future__ import annotations

import json

import pytest

from mltrl.services import Actor, projects
from tests.factories import make_history, make_project

PAGE = "views/analytics.py"


@pytest.fixture
def portfolio(session) -> None:
    """S (owned by ana) with component S.1 (owned by bo); T (owned by bo); W not started.

    S:   start 2 on 2026-01-01, 3 on 01-11, 4 on 01-31, back to 2 (embedded) on 02-05, 3 on 02-15,
         4 on 03-02.
    S.1: start 4 on 2026-01-06, 5 on 01-26.
    T:   start 7 on 2025-06-01, 8 on 2025-07-01.
    """
    make_project(session, "S", "System", owners=["ana"])
    make_project(session, "S.1", "Part", parent_code="S", owners=["bo"])
    make_project(session, "T", "Elsewhere", owners=["bo"])
    make_project(session, "W", "Waiting", owners=["ana"])
    make_history(session, "S", [("start", 2, None, "2026-01-01"), ("graduation", None, None, "2026-01-11"),
                                ("graduation", None, None, "2026-01-31"), ("switchback", 2, "embedded", "2026-02-05"),
                                ("graduation", None, None, "2026-02-15"), ("graduation", None, None, "2026-03-02")])
    make_history(session, "S.1", [("start", 4, None, "2026-01-06"), ("graduation", None, None, "2026-01-26")])
    make_history(session, "T", [("start", 7, None, "2025-06-01"), ("graduation", None, None, "2025-07-01")])


def open_analytics(open_page, *, since="2025-01-01", until="2026-04-10"):
    at = open_page(PAGE)
    at.date_input(key="an_from").set_value(since)
    at.date_input(key="an_to").set_value(until).run()
    assert not at.exception, at.exception
    return at


def table_with(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def caption_text(at) -> str:
    return " ".join(c.value for c in at.caption)


def set_tab(at, label: str):
    at.session_state["an_tab"] = label
    at.run()
    assert not at.exception, at.exception
    return at


def test_time_per_level_matches_the_hand_figures(open_page, portfolio):
    at = open_analytics(open_page)
    # 12 stays: S 6, S.1 2, T 2; W has none. As of the end of 2026-04-10, S's stay at 4 from 03-02
    # and S.1's at 5 and T's at 8 are ongoing.
    assert "4 of 4 technologies · 10 stays (3 ongoing) · 7 moves" in caption_text(at)
    stats = table_with(at, "median_days").set_index("level")
    # Whole days, halves rounded up: a person reads 17.5 days as 18.
    assert stats.loc[2, "completed"] == 2 and stats.loc[2, "median_days"] == 10  # S: 10 and 10 days
    assert stats.loc[3, "completed"] == 2 and stats.loc[3, "median_days"] == 18  # 20 and 15: 17.5
    assert stats.loc[4, "completed"] == 2 and stats.loc[4, "median_days"] == 13  # 5 and 20: 12.5
    assert stats.loc[4, "ongoing"] == 1 and stats.loc[4, "ongoing_median_days"] == 40
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {t.get("name") for t in chart["data"]} >= {"completed stays", "ongoing stays (so far)"}
    # One technology: S's time per level, completed and ongoing apart.
    at.selectbox(key="an_code").set_value("S").run()
    per = table_with(at, "intervals").set_index("level")
    assert per.loc[2, "days"] == 20.0 and per.loc[3, "completed_days"] == 35.0
    assert per.loc[4, "completed_days"] == 5.0 and per.loc[4, "ongoing_days"] == 40.0 and per.loc[4, "intervals"] == 2
    labels = [b.label for b in at.get("download_button")]
    assert "Download time per level (CSV)" in labels and "Download time per level S (CSV)" in labels


def test_filters_narrow_the_technologies_and_the_period(open_page, session, portfolio):
    projects.update_project(session=session, actor=Actor("alice"), code="T", status="paused",
                            expected_version=projects.get_project(session, "T").version)
    at = open_analytics(open_page)
    at.multiselect(key="an_owner").set_value(["bo"]).run()
    assert "2 of 4 technologies · 4 stays (2 ongoing) · 2 moves" in caption_text(at)
    at.multiselect(key="an_owner").set_value([]).run()
    at.multiselect(key="an_phase").set_value(["deployment"]).run()
    assert "1 of 4 technologies" in caption_text(at)  # T at 8
    at.multiselect(key="an_phase").set_value(["no level"]).run()
    assert "1 of 4 technologies · 0 stays" in caption_text(at)
    assert "No stay began in this period" in " ".join(i.value for i in at.info)
    at.multiselect(key="an_phase").set_value([]).run()
    at.multiselect(key="an_status").set_value(["paused"]).run()
    assert "1 of 4 technologies · 2 stays" in caption_text(at)  # T is paused
    at.multiselect(key="an_status").set_value([]).run()
    # The period: stays that began from 2026-01-01 on, as of 2026-01-20.
    at.date_input(key="an_from").set_value("2026-01-01")
    at.date_input(key="an_to").set_value("2026-01-20").run()
    assert "4 of 4 technologies · 3 stays (2 ongoing) · 1 moves" in caption_text(at)


def test_a_from_date_after_to_is_refused(open_page, portfolio):
    at = open_analytics(open_page, since="2026-03-01", until="2026-02-01")
    assert at.error[0].value.startswith("From (2026-03-01) is after To (2026-02-01)")
    assert not at.get("plotly_chart")


def test_moves_paths_bottlenecks_heat_map_and_a_past_date(open_page, portfolio):
    at = open_analytics(open_page)
    set_tab(at, "Moves")
    transitions = table_with(at, "move")
    pairs = {(r["from"], r["to"], r["move"]): r["count"] for r in transitions.to_dict("records")}
    assert pairs == {(2, 3, "graduation"): 2, (3, 4, "graduation"): 2, (4, 2, "embedded"): 1,
                     (4, 5, "graduation"): 1, (7, 8, "graduation"): 1}
    rates = table_with(at, "exits").set_index("level")
    assert rates.loc[4, "exits"] == 2 and rates.loc[4, "rate"] == 50  # per cent, whole
    sankey = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert sankey["data"][0]["type"] == "sankey" and sum(sankey["data"][0]["link"]["value"]) == 7

    set_tab(at, "Paths & cycles")
    assert "2 → 3 → 4 → 2 → 3 → 4" in set(table_with(at, "path")["path"])
    cycles = table_with(at, "cycle")
    assert set(cycles["cycle"]) == {"2 → 3 → 4 → 2", "3 → 4 → 2 → 3", "4 → 2 → 3 → 4"}
    at.session_state["an_span"] = "3"
    at.run()
    runs = table_with(at, "path").set_index("path")
    assert runs.loc["2 → 3 → 4", "count"] == 2

    set_tab(at, "Bottlenecks")
    infos = " ".join(i.value for i in at.info)
    assert "too few completed stays" in infos  # no level has 3 completed stays here

    set_tab(at, "Heat map")
    heat = table_with(at, "no level").set_index("owner")
    assert heat.loc["ana", "4"] == 1 and heat.loc["ana", "no level"] == 1 and heat.loc["bo", "5"] == 1
    assert heat.loc["bo", "8"] == 1
    at.session_state["an_heat_by"] = "system"
    at.run()
    by_system = table_with(at, "no level").set_index("system")
    assert by_system.loc["S", "4"] == 1 and by_system.loc["S", "5"] == 1 and by_system.loc["W", "no level"] == 1

    set_tab(at, "On a date")
    at.date_input(key="an_on").set_value("2026-02-10")
    at.date_input(key="an_then").set_value("2026-01-08").run()
    levels = table_with(at, "phase").set_index("code")
    assert levels.loc["S", "level"] == 2 and levels.loc["S.1", "level"] == 5 and levels.loc["T", "level"] == 8
    assert levels.loc["W", "phase"] == "no level"
    changes = table_with(at, "moves").set_index("code")
    # From the end of 01-08 to the end of 02-10: S went 2 -> 3 -> 4 -> 2 (3 moves, back where it was);
    # S.1 4 -> 5.
    assert changes.loc["S", "moves"] == 3 and changes.loc["S", "change"] == 0 and changes.loc["S.1", "change"] == 1
    assert "T" not in changes.index
