"""``mltrl evidence add|junit|list``: what a CI job runs. Exit 0 with the record said; 1 with the
reason on stderr and nothing written when a check refuses (a malformed report, an unknown
criterion, a bad metric); 2 for usage errors; JSON for scripts. The remote form is exercised by
``test_cli_remote`` (the same script against the API and a local file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mltrl import db
from tests.services.test_cli import everything, ok, run

JUNIT = Path(__file__).resolve().parents[1] / "fixtures" / "junit"
FAILING = """<testsuite name="eval"><testcase classname="eval" name="recall"/>
<testcase classname="eval" name="precision"><failure message="0.71 &lt; 0.8"/></testcase></testsuite>"""


@pytest.fixture
def cli_db(db_url: str, monkeypatch: pytest.MonkeyPatch):
    """R02.1 at level 4, acting as ci-bot in single-user mode."""
    monkeypatch.setenv("MLTRL_USER", "ci-bot")
    ok("project", "add", "R02.1", "Mixed-variable BO")
    ok("level", "start", "R02.1", "4", "--at", "2025-01-06")
    yield db_url
    db.dispose_engines()


def _checklist_row(key: str = "applied-metrics") -> dict:
    from mltrl.services import reviews

    with db.session_scope(db.get_engine()) as s:
        return next(c for c in reviews.checklist_record(s, "R02.1", 4)["criteria"] if c["key"] == key)


def refused(url: str, *args: str, says: str, code: int = 1) -> None:
    before = everything(url)
    result = run(*args)
    assert result.exit_code == code, result.output
    assert says in result.stderr and result.stdout == ""
    assert everything(url) == before


def test_a_ci_job_posts_a_failing_then_a_passing_report_and_the_criterion_follows(cli_db, tmp_path):
    report = tmp_path / "report.xml"
    report.write_text(FAILING)
    said = ok("evidence", "junit", "R02.1", str(report), "--level", "4", "--criterion", "applied-metrics",
              "--url", "https://ci.example.org/runs/5", "--source", "GitHub Actions").stdout
    assert said.startswith("R02.1: recorded evidence 1 for level 4, criterion applied-metrics: fail - "
                           "Tests: 1 passed, 1 failed")
    assert "tests=2, passed=1, failures=1" in said
    assert _checklist_row()["percent"] == 0
    report.write_text(FAILING.replace('<failure message="0.71 &lt; 0.8"/>', ""))
    record = json.loads(ok("evidence", "junit", "R02.1", str(report), "--level", "4", "--criterion",
                           "applied-metrics", "--json").stdout)
    assert record["status"] == "pass" and record["created"] and record["source"] == "JUnit XML"
    assert _checklist_row()["percent"] == 100


def test_reports_from_maven_and_jest_are_read(cli_db):
    said = ok("evidence", "junit", "R02.1", str(JUNIT / "surefire-TEST-com.example.ScorerTest.xml"),
              "--level", "4").stdout
    assert "fail - Tests: 2 passed, 2 failed, 1 skipped" in said
    said = ok("evidence", "junit", "R02.1", str(JUNIT / "jest-junit.xml"), "--level", "4", "--title",
              "Front-end tests").stdout
    assert "pass - Front-end tests" in said


def test_add_records_metrics_and_a_second_send_of_the_same_id_adds_nothing(cli_db):
    args = ("evidence", "add", "R02.1", "--level", "4", "--kind", "dashboard", "--status", "info", "--title",
            "Live quality dashboard", "--url", "https://grafana.example.org/d/7", "--metric", "precision=0.82",
            "--metric", "recall=0.77", "--external-id", "grafana:7")
    said = ok(*args).stdout
    assert "recorded evidence 1 for level 4: info - Live quality dashboard" in said
    assert "precision=0.82, recall=0.77" in said
    assert "was recorded already; nothing added" in ok(*args).stdout
    listed = json.loads(ok("evidence", "list", "R02.1", "--json").stdout)
    assert len(listed) == 1 and listed[0]["metrics"] == {"precision": 0.82, "recall": 0.77}
    assert listed[0]["recorded_by"] == "ci-bot" and listed[0]["source"] == "command line"
    text = ok("evidence", "list", "R02.1").stdout
    assert "L4" in text and "Live quality dashboard" in text
    assert ok("evidence", "list", "R02.1", "--level", "3").stdout.strip() == "R02.1 has no evidence yet at level 3"


def test_bad_input_is_refused_naming_what_and_writes_nothing(cli_db, tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<html><body>502 Bad Gateway</body></html>")
    refused(cli_db, "evidence", "junit", "R02.1", str(bad), "--level", "4", says="report: is not a JUnit report")
    refused(cli_db, "evidence", "junit", "R02.1", str(tmp_path / "missing.xml"), "--level", "4",
            says="report: cannot read")
    refused(cli_db, "evidence", "junit", "R02.1", str(JUNIT / "jest-junit.xml"), "--level", "4", "--criterion",
            "tests", says="criterion: 'tests' is not an exit criterion of level 4")
    refused(cli_db, "evidence", "add", "R02.1", "--level", "4", "--kind", "test-report", "--status", "pass",
            "--title", "t", "--metric", "accuracy", says="metrics: 'accuracy' is not name=value")
    refused(cli_db, "evidence", "add", "R02.1", "--level", "4", "--kind", "vibe", "--status", "pass", "--title", "t",
            says="kind: 'vibe' is not a kind of evidence")
    refused(cli_db, "evidence", "add", "NOPE", "--level", "4", "--kind", "other", "--status", "info", "--title", "t",
            says="No project with code 'NOPE'")
    refused(cli_db, "evidence", "add", "R02.1", "--level", "four", "--kind", "other", "--status", "info",
            "--title", "t", says="--level", code=2)
