"""``mltrl review list|show|open|vote|decide|override``, ``mltrl level deployed-change`` and
``mltrl fork``: exit 0 on success, 1 with the reason on stderr and nothing written when a rule or
a role refuses, 2 for usage errors; JSON for scripts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from mltrl import db
from mltrl.cli import app
from mltrl.services import Actor, reviews
from tests.services.test_cli import (
    everything,
    history,
    ok,
    project_list,
    run,
    session_for,
)

SUMMARY_KEYS = {"id", "code", "level", "status", "opened_at", "opened_by", "panel", "decision", "decided_at",
                "decided_by", "version"}
SHOW_KEYS = SUMMARY_KEYS | {
    "technology", "suggested_panel", "criteria_version", "scores_as_of", "criteria", "readiness", "gates_as_of",
    "gates", "ethics_version", "ethics", "ethics_changed", "votes", "latest_votes", "note", "target_level",
    "switchback_kind", "tasks", "event",
}
PASSWORD = "correct horse"


@pytest.fixture
def cli_db(db_url: str, monkeypatch: pytest.MonkeyPatch):
    """R02.1 at level 4 (no gates on leaving it), acting as cli-user in single-user mode."""
    monkeypatch.setenv("MLTRL_USER", "cli-user")
    ok("project", "add", "R02.1", "Mixed-variable BO", "--owner", "Ana")
    ok("level", "start", "R02.1", "4", "--at", "2025-01-06")
    yield db_url
    db.dispose_engines()


def open_review(code: str = "R02.1", *panel: str) -> int:
    result = ok("review", "open", code, *[arg for name in panel for arg in ("--panel", name)])
    return int(result.stdout.strip())


def show(review_id: int) -> dict:
    return json.loads(ok("review", "show", str(review_id), "--json").stdout)


def listed(*args: str) -> list[dict]:
    return json.loads(ok("review", "list", "--json", *args).stdout)


def refused(url: str, *args: str, says: str) -> None:
    """The command exits 1 with ``says`` on stderr, prints nothing on stdout and writes nothing."""
    before = everything(url)
    result = run(*args)
    assert result.exit_code == 1, (args, result.output)
    assert result.stderr.startswith("error: ")
    assert says in result.stderr, result.stderr
    assert result.stdout == ""
    assert everything(url) == before


def add_account(name: str, role: str, acting: str | None = None) -> None:
    args = (["--as", acting] if acting else []) + ["user", "add", name, "--role", role]
    result = CliRunner().invoke(app, args, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output


# --- open, vote, decide graduate, list and show -------------------------------------------------


def test_open_vote_graduate_then_list_and_show(cli_db: str) -> None:
    opened = ok("review", "open", "R02.1", "--panel", "ana", "--panel", "bob")
    review_id = int(opened.stdout.strip())  # only the id on stdout, for scripts
    assert f"opened review {review_id} of R02.1 at level 4 (panel: ana, bob)" in opened.stderr
    with session_for(cli_db) as session:
        key = reviews.standing(session, "R02.1").criteria[0].key
        reviews.score_criterion(session=session, actor=Actor("ana"), code="R02.1", level=4, key=key, percent=90,
                                evidence="https://wiki.example.org/e", comment="nearly")

    assert ok("--as", "ana", "review", "vote", str(review_id), "not yet",
              "--comment", "one more run").stdout.strip() == f"review {review_id}: ana votes not yet"
    ok("--as", "ana", "review", "vote", str(review_id), "graduate", "--comment", "the run is in")
    assert "bob votes switch back" in ok("--as", "bob", "review", "vote", str(review_id), "switch-back").stdout

    (summary,) = listed()
    assert set(summary) == SUMMARY_KEYS
    assert summary == {**summary, "id": review_id, "code": "R02.1", "level": 4, "status": "open",
                       "opened_by": "cli-user", "panel": ["ana", "bob"], "decision": None, "decided_at": None,
                       "decided_by": None}
    record = show(review_id)
    assert set(record) == SHOW_KEYS
    assert record["technology"] == {"code": "R02.1", "name": "Mixed-variable BO", "level": 4, "status": "active"}
    assert record["suggested_panel"] and record["criteria_version"] == 1 and record["scores_as_of"] == "now"
    assert record["criteria"][0] == {**record["criteria"][0], "key": key, "percent": 90, "comment": "nearly",
                                     "evidence": "https://wiki.example.org/e"}
    assert all(c["percent"] is None for c in record["criteria"][1:])
    assert record["readiness"]["ready"] is False and record["gates"] == []
    assert [(v["voter"], v["vote"]) for v in record["votes"]] == [
        ("ana", "not yet"), ("ana", "graduate"), ("bob", "switch back")]  # every vote is kept
    assert {n: v["vote"] for n, v in record["latest_votes"].items()} == {"ana": "graduate", "bob": "switch back"}
    assert record["ethics_version"] == 1 and len(record["ethics"]) > 10
    assert record["event"] is None and record["tasks"] == []

    decided = ok("--as", "carol", "review", "decide", str(review_id), "graduate", "--note", "ready for 5")
    assert decided.stdout.splitlines()[0] == f"review {review_id}: graduate"
    assert "graduation 4 -> 5" in decided.stdout and "stage debrief of level 4" in decided.stdout
    record = show(review_id)
    assert record == {**record, "status": "decided", "decision": "graduate", "decided_by": "carol",
                      "note": "ready for 5", "scores_as_of": "decision", "gates_as_of": "decision"}
    assert record["technology"]["level"] == 5
    assert record["criteria"][0]["percent"] == 90  # frozen at the decision
    event = record["event"]
    assert {k: event[k] for k in ("from_level", "to_level", "kind")} == {"from_level": 4, "to_level": 5,
                                                                         "kind": "graduation"}
    assert isinstance(event["id"], int)
    assert history("R02.1")[-1]["to_level"] == 5

    table = ok("review", "show", str(review_id)).stdout
    assert f"review {review_id}: R02.1 (Mixed-variable BO) at level 4, decided" in table
    assert "(replaced)" in table and "decision: graduate" in table
    assert f"level event {event['id']}: graduation 4 -> 5" in table
    listing = ok("review", "list").stdout.splitlines()
    assert listing[0].split()[:3] == ["id", "code", "level"]
    assert "R02.1" in listing[1] and "decided" in listing[1] and "graduate" in listing[1]


def test_list_filters_by_code_and_status(cli_db: str) -> None:
    assert listed() == []
    assert "no reviews yet" in ok("review", "list").stdout
    ok("project", "add", "R03.1", "Other")
    ok("level", "start", "R03.1", "2", "--at", "2025-01-06")
    first = open_review("R02.1")
    ok("review", "decide", str(first), "hold", "--task", "More data@ana")
    second = open_review("R02.1")
    other = open_review("R03.1")
    assert [r["id"] for r in listed()] == [other, second, first]  # newest first
    assert [r["id"] for r in listed("--code", "R02.1")] == [second, first]
    assert [r["id"] for r in listed("--status", "open")] == [other, second]
    assert [r["id"] for r in listed("--code", "R02.1", "--status", "decided")] == [first]
    assert listed("--status", "cancelled") == []
    assert "no reviews match" in ok("review", "list", "--status", "cancelled").stdout
    assert "NOPE" in run("review", "list", "--code", "NOPE").stderr
    bad = run("review", "list", "--status", "closed")
    assert bad.exit_code == 2 and "Invalid value" in bad.stderr
    limited = run("review", "list", "--limit", "2", "--json")
    assert [r["id"] for r in json.loads(limited.stdout)] == [other, second]
    assert "showing the newest 2 reviews; there are more" in limited.stderr
    assert "there are more" not in run("review", "list", "--limit", "3").stderr


def test_show_of_an_unknown_review_exits_1(cli_db: str) -> None:
    result = run("review", "show", "99", "--json")
    assert result.exit_code == 1 and "There is no review 99" in result.stderr and result.stdout == ""
    assert run("review", "show", "first").exit_code == 2


# --- the other decisions ------------------------------------------------------------------------


def test_hold_lists_tasks_with_owners(cli_db: str) -> None:
    review_id = open_review()
    result = ok("review", "decide", str(review_id), "hold", "--note", "not yet",
                "--task", "Run the benchmark again@ana", "--task", "Write up the ablation@bob@example.org")
    assert "task 1: Run the benchmark again @ana" in result.stdout
    record = show(review_id)
    assert [(t["number"], t["task"], t["owner"]) for t in record["tasks"]] == [
        (1, "Run the benchmark again", "ana"), (2, "Write up the ablation@bob", "example.org")]
    assert record["decision"] == "hold" and record["event"] is None
    assert history("R02.1")[-1]["to_level"] == 4


@pytest.mark.parametrize(("task", "says"), [
    pytest.param("Run the benchmark again", "every task has an owner", id="no-at"),
    pytest.param("Run the benchmark again@", "every task has an owner", id="empty-owner"),
    pytest.param("@ana", "say what is to be done", id="no-task"),
])
def test_a_task_without_an_owner_is_refused(cli_db: str, task: str, says: str) -> None:
    review_id = open_review()
    refused(cli_db, "review", "decide", str(review_id), "hold", "--task", task, says=says)
    refused(cli_db, "review", "decide", str(review_id), "hold", says="a hold lists what must be done")
    assert show(review_id)["status"] == "open"


@pytest.mark.parametrize(("start", "to", "kind"), [(4, 2, "embedded"), (4, 3, "review")])
def test_switch_back_at_review(cli_db: str, start: int, to: int, kind: str) -> None:
    review_id = open_review()
    result = ok("review", "decide", str(review_id), "switch back", "--to", str(to), "--note", "gap in real data")
    assert f"{kind} {start} -> {to}" in result.stdout
    record = show(review_id)
    assert (record["target_level"], record["switchback_kind"]) == (to, kind)
    assert {k: record["event"][k] for k in ("from_level", "to_level", "kind")} == {
        "from_level": start, "to_level": to, "kind": kind}
    assert history("R02.1")[-1] == {**history("R02.1")[-1], "kind": kind, "to_level": to}


def test_switch_back_needs_a_level_and_to_goes_with_switch_back_only(cli_db: str) -> None:
    review_id = open_review()
    refused(cli_db, "review", "decide", str(review_id), "switch back", says="target_level")
    before = everything(cli_db)
    for args in (["graduate", "--to", "2"], ["graduate", "--task", "x@ana"], ["switch back", "--to", "12"]):
        result = run("review", "decide", str(review_id), *args)
        assert result.exit_code == 2, (args, result.output)
    assert everything(cli_db) == before


def test_pause(cli_db: str) -> None:
    review_id = open_review()
    assert "the technology is paused" in ok("review", "decide", str(review_id), "pause").stdout
    assert {r["code"]: r["status"] for r in project_list()}["R02.1"] == "paused"
    assert show(review_id)["decision"] == "pause"


def test_a_bad_decision_word_is_refused(cli_db: str) -> None:
    review_id = open_review()
    refused(cli_db, "review", "decide", str(review_id), "promote", says="'promote' is not a decision")
    refused(cli_db, "review", "decide", "99", "graduate", says="There is no review 99")
    ok("review", "decide", str(review_id), "pause")
    refused(cli_db, "review", "decide", str(review_id), "graduate", says="takes no more changes")


# --- refusals of open and vote ------------------------------------------------------------------


def test_open_refusals(cli_db: str) -> None:
    open_review()
    refused(cli_db, "review", "open", "R02.1", says="already has an open review")
    refused(cli_db, "review", "open", "NOPE", says="NOPE")
    ok("project", "add", "R09.1", "Not started")
    refused(cli_db, "review", "open", "R09.1", says="has no level yet")


def test_a_vote_by_someone_not_on_the_panel_is_refused(cli_db: str) -> None:
    review_id = open_review("R02.1", "ana")
    refused(cli_db, "--as", "mallory", "review", "vote", str(review_id), "graduate", says="not on the panel")
    refused(cli_db, "--as", "ana", "review", "vote", str(review_id), "maybe", says="'maybe' is not a vote")
    assert show(review_id)["votes"] == []


def test_votes_and_decisions_need_the_reviewer_role_once_accounts_exist(cli_db: str) -> None:
    add_account("root", "admin")
    add_account("ed", "editor", acting="root")
    add_account("rita", "reviewer", acting="root")
    review_id = int(ok("--as", "ed", "review", "open", "R02.1", "--panel", "ed", "--panel", "rita").stdout)
    refused(cli_db, "--as", "ed", "review", "vote", str(review_id), "graduate", says="needs the reviewer role")
    ok("--as", "rita", "review", "vote", str(review_id), "graduate")
    refused(cli_db, "--as", "ed", "review", "decide", str(review_id), "graduate", says="needs the reviewer role")
    ok("--as", "rita", "review", "decide", str(review_id), "graduate")
    assert show(review_id)["decided_by"] == "rita"


# --- gates and overrides ------------------------------------------------------------------------


def test_the_level_5_gate_refuses_with_an_empty_register_until_an_admin_overrides(cli_db: str) -> None:
    ok("level", "graduate", "R02.1", "--at", "2025-02-03")
    review_id = open_review()
    record = show(review_id)
    assert [(g["key"], g["state"]) for g in record["gates"]] == [("research-vv", "blocked"),
                                                                  ("product-requirements", "blocked")]
    assert "register is empty" in record["gates"][0]["blockers"][0]
    refused(cli_db, "review", "decide", str(review_id), "graduate", says="[rule: gate]")
    assert "blocked" in ok("review", "show", str(review_id)).stdout

    until = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    result = ok("review", "override", "R02.1", "5", "research-vv", "--why", "Validated in the pilot", "--until", until)
    assert result.stdout.strip() == f"R02.1: gate research-vv of level 5 overridden by cli-user until {until}"
    refused(cli_db, "review", "decide", str(review_id), "graduate", says="Product requirements are drafted")
    ok("review", "override", "R02.1", "5", "product-requirements", "--why", "Drafted with product, not yet entered")
    assert [g["state"] for g in show(review_id)["gates"]] == ["overridden", "overridden"]

    ok("review", "decide", str(review_id), "graduate")
    record = show(review_id)
    assert record["gates_as_of"] == "decision"
    gate = record["gates"][0]
    assert gate["state"] == "overridden"
    assert gate["override"] == {**gate["override"], "by": "cli-user", "justification": "Validated in the pilot"}
    assert gate["override"]["expires_at"].startswith(until)
    assert record["event"]["to_level"] == 6
    assert "override by cli-user until" in ok("review", "show", str(review_id)).stdout


def test_override_refusals(cli_db: str) -> None:
    refused(cli_db, "review", "override", "R02.1", "5", "no-such-gate", "--why", "x", says="not a gate of level 5")
    refused(cli_db, "review", "override", "R02.1", "4", "validation", "--why", "x", says="only levels 5 and 8")
    refused(cli_db, "review", "override", "R02.1", "8", "validation", "--why", "  ", says="justification: required")
    refused(cli_db, "review", "override", "R02.1", "8", "validation", "--why", "x", "--until", "2020-01-01",
            says="a date in the future")
    before = everything(cli_db)
    for args in (["--until", "next week"], []):  # a malformed date; --why is required
        result = run("review", "override", "R02.1", "8", "validation", *(["--why", "x"] if args else []), *args)
        assert result.exit_code == 2, result.output
    assert everything(cli_db) == before


def test_an_override_by_a_non_admin_is_refused_once_accounts_exist(cli_db: str) -> None:
    add_account("root", "admin")
    add_account("rita", "reviewer", acting="root")
    refused(cli_db, "--as", "rita", "review", "override", "R02.1", "5", "research-vv", "--why", "Trust me",
            says="needs the admin role")
    refused(cli_db, "--as", "nobody", "review", "override", "R02.1", "5", "research-vv", "--why", "Trust me",
            says="'nobody' has no account here")
    assert "overridden by root" in ok("--as", "root", "review", "override", "R02.1", "5", "research-vv",
                                      "--why", "Pilot results").stdout


# --- ethics answers changed since the previous review ----------------------------------------


def test_show_marks_the_ethics_answers_changed_since_the_previous_review(cli_db: str) -> None:
    first = open_review()
    with session_for(cli_db) as session:
        keys = reviews.ethics_keys(reviews.review_view(session, first).review.ethics)
        reviews.answer_ethics(session=session, actor=Actor("ana"), review_id=first,
                              answers={keys[0]: "We own it.", keys[1]: "Stored in the EU."})
    ok("review", "decide", str(first), "hold", "--task", "More data@ana")
    second = open_review()
    with session_for(cli_db) as session:
        reviews.answer_ethics(session=session, actor=Actor("bob"), review_id=second,
                              answers={keys[0]: "We own it.", keys[1]: "Stored in the EU and the US."})
    record = show(second)
    assert record["ethics_changed"] == [keys[1]]
    answers = {e["key"]: e for e in record["ethics"]}
    assert answers[keys[0]] == {**answers[keys[0]], "answer": "We own it.", "changed": False, "answered_by": "bob"}
    assert answers[keys[1]] == {**answers[keys[1]], "answer": "Stored in the EU and the US.",
                                "previous_answer": "Stored in the EU.", "changed": True}
    table = ok("review", "show", str(second)).stdout
    assert f"* {keys[1]}: Stored in the EU and the US." in table
    assert "1 changed since the previous review" in table


# --- level 9 and forks --------------------------------------------------------------------------


def test_level_deployed_change_records_the_embedded_9_to_7(cli_db: str) -> None:
    refused(cli_db, "level", "deployed-change", "R02.1", says="not deployed (level 9)")
    ok("project", "add", "P09.1", "Live model")
    ok("level", "start", "P09.1", "7", "--at", "2024-01-01")
    ok("level", "graduate", "P09.1", "--at", "2024-02-01")
    ok("level", "graduate", "P09.1", "--at", "2024-03-01")
    result = ok("--as", "dana", "level", "deployed-change", "P09.1", "--note", "New feature store")
    assert result.stdout.startswith("P09.1: embedded 9 -> 7 on ")
    last = history("P09.1")[-1]
    assert last == {**last, "kind": "embedded", "from_level": 9, "to_level": 7, "note": "New feature store"}
    ok("level", "graduate", "P09.1")
    ok("level", "graduate", "P09.1")
    ok("level", "deployed-change", "P09.1")
    assert history("P09.1")[-1]["note"] == "Change to the deployed version"


def test_fork_makes_a_new_technology_at_the_parents_level(cli_db: str) -> None:
    result = ok("--as", "ana", "fork", "R02.1", "R02.2", "BO for materials", "--note", "Second use case")
    assert result.stdout.strip() == "forked R02.1 into R02.2: BO for materials at level 4"
    child = {r["code"]: r for r in project_list()}["R02.2"]
    assert (child["level"], child["parent"], child["status"]) == (4, None, "active")
    assert [(e["kind"], e["to_level"], e["note"]) for e in history("R02.2")] == [("start", 4, "Second use case")]
    with session_for(cli_db) as session:
        past, own = reviews.lineage_events(session, "R02.2")
        assert [e.to_level for e in past] == [4] and len(own) == 1
    refused(cli_db, "fork", "R02.1", "R02.2", "Again", says="already taken")
    refused(cli_db, "fork", "NOPE", "R02.3", "Orphan", says="NOPE")
    ok("project", "add", "R09.1", "Not started")
    refused(cli_db, "fork", "R09.1", "R09.2", "Too early", says="has no level yet")
