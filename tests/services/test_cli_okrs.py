"""``mltrl okr add|kr|checkin|copy|list``: new ids alone on stdout (for scripts), exit 1 with the
field and the reason on stderr and nothing written when a check refuses, 2 for usage errors; JSON
for scripts."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mltrl import db
from mltrl.cli import app
from tests.services.test_cli import everything, ok, run

OBJECTIVE_KEYS = {"id", "quarter", "title", "owner", "created_at", "created_by", "copied_from", "version",
                  "key_results"}
KEY_RESULT_KEYS = {"id", "code", "technology", "level", "target_level", "due", "owner", "note", "position",
                   "version", "check_ins"}
CHECK_IN_KEYS = {"id", "at", "author", "confidence", "comment"}
PASSWORD = "correct horse"


@pytest.fixture
def cli_db(db_url: str, monkeypatch: pytest.MonkeyPatch):
    """R02.1 at level 3 and P05.1 without a level, acting as cli-user in single-user mode."""
    monkeypatch.setenv("MLTRL_USER", "cli-user")
    ok("project", "add", "R02.1", "Mixed-variable BO")
    ok("level", "start", "R02.1", "3", "--at", "2026-01-05")
    ok("project", "add", "P05.1", "Recycling sorter")
    yield db_url
    db.dispose_engines()


def new_id(*args: str) -> int:
    result = ok(*args)
    return int(result.stdout.strip())  # only the number on stdout


def listed(*args: str) -> list[dict]:
    return json.loads(ok("okr", "list", "--json", *args).stdout)


def refused(url: str, *args: str, says: str, code: int = 1) -> None:
    """The command exits ``code`` with ``says`` in its message, prints nothing on stdout and
    writes nothing."""
    before = everything(url)
    result = run(*args)
    assert result.exit_code == code, (args, result.output)
    if code == 1:
        assert result.stderr.startswith("error: ")
    assert says in result.stderr, result.stderr
    assert result.stdout == ""
    assert everything(url) == before


# --- add, kr, checkin, list ---------------------------------------------------------------------


def test_add_an_objective_with_key_results_and_a_check_in_then_list(cli_db: str) -> None:
    added = ok("okr", "add", "2027-Q1", "Ship the sorter", "--owner", "Ana")
    objective = int(added.stdout)
    assert added.stdout == f"{objective}\n"
    assert f"added objective {objective} to 2027-Q1: Ship the sorter" in added.stderr
    first = new_id("okr", "kr", str(objective), "R02.1", "5", "--owner", "Tom")
    second = new_id("okr", "kr", str(objective), "P05.1", "2", "--by", "2027-02-15", "--note", "After the pilot")
    assert first != second
    checked = ok("--as", "tom", "okr", "checkin", str(first), "7", "Data arrived; training next.")
    assert checked.stdout.startswith(f"key result {first}: tom checked in with confidence 7 on ")
    ok("okr", "checkin", str(first), "4", "Training slipped.", "--at", "2026-03-01")

    (record,) = listed()
    assert set(record) == OBJECTIVE_KEYS
    assert record == {**record, "id": objective, "quarter": "2027-Q1", "title": "Ship the sorter", "owner": "Ana",
                      "created_by": "cli-user", "copied_from": None, "version": 1}
    kr1, kr2 = record["key_results"]
    assert set(kr1) == KEY_RESULT_KEYS
    assert kr1 == {**kr1, "id": first, "code": "R02.1", "technology": "Mixed-variable BO", "level": 3,
                   "target_level": 5, "due": "2027-03-31", "owner": "Tom", "note": "", "position": 0}
    assert kr2 == {**kr2, "id": second, "code": "P05.1", "level": None, "target_level": 2, "due": "2027-02-15",
                   "note": "After the pilot", "position": 1, "check_ins": []}
    assert [set(c) for c in kr1["check_ins"]] == [CHECK_IN_KEYS, CHECK_IN_KEYS]
    assert [(c["author"], c["confidence"], c["comment"]) for c in kr1["check_ins"]] == [  # newest first
        ("tom", 7, "Data arrived; training next."), ("cli-user", 4, "Training slipped.")]
    assert kr1["check_ins"][1]["at"].startswith("2026-03-01")

    table = ok("okr", "list").stdout.splitlines()
    assert table[0] == "2027-Q1"
    assert table[1] == f"  objective {objective}: Ship the sorter (owner Ana)"
    assert table[2].startswith(f"    kr {first}: R02.1 reaches level >= 5 by 2027-03-31  (now 3; owner Tom; "
                               "confidence 7 on ")
    assert table[3] == f"    kr {second}: P05.1 reaches level >= 2 by 2027-02-15  (now -)"


def test_list_by_quarter_and_when_empty(cli_db: str) -> None:
    assert listed() == []
    assert "no objectives yet" in ok("okr", "list").stdout
    later = new_id("okr", "add", "2027-q2", "Later")
    earlier = new_id("okr", "add", " 2026-Q4 ", "Earlier")
    assert [(o["id"], o["quarter"]) for o in listed()] == [(earlier, "2026-Q4"), (later, "2027-Q2")]
    assert [o["id"] for o in listed("--quarter", "2027-Q2")] == [later]
    assert listed("--quarter", "2031-Q1") == []
    assert ok("okr", "list", "--quarter", "2031-q1").stdout.strip() == "no objectives in 2031-Q1"
    assert "no key results yet" in ok("okr", "list", "--quarter", "2027-Q2").stdout
    refused(cli_db, "okr", "list", "--quarter", "Q1", says="quarter: 'Q1' is not a quarter; write it as YYYY-Qn")


# --- copy ---------------------------------------------------------------------------------------


def test_copy_into_the_next_quarter_or_another(cli_db: str) -> None:
    source = new_id("okr", "add", "2027-Q4", "Ship the sorter")
    kr = new_id("okr", "kr", str(source), "R02.1", "5")
    new_id("okr", "kr", str(source), "P05.1", "3", "--by", "2027-11-15")
    ok("okr", "checkin", str(kr), "8", "Good.")

    copied = ok("okr", "copy", str(source))
    copy = int(copied.stdout)
    assert f"copied objective {source} into 2028-Q1 as objective {copy}" in copied.stderr
    (record,) = listed("--quarter", "2028-Q1")
    assert (record["id"], record["copied_from"], record["title"]) == (copy, source, "Ship the sorter")
    assert [(k["code"], k["target_level"], k["due"], k["check_ins"]) for k in record["key_results"]] == [
        ("R02.1", 5, "2028-03-31", []), ("P05.1", 3, "2028-02-15", [])]

    elsewhere = new_id("okr", "copy", str(source), "--to", "2029-q3")
    (record,) = listed("--quarter", "2029-Q3")
    assert record["id"] == elsewhere and [k["due"] for k in record["key_results"]] == ["2029-09-30", "2029-08-15"]


def test_copy_refusals(cli_db: str) -> None:
    source = new_id("okr", "add", "2027-Q1", "Ship")
    refused(cli_db, "okr", "copy", str(source), "--to", "next", says="quarter: 'next' is not a quarter")
    refused(cli_db, "okr", "copy", "99", says="There is no objective 99")
    refused(cli_db, "okr", "copy", "first", says="Invalid value", code=2)


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "says"), [
    pytest.param(["Q1-2027", "Ship"], "quarter: 'Q1-2027' is not a quarter; write it as YYYY-Qn, e.g. 2027-Q1",
                 id="quarter-form"),
    pytest.param(["2027-Q5", "Ship"], "quarter: '2027-Q5' is not a quarter", id="quarter-number"),
    pytest.param(["1999-Q1", "Ship"], "quarter: '1999-Q1' is outside the years 2000-2100", id="quarter-year"),
    pytest.param(["2027-Q1", "   "], "title: required", id="empty-title"),
    pytest.param(["2027-Q1", "x" * 201], "title: at most 200 characters", id="long-title"),
    pytest.param(["2027-Q1", "Ship", "--owner", "o" * 101], "owner: at most 100 characters", id="long-owner"),
])
def test_add_refusals(cli_db: str, args: list[str], says: str) -> None:
    refused(cli_db, "okr", "add", *args, says=says)


def test_kr_refusals(cli_db: str) -> None:
    objective = new_id("okr", "add", "2027-Q1", "Ship")
    new_id("okr", "kr", str(objective), "R02.1", "5")
    refused(cli_db, "okr", "kr", str(objective), "R02.1", "10", says="target_level: 10 is outside 0-9")
    refused(cli_db, "okr", "kr", str(objective), "R02.1", "--", "-1", says="target_level: -1 is outside 0-9")
    refused(cli_db, "okr", "kr", str(objective), "R02.1", "5", "--by", "2027-01-31",
            says=f"target_level: objective {objective} already has a key result for R02.1 reaching level 5")
    refused(cli_db, "okr", "kr", str(objective), "NOPE", "5", says="No project with code 'NOPE'")
    refused(cli_db, "okr", "kr", "99", "R02.1", "5", says="There is no objective 99")
    refused(cli_db, "okr", "kr", str(objective), "P05.1", "2", "--note", "n" * 2001,
            says="note: at most 2000 characters")
    # malformed numbers and dates are usage errors
    refused(cli_db, "okr", "kr", str(objective), "P05.1", "five", says="Invalid value", code=2)
    refused(cli_db, "okr", "kr", str(objective), "P05.1", "2", "--by", "end of March",
            says="'end of March' is not a date", code=2)


def test_checkin_refusals(cli_db: str) -> None:
    kr = new_id("okr", "kr", str(new_id("okr", "add", "2027-Q1", "Ship")), "R02.1", "5")
    refused(cli_db, "okr", "checkin", str(kr), "11", "Great.", says="confidence: 11 is outside 0-10")
    refused(cli_db, "okr", "checkin", str(kr), "--", "-1", "Awful.", says="confidence: -1 is outside 0-10")
    refused(cli_db, "okr", "checkin", str(kr), "5", "  ", says="comment: required")
    refused(cli_db, "okr", "checkin", str(kr), "5", "c" * 2001, says="comment: at most 2000 characters")
    refused(cli_db, "okr", "checkin", str(kr), "5", "Later.", "--at", "2199-01-01", says="at: ")
    refused(cli_db, "okr", "checkin", "99", "5", "Where?", says="There is no key result 99")
    refused(cli_db, "okr", "checkin", str(kr), "high", "Great.", says="Invalid value", code=2)
    refused(cli_db, "okr", "checkin", str(kr), "7.5", "Great.", says="Invalid value", code=2)
    assert listed()[0]["key_results"][0]["check_ins"] == []


def test_okr_writes_need_the_editor_role_once_accounts_exist(cli_db: str) -> None:
    for acting, name, role in [(None, "root", "admin"), ("root", "vic", "viewer"), ("root", "eve", "editor")]:
        args = (["--as", acting] if acting else []) + ["user", "add", name, "--role", role]
        assert CliRunner().invoke(app, args, input=f"{PASSWORD}\n{PASSWORD}\n").exit_code == 0
    refused(cli_db, "--as", "vic", "okr", "add", "2027-Q1", "Mine", says="vic is a viewer; this needs the editor role")
    objective = new_id("--as", "eve", "okr", "add", "2027-Q1", "Ship")
    kr = new_id("--as", "eve", "okr", "kr", str(objective), "R02.1", "5")
    for args in (["kr", str(objective), "P05.1", "2"], ["checkin", str(kr), "5", "Fine."], ["copy", str(objective)]):
        refused(cli_db, "--as", "vic", "okr", *args, says="needs the editor role")
    assert listed()[0]["created_by"] == "eve"  # a viewer may list
