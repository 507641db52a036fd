"""``make bench``: every page, the CLI and the floor, at the S, M and L portfolio sizes.

For each size the parent process generates (or reuses) the synthetic database, then measures in a
fresh child process (``python -m bench.run --measure SIZE --db PATH --out FILE``), so each size's
peak memory (``ru_maxrss``) is the app's at that size and not the generator's or a larger size's.

Measured, median of ``BENCH_RUNS`` (default 5) timed runs after one untimed warm-up:

* the floor: the bare SQL the portfolio needs (projects, owners) with Python's sqlite3; and, for
  reference, the current level of every project from the latest event through (project_id, at);
* each page's full script run with ``AppTest`` (server-side: script, caches, element tree),
  ``cold`` (``st.cache_data.clear()`` before each run: the first view after a write) and ``warm``
  (cached data: what a user clicking around sees); the pages and their checks are listed in
  ``bench/pages.py`` (``PAGES``), among them the Project page and the open review of the
  evidence-heavy technology (500 evidence records, ``bench/evidencegen.py``);
* ``mltrl project list --json`` in-process (typer's CliRunner) and once as a subprocess
  (with the interpreter's start-up and imports); the HTTP API's list, level move and card save
(``bench/api.py``, through the ASGI app in process); the CLI's start-up (``bench/cli.py``): ``mltrl
  --help`` and ``mltrl project list`` as subprocesses, checked to import none of the heavy
  modules (pandas, numpy, plotly, streamlit, jinja2, markdown, nh3);
* each area's operations, through its services, each module's docstring saying what it measures
  and checks: the TRL card operations on the long card (``bench/cards.py``); the requirements and
  risk register operations and the Risk portfolio's queries (``bench/registers.py``); the review,
  evidence and timeline services (``bench/reviews.py``); the analytics and OKR computations
  (``bench/analytics.py``). The shared timing, soft check, database copy and profiling are in
  ``bench/common.py``.

A failed check (page or operation) no longer stops the run: the item is timed, marked ``CHECK
FAILED`` and listed under the table, and ``make bench`` exits 1 at the end.

Targets are reported, never asserted: every page under 300 ms at M and under 1 s at L (S is held
to the M target), within 3x of the floor, cost growing no faster than linearly from S to L. Card
save and export are held to the same time target (no floor ratio: they do not read the
portfolio); card import is reported without a target. The register operations are held to the
same time target, without a floor ratio, as are the review, evidence and timeline operations.

Environment: ``BENCH_SIZES=S,M`` (default S,M,L), ``BENCH_AREAS=cli,cards`` (default every area:
pages, cli, api, cards, registers, reviews, analytics; the floor is always measured), ``BENCH_RUNS=5``,
``BENCH_PROFILE=1`` (cProfile one cold and one warm run of each page at every size measured, to
``bench/results/profile-*.txt``), ``BENCH_TRACEMALLOC=1`` (one extra cold portfolio run under
tracemalloc: Python's allocation peak). One area at one size, without the hostile inputs and the
write throughput: ``BENCH_SIZES=S BENCH_AREAS=cli BENCH_HOSTILE=0 BENCH_WRITES=0 python -m bench.run``.

Then hostile input (``bench/hostile.py``), once, as it does not depend on the portfolio's size:
the time until the result or the refusal of the card parser and renderer, the card, register and
backup importers on hostile files, each case in its own process stopped after
``BENCH_HOSTILE_TIMEOUT`` (default 10 s) of its timed call and reported as "over N s";
``BENCH_HOSTILE=0`` leaves it out. A case that ends in another exception than a refusal (or a
crash, a wrong result, a refusal that changed the database) fails its check.

Then write throughput (``bench/writes.py``): 1, 2 and 4 writer processes at once on SQLite and on
PostgreSQL (a throwaway server, as the tests start one); ``BENCH_WRITES=0`` leaves it out.

Results: a Markdown table on stdout and in ``bench/results/latest.md``, raw numbers in
``bench/results/latest.json``. Later capabilities add their pages to ``PAGES`` and their commands
to ``CLI_OPS`` (``bench/pages.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import cardgen, generate, hostile, registergen, writes
from bench.analytics import measure_analytics_ops
from bench.cards import measure_card_ops
from bench.api import measure_api_ops
from bench.cli import measure_cli_ops
from bench.common import RESULTS, ROOT, PageSpec, median_ms, profile_run, project_id_sql, soft_check
from bench.pages import CLI_OPS, FLOOR_SQL, LATEST_EVENT_SQL, PAGES, profile_hook, share_script_cache
from bench.registers import FILTER_CATEGORY, FILTER_PHASE, REGISTER_CODE, measure_register_ops
from bench.reviews import (
    MIN_LANE_PX,
    REVIEW_CODE,
    REVIEWER,
    SWIMLANE_PAGE,
    SWIMLANE_TRACES,
    evidence_counts,
    measure_review_ops,
    review_counts,
)

SIZE_ORDER = ["S", "M", "L"]
# The areas a size's measuring process runs, in this order (BENCH_AREAS picks some; the floor always runs).
AREAS = ("pages", "cli", "api", "cards", "registers", "reviews", "analytics")
TIME_TARGET_MS = {"S": 300.0, "M": 300.0, "L": 1000.0}  # S: held to the M target
FLOOR_RATIO_TARGET = 3.0


# --- the child: measure one size ----------------------------------------------------------------


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
                f"SELECT count(*) FROM requirement WHERE project_id = ({project_id_sql(REGISTER_CODE)})"),
            "register_risks": q(f"SELECT count(*) FROM risk WHERE project_id = ({project_id_sql(REGISTER_CODE)})"),
            "register_open_risks": q(
                f"SELECT count(*) FROM risk WHERE status != 'closed' AND project_id = ({project_id_sql(REGISTER_CODE)})"),
            # Matrices counted in Python with mltrl.domain.risk's bands (not the services' SQL), p band rows.
            "portfolio_risk_matrix": _matrix(con, "SELECT p_failure, value FROM risk WHERE status != 'closed'"),
            "portfolio_requirement_matrix": _matrix(con, "SELECT p_failure, value FROM requirement"),
            "register_risk_matrix": _matrix(
                con, "SELECT p_failure, value FROM risk WHERE status != 'closed' "
                     f"AND project_id = ({project_id_sql(REGISTER_CODE)})"),
            # The Risk portfolio page's filtered run: risks of a category, of technologies at a phase's levels.
            "portfolio_risk_matrix_filtered": _matrix(
                con, "SELECT k.p_failure, k.value FROM risk k JOIN project p ON p.id = k.project_id "
                     f"WHERE k.status != 'closed' AND k.category = '{FILTER_CATEGORY}' AND p.level IN "
                     f"({', '.join(map(str, PHASE_LEVELS[Phase(FILTER_PHASE)]))})"),
        }
    finally:
        con.close()


def _matrix(con: sqlite3.Connection, sql: str) -> list[list[int]]:
    """5x5 cell counts (rows: p band 1-5, columns: value band 1-5) of the (p_failure, value) rows."""
    from mltrl.domain import risk as rules

    cells = [[0] * 5 for _ in range(5)]
    for p, value in con.execute(sql):
        cells[rules.p_band(p) - 1][rules.value_band(value) - 1] += 1
    return cells


def areas_chosen() -> list[str]:
    """The areas named in ``BENCH_AREAS`` (default: every one), in ``AREAS`` order."""
    named = {a.strip().lower() for a in os.environ.get("BENCH_AREAS", ",".join(AREAS)).split(",") if a.strip()}
    return [a for a in AREAS if a in named]


def measure(size: str, db_path: Path, runs: int) -> dict:
    areas = areas_chosen()
    url = f"sqlite:///{db_path}"
    os.environ["MLTRL_DATABASE_URL"] = url
    n = generate.size_count(size)
    counts = _counts(db_path)
    con = sqlite3.connect(db_path)
    try:
        counts["review"] = review_counts(con, n)
        counts["evidence"] = evidence_counts(con)
    finally:
        con.close()
    items: dict[str, dict] = {}
    load_before = os.getloadavg()[0]

    def log(msg: str) -> None:
        print(f"  [{size}] {msg}", flush=True)

    # The floor, with the page's database file and nothing else.
    con = sqlite3.connect(db_path)
    try:
        items["floor: portfolio SQL"] = dict(kind="floor", **median_ms(
            lambda: [con.execute(sql).fetchall() for sql in FLOOR_SQL], runs))
        items["floor ref: latest event per project"] = dict(kind="floor-ref", **median_ms(
            lambda: con.execute(LATEST_EVENT_SQL).fetchall(), runs))
    finally:
        con.close()
    log(f"floor {items['floor: portfolio SQL']['median_ms']:.1f} ms")

    profiling = os.environ.get("BENCH_PROFILE") == "1"
    if "pages" in areas:
        items.update(_measure_pages(size, n, counts, runs, log, profiling))
    if "cli" in areas:
        items.update(_measure_cli_in_process(url, counts, runs, log))
        items.update(measure_cli_ops(db_path, runs, size, log, counts))
    if "api" in areas:
        items.update(measure_api_ops(db_path, runs, size, log, counts))
    if "cards" in areas:
        items.update(measure_card_ops(db_path, runs, size, log, profiling))
    if "registers" in areas:
        items.update(measure_register_ops(db_path, runs, size, log, profiling, counts))
    if "reviews" in areas:
        items.update(measure_review_ops(db_path, runs, size, log, profiling, counts))
    if "analytics" in areas:
        items.update(measure_analytics_ops(db_path, runs, size, log, profiling))

    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"size": size, "n_technologies": n, "counts": counts, "db": db_path.name,
            "runs": runs, "items": items, "peak_rss_mb": maxrss_mb,
            "load_before": load_before, "load_after": os.getloadavg()[0]}


def _measure_pages(size: str, n: int, counts: dict, runs: int, log, profiling: bool) -> dict[str, dict]:
    """Every page of ``PAGES`` through AppTest, cold and warm, after the app's first run."""
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
        share_script_cache()
    prof_state = profile_hook() if profiling else None

    items: dict[str, dict] = {}
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
        failed = soft_check(lambda page=page: page.check(at, n, counts), page.name, log) if page.check else None
        for mode, before in (("cold", st.cache_data.clear), ("warm", None)):
            res = median_ms(run_page, runs, before=before)
            items[f"page {page.name} ({mode})"] = dict(kind="page", reads_portfolio=page.reads_portfolio, **res,
                                                       **({"check_failed": failed} if failed else {}))
            log(f"page {page.name} ({mode}) {res['median_ms']:.0f} ms")
            if profiling:
                profile_run(prof_state, run_page, before, size, page.name, mode)

    if os.environ.get("BENCH_TRACEMALLOC") == "1":
        import tracemalloc

        st.cache_data.clear()
        tracemalloc.start()
        at.switch_page(PAGES[0].path).run()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        items["memory: tracemalloc peak, cold portfolio run (MB)"] = dict(kind="memory", value=peak / 2**20)
    return items


def _measure_cli_in_process(url: str, counts: dict, runs: int, log) -> dict[str, dict]:
    """``CLI_OPS`` in-process (typer's CliRunner) and once as a subprocess."""
    from typer.testing import CliRunner

    from mltrl import cli

    items: dict[str, dict] = {}
    runner = CliRunner()
    for label, argv, check in CLI_OPS:
        def invoke(argv: list[str] = argv, check=check) -> None:
            result = runner.invoke(cli.app, argv, env={"MLTRL_DATABASE_URL": url})
            assert result.exit_code == 0, (result.exit_code, result.output[-2000:])
            check(result.stdout, counts)

        res = median_ms(invoke, runs)
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
    return items


# --- the parent: sizes, table, files --------------------------------------------------------------


def _verdict(size: str, item: dict, floor_ms: float) -> tuple[str, str]:
    """(target, verdict) for one row."""
    kind = item["kind"]
    if kind == "card-op" and not item.get("targeted", True):
        return "— (reference)", "—"
    if kind not in ("page", "cli", "card-op", "register-op", "review-op", "analytics-op", "api-op"):
        return "—", "—"
    limit = item.get("limit_ms") or TIME_TARGET_MS[size]
    failed = "CHECK FAILED; " if item.get("check_failed") else ""
    if kind in ("card-op", "register-op", "review-op", "analytics-op", "api-op"):
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
            if item["kind"] == "size":
                verdict = "within" if item["value_kb"] < item["limit_kb"] else "over: size"
                lines.append(f"| {label} | {name} | {item['value_kb']:,.0f} KB "
                             f"({item['per_key_result_kb']:.1f} KB a key result) | | < {item['limit_kb']:,.0f} KB | "
                             f"{verdict} | | |")
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
        f"decided one its timeline links to), on {REVIEW_CODE}'s checklist and on the evidence-heavy technology's "
        f"open review (`bench/evidencegen.py`: 500 evidence records of one technology, its Project page measured too, "
        f"both checked against the raw rows); the Timelines "
        f"page on {REVIEW_CODE}, the sample system, and the portfolio swimlanes sorted by level and by "
        f"switchbacks (checked: at most {SWIMLANE_TRACES} traces, at most {SWIMLANE_PAGE} lanes of at least "
        f"{MIN_LANE_PX} px, in the order worked out from the raw rows). The `reviews:`, `evidence:` and `timelines:` "
        "rows call the services on a copy of the database, each checked once against the raw rows before it is timed, and "
        "are held to the page time target; `decide()` graduates a generated open review each call. The `cli start-up:` "
        "rows run the console script as a new process each time (`bench/cli.py`), on a copy of the database, and are "
        "reported for reference: their CPU ms is the child process's.",
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
    named = {a.strip().lower() for a in os.environ.get("BENCH_AREAS", "").split(",") if a.strip()}
    if named - set(AREAS):
        parser.error(f"unknown area(s) {sorted(named - set(AREAS))}: use {', '.join(AREAS)}")
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

    hostile_result = None
    if os.environ.get("BENCH_HOSTILE", "1") != "0":
        print(f"hostile input: {len(hostile.CASES)} cases, each stopped after {hostile.timeout_s():.0f} s", flush=True)
        hostile_result = hostile.measure_all()

    write_result = None
    if os.environ.get("BENCH_WRITES", "1") != "0":
        print("write throughput: 1, 2 and 4 writer processes on SQLite and PostgreSQL", flush=True)
        write_result = writes.measure_all()

    total = time.perf_counter() - t_start
    table = render(results, total)
    if hostile_result is not None:
        table += "\n".join(hostile.render(hostile_result)) + "\n"
    if write_result is not None:
        table += "\n".join(writes.render(write_result)) + "\n"
    print()
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.md").write_text(table, encoding="utf-8")
    failed = (any(item.get("check_failed") for res in results for item in res["items"].values())
              or bool(hostile.failures(hostile_result)))
    (RESULTS / "latest.json").write_text(json.dumps({
        "at": datetime.now(UTC).isoformat(), "total_s": total, "cpus": os.cpu_count(),
        "python": platform.python_version(), "targets": {"time_ms": TIME_TARGET_MS, "floor_ratio": FLOOR_RATIO_TARGET},
        "results": results, "hostile": hostile_result, "writes": write_result,
    }, indent=2), encoding="utf-8")
    if failed:
        print("make bench: some checks failed (see 'Check failures' above)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
