"""What every area of the benchmark shares: the page spec, the timing and the soft check, the
throwaway database copy, the raw-row helpers and the profiling hooks.

``median_ms`` times a call (one untimed warm-up, then ``BENCH_RUNS`` timed calls: the median wall
time, with the process's CPU time next to it); ``soft_check`` keeps a failed check instead of
stopping the run (``bench/run.py`` lists it under the table and exits 1); ``copy_db`` gives an area
a throwaway copy of the size's database (the cached one is never written); ``page_answer`` runs an
independent answer over the raw rows of the database the pages read. ``profile_call`` and
``profile_run`` write cProfile reports to ``bench/results/profile-*.txt`` (``BENCH_PROFILE=1``).
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"


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


def aware(text: str | None) -> datetime | None:
    """A stored UTC timestamp (SQLite keeps them as naive ISO text) as an aware datetime."""
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def page_answer(fn: Callable[[sqlite3.Connection], object]) -> object:
    """``fn`` over the database the pages read (``MLTRL_DATABASE_URL``, set by ``measure``)."""
    con = sqlite3.connect(os.environ["MLTRL_DATABASE_URL"].removeprefix("sqlite:///"))
    try:
        return fn(con)
    finally:
        con.close()


def metric_values(at) -> dict[str, int]:
    return {m.label: int(str(m.value).replace(",", "")) for m in at.metric}


def median_ms(fn: Callable[[], object], runs: int, *, before: Callable[[], object] | None = None) -> dict:
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


def soft_check(check: Callable[[], object], name: str, log: Callable[[str], None]) -> str | None:
    """Run ``check``; a failed assertion is kept (and reported, and makes ``make bench`` exit 1 at
    the end) rather than stopping the sizes still to measure. Returns the failure, if any."""
    try:
        check()
    except AssertionError as exc:
        text = " ".join(str(exc).split())[:600] or "assertion failed"
        log(f"CHECK FAILED: {name}: {text}")
        return text
    return None


def project_id_sql(code: str) -> str:
    return f"SELECT id FROM project WHERE code = '{code}'"


def copy_db(db_path: Path, folder: Path) -> Path:
    """A throwaway copy of the size's database in ``folder`` (the cached one is never written)."""
    copy = folder / db_path.name
    src, dst = sqlite3.connect(db_path), sqlite3.connect(copy)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return copy


def profile_call(fn: Callable[[], object], before, size: str, name: str) -> None:
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


def profile_run(state: dict, run_page: Callable[[], None], before, size: str, page: str, mode: str) -> None:
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
