"""``mltrl mlflow link|show|sync|accept|dismiss|unlink``: exit 0 on success, 1 with the reason on
stderr and nothing written when refused; the syncs run against a real MLflow server (SQLite only:
the server is the slow part)."""

from __future__ import annotations

import json

import pytest

from mltrl import db
from tests.mlflow_server import closed_port_uri
from tests.factories import make_project
from tests.services.test_cli import everything, history, ok, run, session_for
from tests.services.test_cli_remote import server  # noqa: F401  (the API on a loopback port)

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def cli_db(db_url: str, monkeypatch: pytest.MonkeyPatch):
    """R02.1 deployed (level 9), acting as cli-user in single-user mode."""
    monkeypatch.setenv("MLTRL_USER", "cli-user")
    ok("project", "add", "R02.1", "Churn model")
    ok("level", "start", "R02.1", "9", "--at", "2025-01-06")
    yield db_url
    db.dispose_engines()


def refused(url: str, *args: str, says: str) -> None:
    before = everything(url)
    result = run(*args)
    assert result.exit_code == 1, (result.output, result.exception)
    assert says in result.stderr and not result.stdout
    assert everything(url) == before


def shown(code: str = "R02.1") -> dict:
    return json.loads(ok("mlflow", "show", code, "--json").stdout)


def test_link_show_unlink_and_refusals(cli_db):
    said = ok("mlflow", "link", "R02.1", "--tracking-uri", "http://mlflow.example:5000", "--model", "churn",
              "--webhook-secret", "a-long-enough-secret").stdout
    assert "R02.1: churn at http://mlflow.example:5000" in said and "webhook secret set" in said
    record = shown()
    assert record["deployed_alias"] == "champion" and record["has_webhook_secret"] and "webhook_secret" not in record
    assert "a-long-enough-secret" not in json.dumps(record)
    refused(cli_db, "mlflow", "link", "R02.1", "--tracking-uri", "file:///tmp/x", "--model", "churn",
            says="tracking_uri")
    refused(cli_db, "mlflow", "accept", "R02.1", says="no pending proposal")
    refused(cli_db, "mlflow", "dismiss", "R02.1", says="no pending proposal")
    ok("mlflow", "unlink", "R02.1")
    assert shown() is None
    refused(cli_db, "mlflow", "sync", "R02.1", says="R02.1 is not linked to an MLflow model")


@sqlite_only
def test_sync_then_accept_the_moved_deployed_version(cli_db, mlflow_server, mlflow_seed):
    name = mlflow_seed.model()
    mlflow_seed.version(name, {"accuracy": 0.8})
    mlflow_seed.version(name, {"accuracy": 0.9})
    mlflow_seed.alias(name, "champion", "1")
    ok("mlflow", "link", "R02.1", "--tracking-uri", mlflow_server.uri, "--model", name)
    said = ok("mlflow", "sync").stdout  # every linked technology
    assert f"R02.1: 2 version(s) of {name} in MLflow, 2 new (1, 2); card updated" in said
    again = json.loads(ok("mlflow", "sync", "R02.1", "--json").stdout)
    assert again[0]["new_evidence"] == [] and again[0]["card_changed"] is False
    mlflow_seed.alias(name, "champion", "2")
    assert "moved from 1 to 2" in ok("mlflow", "sync", "R02.1").stdout
    assert "proposed: the deployed version moved from 1 to 2" in ok("mlflow", "show", "R02.1").stdout
    assert history("R02.1")[-1]["to_level"] == 9
    assert "now at level 7" in ok("mlflow", "accept", "R02.1").stdout
    last = history("R02.1")[-1]
    assert last["to_level"] == 7 and "embedded" in json.dumps(last)
    assert shown()["proposal"] is None


@sqlite_only
def test_an_unreachable_server_is_refused_naming_it(cli_db):
    dead = closed_port_uri()
    ok("mlflow", "link", "R02.1", "--tracking-uri", dead, "--model", "churn")
    refused(cli_db, "mlflow", "sync", "R02.1", says=f"cannot reach the MLflow server at {dead}")


def test_link_show_sync_and_unlink_through_a_server(server, db_url):  # noqa: F811  (the fixture)
    """With MLTRL_SERVER and a token, link, show, sync CODE and unlink go through the API (as the
    token's owner); accept and dismiss stay local and say so."""
    from typer.testing import CliRunner

    from mltrl.cli import app
    from mltrl.services import Actor, level_moves, mlflow_sync
    from tests.services.test_cli_remote import _team

    secrets = _team(db_url)
    with session_for(db_url) as s:
        make_project(s, "R02.1", actor=Actor("ci-bot"))
        level_moves.record_start(session=s, actor=Actor("ci-bot"), code="R02.1", level=9)
    runner = CliRunner()
    env = {"MLTRL_SERVER": server, "MLTRL_TOKEN": secrets["ci"]}
    dead = closed_port_uri()
    linked = runner.invoke(app, ["mlflow", "link", "R02.1", "--tracking-uri", dead, "--model", "churn",
                                 "--webhook-secret", "a-long-enough-secret"], env=env)
    assert linked.exit_code == 0, linked.output
    assert f"R02.1: churn at {dead}" in linked.stdout and "a-long-enough-secret" not in linked.stdout
    with session_for(db_url) as s:
        assert mlflow_sync.model_link(s, "R02.1").created_by == "ci-bot"
    synced = runner.invoke(app, ["mlflow", "sync", "R02.1"], env=env)
    assert synced.exit_code == 1 and f"cannot reach the MLflow server at {dead}" in synced.stderr
    local = runner.invoke(app, ["mlflow", "accept", "R02.1"], env=env)
    assert local.exit_code == 1 and "local database only" in local.stderr
    assert runner.invoke(app, ["mlflow", "unlink", "R02.1"], env=env).exit_code == 0
    shown = runner.invoke(app, ["mlflow", "show", "R02.1", "--json"], env=env)
    assert shown.exit_code == 0 and json.loads(shown.stdout) is None
