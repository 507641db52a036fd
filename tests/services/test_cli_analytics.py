"""``mltrl analytics time-per-level`` and ``mltrl okr report``: level histories entered through the
CLI (switchbacks, revisits, ongoing stays, a fixed as-of date) come out equal to figures worked out
by hand; the report's JSON names each key result's code, target, date and status; bad input exits
non-zero naming the option, and nothing is written."""

from __future__ import annotations

import json

import pytest

from mltrl import db
from tests.services.test_cli import everything, ok, run


@pytest.fixture
def histories(db_url: str, monkeypatch: pytest.MonkeyPatch):
    """X: 1 on 2026-01-01, 2 on 01-04, 3 on 01-09 12:00, back to 1 (discovery) on 01-15, 2 on 01-20,
    3 on 02-01, 4 on 02-10. Y: 5 on 2026-01-10, back to 4 (review) on 01-25. Z: never started."""
    monkeypatch.setenv("MLTRL_USER", "cli-user")
    for code in ("X", "Y", "Z"):
        ok("project", "add", code, f"Technology {code}")
    ok("level", "start", "X", "1", "--at", "2026-01-01")
    ok("level", "graduate", "X", "--at", "2026-01-04")
    ok("level", "graduate", "X", "--at", "2026-01-09T12:00")
    ok("level", "switchback", "X", "1", "--kind", "discovery", "--at", "2026-01-15")
    ok("level", "graduate", "X", "--at", "2026-01-20")
    ok("level", "graduate", "X", "--at", "2026-02-01")
    ok("level", "graduate", "X", "--at", "2026-02-10")
    ok("level", "start", "Y", "5", "--at", "2026-01-10")
    ok("level", "switchback", "Y", "4", "--kind", "review", "--at", "2026-01-25")
    yield db_url
    db.dispose_engines()


def test_time_per_level_equals_the_hand_figures(histories):
    rows = json.loads(ok("analytics", "time-per-level", "--as-of", "2026-02-05", "--json").stdout)
    got = {(r["code"], r["level"]): (r["days"], r["completed_days"], r["ongoing_days"], r["intervals"]) for r in rows}
    assert got == {
        # X at 1: 01-01 -> 01-04 (3 days) and 01-15 -> 01-20 (5): 8, two stays, both done.
        ("X", 1): (8.0, 8.0, 0.0, 2),
        # X at 2: 01-04 -> 01-09 12:00 (5.5) and 01-20 -> 02-01 (12): 17.5.
        ("X", 2): (17.5, 17.5, 0.0, 2),
        # X at 3: 01-09 12:00 -> 01-15 (5.5) done, then 02-01 -> as of 02-05 (4) ongoing; the move to
        # 4 on 02-10 is after the as-of date and ignored.
        ("X", 3): (9.5, 5.5, 4.0, 2),
        # Y at 5: 01-10 -> 01-25 (15); at 4 since 01-25, 11 days by 02-05.
        ("Y", 5): (15.0, 15.0, 0.0, 1),
        ("Y", 4): (11.0, 0.0, 11.0, 1),
    }
    assert [(r["code"], r["level"]) for r in rows] == sorted(got)  # by code, then level; Z holds none
    later = {(r["code"], r["level"]): r for r in json.loads(
        ok("analytics", "time-per-level", "--as-of", "2026-03-01T00:00", "--json").stdout)}
    assert later[("X", 3)]["days"] == 14.5 and later[("X", 3)]["ongoing_days"] == 0.0
    assert later[("X", 4)]["ongoing_days"] == 19.0 and later[("X", 4)]["intervals"] == 1
    table = ok("analytics", "time-per-level", "--as-of", "2026-02-05").stdout
    assert table.splitlines()[0].split() == ["code", "level", "days", "completed", "ongoing", "stays"]
    assert "X                3       9.50       5.50       4.00      2" in table


def test_the_report_gives_each_key_result_its_status(histories):
    objective = ok("okr", "add", "2026-Q1", "Move X and Y").stdout.strip()
    ok("okr", "kr", objective, "X", "3")                        # by 03-31
    ok("okr", "kr", objective, "Y", "5", "--by", "2026-02-15")  # reached 01-10, lost 01-25
    ok("okr", "kr", objective, "Z", "1", "--by", "2026-01-31")  # never started
    report = json.loads(ok("okr", "report", "--quarter", "2026-Q1", "--as-of", "2026-02-05", "--format",
                           "json").stdout)
    got = {(k["code"], k["target_level"], k["date"]): k["status"] for k in report["key_results"]}
    assert got == {("X", 3, "2026-03-31"): "achieved", ("Y", 5, "2026-02-15"): "achieved then lost",
                   ("Z", 1, "2026-01-31"): "missed"}
    assert report["summary"] == {"achieved": 1, "achieved then lost": 1, "on track": 0, "at risk": 0, "missed": 1}
    assert report["as_of"].startswith("2026-02-05")
    md = ok("okr", "report", "--quarter", "2026-Q1", "--as-of", "2026-02-05").stdout
    assert md.startswith("# Quarterly readiness review 2026-Q1") and "| X reaches level ≥ 3 by 2026-03-31 | achieved" in md
    page = ok("okr", "report", "--quarter", "2026-Q1", "--as-of", "2026-02-05", "--format", "html").stdout
    assert page.startswith("<!doctype html>") and "Move X and Y" in page


def test_bad_input_names_the_option_and_writes_nothing(histories):
    before = everything(histories)
    for args, exit_code, words in (
            (("okr", "report", "--quarter", "Q1-2026"), 1, "quarter"),
            (("okr", "report", "--quarter", "2026-Q1", "--format", "pdf"), 2, "--format"),
            (("okr", "report", "--quarter", "2026-Q1", "--samples", "5"), 2, "--samples"),
            (("analytics", "time-per-level", "--as-of", "soon"), 2, "--as-of")):
        result = run(*args)
        assert result.exit_code == exit_code, (args, result.output)
        assert words in result.output, (args, result.output)
    assert everything(histories) == before
