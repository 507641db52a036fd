"""Write throughput: 1, 2 and 4 writer processes at once, on SQLite and on PostgreSQL.

Each writer is a separate process (``spawn``) running the concurrency test's writer
(``tests/services/test_concurrency.py``: ``run_writer``) for ``BENCH_WRITE_SECONDS`` (default 2.5)
after a common start line: 40% edits of three shared technologies (name, status and owners, as
the page's form sends them) with the version the process last read (stale ones are refused with
``Conflict``), 35% graduations/switchbacks of them with
``expected_version``, 25% new technologies. Measured per backend and writer count: writes
attempted and accepted per second (over the slowest writer's time), conflicts, other refusals
(errors: anything but ``Conflict``/``RuleViolation``, "database is locked" and ``Busy``
included), and the latency of one accepted write (median and 95th percentile, retries included).

SQLite is a temp file (WAL, one writer at a time, the services retry on "database is locked").
PostgreSQL is a throwaway server started as the tests start it (``tests/pg.py``: fsync and
synchronous_commit off, so its numbers are not a durable server's).

``python -m bench.writes`` runs this alone; ``make bench`` (``bench/run.py``) runs it after the
page timings (``BENCH_WRITES=0`` leaves it out).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WRITERS = (1, 2, 4)
BACKENDS = ("sqlite", "postgresql")
MAX_WRITES = 10_000  # per writer; the time box ends the run first


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure_one(url: str, writers: int, seconds: float) -> dict[str, Any]:
    from tests.services.test_concurrency import run_writers, seed

    seed(url)
    reports = run_writers(url, writers, MAX_WRITES, duration_s=seconds, edit_owners=True)
    accepted = [a for r in reports for a in r["accepted"]]
    refused = [f for r in reports for f in r["refused"]]
    wall = max(r["elapsed_s"] for r in reports)
    latencies = [a["latency_s"] for a in accepted]
    conflicts = sum(f["error"] == "Conflict" for f in refused)
    races = sum(f["error"] == "RuleViolation" for f in refused)
    errors = [f for f in refused if f["error"] not in ("Conflict", "RuleViolation")]
    return {
        "writers": writers, "seconds": wall, "attempted": len(accepted) + len(refused),
        "accepted": len(accepted), "conflicts": conflicts, "raced_moves": races, "errors": len(errors),
        "locked": sum("database is locked" in f["message"].lower() or f["error"] == "Busy" for f in refused),
        "error_kinds": sorted({f"{f['module']}.{f['error']}" for f in errors}),
        "accepted_per_s": len(accepted) / wall if wall else 0.0,
        "attempted_per_s": (len(accepted) + len(refused)) / wall if wall else 0.0,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p95_ms": _percentile(latencies, 0.95) * 1000,
    }


def _warm_up(url: str) -> None:
    """Half a second of untimed writes in this process: the file or the server warms up."""
    from mltrl import db
    from tests.services.test_concurrency import run_writer, seed

    seed(url)
    run_writer(url, 0, MAX_WRITES, duration_s=0.5)
    db.dispose_engines()


def measure_all(seconds: float | None = None, writers: tuple[int, ...] = WRITERS) -> dict[str, Any]:
    """Every backend x writer count; each run on a fresh database."""
    from mltrl import db
    from tests.pg import PostgresServer

    seconds = float(os.environ.get("BENCH_WRITE_SECONDS", "2.5")) if seconds is None else seconds
    t0 = time.perf_counter()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="mltrl-bench-writes-") as tmp, PostgresServer.start() as pg:
        for backend in BACKENDS:
            _warm_up(f"sqlite:///{Path(tmp) / 'warm-up.db'}" if backend == "sqlite" else pg.fresh_database())
            for n in writers:
                if backend == "sqlite":
                    url = f"sqlite:///{Path(tmp) / f'writes-{n}.db'}"
                else:
                    url = pg.fresh_database()
                row = {"backend": backend, **measure_one(url, n, seconds)}
                db.dispose_engines()
                if backend == "postgresql":
                    pg.drop_database(url)
                rows.append(row)
                print(f"  writes {backend} x{n}: {row['accepted_per_s']:.0f} accepted/s, "
                      f"{row['conflicts']} conflicts, {row['errors']} errors", flush=True)
    return {"seconds_per_run": seconds, "rows": rows, "total_s": time.perf_counter() - t0}


def render(result: dict[str, Any]) -> list[str]:
    lines = [
        "",
        (f"Write throughput: writer processes at once for {result['seconds_per_run']:.1f} s each "
         "(edits with the last version read, level moves, new technologies; see bench/writes.py)"),
        "",
        ("| backend | writers | attempted/s | accepted/s | accepted | conflicts | raced moves | errors "
         "| locked/busy | accepted p50 ms | accepted p95 ms |"),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        errors = f"{r['errors']}" + (f" ({', '.join(r['error_kinds'])})" if r["error_kinds"] else "")
        lines.append(
            f"| {r['backend']} | {r['writers']} | {r['attempted_per_s']:.0f} | {r['accepted_per_s']:.0f} "
            f"| {r['accepted']} | {r['conflicts']} | {r['raced_moves']} | {errors} | {r['locked']} "
            f"| {r['p50_ms']:.1f} | {r['p95_ms']:.1f} |")
    lines += [
        "",
        ("Conflicts are the design working (an edit or move made from a stale version is refused); "
         "raced moves are level moves refused by a rule because another writer moved the technology "
         "between the process's reads; errors should be 0. PostgreSQL runs with fsync and "
         "synchronous_commit off (a test server), SQLite with WAL and synchronous=NORMAL."),
    ]
    return lines


def main() -> int:
    sys.path.insert(0, str(ROOT))  # tests/ (the writer, the PostgreSQL helper) when run as a module
    result = measure_all()
    print("\n".join(render(result)))
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "writes.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
