"""``mltrl requirements export|import`` and ``mltrl risks export|import|matrix``: exit 0 on
success, 1 with a row-level report and nothing written, JSON cells for scripts."""

from __future__ import annotations

import json

import pytest

from mltrl import db
from tests.services.test_cli import everything, ok, run


@pytest.fixture
def cli_db(db_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MLTRL_USER", "cli-user")
    ok("project", "add", "R02.1", "Mixed-variable BO")
    yield db_url
    db.dispose_engines()


def test_requirements_and_risks_round_trip_through_csv(cli_db, tmp_path):
    reqs = tmp_path / "reqs.csv"
    reqs.write_text("number,statement,p_failure,value\n1,It shall optimise,30%,7\n1.10,Sub,0.2,3\n1.9,Sub,0.9,10\n")
    assert "R02.1: 3 added, 0 updated" in ok("requirements", "import", "R02.1", str(reqs)).stdout
    out = tmp_path / "out.csv"
    ok("requirements", "export", "R02.1", str(out))
    lines = out.read_text().splitlines()
    assert [line.split(",")[0] for line in lines] == ["number", "1", "1.9", "1.10"]
    assert run("requirements", "export", "R02.1", str(out)).exit_code == 1  # exists, no --force
    risks = tmp_path / "risks.csv"
    risks.write_text("title,category,requirement,p_failure,value\nDrift,data,1,0.5,8\nBias,ethics,,0.1,2\n")
    ok("risks", "import", "R02.1", str(risks))
    exported = ok("risks", "export", "R02.1", "-").stdout
    assert exported.splitlines()[1].startswith("Drift,,data,,1,0.5,8")
    cells = json.loads(ok("risks", "matrix", "--json").stdout)
    assert len(cells) == 25 and {"p_band": 3, "value_band": 4, "count": 1} in cells
    assert sum(c["count"] for c in cells) == 2
    req_cells = json.loads(ok("risks", "matrix", "R02.1", "--requirements", "--json").stdout)
    assert {"p_band": 5, "value_band": 5, "count": 1} in req_cells
    assert "0.4-0.6" in ok("risks", "matrix", "R02.1").stdout


def test_a_bad_row_refuses_the_whole_file(cli_db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("number,statement,p_failure,value\n1,ok,0.1,2\n2,bad,150%,2\n")
    before = everything(cli_db)
    result = run("requirements", "import", "R02.1", str(bad))
    assert result.exit_code == 1
    assert "nothing was imported" in result.stderr and "row 3, p_failure" in result.stderr
    bad.write_text("title,colour\n")
    assert "unknown column(s) 'colour'" in run("risks", "import", "R02.1", str(bad)).stderr
    assert everything(cli_db) == before
    assert "No project with code 'NOPE'" in run("risks", "matrix", "NOPE").stderr
