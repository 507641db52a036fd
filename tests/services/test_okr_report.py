"""The quarterly review against a real database (SQLite and PostgreSQL): key result statuses from
level histories worked out by hand (achieved, achieved then lost, missed, on track, at risk), the
roll-up, the burn-up, the report card, reproducible forecasts, and the three renderings."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

import re

from mltrl import reports
from mltrl.domain import days, okr
from mltrl.services import Actor, demo, okr_report, okrs, projects
from tests.factories import day, make_history, make_project

ANA = Actor("ana")


@pytest.fixture
def quarter(session) -> dict[str, int]:
    """2026-Q1 (01-01 to 03-31), reviewed as of 2026-02-20 unless said otherwise.

    A: 3 on 2025-10-01, 4 on 2026-01-20, 5 on 2026-02-10            -> "A >= 5": achieved on 02-10
    B: 4 on 2025-10-01, 5 on 2026-01-15, back to 3 on 2026-02-01    -> "B >= 5": achieved then lost
    C: 2 on 2025-06-01, 3 on 2025-09-01, 4 on 2025-12-01             -> "C >= 5": on track (median stay
       at 4 is 20 days from A's and B's completed stays... see the test)
    D: 1 on 2025-12-01 (paused)                                      -> "D >= 2": at risk (paused)
    E: 6 on 2025-10-01                                               -> "E >= 7 by 2026-02-01": missed
    Plus F, never started                                            -> "F >= 1": at risk (no forecast)
    """
    for code in "ABCDEF":
        make_project(session, code, f"Technology {code}", owners=["ana" if code in "ABC" else "bo"])
    make_history(session, "A", [("start", 3, None, "2025-10-01"), ("graduation", None, None, "2026-01-20"),
                                ("graduation", None, None, "2026-02-10")])
    make_history(session, "B", [("start", 4, None, "2025-10-01"), ("graduation", None, None, "2026-01-15"),
                                ("switchback", 3, "review", "2026-02-01")])
    make_history(session, "C", [("start", 2, None, "2025-06-01"), ("graduation", None, None, "2025-09-01"),
                                ("graduation", None, None, "2025-12-01")])
    make_history(session, "D", [("start", 1, None, "2025-12-01")])
    make_history(session, "E", [("start", 6, None, "2025-10-01")])
    projects.update_project(session=session, actor=ANA, code="D", status="paused",
                            expected_version=projects.get_project(session, "D").version)
    objective = okrs.add_objective(session=session, actor=ANA, quarter="2026-Q1", title="Ship the detectors",
                                   owner="ana")
    other = okrs.add_objective(session=session, actor=ANA, quarter="2026-Q1", title="Grow the pipeline", owner="bo")
    ids = {}
    for code, level, due, obj in (("A", 5, None, objective), ("B", 5, None, objective), ("C", 5, None, objective),
                                  ("D", 2, None, other), ("E", 7, "2026-02-01", other), ("F", 1, None, other)):
        ids[code] = okrs.add_key_result(session=session, actor=ANA, objective_id=obj.id, code=code,
                                        target_level=level, due=due).id
    okrs.check_in(session=session, actor=ANA, key_result_id=ids["C"], comment="Field data arriving", confidence=7,
                  at=day("2026-02-15"))
    return ids


def test_statuses_roll_up_burn_up_and_card_by_hand(session, quarter):
    report = okr_report.quarter_report(session, "2026-Q1", as_of=day("2026-02-20"), samples=2000, seed=1)
    status = {line.code: line.state.status.value for line in report.lines}
    # C: at 4 since 2025-12-01 (81 days by 02-20). Completed stays at 4: A 01-20 -> 02-10 (21 days),
    # B 2025-10-01 -> 2026-01-15 (106 days). Only B's lasted longer than 81 days: 25 days left, so
    # C is expected at 5 on 03-17, before 03-31: on track.
    assert status == {"A": "achieved", "B": "achieved then lost", "C": "on track", "D": "at risk", "E": "missed",
                      "F": "at risk"}
    by_code = {line.code: line for line in report.lines}
    assert by_code["A"].state.reached_at == day("2026-02-10") and by_code["B"].state.level == 3
    assert by_code["C"].forecast.expected_days == 25.0 and by_code["C"].expected_date == date(2026, 3, 17)
    assert by_code["C"].confidence == 7 and by_code["F"].forecast is None
    assert by_code["A"].due == date(2026, 3, 31) and by_code["E"].due == date(2026, 2, 1)
    assert report.rollup().iloc[0].to_dict() == {"achieved": 1, "achieved then lost": 1, "on track": 1,
                                                 "at risk": 2, "missed": 1, "total": 6}
    owners = report.rollup("owner").set_index("owner")
    assert owners.loc["ana", "achieved"] == 1 and owners.loc["bo", "at risk"] == 2 and owners.loc["bo", "total"] == 3
    burnup = report.burnup.set_index("day")
    assert burnup.loc[date(2026, 2, 9), "achieved"] == 0      # B lost on 02-01, A not yet at 5
    assert burnup.loc[date(2026, 1, 20), "achieved"] == 1     # B at 5 since 01-15
    assert burnup.loc[date(2026, 2, 10), "achieved"] == 1     # A reached 5
    assert burnup.loc[date(2026, 2, 19), "achieved"] == 1 and pd.isna(burnup.loc[date(2026, 2, 21), "achieved"])
    assert (burnup["total"] == 6).all() and len(burnup) == 90
    card = report.card
    # 2026-01-01 .. as of 02-20: graduations A 3->4, A 4->5, B 4->5; B's switchback 5->3 gives back 2.
    assert (card.levels_gained, card.levels_lost) == (3, 2) and card.switchbacks["review"] == 1
    assert list(card.improved["code"]) == ["A"] and list(card.dropped["code"]) == ["B"]
    assert sorted(card.held["code"]) == ["C", "D", "E"]


def test_the_quarter_over_and_a_reproducible_forecast(session, quarter):
    after = okr_report.quarter_report(session, "2026-Q1", as_of=day("2026-04-15"))
    status = {line.code: line.state.status.value for line in after.lines}
    assert status["C"] == "missed" and status["A"] == "achieved" and status["B"] == "achieved then lost"
    again = [okr_report.quarter_report(session, "2026-Q1", as_of=day("2026-02-20"), samples=3000, seed=9)
             for _ in range(2)]
    first, second = ({line.code: line.forecast.probability for line in r.lines if line.forecast} for r in again)
    assert first == second and again[0].samples == 3000
    # C needs the rest of its stay at 4: of the completed stays at 4 (21 and 106 days) only the
    # longer outlasts the 81 days spent, leaving 25 days, within the 40 to the end of 03-31.
    assert first["C"] == 1.0
    # Level 1 has no completed stay anywhere: D gets no forecast, and says why.
    d = next(line for line in again[0].lines if line.code == "D")
    assert d.forecast.probability is None and "level 1" in d.forecast.reason


def test_renderings_carry_every_key_result_and_escape_user_text(session, quarter):
    okrs.edit_key_result(session=session, actor=ANA, key_result_id=quarter["A"], expected_version=1,
                         note="<script>alert(1)</script> | piped")
    report = okr_report.quarter_report(session, "2026-Q1", as_of=day("2026-02-20"), samples=500)
    data = reports.as_json(report)
    assert data["summary"]["achieved"] == 1 and len(data["key_results"]) == 6
    a = next(k for k in data["key_results"] if k["code"] == "A")
    assert (a["target_level"], a["date"], a["status"]) == (5, "2026-03-31", "achieved")
    md = reports.markdown(report)
    assert "# Quarterly readiness review 2026-Q1" in md and "| A reaches level ≥ 5 by 2026-03-31 | achieved |" in md
    assert "\\| piped" in md
    page = reports.html_document(report)
    assert page.startswith("<!doctype html>") and "<script" not in page  # static SVG charts, no plotly.js
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("class='kr'") == 6 and "Ship the detectors" in page


def test_an_unknown_quarter_is_refused(session):
    from mltrl.domain.errors import InvalidInput

    with pytest.raises(InvalidInput, match="quarter"):
        okr_report.quarter_report(session, "Q1-2026")
    assert okr_report.quarter_report(session, "2030-Q2").lines == ()


def test_a_quarter_begins_at_midnight_on_its_first_day(session):
    # A move dated the quarter's first day (midnight, as a date-only CLI entry) is the new quarter's.
    make_project(session, "Q", "Quarter boundary")
    make_history(session, "Q", [("start", 3, None, "2025-09-01"), ("graduation", None, None, "2026-01-01")])
    q1 = okr_report.quarter_report(session, "2026-Q1", as_of=day("2026-02-01"), samples=100)
    q4 = okr_report.quarter_report(session, "2025-Q4", as_of=day("2026-02-01"), samples=100)
    assert q1.card.levels_gained == 1 and list(q1.card.improved["code"]) == ["Q"]
    assert q4.card.levels_gained == 0 and list(q4.card.held["code"]) == ["Q"]


def _key_result_charts(page: str) -> list[str]:
    """The SVG chart of each key result's box (``<div class='kr'>``) in the HTML report."""
    boxes = page.split("<div class='kr'>")[1:]
    return [re.search(r"<svg class='chart'.*?</svg>", box, re.S).group(0) for box in boxes]


def test_the_demo_quarter_report_is_small_offline_and_its_charts_say_what_they_show(session):
    # The demo as loaded today; its current quarter, as the Quarterly review page exports it.
    demo.load_demo(session=session, actor=Actor("demo"))
    quarter = str(okr.quarter_of(days.today()))
    report = okr_report.quarter_report(session, quarter, samples=1000)
    page = reports.html_document(report)
    assert len(report.lines) >= 5
    assert len(page.encode()) < 1_000_000, f"{len(page.encode()):,} bytes"
    # Offline: nothing is fetched (no script, no stylesheet or image from elsewhere).
    assert "<script" not in page and not re.search(r"(src|href)\s*=\s*['\"]?https?:", page)
    charts = _key_result_charts(page)
    assert len(charts) == len(report.lines)
    for line, svg in zip([line for v in report.objectives for line in report.lines if line.objective_id ==
                          v.objective.id], charts):
        titles = re.findall(r"<text class='axis-title'[^>]*>([^<]+)</text>", svg)
        assert titles == ["Date", "Level"], (line.label, titles)
        assert "width='880'" in svg and "height='280'" in svg  # legible: the text column's width
        assert f"target: level {line.target}" in svg and f"due {line.due:%Y-%m-%d}" in svg
        assert all(f">{n}</text>" in svg for n in range(10))  # every level on the axis
    burnup = page.split("<h2>Key results achieved over the quarter</h2>")[1]
    assert re.findall(r"<text class='axis-title'[^>]*>([^<]+)</text>", burnup.split("</svg>")[0]) == [
        "Date", "Key results"]
