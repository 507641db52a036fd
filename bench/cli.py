"""The CLI area: the ``mltrl`` command's start-up, as a user meets it (a new process per command).

Measured, each as a subprocess of the console script (``.venv/bin/mltrl``; ``python -m mltrl.cli``
where it is missing) on a throwaway copy of the size's database (the cached one is never written;
the copy is brought to the newest schema once, untimed, as a user's database would be): ``mltrl
--help`` (reads no data: the interpreter's start-up and the command's imports) and ``mltrl project
list`` (the same, plus the settings, the engine, the schema check and the portfolio's query). The
median wall time of ``BENCH_RUNS`` runs after one untimed warm-up, with the median CPU time of the
child process (user + system, from ``RUSAGE_CHILDREN``) next to it, as it is less disturbed by
other work on a shared machine. Reported for reference, without a target.

Checked once before the timed runs: ``--help`` lists every noun; ``project list`` prints a header
and one line per technology; and a process that runs each command through the CLI's ``app`` (not
standalone) imported none of the modules the CLI must not load at start-up (``HEAVY``: pandas,
numpy, plotly, streamlit, jinja2, markdown, nh3; they belong to the commands that need them).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import copy_db, soft_check

HEAVY = ("jinja2", "markdown", "nh3", "numpy", "pandas", "plotly", "streamlit")

# Runs the CLI's app in this process, then names the heavy modules it left in sys.modules (stderr,
# last line, as JSON: stdout is the command's).
_WRAPPER = (
    "import json, sys\n"
    "from mltrl.cli import app\n"
    "code = app(args=sys.argv[1:], prog_name='mltrl', standalone_mode=False)\n"
    f"heavy = sorted(n for n in {HEAVY!r} if n in sys.modules)\n"
    "print(json.dumps({'code': code, 'heavy': heavy}), file=sys.stderr)\n"
)

NOUNS = ("db", "demo", "project", "level", "user", "card", "requirements", "risks", "review", "okr",
         "analytics", "fork", "export", "import")

COMMANDS: list[tuple[str, list[str]]] = [
    ("mltrl --help", ["--help"]),
    ("mltrl project list", ["project", "list"]),
]


def _command() -> list[str]:
    exe = Path(sys.executable).parent / "mltrl"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "mltrl.cli"]


def _run(cmd: list[str], env: dict[str, str], cwd: str) -> tuple[subprocess.CompletedProcess, float, float]:
    """One run: (the finished process, wall ms, the child's CPU ms)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    wall = (time.perf_counter() - t0) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000
    return proc, wall, cpu


def _median_subprocess(cmd: list[str], env: dict[str, str], cwd: str, runs: int) -> dict:
    """As ``bench.common.median_ms``, for a command run as a subprocess: one untimed warm-up,
    then ``runs`` timed runs; the CPU time is the child's."""
    proc, _, _ = _run(cmd, env, cwd)
    assert proc.returncode == 0, (cmd, proc.returncode, proc.stderr[-2000:])
    times, cpu = [], []
    for _ in range(runs):
        proc, wall, used = _run(cmd, env, cwd)
        assert proc.returncode == 0, (cmd, proc.returncode, proc.stderr[-2000:])
        times.append(wall)
        cpu.append(used)
    return {"median_ms": statistics.median(times), "min_ms": min(times), "cpu_ms": statistics.median(cpu),
            "runs_ms": [round(t, 2) for t in times]}


def _check_help(stdout: str, counts: dict) -> None:
    missing = [noun for noun in NOUNS if f" {noun} " not in stdout]
    assert "Usage:" in stdout and not missing, f"--help does not list {missing}"


def _check_list(stdout: str, counts: dict) -> None:
    lines = stdout.splitlines()
    assert lines and lines[0].split()[:2] == ["code", "level"], lines[:1]
    assert len(lines) - 1 == counts["projects"], (len(lines) - 1, counts["projects"])


CHECKS: dict[str, Callable[[str, dict], None]] = {"mltrl --help": _check_help, "mltrl project list": _check_list}


def measure_cli_ops(db_path: Path, runs: int, size: str, log: Callable[[str], None], counts: dict) -> dict[str, dict]:
    """``mltrl --help`` and ``mltrl project list`` as subprocesses, each checked once (its output,
    and the modules it imported) before it is timed."""
    from mltrl import db

    items: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="mltrl-bench-cli-") as tmp:
        copy = copy_db(db_path, Path(tmp))
        url = f"sqlite:///{copy}"
        db.upgrade_db(url)  # untimed: the runs find the schema at head, as on a user's machine
        env = dict(os.environ, MLTRL_DATABASE_URL=url)
        for label, argv in COMMANDS:
            name = f"cli start-up: {label} (subprocess)"
            cmd = _command() + argv

            def check(argv: list[str] = argv, cmd: list[str] = cmd, label: str = label) -> None:
                proc, _, _ = _run(cmd, env, tmp)
                assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
                CHECKS[label](proc.stdout, counts)
                wrapped, _, _ = _run([sys.executable, "-c", _WRAPPER, *argv], env, tmp)
                last = (wrapped.stderr.strip().splitlines() or [""])[-1]
                assert last.startswith("{"), (wrapped.returncode, wrapped.stderr[-2000:])
                report = json.loads(last)
                assert report["code"] == 0, (report, wrapped.stderr[-2000:])
                assert not report["heavy"], f"{label} imported {', '.join(report['heavy'])}"

            failed = soft_check(check, name, log)
            res = _median_subprocess(cmd, env, tmp, runs)
            items[name] = dict(kind="cli-start", **res, **({"check_failed": failed} if failed else {}))
            log(f"{name} {res['median_ms']:.0f} ms (child CPU {res['cpu_ms']:.0f} ms)")
    return items

