"""``make bench``: every page, the CLI and the floor, at the S, M and L portfolio sizes.

For each size the parent process generates (or reuses) the synthetic database, then measures in a
fresh child process (``python -m bench.run --measure SIZE --db PATH --out FILE``), so each size's
peak memory (``ru_maxrss``) is the app's at that size and not the generator's or a larger size's.

Measured, median of ``BENCH_RUNS`` (default 5) timed runs after one untimed warm-up:

* the floor: the bare SQL the portfolio needs (projects, owners) with Python's sqlite3; and, for
  reference, the current level of every project from the latest event through (project_id, at);
* each page's full script run with ``AppTest`` (server-side: script, caches, element tree),
  ``cold`` (``st.cache_data.clear()`` before each run: the first view after a write) and ``warm``
  (cached data: what a user clicking around sees);
* ``mltrl project list --json`` in-process (typer's CliRunner) and once as a subprocess
  (with the interpreter's start-up and imports);
* the TRL card operations on the long card (``bench/cardgen.py``: ``T00042``, six 20-40 KB
  sections, 50 revisions), through the card service on a throwaway copy of the size's database
  (the cached one is never written): ``card export md`` and ``card export html``
  (``export_card``), ``card save`` (``save_card`` of the card with one paragraph rewritten, each
  save from the latest revision; the next card is built untimed before each save) and
  ``card import`` (``import_card`` of the exported Markdown, a new revision each time). Each timed
  call opens and closes its own session on one engine, as a page run does.

* the requirements and risk register operations (``bench/registergen.py``: 10 requirements and 20
  risks per technology on average, ``T00042`` with 200 and 400), through the register service on a
  throwaway copy of the size's database: the portfolio risk matrix (``matrix_counts``), the
  portfolio requirements matrix, ``T00042``'s risk matrix, the items of the portfolio's busiest
  risk cell (``cell_items``), the CSV exports of ``T00042``'s two registers, and ``import_risks``
  of that export: unchanged (every row checked, nothing to write) and with every risk's value
  changed (400 updates with their history and audit rows; the two files alternate, so each run
  changes every row back). For reference, the bare portfolio matrix SQL through sqlite3.
  Also the Risk portfolio's queries with the default policy (``Policy()``): the 25 highest risks
  (``top_risks``), the overdue reviews (``overdue_risks``: the count and the first 200), the
  technologies whose open risk grew since their level change (``risk_growth``), and ``T00042``'s
  risk trend (``risk_events`` + ``analytics.risk_trend``, total and by category); each checked
  against an answer computed untimed in Python from the copy's raw rows (the overdue count risk by
  risk with ``mltrl.domain.risk.overdue``, just before and just after the timed calls, as it moves with
  the clock). Last, the grid saves: ``edit_requirements`` and ``edit_risks`` of 50 edited rows of
  ``T00042`` (each row's value moved on by one; the ``RowEdit`` list is built untimed from the
  rows as they are before each save).

The pages include the TRL card page at ``card?code=T00042`` (the long card: read, history with the
diff of its last two revisions, brief, editor with previews, import form; the Markdown and HTML
downloads are exported on every run), the Cards page (every technology's card state) and the
Requirements & risks page at ``risks?code=T00042`` with each of its tabs open (the matrix; the
requirements table and its CSV; the risks table and its CSV), and the Risk portfolio page with each
of its tabs open (``rp_tab``: the portfolio matrix, whose total must be every risk not closed; the
25 highest risks, highest first, as found from the raw rows; the overdue reviews, whose count must
match one made risk by risk with ``mltrl.domain.risk.overdue`` and the default policy; the technologies
whose open risk grew since their level change, as found from the raw history), and once more its
matrix with a phase and a category chosen (``productization``, ``data``).

The Reviews page (``views/reviews.py``, ``bench/reviewgen.py``'s reviews, run as ``reviewgen.REVIEWER``)
with each of its tabs open (``reviews_tab``): the Overview, whose metrics must equal counts made from
the raw rows (every open review; the open reviews with the acting user on the panel and no vote
from them; the level 9 technologies overdue for review under the default policy); the Review tab on
``?review=`` T00042's open review, and on the oldest review that decided one of T00042's moves (the
link its timeline gives), each of which must be the review shown; the Checklist of T00042, whose
average and count of scored criteria must match its raw scores. The Timelines page
(``views/timelines.py``, ``tl_tab``): T00042's timeline (events counted by kind and by review), the
sample system (its level now is the minimum of its tree's, held down by the ones at it) and the
portfolio swimlanes sorted by level and by switchbacks, unfiltered: at most 20 traces and at most
60 lanes (one page) of at least 20 px each, in the order worked out from the raw rows.

And the review and timeline services on a throwaway copy: ``standing(T00042)``, ``review_view`` of
its open review, ``reviews(status="open")``, ``waiting_for`` the acting user, ``deployed_reviews``
with the default policy, the swimlanes' lane facts (``lane_frame``, grouped in SQL), the first page
of swimlanes built from it (``order_lanes``, ``lane_events`` for the page's lanes,
``lane_segments``, ``swimlanes_chart``),
and ``decide()`` graduating an open review (one generated open review per call, picked untimed).
Each read is checked once against the raw rows before it is timed.

The Analytics page (``views/analytics.py``) with each of its tabs open (``an_tab``), unfiltered from
the first event to today: its caption must count every technology, one stay per event (one of
them ongoing per technology with a history) and every move, as counted from the raw rows. The
Quarterly review page (``views/quarterly.py``) on the current quarter (``bench/okrgen.py``'s OKRs)
with each tab open (``qr_tab``): its caption must count the quarter's key results, and the
Roll-up's five status metrics must add up to them. And the analytics computations on the cached
database: the event table read; time per level and the transition matrix from it (held to
``ANALYTICS_LIMIT_MS`` = 200 ms at every size: every technology's stays must add up to the time
since its first event, one stay per event, one move per non-start event); paths and cycles; a
10,000-sample forecast from level 1 to 9 (``FORECAST_LIMIT_MS`` = 1 s; reproducible with its
seed); the current quarter's review from the cached tables (one line per key result) and its HTML
report (one block per key result). A failed check (page or
operation) no longer stops the run: the item is timed, marked ``CHECK FAILED`` and listed under
the table, and ``make bench`` exits 1 at the end.

Targets are reported, never asserted: every page under 300 ms at M and under 1 s at L (S is held
to the M target), within 3x of the floor, cost growing no faster than linearly from S to L. Card
save and export are held to the same time target (no floor ratio: they do not read the
portfolio); card import is reported without a target. The register operations are held to the
same time target, without a floor ratio, as are the review and timeline operations.

Environment: ``BENCH_SIZES=S,M`` (default S,M,L), ``BENCH_RUNS=5``, ``BENCH_PROFILE=1`` (cProfile
one cold and one warm run of each page at every size measured, to ``bench/results/profile-*.txt``),
``BENCH_TRACEMALLOC=1`` (one extra cold portfolio run under tracemalloc: Python's allocation peak).

Then write throughput (``bench/writes.py``): 1, 2 and 4 writer processes at once on SQLite and on
PostgreSQL (a throwaway server, as the tests start one); ``BENCH_WRITES=0`` leaves it out.

Results: a Markdown table on stdout and in ``bench/results/latest.md``, raw numbers in
``bench/results/latest.json``. Later capabilities add their pages to ``PAGES`` and their commands
to ``CLI_OPS``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import cardgen, generate, okrgen, registergen, reviewgen, writes

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
SIZE_ORDER = ["S", "M", "L"]
TIME_TARGET_MS = {"S": 300.0, "M": 300.0, "L": 1000.0}  # S: held to the M target
FLOOR_RATIO_TARGET = 3.0


# --- what is measured ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PageSpec:
    name: str
    path: str  # relative to app.py, as st.switch_page takes it
    reads_portfolio: bool = True  # False: the page reads no data, so the 3x-floor target is n/a
    # (n_technologies, counts) -> the query parameters to set (worked out once, before the runs)
    query_params: Callable[[int, dict], dict[str, str]] = field(default=lambda n, counts: {})
    check: Callable[[object, int, dict], None] | None = None  # (AppTest, n_technologies, counts)
    session_state: dict[str, object] = field(default_factory=dict)  # set before every run (e.g. a tab)
    # (n_technologies, counts) -> more session state to set (worked out once, before the runs)
    state: Callable[[int, dict], dict[str, object]] = field(default=lambda n, counts: {})
    # Keys whose widget state is dropped before being set: a tab whose ``default=`` changes with the
    # query (the Reviews page's) keeps its old value otherwise, whatever is set. (Only for widgets
    # that AppTest can do without: dropping a text input's or a select box's state while it is on
    # the screen breaks AppTest's next run.)
    fresh_state: tuple[str, ...] = ()
    drop_params: tuple[str, ...] = ()  # query parameters a page before may have left, removed first


def _check_portfolio(at, n: int, counts: dict) -> None:
    shown = [c.value for c in at.caption if str(c.value).startswith("Showing ")]
    assert shown and f"of {counts['projects']} technologies" in shown[0], shown


def _check_project(at, n: int, counts: dict) -> None:
    code = generate.sample_system_code(n)
    assert at.header and at.header[0].value.startswith(f"{code} "), [h.value for h in at.header]
    assert "Components" in [s.value for s in at.subheader], "the sample project shows no components"


def _check_card(at, n: int, counts: dict) -> None:
    """The long card itself was drawn (its TL;DR inside the card's HTML), at its latest revision."""
    bodies = [h.value for h in at.html]
    assert any(cardgen.LONG_CARD_TLDR_MARKER in b and "Top-level requirements" in b for b in bodies), \
        f"the card page did not render the long card's TL;DR ({len(bodies)} html elements)"
    latest = f"Revision {counts['long_card_revisions']}, "
    assert any(str(c.value).startswith(latest) for c in at.caption), [c.value for c in at.caption][:5]


def _check_cards(at, n: int, counts: dict) -> None:
    """The overview counts every technology, and the ones with a card as up to date or stale."""
    metrics = {m.label: int(str(m.value).replace(",", "")) for m in at.metric}
    with_card = metrics["Cards up to date"] + metrics["Stale cards"]
    assert with_card == counts["cards"], (metrics, counts["cards"])
    assert with_card + metrics["Technologies without a card"] == counts["projects"], metrics
    assert len(at.dataframe[0].value) == counts["projects"], len(at.dataframe[0].value)


REGISTER_CODE = registergen.REGISTER_CODE


def _matrix_text(at) -> list[list[int]]:
    """The counts the page's risk matrix shows (the heatmap's cell text, p band rows, value band columns)."""
    charts = at.get("plotly_chart")
    assert charts, "the page drew no matrix chart"
    spec = json.loads(charts[0].proto.spec)
    heatmap = next(d for d in spec["data"] if d.get("type") == "heatmap")
    return [[int(n) for n in row] for row in heatmap["text"]]


def _check_risks_matrix(at, n: int, counts: dict) -> None:
    """The matrix shows T00042's risks that are not closed, cell by cell, as counted independently."""
    shown = _matrix_text(at)
    expected = counts["register_risk_matrix"]
    assert shown == expected, (shown, expected)
    assert sum(map(sum, shown)) == counts["register_open_risks"] > 0, counts["register_open_risks"]


def _table_rows(at, rows: int) -> list:
    """The page's data frames with ``rows`` rows (the register's table)."""
    return [d.value for d in at.dataframe if len(d.value) == rows]


def _check_risks_requirements(at, n: int, counts: dict) -> None:
    """The Requirements tab lists every requirement of T00042, in number order; the matrix is not drawn."""
    tables = _table_rows(at, counts["register_requirements"])
    assert tables, (f"no table of {counts['register_requirements']} requirements",
                    [len(d.value) for d in at.dataframe])
    column = next((c for c in tables[0].columns if str(c).lower() == "number"), None)
    assert column is not None, list(tables[0].columns)
    numbers = [str(x) for x in tables[0][column]]
    from mltrl.domain.risk import number_sort_key

    assert numbers == sorted(numbers, key=number_sort_key) and numbers[0] == "1", numbers[:12]
    assert not at.get("plotly_chart"), "the Requirements tab also drew the matrix"


def _check_risks_risks(at, n: int, counts: dict) -> None:
    """The Risks tab lists every risk of T00042, closed ones included; the matrix is not drawn."""
    assert _table_rows(at, counts["register_risks"]), (f"no table of {counts['register_risks']} risks",
                                                       [len(d.value) for d in at.dataframe])
    assert not at.get("plotly_chart"), "the Risks tab also drew the matrix"


# --- the Risk portfolio page: independent answers (Python over the raw rows, not the services' SQL) ---

TOP_RISKS = 25  # the page's "Highest risks" table
GRID_ROWS = 50  # rows edited in one grid save
OVERDUE_LISTED = 200  # the page lists the first 200 overdue risks
FILTER_PHASE, FILTER_CATEGORY = "productization", "data"  # the filtered run


def _aware(text: str | None) -> datetime | None:
    """A stored UTC timestamp (SQLite keeps them as naive ISO text) as an aware datetime."""
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def _open_risk_rows(con: sqlite3.Connection) -> list[tuple]:
    """(p_failure, value, last_reviewed_at, accepted_until) of every risk that is not closed."""
    return [(p, v, _aware(reviewed), _aware(until)) for p, v, reviewed, until in con.execute(
        "SELECT p_failure, value, last_reviewed_at, accepted_until FROM risk WHERE status != 'closed'")]


def _overdue_count(rows: list[tuple], now: datetime) -> int:
    """How many of ``rows`` (``_open_risk_rows``) are overdue at ``now`` under the default policy,
    risk by risk with ``mltrl.domain.risk.overdue`` (not the services' SQL)."""
    from mltrl.domain import risk as rules
    from mltrl.domain.policy import Policy

    cadences = Policy().risk_review_days
    return sum(rules.overdue(reviewed, p, v, now, cadences, accepted_until=until) for p, v, reviewed, until in rows)


def _overdue_bracket(con: sqlite3.Connection, fn: Callable[[], object]) -> tuple[int, int, object]:
    """(count before, count after, fn()): the independent overdue count just before and just after
    ``fn`` runs. Overdue only grows with time, so what ``fn`` counted must lie between the two.
    The lower count is taken at the start of the current minute: the page counts as of the minute
    (its cached read is keyed on it)."""
    rows = _open_risk_rows(con)
    lo = _overdue_count(rows, datetime.now(UTC).replace(second=0, microsecond=0))
    out = fn()
    hi = _overdue_count(rows, datetime.now(UTC))
    return lo, hi, out


def _top_scores(con: sqlite3.Connection, k: int = TOP_RISKS) -> list[float]:
    """The ``k`` highest p x value of the risks not closed, highest first, rounded as shown."""
    from mltrl.domain import risk as rules

    scores = sorted((rules.score(p, v) for p, v in con.execute(
        "SELECT p_failure, value FROM risk WHERE status != 'closed'")), reverse=True)
    return [round(x, 3) for x in scores[:k]]


def _growth(con: sqlite3.Connection) -> dict[str, float]:
    """Code -> growth of every technology whose open risk (sum of p x value over risks not closed)
    is higher now than at its last level change, the total then read from each risk's own history
    (its latest event at or before ``level_since``; a risk added since counts 0). Python over the
    raw rows."""
    projects = {pid: (code, _aware(since)) for pid, code, since in con.execute(
        "SELECT id, code, level_since FROM project WHERE level_since IS NOT NULL")}
    now: dict[int, float] = {}
    for pid, p, v in con.execute("SELECT project_id, p_failure, value FROM risk WHERE status != 'closed'"):
        now[pid] = now.get(pid, 0.0) + p * v
    last: dict[int, tuple] = {}  # risk id -> (at, id, project, p, value, status) of its latest event by then
    for eid, rid, pid, at, p, v, status in con.execute(
            "SELECT id, risk_id, project_id, at, p_failure, value, status FROM riskevent"):
        if pid not in projects:
            continue
        at = _aware(at)
        if at <= projects[pid][1] and (rid not in last or (at, eid) > last[rid][:2]):
            last[rid] = (at, eid, pid, p, v, status)
    then: dict[int, float] = {}
    for _, _, pid, p, v, status in last.values():
        if status != "closed":
            then[pid] = then.get(pid, 0.0) + p * v
    return {projects[pid][0]: total - then.get(pid, 0.0) for pid, total in now.items()
            if pid in projects and total > then.get(pid, 0.0) + 1e-9}


def _page_answer(fn: Callable[[sqlite3.Connection], object]) -> object:
    """``fn`` over the database the pages read (``MLTRL_DATABASE_URL``, set by ``measure``)."""
    con = sqlite3.connect(os.environ["MLTRL_DATABASE_URL"].removeprefix("sqlite:///"))
    try:
        return fn(con)
    finally:
        con.close()


def _states_total(caption: object, total: int) -> bool:
    """The matrix caption states ``total`` ("**N** item(s): ...", or the earlier "N item(s). ...")."""
    return str(caption).startswith((f"**{total}** item(s)", f"{total} item(s)."))


def _check_rp_matrix(at, n: int, counts: dict) -> None:
    """The portfolio matrix shows every risk that is not closed, cell by cell; its caption the total."""
    shown = _matrix_text(at)
    assert shown == counts["portfolio_risk_matrix"], (shown, counts["portfolio_risk_matrix"])
    total = sum(map(sum, shown))
    assert total == counts["open_risks"] > 0, (total, counts["open_risks"])  # count(*) WHERE status != 'closed'
    assert any(_states_total(c.value, total) for c in at.caption), [c.value for c in at.caption]


def _check_rp_matrix_filtered(at, n: int, counts: dict) -> None:
    """With phase and category chosen, the matrix counts only the open risks of that category of
    technologies at that phase's levels (and some exist)."""
    shown = _matrix_text(at)
    expected = counts["portfolio_risk_matrix_filtered"]
    assert shown == expected, (shown, expected)
    total = sum(map(sum, shown))
    assert 0 < total < counts["open_risks"], (total, counts["open_risks"])
    assert any(_states_total(c.value, total) for c in at.caption), [c.value for c in at.caption]


def _check_rp_top(at, n: int, counts: dict) -> None:
    """The 25 highest open risks, highest first, the same scores as counted from the raw rows."""
    tables = [d.value for d in at.dataframe]
    assert len(tables) == 1 and len(tables[0]) == TOP_RISKS, [len(t) for t in tables]
    shown = [float(x) for x in tables[0]["risk"]]
    assert shown == sorted(shown, reverse=True), shown
    expected = _page_answer(_top_scores)
    assert shown == expected, (shown, expected)
    assert "closed" not in set(tables[0]["status"]), set(tables[0]["status"])
    assert not at.get("plotly_chart"), "the Highest risks tab also drew the matrix"


def _check_rp_overdue(at, n: int, counts: dict) -> None:
    """The overdue metric equals a count made risk by risk with ``mltrl.domain.risk.overdue`` and the
    default policy over every open risk: the page is run again between two such counts (it reads
    the clock, and a risk can fall due meanwhile). The table lists the first 200."""
    def shown() -> int:
        at.run()
        assert not at.exception, at.exception
        metric = next(m for m in at.metric if m.label == "Risks overdue for review")
        return int(str(metric.value).replace(",", ""))

    lo, hi, total = _page_answer(lambda con: _overdue_bracket(con, shown))  # type: ignore[misc]
    assert 0 < lo <= total <= hi, (lo, total, hi)
    tables = [d.value for d in at.dataframe]
    assert len(tables) == 1 and len(tables[0]) == min(total, OVERDUE_LISTED), ([len(t) for t in tables], total)
    counts["overdue_risks_seen"] = total


def _check_rp_growth(at, n: int, counts: dict) -> None:
    """The technologies whose open risk grew since their last level change, as found from the
    raw history; or, when none did, the page says so."""
    grown = _page_answer(_growth)
    tables = [d.value for d in at.dataframe]
    if not grown:
        assert not tables and any("No technology's open risk grew" in str(i.value) for i in at.info), \
            [i.value for i in at.info]
        return
    assert len(tables) == 1, [len(t) for t in tables]
    shown = {str(link).split("code=", 1)[1]: float(g) for link, g in zip(tables[0]["code"], tables[0]["growth"])}
    assert set(shown) == set(grown), (sorted(set(shown) ^ set(grown))[:10], len(shown), len(grown))
    assert all(abs(shown[c] - grown[c]) < 1.5e-3 for c in grown), \
        [(c, shown[c], grown[c]) for c in grown if abs(shown[c] - grown[c]) >= 1.5e-3][:5]
    assert list(tables[0]["growth"]) == sorted(tables[0]["growth"], reverse=True)
    counts["grown_technologies"] = len(grown)


# --- the Reviews and Timelines pages: independent answers from the raw rows ---------------------

REVIEW_CODE = reviewgen.REVIEW_CODE  # = REGISTER_CODE: its open review, checklist and timeline
REVIEWER = reviewgen.REVIEWER  # the acting user of the Reviews page runs ("waiting for my vote")
REVIEWS_LISTED = 200  # reviews.reviews' default limit
SWIMLANE_PAGE = 60  # views/timelines.py LANES_PER_PAGE: the bound on lanes drawn at once
SWIMLANE_TRACES = 20  # the bound on the swimlane chart's traces (it draws one per phase and kind)
MIN_LANE_PX = 20  # readable: each lane at least this many pixels high
TL_NO_FILTER = {"tl_text": "", "tl_phase": [], "tl_status": [], "tl_owner": [], "tl_reverse": False,
                "tl_components": True, "tl_page": 1}


def _counted(n: int, noun: str) -> str:  # as views/timelines.py writes counts
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _deployed_overdue(con: sqlite3.Connection, now: datetime) -> int:
    """Level 9 technologies whose next review is overdue at ``now`` under the default policy: due
    ``deployed_review_days`` after the later of reaching level 9 and the last decided level 9
    review. Python over the raw rows."""
    from mltrl.domain.policy import Policy

    days = Policy().deployed_review_days
    last: dict[int, datetime] = {}
    for pid, at in con.execute("SELECT project_id, decided_at FROM review WHERE level = 9 AND status = 'decided'"):
        at = _aware(at)
        last[pid] = max(last.get(pid, at), at)
    out = 0
    for pid, since in con.execute("SELECT id, level_since FROM project WHERE level = 9"):
        anchor = max(d for d in (_aware(since), last.get(pid)) if d is not None)
        out += (anchor + timedelta(days=days)) < now
    return out


def _lane_codes(con: sqlite3.Connection, by: str) -> list[str]:
    """Every technology's code in the swimlanes' order ``by`` (level: highest first, then code;
    switchbacks: most first, then highest level, then code), those with no level last in code
    order. Python over the raw rows."""
    switchbacks = dict(con.execute(
        "SELECT project_id, count(*) FROM levelevent WHERE kind = 'switchback' GROUP BY project_id"))
    rows = con.execute("SELECT id, code, level FROM project").fetchall()
    started = [r for r in rows if r[2] is not None]
    key = {"level": lambda r: (-r[2], r[1]),
           "switchbacks": lambda r: (-switchbacks.get(r[0], 0), -r[2], r[1])}[by]
    return [r[1] for r in sorted(started, key=key)] + sorted(r[1] for r in rows if r[2] is None)


def _review_counts(con: sqlite3.Connection, n: int) -> dict:
    """What the Reviews and Timelines pages and the review operations must show, from the raw rows."""
    from mltrl.domain.criteria_default import DEFAULT_CRITERIA

    q = lambda sql: con.execute(sql).fetchone()[0]
    t42 = q(_project_id_sql(REVIEW_CODE))
    out: dict = {
        "reviews": q("SELECT count(*) FROM review"),
        "open_reviews": q("SELECT count(*) FROM review WHERE status = 'open'"),
        "decided_reviews": q("SELECT count(*) FROM review WHERE status = 'decided'"),
        "review_votes": q("SELECT count(*) FROM reviewvote"),
        "level9": q("SELECT count(*) FROM project WHERE level = 9"),
        "open_review_ids": [r for (r,) in con.execute("SELECT id FROM review WHERE status = 'open' ORDER BY id DESC")],
    }
    # T00042's open review (else the newest open review): its votes and answers.
    rid = q(f"SELECT max(id) FROM review WHERE status = 'open' AND project_id = {t42}") or out["open_review_ids"][0]
    out["review_open_id"] = rid
    out["review_open_listed"] = rid in {r for (r,) in con.execute("SELECT id FROM review ORDER BY id DESC LIMIT 500")}
    out["review_open_code"] = q(f"SELECT p.code FROM review r JOIN project p ON p.id = r.project_id WHERE r.id = {rid}")
    out["review_open_level"] = q(f"SELECT level FROM review WHERE id = {rid}")
    out["review_open_votes"] = q(f"SELECT count(*) FROM reviewvote WHERE review_id = {rid}")
    out["review_open_voters"] = q(f"SELECT count(DISTINCT lower(voter)) FROM reviewvote WHERE review_id = {rid}")
    out["review_open_answers"] = q(f"SELECT count(*) FROM ethicsanswer WHERE review_id = {rid}")
    # The oldest review that decided one of T00042's moves (its timeline links to it).
    decided = con.execute(
        "SELECT e.review_id, e.from_level, e.to_level FROM levelevent e JOIN review r ON r.id = e.review_id "
        f"WHERE e.project_id = {t42} ORDER BY e.review_id LIMIT 1").fetchone()
    out["review_decided"] = None if decided is None else dict(zip(("id", "from_level", "to_level"), decided))
    # "Waiting for my vote": open reviews with REVIEWER on the panel and no vote from them.
    voted = {(r, v.lower()) for r, v in con.execute("SELECT review_id, voter FROM reviewvote")}
    out["waiting"] = sum(1 for r, panel in con.execute("SELECT id, panel FROM review WHERE status = 'open'")
                         if REVIEWER.lower() in (p.lower() for p in json.loads(panel))
                         and (r, REVIEWER.lower()) not in voted)
    # T00042's standing: the default criteria of its level, unscored counting 0.
    level = q(f"SELECT level FROM project WHERE id = {t42}")
    keys = [c[0] for c in DEFAULT_CRITERIA[level]]
    scores = dict(con.execute(f"SELECT key, percent FROM criterionscore WHERE project_id = {t42} AND level = {level}"))
    out["standing"] = {"level": level, "total": len(keys), "scored": sum(k in scores for k in keys),
                       "average": round(sum(scores.get(k, 0) for k in keys) / len(keys), 1),
                       "open_review": q(f"SELECT max(id) FROM review WHERE status = 'open' AND project_id = {t42}")}
    # T00042's timeline (its own events: the generator forks nothing).
    kinds = con.execute(f"SELECT kind, review_id FROM levelevent WHERE project_id = {t42}").fetchall()
    out["timeline"] = {"events": len(kinds), "graduations": sum(k == "graduation" for k, _ in kinds),
                       "switchbacks": sum(k == "switchback" for k, _ in kinds),
                       "reviewed": sum(r is not None for _, r in kinds)}
    # The sample system: its tree and its level now (the minimum over the started members).
    system = generate.sample_system_code(n)
    tree = {pid: (code, parent, lv) for pid, code, parent, lv in con.execute(
        "SELECT id, code, parent_id, level FROM project")}
    root = next(pid for pid, (code, _, _) in tree.items() if code == system)
    members, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, (_, parent, _) in tree.items() if parent in frontier]
        members += frontier
    levels_now = {tree[m][0]: tree[m][2] for m in members if tree[m][2] is not None}
    low = min(levels_now.values())
    out["system"] = {"code": system, "members": len(members), "level": low,
                     "held_by": ", ".join(sorted(c for c, lv in levels_now.items() if lv == low))}
    return out


def _metrics(at) -> dict[str, int]:
    return {m.label: int(str(m.value).replace(",", "")) for m in at.metric}


def _check_reviews_overview(at, n: int, counts: dict) -> None:
    """The four metrics, each against the raw rows: every open review, the open reviews with the
    acting user (REVIEWER) on the panel and no vote from them, every decided review, and the
    level 9 technologies overdue for review (counted with the default policy just now and five
    minutes ago: overdue only grows with time). The deployed table lists every level 9 technology."""
    r = counts["review"]
    metrics = _metrics(at)
    lo, hi = _page_answer(lambda con: (_deployed_overdue(con, datetime.now(UTC) - timedelta(minutes=5)),
                                       _deployed_overdue(con, datetime.now(UTC))))
    problems = []
    if metrics.get("Open reviews") != r["open_reviews"]:
        problems.append(f"'Open reviews' shows {metrics.get('Open reviews')}, {r['open_reviews']} are open")
    if metrics.get("Waiting for my vote") != r["waiting"]:
        problems.append(f"'Waiting for my vote' shows {metrics.get('Waiting for my vote')} for {REVIEWER}, "
                        f"{r['waiting']} open reviews have them on the panel without their vote")
    if metrics.get("Decided") != r["decided_reviews"]:
        problems.append(f"'Decided' shows {metrics.get('Decided')}, {r['decided_reviews']} reviews are decided")
    if not lo <= metrics.get("Level 9 reviews overdue", -1) <= hi:
        problems.append(f"'Level 9 reviews overdue' shows {metrics.get('Level 9 reviews overdue')}, "
                        f"expected {lo}..{hi}")
    if r["level9"] and not any(len(d.value) == r["level9"] for d in at.dataframe):
        problems.append(f"no table of the {r['level9']} deployed technologies")
    assert not problems, "; ".join(problems)


def _check_reviews_review(at, n: int, counts: dict) -> None:
    """The review asked for in the query is the one shown, open, with its level's exit checklist
    (one row per criterion) and one row per panel member who voted."""
    from mltrl.domain.criteria_default import DEFAULT_CRITERIA

    r = counts["review"]
    head = f"### Review {r['review_open_id']} · {r['review_open_code']} "
    shown = [m.value for m in at.markdown if str(m.value).startswith("### Review ")]
    assert shown and shown[0].startswith(head), (
        f"?review={r['review_open_id']} ({r['review_open_code']}'s open review, {r['reviews']:,} reviews in all) "
        f"shows {shown[0][:60] if shown else 'no review'!r}")
    assert any(":blue-badge[open]" in str(m.value) for m in at.markdown), "the review is not shown as open"
    sizes = [len(d.value) for d in at.dataframe]
    assert len(DEFAULT_CRITERIA[r["review_open_level"]]) in sizes, ("no exit checklist", sizes)
    assert r["review_open_voters"] in sizes, (f"no table of {r['review_open_voters']} votes", sizes)


def _check_reviews_decided(at, n: int, counts: dict) -> None:
    """The decided review asked for in the query (the oldest that moved T00042) is the one shown,
    as decided, with the level event it recorded."""
    r, d = counts["review"], counts["review"]["review_decided"]
    head = f"### Review {d['id']} · {REVIEW_CODE} "
    shown = [m.value for m in at.markdown if str(m.value).startswith("### Review ")]
    assert shown and shown[0].startswith(head), (
        f"?review={d['id']} (a decided review of {REVIEW_CODE}, {r['reviews']:,} reviews in all) "
        f"shows {shown[0][:60] if shown else 'no review'!r}")
    event = f"Level event: {d['from_level']} → {d['to_level']} "
    assert any(str(m.value).startswith(event) for m in at.markdown), f"no line {event!r}"


def _check_reviews_checklist(at, n: int, counts: dict) -> None:
    """T00042's self-assessment: its level's criteria, the average and how many are scored, as
    counted from the raw scores (unscored counts 0)."""
    st_ = counts["review"]["standing"]
    line = f"Exit criteria average **{st_['average']:.0f}%**"
    scored = f"{st_['scored']} of {st_['total']} scored"
    texts = [str(m.value) for m in at.markdown]
    assert any(line in t and scored in t for t in texts), (line, scored, [t[:120] for t in texts if "average" in t])
    assert st_["total"] in [len(d.value) for d in at.dataframe], [len(d.value) for d in at.dataframe]
    assert "#### Gates on leaving this level" in texts, "no gates section"


def _plotly_specs(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _check_tl_technology(at, n: int, counts: dict) -> None:
    """T00042's level events counted by kind and by whether a review decided them, as in the raw rows;
    the history table has one row per event; the chart has a bounded number of traces."""
    t = counts["review"]["timeline"]
    expected = (f"**{_counted(t['events'], 'level event')}**: {_counted(t['graduations'], 'graduation')}, "
                f"{_counted(t['switchbacks'], 'switchback')}")
    reviewed = f"; {t['reviewed']} decided at a gated review, {t['events'] - t['reviewed']} recorded without one."
    texts = [str(m.value) for m in at.markdown]
    assert any(x.startswith(expected) and x.endswith(reviewed) for x in texts), (expected, reviewed, texts[:3])
    assert t["events"] in [len(d.value) for d in at.dataframe], [len(d.value) for d in at.dataframe]
    specs = _plotly_specs(at)
    assert len(specs) == 1 and len(specs[0]["data"]) <= SWIMLANE_TRACES, [len(x["data"]) for x in specs]


def _check_tl_system(at, n: int, counts: dict) -> None:
    """The sample system's level now is the minimum over it and its components, held down by the
    ones at that minimum; one member row per technology of the tree."""
    sy = counts["review"]["system"]
    line = f"System level now: **{sy['level']}** "
    held = f"held down by **{sy['held_by']}**."
    texts = [str(m.value) for m in at.markdown]
    assert any(x.startswith(line) and x.endswith(held) for x in texts), (line, held, texts[:3])
    assert sy["members"] in [len(d.value) for d in at.dataframe], [len(d.value) for d in at.dataframe]
    specs = _plotly_specs(at)
    assert len(specs) == 1 and len(specs[0]["data"]) <= SWIMLANE_TRACES * 2, [len(x["data"]) for x in specs]


def _swimlanes(spec: dict) -> tuple[list[str], int, int]:
    """(codes of the lanes, top first; traces; height in px) of a swimlane chart's spec."""
    labels = spec["layout"]["yaxis"]["categoryarray"]
    return [str(lb).split(" · ", 1)[0] for lb in labels], len(spec["data"]), int(spec["layout"]["height"])


def _check_tl_portfolio(by: str) -> Callable[[object, int, dict], None]:
    def check(at, n: int, counts: dict) -> None:
        """The first page of swimlanes: at most SWIMLANE_PAGE lanes and SWIMLANE_TRACES traces,
        each lane at least MIN_LANE_PX high, in the order ``by`` as worked out from the raw rows;
        the caption counts every technology."""
        specs = _plotly_specs(at)
        assert len(specs) == 1, f"{len(specs)} charts"
        codes, traces, height = _swimlanes(specs[0])
        expected = _page_answer(lambda con: _lane_codes(con, by))
        assert traces <= SWIMLANE_TRACES, f"{traces} traces"
        assert 0 < len(codes) <= SWIMLANE_PAGE and len(codes) == min(SWIMLANE_PAGE, len(expected)), len(codes)
        assert height / len(codes) >= MIN_LANE_PX, (height, len(codes))
        assert codes == expected[:len(codes)], [(a, b) for a, b in zip(codes, expected) if a != b][:5]
        if len(expected) > SWIMLANE_PAGE:
            lanes = f"Lanes 1-{SWIMLANE_PAGE} of {len(expected)} technologies"
            assert any(str(c.value).startswith(lanes) for c in at.caption), [c.value for c in at.caption][:4]
        counts.setdefault("swimlanes", {})[by] = {"lanes": len(codes), "traces": traces, "height_px": height}
    return check


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
    a = _page_answer(_history_answer)
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
        krs = _page_answer(_okr_answer)
        assert any(f"{krs} key result(s)." in str(c.value) for c in at.caption), [c.value for c in at.caption][:3]
        if tab == "Roll-up":
            shown = _metrics(at)
            statuses = ("Achieved", "Achieved then lost", "On track", "At risk", "Missed")
            assert sum(shown[s] for s in statuses) == krs, (shown, krs)
        counts.setdefault("okr", {})["key_results"] = krs
    return check


ANALYTICS_TABS = ("Time per level", "Moves", "Paths & cycles", "Bottlenecks", "Heat map", "On a date")
QUARTERLY_TABS = ("Roll-up", "Key results", "Objectives", "Export")


CARD_PAGE = f"card {cardgen.LONG_CARD_CODE}"
RISK_TABS = [("Matrix", _check_risks_matrix), ("Requirements", _check_risks_requirements),
             ("Risks", _check_risks_risks)]
RP_TABS = [("Matrix", _check_rp_matrix), ("Highest risks", _check_rp_top), ("Overdue reviews", _check_rp_overdue),
           ("Grown since level change", _check_rp_growth)]
RP_NO_FILTER = {"rp_phase": [], "rp_level": [], "rp_category": []}

PAGES = [
    PageSpec("portfolio", "views/portfolio.py", check=_check_portfolio),
    PageSpec("project", "views/project.py",
             query_params=lambda n, c: {"code": generate.sample_system_code(n)}, check=_check_project),
    PageSpec(CARD_PAGE, "views/card.py",
             query_params=lambda n, c: {"code": cardgen.LONG_CARD_CODE}, check=_check_card),
    PageSpec("cards", "views/cards.py", check=_check_cards),
    *(PageSpec(f"risks {REGISTER_CODE} {tab}", "views/risks.py", query_params=lambda n, c: {"code": REGISTER_CODE},
               check=check, session_state={"risk_tab": tab}) for tab, check in RISK_TABS),
    *(PageSpec(f"risk portfolio {tab}", "views/risk_portfolio.py", check=check,
               session_state={"rp_tab": tab, **RP_NO_FILTER}) for tab, check in RP_TABS),
    PageSpec(f"risk portfolio Matrix, phase {FILTER_PHASE}, category {FILTER_CATEGORY}", "views/risk_portfolio.py",
             check=_check_rp_matrix_filtered,
             session_state={"rp_tab": "Matrix", **RP_NO_FILTER, "rp_phase": [FILTER_PHASE],
                            "rp_category": [FILTER_CATEGORY]}),
    PageSpec("reviews Overview", "views/reviews.py", check=_check_reviews_overview,
             session_state={"reviews_tab": "Overview", "actor_name": REVIEWER}, fresh_state=("reviews_tab",),
             drop_params=("review", "tab")),
    # First the decided review (no picker state yet: as a link followed from the Timelines page);
    # then the open one, the picker set to it as the page would from ?review= (AppTest keeps the
    # picker's state from run to run on one page, and a picker's state cannot be dropped while the
    # widget is on the screen).
    PageSpec(f"reviews Review (a decided review of {REVIEW_CODE}, linked from its timeline)", "views/reviews.py",
             check=_check_reviews_decided,
             query_params=lambda n, c: {"review": str(c["review"]["review_decided"]["id"])},
             session_state={"reviews_tab": "Review", "actor_name": REVIEWER}, fresh_state=("reviews_tab",),
             drop_params=("tab",)),
    PageSpec(f"reviews Review ({REVIEW_CODE}'s open review)", "views/reviews.py", check=_check_reviews_review,
             query_params=lambda n, c: {"review": str(c["review"]["review_open_id"])},
             state=lambda n, c: {"review_pick": c["review"]["review_open_id"]} if c["review"]["review_open_listed"]
             else {},  # (the picker offers the newest 500: setting another id would break AppTest)
             session_state={"reviews_tab": "Review", "actor_name": REVIEWER}, fresh_state=("reviews_tab",),
             drop_params=("tab",)),
    PageSpec(f"reviews Checklist {REVIEW_CODE}", "views/reviews.py", check=_check_reviews_checklist,
             query_params=lambda n, c: {"code": REVIEW_CODE},
             session_state={"reviews_tab": "Checklist", "checklist_code": REVIEW_CODE, "actor_name": REVIEWER},
             fresh_state=("reviews_tab",), drop_params=("review", "tab")),
    PageSpec(f"timelines Technology {REVIEW_CODE}", "views/timelines.py", check=_check_tl_technology,
             query_params=lambda n, c: {"code": REVIEW_CODE},
             session_state={"tl_tab": "Technology", "tl_code": REVIEW_CODE}, fresh_state=("tl_tab",),
             drop_params=("review", "tab", "system")),
    PageSpec("timelines System (the sample system)", "views/timelines.py", check=_check_tl_system,
             query_params=lambda n, c: {"code": generate.sample_system_code(n)},
             session_state={"tl_tab": "System"}, fresh_state=("tl_tab",),
             drop_params=("review", "tab", "system")),
    *(PageSpec(f"timelines Portfolio swimlanes by {by}", "views/timelines.py", check=_check_tl_portfolio(by),
               session_state={"tl_tab": "Portfolio", **TL_NO_FILTER, "tl_sort": by}, fresh_state=("tl_tab",),
               drop_params=("review", "tab", "system", "code")) for by in ("level", "switchbacks")),
    *(PageSpec(f"analytics {tab}", "views/analytics.py", check=_check_analytics,
               session_state={"an_tab": tab, "an_phase": [], "an_owner": [], "an_status": []},
               drop_params=("review", "tab", "system", "code")) for tab in ANALYTICS_TABS),
    *(PageSpec(f"quarterly review {tab}", "views/quarterly.py", check=_check_quarterly(tab),
               query_params=lambda n, c: {"quarter": str(okrgen.bench_quarter(datetime.now(UTC)))},
               session_state={"qr_tab": tab}, drop_params=("review", "tab", "system", "code"))
      for tab in QUARTERLY_TABS),
    PageSpec("level guide", "views/level_guide.py", reads_portfolio=False),
]


def _check_project_list(stdout: str, counts: dict) -> None:
    records = json.loads(stdout)
    assert len(records) == counts["projects"], (len(records), counts["projects"])


CLI_OPS = [
    ("mltrl project list --json", ["project", "list", "--json"], _check_project_list),
]

FLOOR_SQL = [
    "SELECT id, code, name, parent_id, status, level, level_since, summary, version FROM project",
    "SELECT project_id, name FROM projectowner ORDER BY project_id, position",
]
LATEST_EVENT_SQL = (
    "SELECT p.id, (SELECT e.to_level FROM levelevent e WHERE e.project_id = p.id "
    "ORDER BY e.at DESC, e.id DESC LIMIT 1) FROM project p"
)


# --- the child: measure one size ----------------------------------------------------------------


def _median_ms(fn: Callable[[], object], runs: int, *, before: Callable[[], object] | None = None) -> dict:
    """One untimed warm-up, then ``runs`` timed calls; ``before`` runs untimed before each call.

    Wall time is the measure; the process's CPU time (all threads: AppTest runs the script in its
    own) is kept next to it, as it is less disturbed by other work on a shared machine.
    """
    if before:
        before()
    fn()
    times, cpu = [], []
    for _ in range(runs):
        if before:
            before()
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return {"median_ms": statistics.median(times), "min_ms": min(times), "cpu_ms": statistics.median(cpu),
            "runs_ms": [round(t, 2) for t in times]}


def _soft_check(check: Callable[[], object], name: str, log: Callable[[str], None]) -> str | None:
    """Run ``check``; a failed assertion is kept (and reported, and makes ``make bench`` exit 1 at
    the end) rather than stopping the sizes still to measure. Returns the failure, if any."""
    try:
        check()
    except AssertionError as exc:
        text = " ".join(str(exc).split())[:600] or "assertion failed"
        log(f"CHECK FAILED: {name}: {text}")
        return text
    return None


def _counts(path: Path) -> dict:
    from mltrl.domain.levels import PHASE_LEVELS, Phase

    con = sqlite3.connect(path)
    try:
        q = lambda sql: con.execute(sql).fetchone()[0]
        return {
            "projects": q("SELECT count(*) FROM project"),
            "components": q("SELECT count(*) FROM project WHERE parent_id IS NOT NULL"),
            "events": q("SELECT count(*) FROM levelevent"),
            "owners": q("SELECT count(*) FROM projectowner"),
            "cards": q("SELECT count(DISTINCT project_id) FROM cardrevision"),
            "card_revisions": q("SELECT count(*) FROM cardrevision"),
            "long_card_revisions": q(
                "SELECT count(*) FROM cardrevision r JOIN project p ON p.id = r.project_id "
                f"WHERE p.code = '{cardgen.LONG_CARD_CODE}'"),
            "requirements": q("SELECT count(*) FROM requirement"),
            "risks": q("SELECT count(*) FROM risk"),
            "open_risks": q("SELECT count(*) FROM risk WHERE status != 'closed'"),
            "risk_events": q("SELECT count(*) FROM riskevent"),
            "register_requirements": q(
                f"SELECT count(*) FROM requirement WHERE project_id = ({_project_id_sql(REGISTER_CODE)})"),
            "register_risks": q(f"SELECT count(*) FROM risk WHERE project_id = ({_project_id_sql(REGISTER_CODE)})"),
            "register_open_risks": q(
                f"SELECT count(*) FROM risk WHERE status != 'closed' AND project_id = ({_project_id_sql(REGISTER_CODE)})"),
            # Matrices counted in Python with mltrl.domain.risk's bands (not the services' SQL), p band rows.
            "portfolio_risk_matrix": _matrix(con, "SELECT p_failure, value FROM risk WHERE status != 'closed'"),
            "portfolio_requirement_matrix": _matrix(con, "SELECT p_failure, value FROM requirement"),
            "register_risk_matrix": _matrix(
                con, "SELECT p_failure, value FROM risk WHERE status != 'closed' "
                     f"AND project_id = ({_project_id_sql(REGISTER_CODE)})"),
            # The Risk portfolio page's filtered run: risks of a category, of technologies at a phase's levels.
            "portfolio_risk_matrix_filtered": _matrix(
                con, "SELECT k.p_failure, k.value FROM risk k JOIN project p ON p.id = k.project_id "
                     f"WHERE k.status != 'closed' AND k.category = '{FILTER_CATEGORY}' AND p.level IN "
                     f"({', '.join(map(str, PHASE_LEVELS[Phase(FILTER_PHASE)]))})"),
        }
    finally:
        con.close()


def _project_id_sql(code: str) -> str:
    return f"SELECT id FROM project WHERE code = '{code}'"


def _matrix(con: sqlite3.Connection, sql: str) -> list[list[int]]:
    """5x5 cell counts (rows: p band 1-5, columns: value band 1-5) of the (p_failure, value) rows."""
    from mltrl.domain import risk as rules

    cells = [[0] * 5 for _ in range(5)]
    for p, value in con.execute(sql):
        cells[rules.p_band(p) - 1][rules.value_band(value) - 1] += 1
    return cells


def _share_script_cache() -> None:
    """Compile app.py and the pages once, as a server does.

    AppTest builds a new ``ScriptCache`` on every run, so each run re-reads, rewrites (magic) and
    compiles app.py and the page: 10-60 ms that a running server spends once per file, not per
    rerun. One shared cache takes that harness cost out of the page times
    (``BENCH_SCRIPT_CACHE=fresh`` keeps AppTest's behaviour).
    """
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    shared = ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared


def _profile_hook():
    """Let one AppTest run be profiled: AppTest runs the script in its own thread."""
    import cProfile

    from streamlit.testing.v1.local_script_runner import LocalScriptRunner

    state: dict[str, cProfile.Profile | None] = {"prof": None}
    original = LocalScriptRunner._run_script_thread

    def run_script_thread(self) -> None:
        prof = state["prof"]
        if prof is None:
            return original(self)
        prof.enable()
        try:
            return original(self)
        finally:
            prof.disable()

    LocalScriptRunner._run_script_thread = run_script_thread
    return state


def measure(size: str, db_path: Path, runs: int) -> dict:
    url = f"sqlite:///{db_path}"
    os.environ["MLTRL_DATABASE_URL"] = url
    n = generate.size_count(size)
    counts = _counts(db_path)
    con = sqlite3.connect(db_path)
    try:
        counts["review"] = _review_counts(con, n)
    finally:
        con.close()
    items: dict[str, dict] = {}
    load_before = os.getloadavg()[0]

    def log(msg: str) -> None:
        print(f"  [{size}] {msg}", flush=True)

    # The floor, with the page's database file and nothing else.
    con = sqlite3.connect(db_path)
    try:
        items["floor: portfolio SQL"] = dict(kind="floor", **_median_ms(
            lambda: [con.execute(sql).fetchall() for sql in FLOOR_SQL], runs))
        items["floor ref: latest event per project"] = dict(kind="floor-ref", **_median_ms(
            lambda: con.execute(LATEST_EVENT_SQL).fetchall(), runs))
    finally:
        con.close()
    log(f"floor {items['floor: portfolio SQL']['median_ms']:.1f} ms")

    # Pages, through AppTest (imports deferred so the parent stays light). Quiet streamlit's
    # "No runtime found, using MemoryCacheStorageManager" on every cache clear (a filter, as
    # AppTest resets the log levels from its config on each run).
    import logging

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    logging.getLogger("streamlit.runtime.caching.cache_data_api").addFilter(
        lambda record: "No runtime found" not in record.getMessage())
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: "missing ScriptRunContext" not in record.getMessage())
    if os.environ.get("BENCH_SCRIPT_CACHE", "shared") == "shared":
        _share_script_cache()
    profiling = os.environ.get("BENCH_PROFILE") == "1"
    prof_state = _profile_hook() if profiling else None

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    t0 = time.perf_counter()
    at.run()
    first = (time.perf_counter() - t0) * 1000
    assert not at.exception, at.exception
    items["app: first run in a new process"] = dict(kind="info", median_ms=first, runs_ms=[round(first, 2)])

    for page in PAGES:
        params = page.query_params(n, counts)
        state = {**page.session_state, **page.state(n, counts)}

        def run_page(page: PageSpec = page, params: dict = params, state: dict = state) -> None:
            for key in page.drop_params:
                at.query_params.pop(key, None)
            for key, value in params.items():
                at.query_params[key] = value
            for key in page.fresh_state:
                if key in at.session_state:
                    del at.session_state[key]
            for key, value in state.items():
                at.session_state[key] = value
            at.switch_page(page.path).run()
            assert not at.exception, f"{page.name}: {at.exception}"

        run_page()
        failed = _soft_check(lambda page=page: page.check(at, n, counts), page.name, log) if page.check else None
        for mode, before in (("cold", st.cache_data.clear), ("warm", None)):
            res = _median_ms(run_page, runs, before=before)
            items[f"page {page.name} ({mode})"] = dict(kind="page", reads_portfolio=page.reads_portfolio, **res,
                                                       **({"check_failed": failed} if failed else {}))
            log(f"page {page.name} ({mode}) {res['median_ms']:.0f} ms")
            if profiling:
                _profile_run(prof_state, run_page, before, size, page.name, mode)

    if os.environ.get("BENCH_TRACEMALLOC") == "1":
        import tracemalloc

        st.cache_data.clear()
        tracemalloc.start()
        at.switch_page(PAGES[0].path).run()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        items["memory: tracemalloc peak, cold portfolio run (MB)"] = dict(kind="memory", value=peak / 2**20)

    # The CLI, in-process and once as a subprocess.
    from typer.testing import CliRunner

    from mltrl import cli

    runner = CliRunner()
    for label, argv, check in CLI_OPS:
        def invoke(argv: list[str] = argv, check=check) -> None:
            result = runner.invoke(cli.app, argv, env={"MLTRL_DATABASE_URL": url})
            assert result.exit_code == 0, (result.exit_code, result.output[-2000:])
            check(result.stdout, counts)

        res = _median_ms(invoke, runs)
        items[f"cli: {label} (in-process)"] = dict(kind="cli", **res)
        log(f"cli {label} {res['median_ms']:.0f} ms")

        exe = Path(sys.executable).parent / "mltrl"
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "mltrl.cli"]
        env = dict(os.environ, MLTRL_DATABASE_URL=url)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd + argv, env=env, cwd=ROOT, capture_output=True, text=True)
        wall = (time.perf_counter() - t0) * 1000
        assert proc.returncode == 0, proc.stderr[-2000:]
        check(proc.stdout, counts)
        items[f"cli: {label} (subprocess, once)"] = dict(kind="cli-subprocess", median_ms=wall,
                                                        runs_ms=[round(wall, 2)])

    items.update(measure_card_ops(db_path, runs, size, log, profiling))
    items.update(measure_register_ops(db_path, runs, size, log, profiling, counts))
    items.update(measure_review_ops(db_path, runs, size, log, profiling, counts))
    items.update(measure_analytics_ops(db_path, runs, size, log, profiling))

    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"size": size, "n_technologies": n, "counts": counts, "db": db_path.name,
            "runs": runs, "items": items, "peak_rss_mb": maxrss_mb,
            "load_before": load_before, "load_after": os.getloadavg()[0]}


def measure_card_ops(db_path: Path, runs: int, size: str, log: Callable[[str], None],
                     profiling: bool) -> dict[str, dict]:
    """Export, save and import of the long card, on a throwaway copy of the database."""
    from sqlmodel import select

    from mltrl import db
    from mltrl.models import Project
    from mltrl.services import Actor
    from mltrl.services import cards as card_service

    code = cardgen.LONG_CARD_CODE
    actor = Actor("bench")
    items: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="mltrl-bench-cards-") as tmp:
        copy = _copy_db(db_path, Path(tmp))
        engine = db.make_engine(f"sqlite:///{copy}")
        try:
            with db.session_scope(engine) as s:
                codes = cardgen.link_pool(sorted(s.exec(select(Project.code)).all()))
            exported: dict[str, str] = {}

            def timed(name: str, fn: Callable[[], object], before: Callable[[], object] | None = None,
                      targeted: bool = True) -> None:
                res = _median_ms(fn, runs, before=before)
                items[name] = dict(kind="card-op", targeted=targeted, **res)
                log(f"{name} {res['median_ms']:.0f} ms")
                if profiling:
                    _profile_call(fn, before, size, name)

            for fmt in ("md", "html"):
                def export(fmt: str = fmt) -> None:
                    with db.session_scope(engine) as s:
                        out = card_service.export_card(s, code, fmt=fmt)
                    assert cardgen.LONG_CARD_TLDR_MARKER in out, f"export {fmt}: no TL;DR"
                    exported[fmt] = out

                timed(f"card export {fmt}", export)

            rng = random.Random(7)
            pending: dict = {}

            def next_card() -> None:  # untimed: what the editor holds when Save is clicked
                with db.session_scope(engine) as s:
                    state = card_service.current_card(s, code)
                card, summary = cardgen.vary(state.card, rng, state.number + 1, codes, generate.OWNERS)
                pending.update(base=state.number, card=card, summary=summary)

            def save() -> None:
                with db.session_scope(engine) as s:
                    rev = card_service.save_card(session=s, actor=actor, code=code, card=pending["card"],
                                                 base_revision=pending["base"], summary=pending["summary"])
                assert rev.number == pending["base"] + 1, (rev.number, pending["base"])

            timed("card save", save, before=next_card)

            text = exported["md"]

            def import_md() -> None:
                with db.session_scope(engine) as s:
                    out = card_service.import_card(session=s, actor=actor, text=text)
                assert out.code == code and not out.created and not out.warnings, out

            timed("card import", import_md, targeted=False)
        finally:
            engine.dispose()
    return items


def _copy_db(db_path: Path, folder: Path) -> Path:
    """A throwaway copy of the size's database in ``folder`` (the cached one is never written)."""
    copy = folder / db_path.name
    src, dst = sqlite3.connect(db_path), sqlite3.connect(copy)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return copy


def _changed_values(csv_text: str) -> str:
    """The risks CSV with every risk's value moved on by one (10 becomes 1): every row changes."""
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(csv_text)))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row | {"value": str(int(row["value"]) % 10 + 1)})
    return out.getvalue()


def _by_title(csv_text: str) -> dict[str, dict]:
    import csv
    import io

    return {row["title"]: row for row in csv.DictReader(io.StringIO(csv_text))}


def measure_register_ops(db_path: Path, runs: int, size: str, log: Callable[[str], None], profiling: bool,
                         counts: dict) -> dict[str, dict]:
    """Matrix counts, a cell's items, CSV export and import of the registers, on a throwaway copy.

    Every result is checked against ``counts`` (the matrices counted in Python from the raw rows),
    so a fast wrong answer cannot pass."""
    from sqlalchemy import func, select

    from mltrl import db

    from mltrl.domain import analytics
    from mltrl.domain import risk as rules
    from mltrl.models import Project, Requirement, Risk, RiskEvent
    from mltrl.domain.policy import Policy
    from mltrl.services import Actor
    from mltrl.services import risks as registers

    code = REGISTER_CODE
    actor = Actor("bench")
    items: dict[str, dict] = {}

    def grid(cells: dict[tuple[int, int], int]) -> list[list[int]]:
        return [[cells.get((pb, vb), 0) for vb in rules.BANDS] for pb in rules.BANDS]

    with tempfile.TemporaryDirectory(prefix="mltrl-bench-registers-") as tmp:
        copy = _copy_db(db_path, Path(tmp))

        # The reference: the same GROUP BY as the service, bare, through sqlite3.
        matrix_sql = (f"SELECT {rules.p_band_sql('p_failure')} AS pb, {rules.value_band_sql('value')} AS vb, "
                      "count(*) FROM risk WHERE status != 'closed' GROUP BY pb, vb")
        con = sqlite3.connect(copy)
        try:
            items["floor ref: portfolio risk matrix SQL"] = dict(kind="floor-ref", **_median_ms(
                lambda: con.execute(matrix_sql).fetchall(), runs))
        finally:
            con.close()

        engine = db.make_engine(f"sqlite:///{copy}")
        try:
            def timed(name: str, fn: Callable[[], object], before: Callable[[], object] | None = None) -> None:
                res = _median_ms(fn, runs, before=before)
                items[name] = dict(kind="register-op", **res)
                log(f"{name} {res['median_ms']:.1f} ms")
                if profiling:
                    _profile_call(fn, before, size, name)

            def matrix(expected: str, code: str | None = None, requirements_matrix: bool = False) -> Callable[[], None]:
                def run() -> None:
                    with db.session_scope(engine) as s:
                        cells = registers.matrix_counts(s, code, requirements_matrix=requirements_matrix)
                    assert grid(cells) == counts[expected], (expected, grid(cells), counts[expected])
                    if expected == "portfolio_risk_matrix":  # SELECT count(*) FROM risk WHERE status != 'closed'
                        assert sum(cells.values()) == counts["open_risks"], (sum(cells.values()), counts)
                return run

            timed("risks: portfolio risk matrix (matrix_counts)", matrix("portfolio_risk_matrix"))
            timed("risks: portfolio requirements matrix", matrix("portfolio_requirement_matrix",
                                                                  requirements_matrix=True))
            timed(f"risks: {code} risk matrix", matrix("register_risk_matrix", code))

            flat = [(n, pb, vb) for pb, row in enumerate(counts["portfolio_risk_matrix"], start=1)
                    for vb, n in enumerate(row, start=1)]
            busiest, pb, vb = max(flat)

            def cell() -> None:
                with db.session_scope(engine) as s:
                    listed = registers.cell_items(s, pb, vb)
                assert len(listed) == min(busiest, 500), (len(listed), busiest)
                assert all(rules.p_band(r["p_failure"]) == pb and rules.value_band(r["value"]) == vb
                           for r in listed)

            log(f"busiest portfolio risk cell: p band {pb}, value band {vb}, {busiest:,} risks")
            timed("risks: busiest portfolio risk cell's items (cell_items, first 500)", cell)

            # The Risk portfolio page's queries, checked against answers computed in Python from
            # the copy's raw rows (untimed, before the writes below change the copy).
            con = sqlite3.connect(copy)
            try:
                top_expected = _top_scores(con)
                grown_expected = _growth(con)
                open_rows = _open_risk_rows(con)
                trend_expected: dict[str, float] = {}
                for category, p, v in con.execute(
                        "SELECT category, p_failure, value FROM risk WHERE status != 'closed' "
                        f"AND project_id = ({_project_id_sql(code)})"):
                    trend_expected[category] = trend_expected.get(category, 0.0) + p * v
                register_events = con.execute(
                    f"SELECT count(*) FROM riskevent WHERE project_id = ({_project_id_sql(code)})").fetchone()[0]
            finally:
                con.close()

            def top() -> None:
                with db.session_scope(engine) as s:
                    rows = registers.top_risks(s, Policy(), limit=TOP_RISKS)
                assert [r["risk"] for r in rows] == top_expected, ([r["risk"] for r in rows], top_expected)
                assert all(r["status"] != "closed" for r in rows)

            timed(f"risks: portfolio top {TOP_RISKS} risks (top_risks)", top)

            overdue_seen: list[int] = []

            def overdue() -> None:
                with db.session_scope(engine) as s:
                    total, rows = registers.overdue_risks(s, Policy())
                assert len(rows) == min(total, OVERDUE_LISTED), (len(rows), total)
                scores = [rules.cell_score(rules.p_band(r["p_failure"]), rules.value_band(r["value"])) for r in rows]
                assert scores == sorted(scores, reverse=True), scores[:20]
                overdue_seen.append(total)

            # Counted risk by risk with mltrl.domain.risk.overdue just before and just after the timed
            # calls (the clock moves; overdue only grows): every call's total lies between.
            lo = _overdue_count(open_rows, datetime.now(UTC))
            timed(f"risks: portfolio overdue reviews (overdue_risks, count and first {OVERDUE_LISTED})", overdue)
            hi = _overdue_count(open_rows, datetime.now(UTC))
            assert overdue_seen and all(0 < lo <= t <= hi for t in overdue_seen), (lo, overdue_seen, hi)
            log(f"overdue risks: {lo:,} (independent count) {sorted(set(overdue_seen))} (service)")

            def growth() -> None:
                with db.session_scope(engine) as s:
                    rows = registers.risk_growth(s)
                got = {r["code"]: r["growth"] for r in rows}
                assert set(got) == set(grown_expected), (len(got), len(grown_expected))
                assert all(abs(got[c] - grown_expected[c]) < 1.5e-3 for c in got)

            log(f"technologies whose open risk grew since their level change: {len(grown_expected):,}")
            timed("risks: portfolio risk growth since level change (risk_growth)", growth)

            def trend(by_category: bool) -> Callable[[], None]:
                def run() -> None:
                    with db.session_scope(engine) as s:
                        events = registers.risk_events(s, code)
                    out = analytics.risk_trend(events, by_category=by_category)
                    assert len(events) == register_events, (len(events), register_events)
                    if by_category:  # each category's line ends at its open risk now
                        last = out.groupby("category")["total"].last().to_dict()
                        assert set(last) == set(trend_expected) and all(
                            abs(last[c] - trend_expected[c]) < 1e-4 for c in last), (last, trend_expected)
                    else:  # the line ends at the register's open risk now
                        assert abs(out["total"].iloc[-1] - sum(trend_expected.values())) < 1e-4, out.tail(1)
                return run

            timed(f"risks: {code} risk trend (risk_events + risk_trend)", trend(False))
            timed(f"risks: {code} risk trend by category", trend(True))

            exported: dict[str, str] = {}

            def export(what: str) -> Callable[[], None]:
                def run() -> None:
                    with db.session_scope(engine) as s:
                        fn = registers.export_requirements if what == "requirements" else registers.export_risks
                        text = fn(s, code)
                    rows = text.count("\n") - 1  # no field holds a line break
                    assert rows == counts[f"register_{what}"], (what, rows)
                    exported[what] = text
                return run

            timed(f"risks: {code} requirements CSV export", export("requirements"))
            timed(f"risks: {code} risks CSV export", export("risks"))

            original = exported["risks"]

            def import_unchanged() -> None:
                with db.session_scope(engine) as s:
                    out = registers.import_risks(session=s, actor=actor, code=code, text=original)
                assert (out.added, out.updated) == (0, counts["register_risks"]), out

            timed(f"risks: {code} risks CSV import, unchanged", import_unchanged)

            changed = _changed_values(original)
            texts = [changed, original]
            state = {"next": 0}

            def pick() -> None:  # untimed: the other file than the last import
                state["text"] = texts[state["next"] % 2]
                state["next"] += 1

            def import_changed() -> None:
                with db.session_scope(engine) as s:
                    out = registers.import_risks(session=s, actor=actor, code=code, text=state["text"])
                assert (out.added, out.updated) == (0, counts["register_risks"]), out

            def events() -> int:
                with db.session_scope(engine) as s:
                    return s.execute(select(func.count()).select_from(RiskEvent)).scalar_one()

            before = events()
            timed(f"risks: {code} risks CSV import, every value changed", import_changed, before=pick)
            # Each import changed every risk (one history event each), and the register now holds
            # the last file imported.
            assert events() - before == state["next"] * counts["register_risks"], (before, events(), state)
            with db.session_scope(engine) as s:
                assert _by_title(registers.export_risks(s, code)) == _by_title(state["text"])

            # Grid saves: GRID_ROWS edited rows of each register at once, as the page's Save sends
            # them (RowEdit: key, the version the grid showed, the changed cells). Each edit moves
            # the row's value on by one, so every save changes every row it names; the edits are
            # built untimed from the rows as they are before each save.
            pending_edits: dict[str, list] = {}

            def requirement_edits() -> None:
                with db.session_scope(engine) as s:
                    rows = registers.requirements(s, code)[:GRID_ROWS]
                    pending_edits["edits"] = [registers.RowEdit(key=r.number, expected_version=r.version,
                                                       changes={"value": r.value % 10 + 1}) for r in rows]

            def save_requirements() -> None:
                with db.session_scope(engine) as s:
                    out = registers.edit_requirements(session=s, actor=actor, code=code, edits=pending_edits["edits"],
                                                      deletions=[])
                assert (out.updated, out.deleted) == (GRID_ROWS, 0), out

            def versions(model: type) -> int:
                with db.session_scope(engine) as s:
                    return s.execute(select(func.sum(model.version)).where(
                        model.project_id == select(Project.id).where(Project.code == code).scalar_subquery())
                    ).scalar_one()

            before = versions(Requirement)
            timed(f"risks: {code} requirements grid save, {GRID_ROWS} rows edited (edit_requirements)",
                  save_requirements, before=requirement_edits)
            saves = runs + 1 + (1 if profiling else 0)
            assert versions(Requirement) - before == saves * GRID_ROWS, (before, versions(Requirement), saves)

            def risk_edits() -> None:
                with db.session_scope(engine) as s:
                    rows = sorted(registers.risks(s, code), key=lambda r: r.id)[:GRID_ROWS]
                    pending_edits["edits"] = [registers.RowEdit(key=str(r.id), expected_version=r.version,
                                                       changes={"value": r.value % 10 + 1}) for r in rows]

            def save_risks() -> None:
                with db.session_scope(engine) as s:
                    out = registers.edit_risks(session=s, actor=actor, code=code, edits=pending_edits["edits"])
                assert (out.updated, out.deleted) == (GRID_ROWS, 0), out

            before, history = versions(Risk), events()
            timed(f"risks: {code} risks grid save, {GRID_ROWS} rows edited (edit_risks)", save_risks,
                  before=risk_edits)
            # Every saved row was written once and gained one history event per save.
            assert versions(Risk) - before == saves * GRID_ROWS, (before, versions(Risk), saves)
            assert events() - history == saves * GRID_ROWS, (history, events(), saves)
        finally:
            engine.dispose()
    return items


def measure_review_ops(db_path: Path, runs: int, size: str, log: Callable[[str], None], profiling: bool,
                       counts: dict) -> dict[str, dict]:
    """The review and timeline services the Reviews and Timelines pages call, and a full decision,
    on a throwaway copy of the database. Each read is checked once (untimed, against
    ``counts["review"]``: answers from the raw rows) before it is timed; a failed check is kept and
    reported, not fatal. The decision graduates a generated open review (a level without gates,
    not T00042's), picked untimed before each call; the technology moves up one level, the event
    names the review."""
    from sqlalchemy import func, select

    from mltrl import charts, db
    from mltrl.models import LevelEvent, Project, Review
    from mltrl.domain.policy import Policy
    from mltrl.services import Actor, timelines
    from mltrl.services import reviews as review_service

    r = counts["review"]
    actor = Actor("bench")
    items: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="mltrl-bench-reviews-") as tmp:
        copy = _copy_db(db_path, Path(tmp))
        engine = db.make_engine(f"sqlite:///{copy}")
        try:
            def timed(name: str, fn: Callable[[], object], check: Callable[[object], None] | None = None,
                      before: Callable[[], object] | None = None) -> None:
                failed = None
                if check is not None:  # once, untimed: the answer is right before it is timed
                    if before:
                        before()
                    out = fn()
                    failed = _soft_check(lambda: check(out), name, log)
                res = _median_ms(fn, runs, before=before)
                items[name] = dict(kind="review-op", **res, **({"check_failed": failed} if failed else {}))
                log(f"{name} {res['median_ms']:.1f} ms")
                if profiling:
                    _profile_call(fn, before, size, name)

            def read(fn: Callable, *args, **kwargs) -> Callable[[], object]:
                def run() -> object:
                    with db.session_scope(engine) as s:
                        return fn(s, *args, **kwargs)
                return run

            standing = r["standing"]

            def check_standing(state) -> None:
                got = (state.level, len(state.criteria), state.readiness.scored, state.readiness.average,
                       state.open_review)
                want = (standing["level"], standing["total"], standing["scored"], standing["average"],
                        standing["open_review"])
                assert got == want, (got, want)

            timed(f"reviews: standing({REVIEW_CODE})", read(review_service.standing, REVIEW_CODE), check_standing)

            def check_view(view) -> None:
                got = (view.code, len(view.votes), len(view.latest_votes), len(view.answers), view.review.status)
                want = (r["review_open_code"], r["review_open_votes"], r["review_open_voters"],
                        r["review_open_answers"], "open")
                assert got == want, (got, want)

            timed(f"reviews: review_view of {r['review_open_code']}'s open review",
                  read(review_service.review_view, r["review_open_id"]), check_view)

            def check_open(rows) -> None:
                ids = [x.id for x, _ in rows]
                assert ids == r["open_review_ids"][:REVIEWS_LISTED], (len(ids), r["open_reviews"])

            timed(f"reviews: reviews(status='open') (newest {REVIEWS_LISTED} of {r['open_reviews']:,})",
                  read(review_service.reviews, status="open"), check_open)

            def check_waiting(rows) -> None:
                assert len(rows) == r["waiting"], (
                    f"{len(rows)} open reviews wait for {REVIEWER}'s vote; {r['waiting']} have them on the panel "
                    f"without their vote (of {r['open_reviews']:,} open)")

            timed(f"reviews: waiting_for({REVIEWER})", read(review_service.waiting_for, REVIEWER), check_waiting)

            def check_deployed(rows) -> None:
                con = sqlite3.connect(copy)
                try:
                    lo = _deployed_overdue(con, datetime.now(UTC) - timedelta(minutes=5))
                    hi = _deployed_overdue(con, datetime.now(UTC))
                finally:
                    con.close()
                overdue = sum(d.overdue for d in rows)
                assert len(rows) == r["level9"] and lo <= overdue <= hi, (len(rows), r["level9"], lo, overdue, hi)

            timed("reviews: deployed_reviews(Policy())", read(review_service.deployed_reviews, Policy()), check_deployed)

            with engine.connect() as con:  # the raw answer: switchbacks per technology, counted in Python
                raw_switchbacks = sum(1 for (kind,) in con.exec_driver_sql("SELECT kind FROM levelevent")
                                      if kind == "switchback")
                started = con.exec_driver_sql("SELECT count(*) FROM project WHERE level IS NOT NULL").scalar()

            def check_lanes(frame) -> None:
                assert len(frame) == counts["projects"], (len(frame), counts["projects"])
                assert int(frame["switchbacks"].sum()) == raw_switchbacks, (int(frame["switchbacks"].sum()),
                                                                            raw_switchbacks)
                assert int(frame["phase_since"].notna().sum()) == started, started

            timed("timelines: lane_frame (every technology's lane facts, grouped in SQL)",
                  read(timelines.lane_frame), check_lanes)

            # What the Portfolio tab does with the cached lane frame: the order, one page's events
            # (read for those lanes only), segments and marks, and the figure.
            with db.session_scope(engine) as s:
                frame = timelines.lane_frame(s)
            expected = _page_answer(lambda con: _lane_codes(con, "level"))

            def swimlanes() -> object:
                now = datetime.now(UTC)
                lanes = timelines.order_lanes(frame, "level").iloc[:SWIMLANE_PAGE]
                with db.session_scope(engine) as s:
                    mine = timelines.lane_events(s, lanes["id"])
                marks = mine[mine["kind"].isin(timelines.SWITCHBACK_KINDS)]
                return charts.swimlanes_chart(lanes, timelines.lane_segments(mine, as_of=now), marks, as_of=now)

            def check_swimlanes(fig) -> None:
                codes, traces, _ = _swimlanes(json.loads(fig.to_json()))
                assert traces <= SWIMLANE_TRACES and codes == expected[:SWIMLANE_PAGE], (traces, codes[:5])

            timed(f"timelines: swimlanes, first page by level (order_lanes + lane_events + lane_segments + "
                  f"swimlanes_chart, {SWIMLANE_PAGE} lanes)", swimlanes, check_swimlanes)

            # A full decision: graduate an open review. Candidates: generated open reviews at a level
            # without gates (5, 8) below 9, not T00042's, oldest technology first; one per call.
            with db.session_scope(engine) as s:
                candidates = [tuple(x) for x in s.execute(
                    select(Review.id, Review.level, Review.version).join(Project, Project.id == Review.project_id)
                    .where(Review.status == "open", Review.level.not_in([5, 8, 9]), Project.code != REVIEW_CODE)
                    .order_by(Review.id)).all()]
                events_before = s.execute(select(func.count()).select_from(LevelEvent)).scalar_one()
            needed = runs + 2 + (1 if profiling else 0)
            log(f"open reviews to decide: {len(candidates)} candidates, {needed} needed")
            pending: dict = {}

            def pick() -> None:  # untimed: the next open review to decide, opened here if none is left
                if candidates:
                    pending["review"] = candidates.pop(0)
                    return
                with db.session_scope(engine) as s:
                    code = s.execute(
                        select(Project.code).where(Project.level.not_in([5, 8, 9]), Project.level.is_not(None),
                                                   ~Project.id.in_(select(Review.project_id)
                                                                   .where(Review.status == "open")))
                        .order_by(Project.code).limit(1)).scalar_one()
                    opened = review_service.open_review(session=s, actor=actor, code=code, panel=[REVIEWER])
                    pending["review"] = (opened.id, opened.level, opened.version)

            decided: list[int] = []

            def decide() -> object:
                rid, level, version = pending["review"]
                with db.session_scope(engine) as s:
                    out = review_service.decide(session=s, actor=actor, review_id=rid, expected_version=version,
                                                decision="graduate", note="Benchmark graduation")
                    assert out.event is not None and (out.event.from_level, out.event.to_level) == (level, level + 1)
                    assert out.event.review_id == rid and out.review.status == "decided" and out.debrief
                decided.append(rid)
                return out

            timed("reviews: decide() graduate of an open review (level event, gates, scores, audit)", decide,
                  lambda out: None, before=pick)
            with db.session_scope(engine) as s:
                events_after = s.execute(select(func.count()).select_from(LevelEvent)).scalar_one()
                linked = s.execute(select(func.count()).select_from(LevelEvent)
                                   .where(LevelEvent.review_id.in_(decided))).scalar_one()
            assert events_after - events_before == len(decided) == linked, (events_before, events_after, decided)
        finally:
            engine.dispose()
    return items


def _profile_call(fn: Callable[[], object], before, size: str, name: str) -> None:
    """cProfile one call of ``fn`` (in this thread) to ``bench/results/profile-SIZE-NAME.txt``."""
    import cProfile

    if before:
        before()
    prof = cProfile.Profile()
    prof.enable()
    try:
        fn()
    finally:
        prof.disable()
    import re

    _write_profile(prof, size, re.sub(r"[^A-Za-z0-9.-]+", "_", name).strip("_"))


def _profile_run(state: dict, run_page: Callable[[], None], before, size: str, page: str, mode: str) -> None:
    if before:
        before()
    import cProfile

    state["prof"] = prof = cProfile.Profile()
    try:
        run_page()
    finally:
        state["prof"] = None
    import re

    _write_profile(prof, size, re.sub(r"[^A-Za-z0-9.-]+", "_", page).strip("_") + f"-{mode}")


def _write_profile(prof, size: str, slug: str) -> None:
    import io
    import pstats

    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).strip_dirs().sort_stats("cumulative")
    stats.print_stats(45)
    stats.sort_stats("tottime").print_stats(25)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"profile-{size}-{slug}.txt").write_text(out.getvalue(), encoding="utf-8")


# --- the parent: sizes, table, files --------------------------------------------------------------


ANALYTICS_LIMIT_MS = 200.0  # time per level and the transition matrix from the cached event table, at every size
FORECAST_LIMIT_MS = 1000.0  # one 10,000-sample forecast


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
        failed = _soft_check(lambda: check(out), name, log)
        res = _median_ms(fn, runs)
        items[name] = dict(kind="analytics-op", **res, **({"limit_ms": limit_ms} if limit_ms else {}),
                           **({"check_failed": failed} if failed else {}))
        log(f"{name} {res['median_ms']:.1f} ms")
        if profiling:
            _profile_call(fn, None, size, name)

    con = sqlite3.connect(str(db_path))
    try:
        raw = _history_answer(con)
        first = {pid: _aware(at) for pid, at in con.execute("SELECT project_id, min(at) FROM levelevent GROUP BY project_id")}
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
              lambda page: _expect(page.startswith("<!doctype html>") and page.count("class='kr'") == krs,
                                   page.count("class='kr'")))
    finally:
        engine.dispose()
    return items


def _expect(condition: bool, detail: object) -> None:
    assert condition, detail


def _verdict(size: str, item: dict, floor_ms: float) -> tuple[str, str]:
    """(target, verdict) for one row."""
    kind = item["kind"]
    if kind == "card-op" and not item.get("targeted", True):
        return "— (reference)", "—"
    if kind not in ("page", "cli", "card-op", "register-op", "review-op", "analytics-op"):
        return "—", "—"
    limit = item.get("limit_ms") or TIME_TARGET_MS[size]
    failed = "CHECK FAILED; " if item.get("check_failed") else ""
    if kind in ("card-op", "register-op", "review-op", "analytics-op"):
        return f"< {limit:.0f} ms", failed + ("within" if item["median_ms"] < limit else "over: time")
    checks_ratio = kind == "cli" or item.get("reads_portfolio", True)
    target = f"< {limit:.0f} ms" + (f", ≤ {FLOOR_RATIO_TARGET:.0f}x floor" if checks_ratio else " (reads no data)")
    over = []
    if item["median_ms"] >= limit:
        over.append("time")
    if checks_ratio and item["median_ms"] > FLOOR_RATIO_TARGET * floor_ms:
        over.append(f"{FLOOR_RATIO_TARGET:.0f}x floor")
    return target, failed + ("within" if not over else "over: " + ", ".join(over))


def render(results: list[dict], total_s: float) -> str:
    lines = [
        "# MLTRL Dashboard benchmark",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · Python {platform.python_version()} · "
        f"{os.cpu_count()} CPUs · median of {results[0]['runs'] if results else '?'} runs after one "
        f"warm-up · total {total_s:.0f} s",
        "",
        "| size | item | median ms | ratio to floor | target | verdict | min ms | CPU ms |",
        "|---|---|---:|---:|---|---|---:|---:|",
    ]
    for res in results:
        size = res["size"]
        floor = res["items"]["floor: portfolio SQL"]["median_ms"]
        c = res["counts"]
        label = (f"{size} ({res['n_technologies']:,} tech., {c['projects']:,} proj., {c['events']:,} ev., "
                 f"{c.get('cards', 0)} cards, {c.get('requirements', 0):,} req., {c.get('risks', 0):,} risks, "
                 f"{c.get('review', {}).get('reviews', 0):,} reviews)")
        for name, item in res["items"].items():
            if item["kind"] == "memory":
                lines.append(f"| {label} | {name} | {item['value']:.0f} MB | | | | | |")
                continue
            target, verdict = _verdict(size, item, floor)
            if item["kind"] == "floor":
                ratio = "1.0x"
            elif item["kind"] in ("page", "cli", "floor-ref"):
                ratio = f"{item['median_ms'] / floor:.1f}x"
            else:
                ratio = ""
            extra = (f"{item['min_ms']:.1f} | {item['cpu_ms']:.1f}" if "min_ms" in item else " | ")
            lines.append(f"| {label} | {name} | {item['median_ms']:.1f} | {ratio} | {target} | {verdict} | {extra} |")
        lines.append(f"| {label} | peak memory of the measuring process (ru_maxrss) | "
                     f"{res['peak_rss_mb']:.0f} MB | | | | | |")
    loads = ", ".join(f"{r['size']} {r['load_before']:.1f}→{r['load_after']:.1f}" for r in results)
    lines += ["", f"1-minute load average before→after each size: {loads} (on {os.cpu_count()} CPUs; "
              "above the CPU count, other work was competing and wall times are inflated: compare CPU ms)."]
    lines += growth_table(results)
    lines += [
        "",
        "Notes: times are server-side (AppTest runs the whole script: app.py, the page, caches, "
        "and the element tree; no browser or network). *cold* clears `st.cache_data` before each "
        "run (the first view after a write); *warm* reruns with cached data (a click). The floor "
        "is the bare SQL the portfolio needs, through Python's sqlite3 on the same file; the "
        "floor reference row (latest event per project) is not a target. Each size is measured "
        "in a fresh process, so peak memory is that size's. S has no time target of its own: it "
        "is held to M's. The card rows use the long card "
        f"({cardgen.LONG_CARD_CODE}: six 20-40 KB sections, {cardgen.LONG_CARD_REVISIONS} revisions) "
        "on a copy of the database; card save/export are held to the page time target, card "
        "import is reported for reference. The register rows (`risks: ...`) run through the register "
        f"service on a copy of the database ({registergen.REGISTER_CODE}: "
        f"{registergen.REGISTER_REQUIREMENTS} requirements, {registergen.REGISTER_RISKS} risks) and are held "
        "to the page time target; their floor reference is the portfolio matrix's bare SQL. The Risk portfolio "
        "rows (page and `risks: portfolio ...`) use the default review policy and are checked against counts "
        "made in Python from the raw rows; the grid saves edit 50 rows of "
        f"{registergen.REGISTER_CODE} each time. The Reviews page runs as {REVIEWER} (single-user mode), on its "
        f"Overview, on {REVIEW_CODE}'s open review (`?review=`), on the oldest review that moved {REVIEW_CODE} (a "
        f"decided one its timeline links to) and on {REVIEW_CODE}'s checklist; the Timelines "
        f"page on {REVIEW_CODE}, the sample system, and the portfolio swimlanes sorted by level and by "
        f"switchbacks (checked: at most {SWIMLANE_TRACES} traces, at most {SWIMLANE_PAGE} lanes of at least "
        f"{MIN_LANE_PX} px, in the order worked out from the raw rows). The `reviews:` and `timelines:` rows call "
        "the services on a copy of the database, each checked once against the raw rows before it is timed, and "
        "are held to the page time target; `decide()` graduates a generated open review each call.",
    ]
    failures = [(res["size"], name, item["check_failed"]) for res in results for name, item in res["items"].items()
                if item.get("check_failed") and not name.endswith("(warm)")]
    if failures:
        lines += ["", "Check failures (the item was timed, but what it showed is wrong):", ""]
        lines += [f"* {size} · {name.removesuffix(' (cold)')}: {text}" for size, name, text in failures]
    return "\n".join(lines) + "\n"


def growth_table(results: list[dict]) -> list[str]:
    by_size = {r["size"]: r for r in results}
    pairs = [(a, b) for a, b in (("S", "M"), ("M", "L"), ("S", "L")) if a in by_size and b in by_size]
    if not pairs:
        return []
    out = ["", "Cost growth (time ratio against the growth in technologies; linear or better is the target)", "",
           "| item | " + " | ".join(f"{a}→{b} (size x{by_size[b]['n_technologies'] / by_size[a]['n_technologies']:.0f})"
                                    for a, b in pairs) + " | verdict |",
           "|---|" + "---:|" * len(pairs) + "---|"]
    # The target is S to L (or the widest pair measured); a faster-than-linear step is noted.
    main_pair = pairs[-1]
    names = [k for k, v in by_size[pairs[0][0]]["items"].items() if "median_ms" in v]
    for name in names:
        cells, verdict, steps_over = [], "—", []
        for a, b in pairs:
            ia, ib = by_size[a]["items"].get(name), by_size[b]["items"].get(name)
            if not ia or not ib or not ia["median_ms"]:
                cells.append("—")
                continue
            growth = ib["median_ms"] / ia["median_ms"]
            linear = growth <= by_size[b]["n_technologies"] / by_size[a]["n_technologies"]
            cells.append(f"{growth:.1f}x")
            if (a, b) == main_pair:
                verdict = "linear or better" if linear else "faster than linear"
            elif not linear:
                steps_over.append(f"{a}→{b}")
        if steps_over and verdict != "faster than linear":
            verdict += f" ({', '.join(steps_over)} faster than linear)"
        last = by_size[main_pair[1]]["items"].get(name, {})
        kind = last.get("kind")
        targeted = kind in ("page", "cli", "register-op", "review-op") or (
            kind == "card-op" and last.get("targeted", True))
        if not targeted and verdict != "—":
            verdict += " (reference, not a target)"
        out.append(f"| {name} | " + " | ".join(cells) + f" | {verdict} |")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--measure", metavar="SIZE", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    runs = int(os.environ.get("BENCH_RUNS", "5"))

    if args.measure:  # the child
        result = measure(args.measure, args.db, runs)
        args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
        return 0

    t_start = time.perf_counter()
    sizes = [s.strip().upper() for s in os.environ.get("BENCH_SIZES", ",".join(SIZE_ORDER)).split(",") if s.strip()]
    unknown = [s for s in sizes if s not in generate.SIZES]
    if unknown:
        parser.error(f"unknown size(s) {unknown}: use {', '.join(generate.SIZES)}")
    sizes = [s for s in SIZE_ORDER if s in sizes]
    results = []
    for size in sizes:
        t0 = time.perf_counter()
        path = generate.cached_db(size)
        print(f"{size}: measuring {path.name}", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "result.json"
            proc = subprocess.run(
                [sys.executable, "-m", "bench.run", "--measure", size, "--db", str(path), "--out", str(out)],
                cwd=ROOT,
            )
            if proc.returncode != 0:
                print(f"{size}: the measuring process failed (exit {proc.returncode})", file=sys.stderr)
                return proc.returncode
            results.append(json.loads(out.read_text(encoding="utf-8")))
        print(f"{size}: done in {time.perf_counter() - t0:.0f} s", flush=True)

    write_result = None
    if os.environ.get("BENCH_WRITES", "1") != "0":
        print("write throughput: 1, 2 and 4 writer processes on SQLite and PostgreSQL", flush=True)
        write_result = writes.measure_all()

    total = time.perf_counter() - t_start
    table = render(results, total)
    if write_result is not None:
        table += "\n".join(writes.render(write_result)) + "\n"
    print()
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.md").write_text(table, encoding="utf-8")
    failed = any(item.get("check_failed") for res in results for item in res["items"].values())
    (RESULTS / "latest.json").write_text(json.dumps({
        "at": datetime.now(UTC).isoformat(), "total_s": total, "cpus": os.cpu_count(),
        "python": platform.python_version(), "targets": {"time_ms": TIME_TARGET_MS, "floor_ratio": FLOOR_RATIO_TARGET},
        "results": results, "writes": write_result,
    }, indent=2), encoding="utf-8")
    if failed:
        print("make bench: some checks failed (see 'Check failures' above)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
