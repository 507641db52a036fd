"""The analytics and OKR area: the Analytics and Quarterly review pages' checks and the analytics
computations.

The Analytics page (``views/analytics.py``) with each of its tabs open (``an_tab``), unfiltered
from the first event to today: its caption must count every technology, one stay per event (one
of them ongoing per technology with a history) and every move, as counted from the raw rows. The
Quarterly review page (``views/quarterly.py``) on the current quarter (``bench/okrgen.py``'s OKRs)
with each tab open (``qr_tab``): its caption must count the quarter's key results, and the
Roll-up's five status metrics must add up to them. And the analytics computations on the cached
database: the event table read; time per level and the transition matrix from it (held to
``ANALYTICS_LIMIT_MS`` = 200 ms at every size: every technology's stays must add up to the time
since its first event, one stay per event, one move per non-start event); paths and cycles; a
10,000-sample forecast from level 1 to 9 (``FORECAST_LIMIT_MS`` = 1 s; reproducible with its
seed); the current quarter's review from the cached tables (one line per key result) and its HTML
report (one block per key result, each with its chart's two axis titles, and no script): the time
to write it, and its size in KB against ``REPORT_LIMIT_KB`` (1,000 KB; reported, not asserted:
the limit the demo's quarter is tested against, here at the benchmark's larger quarters).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import okrgen
from bench.common import PageSpec, aware, median_ms, metric_values, page_answer, profile_call, soft_check


def _history_answer(con: sqlite3.Connection) -> dict[str, int]:
    """From the raw level events: technologies, stays (one per event), ongoing stays (one per
    technology with a history) and moves (events that are not starts)."""
    return {"techs": con.execute("SELECT count(*) FROM project").fetchone()[0],
            "stays": con.execute("SELECT count(*) FROM levelevent").fetchone()[0],
            "ongoing": con.execute("SELECT count(DISTINCT project_id) FROM levelevent").fetchone()[0],
            "moves": con.execute("SELECT count(*) FROM levelevent WHERE from_level IS NOT NULL").fetchone()[0]}


def _check_analytics(at, n: int, counts: dict) -> None:
    """Unfiltered, from the first event to today: every technology, one stay per event (the
    technologies' last ones ongoing) and every move, as counted from the raw rows."""
    a = page_answer(_history_answer)
    line = (f"{a['techs']} of {a['techs']} technologies · {a['stays']:,} stays ({a['ongoing']:,} ongoing) · "
            f"{a['moves']:,} moves")
    assert any(str(c.value).startswith(line) for c in at.caption), (line, [c.value for c in at.caption][:3])
    assert at.get("plotly_chart") or at.dataframe, "nothing drawn"


def _okr_answer(con: sqlite3.Connection) -> int:
    return con.execute("SELECT count(*) FROM keyresult k JOIN objective o ON o.id = k.objective_id "
                       "WHERE o.quarter = ?", (str(okrgen.bench_quarter(datetime.now(UTC))),)).fetchone()[0]


def _check_quarterly(tab: str) -> Callable[[object, int, dict], None]:
    def check(at, n: int, counts: dict) -> None:
        """The current quarter's key results, all of them (counted from the raw rows): in the
        caption, and on the Roll-up as the sum of the five status metrics."""
        krs = page_answer(_okr_answer)
        assert any(f"{krs} key result(s)." in str(c.value) for c in at.caption), [c.value for c in at.caption][:3]
        if tab == "Roll-up":
            shown = metric_values(at)
            statuses = ("Achieved", "Achieved then lost", "On track", "At risk", "Missed")
            assert sum(shown[s] for s in statuses) == krs, (shown, krs)
        counts.setdefault("okr", {})["key_results"] = krs
    return check


ANALYTICS_TABS = ("Time per level", "Moves", "Paths & cycles", "Bottlenecks", "Heat map", "On a date")
QUARTERLY_TABS = ("Roll-up", "Key results", "Objectives", "Export")


ANALYTICS_LIMIT_MS = 200.0  # time per level and the transition matrix from the cached event table, at every size
FORECAST_LIMIT_MS = 1000.0  # one 10,000-sample forecast
REPORT_LIMIT_KB = 1000.0  # the quarterly HTML report (tests/services/test_okr_report.py holds the demo to it)


def measure_analytics_ops(db_path: Path, runs: int, size: str, log: Callable[[str], None],
                          profiling: bool) -> dict[str, dict]:
    """The analytics and OKR computations (read only, on the cached database): the event table
    read; time per level and the transition matrix from it (held to ``ANALYTICS_LIMIT_MS``);
    paths and cycles; a 10,000-sample forecast (``FORECAST_LIMIT_MS``); the current quarter's
    review from the cached tables and its HTML report. Each is checked once against an answer
    from the raw rows before it is timed."""
    from mltrl import db, reports
    from mltrl.domain import analytics, okr
    from mltrl.services import analytics as reads
    from mltrl.services import okr_report

    engine = db.make_engine(f"sqlite:///{db_path}")
    items: dict[str, dict] = {}
    now = datetime.now(UTC)

    def timed(name: str, fn: Callable[[], object], check: Callable[[object], None], *, limit_ms: float | None = None
              ) -> None:
        out = fn()
        failed = soft_check(lambda: check(out), name, log)
        res = median_ms(fn, runs)
        items[name] = dict(kind="analytics-op", **res, **({"limit_ms": limit_ms} if limit_ms else {}),
                           **({"check_failed": failed} if failed else {}))
        log(f"{name} {res['median_ms']:.1f} ms")
        if profiling:
            profile_call(fn, None, size, name)

    con = sqlite3.connect(str(db_path))
    try:
        raw = _history_answer(con)
        first = {pid: aware(at) for pid, at in con.execute("SELECT project_id, min(at) FROM levelevent GROUP BY project_id")}
        krs = _okr_answer(con)
    finally:
        con.close()
    try:
        def read_events():
            with db.session_scope(engine) as s:
                return reads.event_table(s)

        timed("analytics: event table (every level event; read once, cached on the data version)", read_events,
              lambda ev: _expect(len(ev) == raw["stays"], f"{len(ev)} events, {raw['stays']} in the table"))
        events = read_events()

        def time_and_matrix():
            per = analytics.time_per_level(analytics.level_intervals(events, as_of=now))
            return per, analytics.transition_matrix(analytics.moves(events, as_of=now))

        def check_time(out) -> None:
            per, matrix = out
            # Every technology's stays add up to the time from its first event to now.
            expected = sum((now - at).total_seconds() for at in first.values()) / 86_400
            _expect(abs(float(per["days"].sum()) - expected) < 1e-3 * max(expected, 1), (per["days"].sum(), expected))
            _expect(int(per["intervals"].sum()) == raw["stays"], (int(per["intervals"].sum()), raw["stays"]))
            _expect(int(matrix.to_numpy().sum()) == raw["moves"], (int(matrix.to_numpy().sum()), raw["moves"]))

        timed(f"analytics: time per level + transition matrix ({raw['stays']:,} events, from the cached table)",
              time_and_matrix, check_time, limit_ms=ANALYTICS_LIMIT_MS)

        def paths_and_cycles():
            paths = analytics.level_paths(events, as_of=now)
            return analytics.frequent_paths(paths), analytics.frequent_cycles(paths), paths

        timed("analytics: paths and cycles (every technology's path, top 10 of each)", paths_and_cycles,
              lambda out: _expect(len(out[2]) == raw["ongoing"], (len(out[2]), raw["ongoing"])))

        stays = analytics.completed_stays(analytics.level_intervals(events, as_of=now))

        def forecast():
            return analytics.forecast(1, 10.0, 9, stays, horizon_days=3 * 365, samples=10_000, seed=7)

        timed("analytics: forecast from level 1 to 9, 10,000 samples", forecast,
              lambda f: _expect(f.probability is not None and f == forecast(), f), limit_ms=FORECAST_LIMIT_MS)

        quarter = str(okr.quarter_of(now.date()))

        def review():
            with db.session_scope(engine) as s:
                return okr_report.quarter_report(s, quarter, as_of=now, events=events)

        timed(f"okr: quarter_report of {quarter} ({krs} key results, forecasts of 10,000 samples, "
              "from the cached event table)", review,
              lambda r: _expect(len(r.lines) == krs and sum(reports.summary(r).values()) == krs, (len(r.lines), krs)))
        report = review()
        timed(f"okr: the {quarter} review as a self-contained HTML report", lambda: reports.html_document(report),
              lambda page: _expect(page.startswith("<!doctype html>") and page.count("class='kr'") == krs
                                   and page.count("<text class='axis-title'") == 2 * (krs + 1)
                                   and "<script" not in page,
                                   (page.count("class='kr'"), page.count("<text class='axis-title'"))))
        size_kb = len(reports.html_document(report).encode()) / 1000
        items[f"okr: the {quarter} HTML report's size ({krs} key results)"] = dict(
            kind="size", value_kb=size_kb, limit_kb=REPORT_LIMIT_KB, per_key_result_kb=size_kb / max(krs, 1))
        log(f"okr: HTML report {size_kb:,.0f} KB")
    finally:
        engine.dispose()
    return items


def _expect(condition: bool, detail: object) -> None:
    assert condition, detail


ANALYTICS_PAGES = [
    *(PageSpec(f"analytics {tab}", "views/analytics.py", check=_check_analytics,
               session_state={"an_tab": tab, "an_phase": [], "an_owner": [], "an_status": []},
               drop_params=("review", "tab", "system", "code")) for tab in ANALYTICS_TABS),
    *(PageSpec(f"quarterly review {tab}", "views/quarterly.py", check=_check_quarterly(tab),
               query_params=lambda n, c: {"quarter": str(okrgen.bench_quarter(datetime.now(UTC)))},
               session_state={"qr_tab": tab}, drop_params=("review", "tab", "system", "code"))
      for tab in QUARTERLY_TABS),
]
