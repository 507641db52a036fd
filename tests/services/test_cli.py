"""The ``mltrl`` command, driven in-process with typer's CliRunner against a temp database.

Contract: exit 0 on success; exit 1 with the reason (for level moves, the rule's name) on stderr
when a rule or check refuses, and nothing written; exit 2 for usage errors (a malformed date or
number). Warnings go to stderr. The acting user is ``--as NAME``, else ``MLTRL_USER``, else the
login name.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, UTC

import pytest
from sqlalchemy import inspect
from sqlmodel import Session, SQLModel, select
from typer.testing import CliRunner

from mltrl import db
from mltrl.cli import app
from mltrl.models import AuditEntry, LevelEvent
from mltrl.services import projects

runner = CliRunner()

PROJECT_KEYS = {"code", "name", "parent", "level", "system_level", "status"}
HISTORY_KEYS = {"at", "from_level", "to_level", "kind", "note"}


def run(*args: str):
    return runner.invoke(app, list(args))


def ok(*args: str):
    result = run(*args)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result


def history(code: str) -> list[dict]:
    return json.loads(ok("level", "history", code, "--json").stdout)


def project_list() -> list[dict]:
    return json.loads(ok("project", "list", "--json").stdout)


def everything(url: str) -> dict[str, list[tuple]]:
    with db.get_engine(url).connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(t.select().order_by(*t.primary_key.columns)).all()]
            for t in SQLModel.metadata.sorted_tables
        }


def session_for(url: str) -> Session:
    return Session(db.get_engine(url))


# --- project ------------------------------------------------------------------------------------


def test_project_add_with_parent_owners_and_summary(cli_db: str) -> None:
    assert ok("project", "add", "P05.1", "Recycling sorter").stdout.strip() == "added P05.1: Recycling sorter"
    result = ok("project", "add", "P06.1", "Camera model", "--parent", "P05.1",
                "--owner", "Ada", "--owner", "Grace", "--summary", "Sees the waste.")
    assert "added P06.1: Camera model" in result.stdout
    with session_for(cli_db) as session:
        view = projects.view_project(session, "P06.1")
        assert view.parent_code == "P05.1"
        assert view.owners == ["Ada", "Grace"]
        assert view.project.summary == "Sees the waste."
        assert view.project.created_by == "cli-user"


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(["BAD CODE", "Name"], "code:", id="malformed-code"),
    pytest.param(["R01.1", "   "], "name:", id="blank-name"),
    pytest.param(["R02.1", "Name", "--parent", "NOPE"], "parent:", id="unknown-parent"),
    pytest.param(["R01.1", "Again"], "already taken", id="duplicate-code"),
])
def test_project_add_refusals_exit_1_and_write_nothing(cli_db: str, args: list[str], message: str) -> None:
    ok("project", "add", "R01.1", "First")
    before = everything(cli_db)
    result = run("project", "add", *args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stderr.startswith("error: ")
    assert result.stdout == ""
    assert everything(cli_db) == before


def test_project_list_on_an_empty_database(cli_db: str) -> None:
    assert project_list() == []
    assert "no technologies yet" in ok("project", "list").stdout


def test_project_list_json_gives_levels_parents_and_system_levels(cli_db: str) -> None:
    ok("project", "add", "SYS", "The system", "--owner", "Ada")
    ok("project", "add", "B", "Component B", "--parent", "SYS")
    ok("project", "add", "A", "Component A", "--parent", "SYS")
    ok("project", "add", "A.x", "Part of A", "--parent", "A")
    ok("project", "add", "LONE", "Not started")
    ok("level", "start", "SYS", "9", "--at", "2024-01-01")
    ok("level", "start", "A", "6", "--at", "2024-01-01")
    ok("level", "start", "A.x", "4", "--at", "2024-01-01")
    ok("level", "start", "B", "7", "--at", "2024-01-01")

    records = project_list()
    assert [r["code"] for r in records] == ["LONE", "SYS", "A", "A.x", "B"]  # components under their system
    by_code = {r["code"]: r for r in records}
    assert all(PROJECT_KEYS <= set(r) for r in records)
    assert by_code["SYS"] == {**by_code["SYS"], "name": "The system", "parent": None, "level": 9,
                              "system_level": 4, "status": "active"}
    assert (by_code["A"]["parent"], by_code["A"]["level"], by_code["A"]["system_level"]) == ("SYS", 6, 4)
    assert (by_code["A.x"]["parent"], by_code["A.x"]["level"], by_code["A.x"]["system_level"]) == ("A", 4, 4)
    assert (by_code["B"]["parent"], by_code["B"]["level"], by_code["B"]["system_level"]) == ("SYS", 7, 7)
    assert (by_code["LONE"]["level"], by_code["LONE"]["system_level"], by_code["LONE"]["parent"]) == (None, None, None)

    # a graduation deep in the tree lifts the system level
    ok("level", "graduate", "A.x", "--at", "2024-02-01")
    assert {r["code"]: r["system_level"] for r in project_list()}["SYS"] == 5

    table = ok("project", "list").stdout
    assert "SYS" in table and "  A.x" in table


def test_project_list_json_has_exactly_the_contract_keys(cli_db: str) -> None:
    """The records carry exactly the contract's keys: code, name, parent, level, system_level, status."""
    ok("project", "add", "R01.1", "Anything")
    (record,) = project_list()
    assert set(record) == PROJECT_KEYS


def test_a_system_without_its_own_level_shows_its_components_minimum(cli_db: str) -> None:
    ok("project", "add", "SYS", "System")
    ok("project", "add", "C", "Component", "--parent", "SYS")
    ok("level", "start", "C", "3", "--at", "2024-01-01")
    by_code = {r["code"]: r for r in project_list()}
    assert (by_code["SYS"]["level"], by_code["SYS"]["system_level"]) == (None, 3)


# --- level --------------------------------------------------------------------------------------


def test_a_whole_history_through_the_cli(cli_db: str) -> None:
    ok("project", "add", "R10.1", "Causal diagnosis")
    assert ok("level", "start", "R10.1", "3", "--at", "2022-01-10").stdout.strip() == "R10.1: start 3 on 2022-01-10"
    assert ok("level", "graduate", "R10.1", "--at", "2022-05-02T14:30").stdout.strip() == "R10.1: graduation 3 -> 4 on 2022-05-02"
    assert ok("level", "switchback", "R10.1", "2", "--at", "2022-09-01",
              "--note", "real data showed a gap").stdout.strip() == "R10.1: embedded 4 -> 2 on 2022-09-01"
    ok("level", "graduate", "R10.1", "--at", "2023-01-01")
    assert "discovery 3 -> 2" in ok("level", "switchback", "R10.1", "2", "--kind", "discovery", "--at", "2023-02-01").stdout
    ok("level", "graduate", "R10.1", "--at", "2023-03-01")
    ok("level", "graduate", "R10.1", "--at", "2023-04-01")
    assert "review 4 -> 2" in ok("level", "switchback", "R10.1", "2", "--kind", "review", "--at", "2023-05-01").stdout

    records = history("R10.1")
    assert all(set(r) == HISTORY_KEYS for r in records)
    assert [(r["kind"], r["from_level"], r["to_level"]) for r in records] == [
        ("start", None, 3), ("graduation", 3, 4), ("embedded", 4, 2), ("graduation", 2, 3),
        ("discovery", 3, 2), ("graduation", 2, 3), ("graduation", 3, 4), ("review", 4, 2),
    ]
    assert records[2]["note"] == "real data showed a gap"
    assert records[0]["note"] == ""
    stamps = [datetime.fromisoformat(r["at"]) for r in records]
    assert stamps[0] == datetime(2022, 1, 10, tzinfo=UTC)
    assert stamps[1] == datetime(2022, 5, 2, 14, 30, tzinfo=UTC)
    assert all(s.utcoffset() == timedelta(0) for s in stamps)
    assert stamps == sorted(stamps)

    table = ok("level", "history", "R10.1").stdout.splitlines()
    assert len(table) == len(records)
    assert table[0].startswith("2022-01-10") and "start" in table[0]
    assert "real data showed a gap" in table[2]


def test_an_offset_in_at_is_stored_as_utc(cli_db: str) -> None:
    ok("project", "add", "R01.1", "Tech")
    ok("level", "start", "R01.1", "1", "--at", "2024-03-01T01:00+02:00")
    assert datetime.fromisoformat(history("R01.1")[0]["at"]) == datetime(2024, 2, 29, 23, 0, tzinfo=UTC)


def test_history_of_a_project_without_moves(cli_db: str) -> None:
    ok("project", "add", "R01.1", "Tech")
    assert history("R01.1") == []
    assert "no level history yet" in ok("level", "history", "R01.1").stdout


def test_an_undated_move_is_dated_now(cli_db: str) -> None:
    ok("project", "add", "R01.1", "Tech")
    before = datetime.now(UTC)
    ok("level", "start", "R01.1", "2")
    at = datetime.fromisoformat(history("R01.1")[0]["at"])
    assert before - timedelta(seconds=1) <= at <= datetime.now(UTC)


ILLEGAL = [
    pytest.param([], ["level", "graduate", "T", "--at", "2024-06-01"], "start-first", id="graduate-before-start"),
    pytest.param([], ["level", "start", "T", "10", "--at", "2024-06-01"], "level-range", id="start-at-10"),
    pytest.param([("start", "9")], ["level", "start", "T", "3", "--at", "2024-06-01"], "single-start", id="second-start"),
    pytest.param([("start", "9")], ["level", "graduate", "T", "--at", "2024-06-01"], "top-level", id="graduate-from-9"),
    pytest.param([("start", "4")], ["level", "switchback", "T", "6", "--kind", "review", "--at", "2024-06-01"],
                 "switchback-goes-down", id="switchback-up"),
    pytest.param([("start", "4")], ["level", "switchback", "T", "4", "--kind", "review", "--at", "2024-06-01"],
                 "same-level", id="switchback-same"),
    pytest.param([("start", "5")], ["level", "switchback", "T", "2", "--kind", "embedded", "--at", "2024-06-01"],
                 "embedded-pairs", id="embedded-5-2"),
    pytest.param([("start", "5")], ["level", "switchback", "T", "3", "--at", "2024-06-01"],
                 "switchback-kind-required", id="switchback-without-kind"),
    pytest.param([("start", "5")], ["level", "switchback", "T", "12", "--kind", "review", "--at", "2024-06-01"],
                 "level-range", id="switchback-to-12"),
    pytest.param([("start", "5")], ["level", "graduate", "T", "--at", "2023-12-31"], "chronological", id="dated-too-early"),
]


@pytest.mark.parametrize(("setup", "args", "rule"), ILLEGAL)
def test_an_illegal_move_exits_1_naming_the_rule_and_writes_nothing(
    cli_db: str, setup: list[tuple[str, str]], args: list[str], rule: str
) -> None:
    ok("project", "add", "T", "Tech")
    for command, level in setup:
        ok("level", command, "T", level, "--at", "2024-01-01")
    history_before, before = history("T"), everything(cli_db)
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert f"[rule: {rule}]" in result.stderr
    assert result.stderr.startswith("error: ")
    assert result.stdout == ""
    assert history("T") == history_before
    assert everything(cli_db) == before


def test_a_switchback_without_kind_asks_for_discovery_or_review(cli_db: str) -> None:
    ok("project", "add", "T", "Tech")
    ok("level", "start", "T", "6", "--at", "2024-01-01")
    result = run("level", "switchback", "T", "5", "--at", "2024-02-01")
    assert result.exit_code == 1
    assert "discovery" in result.stderr and "review" in result.stderr
    assert "switchback-kind-required" in result.stderr


@pytest.mark.parametrize(("start", "to"), [("4", "2"), ("9", "4"), ("9", "7")])
def test_a_switchback_without_kind_on_an_embedded_pair_records_embedded(cli_db: str, start: str, to: str) -> None:
    ok("project", "add", "T", "Tech")
    ok("level", "start", "T", to, "--at", "2024-01-01")
    for _ in range(int(start) - int(to)):
        ok("level", "graduate", "T", "--at", "2024-01-02")
    result = ok("level", "switchback", "T", to, "--at", "2024-02-01")
    assert result.stderr == ""
    assert history("T")[-1] == {**history("T")[-1], "kind": "embedded", "from_level": int(start), "to_level": int(to)}


def test_an_unknown_switchback_kind_exits_1(cli_db: str) -> None:
    ok("project", "add", "T", "Tech")
    ok("level", "start", "T", "6", "--at", "2024-01-01")
    before = everything(cli_db)
    result = run("level", "switchback", "T", "5", "--kind", "sideways", "--at", "2024-02-01")
    assert result.exit_code == 1
    assert "kind:" in result.stderr and "sideways" in result.stderr
    assert everything(cli_db) == before


def test_a_never_held_level_warns_on_stderr_and_still_records(cli_db: str) -> None:
    ok("project", "add", "T", "Tech")
    ok("level", "start", "T", "9", "--at", "2024-01-01")
    result = ok("level", "switchback", "T", "7", "--at", "2024-02-01")
    assert result.stderr.startswith("warning: ")
    assert "never held level 7" in result.stderr
    assert "warning" not in result.stdout
    assert result.stdout.strip() == "T: embedded 9 -> 7 on 2024-02-01"
    assert history("T")[-1]["to_level"] == 7


def test_a_future_date_warns_on_stderr_and_still_records(cli_db: str) -> None:
    ok("project", "add", "T", "Tech")
    later = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    result = ok("level", "start", "T", "2", "--at", later)
    assert "warning:" in result.stderr and "future" in result.stderr
    assert len(history("T")) == 1


@pytest.mark.parametrize("args", [
    pytest.param(["level", "start", "T", "3", "--at", "yesterday"], id="at-word"),
    pytest.param(["level", "start", "T", "3", "--at", "2024-13-01"], id="at-month-13"),
    pytest.param(["level", "start", "T", "3", "--at", "01/02/2024"], id="at-us-style"),
    pytest.param(["level", "graduate", "T", "--at", "2024-02-30"], id="graduate-at-feb-30"),
    pytest.param(["level", "switchback", "T", "1", "--kind", "review", "--at", ""], id="at-empty"),
    pytest.param(["level", "start", "T", "three"], id="level-word"),
    pytest.param(["level", "start", "T", "2.5"], id="level-fraction"),
    pytest.param(["level", "switchback", "T", "one", "--kind", "review"], id="switchback-level-word"),
])
def test_a_malformed_date_or_level_is_a_usage_error_exit_2(cli_db: str, args: list[str]) -> None:
    ok("project", "add", "T", "Tech")
    if args[1] != "start":
        ok("level", "start", "T", "2", "--at", "2024-01-01")
    before = everything(cli_db)
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "Invalid value" in result.stderr
    assert result.stdout == ""
    assert everything(cli_db) == before


def test_the_date_error_explains_the_format(cli_db: str) -> None:
    ok("project", "add", "T", "Tech")
    result = run("level", "start", "T", "3", "--at", "soon")
    assert "ISO 8601" in result.stderr and "soon" in result.stderr


def test_a_move_on_an_unknown_project_exits_1(cli_db: str) -> None:
    for args in (["level", "start", "GHOST", "1"], ["level", "graduate", "GHOST"],
                 ["level", "switchback", "GHOST", "1", "--kind", "review"], ["level", "history", "GHOST"]):
        result = run(*args)
        assert result.exit_code == 1, args
        assert "GHOST" in result.stderr
    assert project_list() == []


# --- who is acting ------------------------------------------------------------------------------


def _recorded(url: str) -> tuple[set[str], set[str]]:
    with session_for(url) as session:
        recorded_by = set(session.exec(select(LevelEvent.recorded_by)).all())
        actors = set(session.exec(select(AuditEntry.actor)).all())
    return recorded_by, actors


def test_mltrl_user_is_the_actor(cli_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRL_USER", "grace")
    ok("project", "add", "T", "Tech")
    ok("level", "start", "T", "1", "--at", "2024-01-01")
    assert _recorded(cli_db) == ({"grace"}, {"grace"})


def test_as_name_beats_mltrl_user(cli_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRL_USER", "grace")
    ok("--as", "ada", "project", "add", "T", "Tech")
    ok("--as", "ada", "level", "start", "T", "1", "--at", "2024-01-01")
    assert _recorded(cli_db) == ({"ada"}, {"ada"})
    with session_for(cli_db) as session:
        assert projects.get_project(session, "T").created_by == "ada"
    # --as applies to that one command only
    ok("level", "graduate", "T", "--at", "2024-02-01")
    assert _recorded(cli_db) == ({"ada", "grace"}, {"ada", "grace"})


def test_without_as_or_mltrl_user_the_login_name_acts(cli_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLTRL_USER")
    monkeypatch.setenv("LOGNAME", "login-name")
    ok("project", "add", "T", "Tech")
    assert _recorded(cli_db)[1] == {"login-name"}


def test_a_blank_acting_user_is_refused(cli_db: str) -> None:
    result = run("--as", "   ", "project", "add", "T", "Tech")
    assert result.exit_code == 1
    assert "user:" in result.stderr
    assert project_list() == []


# --- demo and db --------------------------------------------------------------------------------


def test_demo_load_then_refuse_then_if_empty(cli_db: str) -> None:
    result = ok("demo", "load")
    assert result.stdout.startswith("loaded the demo portfolio: ")
    added = int(result.stdout.split(": ")[1].split()[0])
    records = project_list()
    assert added == len(records) >= 12
    assert {r["level"] for r in records if r["level"] is not None} & {0, 1, 2}  # research ...
    assert {r["level"] for r in records} & {8, 9}                                # ... to deployment

    before = everything(cli_db)
    again = run("demo", "load")
    assert again.exit_code == 1
    assert "--if-empty" in again.stderr
    assert everything(cli_db) == before

    skipped = ok("demo", "load", "--if-empty")
    assert "demo not loaded" in skipped.stdout
    assert everything(cli_db) == before


def test_demo_load_if_empty_on_an_empty_database_loads(cli_db: str) -> None:
    assert "loaded the demo portfolio" in ok("demo", "load", "--if-empty").stdout
    assert len(project_list()) >= 12


def test_db_upgrade_migrates_the_configured_database(cli_db: str) -> None:
    result = ok("db", "upgrade")
    assert "newest schema" in result.stdout
    assert db.safe_url(cli_db) in result.stdout
    engine = db.make_engine(cli_db)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"project", "projectowner", "levelevent", "auditentry", "alembic_version"} <= tables
    ok("db", "upgrade")  # again: nothing to do, still fine


def test_no_arguments_shows_help_listing_the_nouns() -> None:
    result = run()
    assert result.exit_code == 2  # click's convention for "no command given"
    assert "Usage:" in result.output
    for noun in ("db", "demo", "project", "level"):
        assert f" {noun} " in result.output
