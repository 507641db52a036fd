"""`mltrl token create|list|revoke` and `mltrl user add --service`: a CI job's account and token."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mltrl import db
from mltrl.cli import app
from mltrl.services import tokens
from tests.factories import everything

PASSWORD = "correct horse"


@pytest.fixture
def run(db_url):
    runner = CliRunner()

    def _run(*args, stdin=None):
        return runner.invoke(app, list(args), input=stdin)

    assert _run("user", "add", "ada", "--role", "admin", stdin=f"{PASSWORD}\n{PASSWORD}\n").exit_code == 0
    assert _run("--as", "ada", "user", "add", "eve", "--role", "editor", stdin=f"{PASSWORD}\n{PASSWORD}\n").exit_code == 0
    yield _run
    db.dispose_engines()


def test_a_service_account_gets_a_token_shown_once_that_acts_as_it(run, session):
    added = run("--as", "ada", "user", "add", "ci-bot", "--role", "editor", "--service")
    assert added.exit_code == 0 and "added ci-bot (editor, service account)" in added.stdout
    created = run("--as", "ada", "token", "create", "pipeline", "--owner", "ci-bot", "--expires", "2199-12-31")
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("mltrl_") and "\n" not in secret
    assert "for ci-bot (editor, until 2199-12-31); it is shown only now" in created.stderr
    assert tokens.actor_for(session, secret).name == "ci-bot"
    listed = json.loads(run("--as", "ada", "token", "list", "--json").stdout)
    assert [(t["owner"], t["name"], t["role"], t["live"]) for t in listed] == [("ci-bot", "pipeline", "editor", True)]
    assert secret not in run("--as", "ada", "token", "list").stdout
    assert listed[0]["starts"] == secret[:10] + "…"
    revoked = run("--as", "ada", "token", "revoke", str(listed[0]["id"]))
    assert revoked.stdout.strip() == "token 1 'pipeline' of ci-bot is revoked"
    assert run("token", "list").stdout.strip() == "no tokens"
    assert "revoked" in run("token", "list", "--all").stdout


def test_refusals_name_the_field_and_write_nothing(run, engine):
    before = everything(engine)
    too_high = run("--as", "eve", "token", "create", "x", "--role", "admin")
    assert too_high.exit_code == 1 and "role: admin is higher than eve's role (editor)" in too_high.stderr
    others = run("--as", "eve", "token", "create", "x", "--owner", "ada")
    assert others.exit_code == 1 and "Only an admin creates tokens for another account" in others.stderr
    bad_day = run("--as", "eve", "token", "create", "x", "--expires", "next week")
    assert bad_day.exit_code == 2 and "--expires" in bad_day.stderr
    past = run("--as", "eve", "token", "create", "x", "--expires", "2000-01-01")
    assert past.exit_code == 1 and "expires: 2000-01-01 has passed" in past.stderr
    huge = run("--as", "eve", "token", "revoke", "99999999999999999999")
    assert huge.exit_code == 2
    assert run("--as", "eve", "token", "revoke", "7").exit_code == 1
    service_with_password = run("--as", "ada", "user", "add", "bot", "--role", "viewer", "--service",
                                "--email", "bot@example.org")
    assert service_with_password.exit_code == 1 and "service account" in service_with_password.stderr
    for result in (too_high, others, bad_day, past, huge, service_with_password):
        assert "Traceback" not in result.output
    assert everything(engine) == before
