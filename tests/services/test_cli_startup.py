"""The ``mltrl`` command starts without the heavy modules it does not need.

``mltrl --help`` and ``mltrl project list`` run in a fresh interpreter (the venv's python), through
the CLI's ``app`` as the console script runs it (but not standalone, so the process can then say
what it imported): neither may leave pandas, numpy, plotly, streamlit, jinja2, markdown, nh3 or
huggingface_hub in ``sys.modules``. Those belong to the commands that use them (analytics, the
quarterly report, cards, Hugging Face model cards), which import them when they run. No timing
here (the machine is shared): the start-up time is measured by the benchmark's ``cli`` area
(``bench/cli.py``).

``project list`` reads its records without pandas (``portfolio.project_list``); they must stay the
records the portfolio frame gives (same rows, order and values).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sqlmodel import Session

from mltrl import db
from mltrl.services import Actor, demo, portfolio
from tests.factories import make_project

HEAVY = ("huggingface_hub", "jinja2", "markdown", "nh3", "numpy", "pandas", "plotly", "streamlit")

# Runs the command line given as arguments through the CLI's app, then prints (last line of
# stderr, as JSON) its exit code and the heavy modules found in sys.modules.
WRAPPER = f"""
import json, sys
from mltrl.cli import app
code = app(args=sys.argv[1:], prog_name="mltrl", standalone_mode=False)
heavy = sorted(name for name in {HEAVY!r} if name in sys.modules)
print(json.dumps({{"code": code, "heavy": heavy}}), file=sys.stderr)
"""


def run_cli(url: str, folder: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    env = dict(os.environ, MLTRL_DATABASE_URL=url, MLTRL_USER="startup-test")
    proc = subprocess.run([sys.executable, "-c", WRAPPER, *args], env=env, cwd=folder,
                          capture_output=True, text=True, timeout=600)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 0 and lines and lines[-1].startswith("{"), (proc.returncode, proc.stderr[-3000:])
    return proc, json.loads(lines[-1])


@pytest.fixture
def demo_url(sqlite_url: str) -> str:
    """A migrated SQLite database holding the demo portfolio (systems, components, levels), and one
    technology with no level yet."""
    engine = db.get_engine(sqlite_url)  # migrates, as the CLI tests' databases are
    with db.session_scope(engine) as session:
        demo.load_demo(session=session, actor=Actor("tester"))
        make_project(session, "Z01.1", "Not started yet")
    db.dispose_engines()
    return sqlite_url


def test_help_imports_no_heavy_module(demo_url: str, tmp_path: Path) -> None:
    proc, report = run_cli(demo_url, tmp_path, "--help")
    assert report == {"code": 0, "heavy": []}
    assert "project" in proc.stdout and "analytics" in proc.stdout


def test_project_list_imports_no_heavy_module(demo_url: str, tmp_path: Path) -> None:
    proc, report = run_cli(demo_url, tmp_path, "project", "list")
    assert report == {"code": 0, "heavy": []}
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:2] == ["code", "level"]
    assert any(line.split()[0] == "Z01.1" for line in lines[1:])


def test_project_list_json_imports_no_heavy_module_and_lists_every_technology(demo_url: str, tmp_path: Path) -> None:
    proc, report = run_cli(demo_url, tmp_path, "project", "list", "--json")
    assert report == {"code": 0, "heavy": []}
    with db.session_scope(db.get_engine(demo_url)) as session:
        expected = portfolio.project_list(session)
    db.dispose_engines()
    assert json.loads(proc.stdout) == expected
    assert {"code": "Z01.1", "name": "Not started yet", "parent": None, "level": None, "system_level": None,
            "status": "active"} in expected


def _from_frame(session: Session) -> list[dict]:
    """The records as ``project_list`` made them from the portfolio frame before it went without pandas."""
    frame = portfolio.portfolio_frame(session)
    return [
        {
            "code": row.code,
            "name": row.name,
            "parent": None if pd.isna(row.parent) else row.parent,
            "level": None if pd.isna(row.level) else int(row.level),
            "system_level": None if pd.isna(row.system_level) else int(row.system_level),
            "status": row.status,
        }
        for row in frame.itertuples(index=False)
    ]


def test_project_list_gives_the_portfolio_frames_records(session: Session, actor: Actor) -> None:
    assert portfolio.project_list(session) == _from_frame(session) == []
    demo.load_demo(session=session, actor=actor)
    make_project(session, "Z01.1", "Not started yet")
    make_project(session, "Z02.1", "A component of it", parent_code="Z01.1")
    make_project(session, "A00.1", "Sorted first, its component after it", parent_code=None)
    make_project(session, "A00.2", "Component", parent_code="A00.1")
    records = portfolio.project_list(session)
    assert records == _from_frame(session)
    assert any(r["parent"] for r in records) and any(r["level"] is None for r in records)
    assert any(r["system_level"] is not None and r["system_level"] < r["level"] for r in records
               if r["level"] is not None)
