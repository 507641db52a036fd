"""The `mltrl user ...` commands and `--as` once accounts exist."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mltrl import db
from mltrl.cli import app

PASSWORD = "correct horse"


@pytest.fixture
def run(db_url):
    runner = CliRunner()

    def _run(*args, stdin=None):
        return runner.invoke(app, list(args), input=stdin)

    yield _run
    db.dispose_engines()


def twice(password=PASSWORD):
    return f"{password}\n{password}\n"


def test_user_add_list_role_disable_enable(run):
    assert run("user", "list").stdout.startswith("no accounts: single-user mode")
    result = run("user", "add", "ada", "--role", "admin", "--display-name", "Ada L", stdin=twice())
    assert result.exit_code == 0, result.output
    assert "added ada (admin)" in result.stdout
    assert run("--as", "ada", "user", "add", "vic", "--role", "viewer", stdin=twice()).exit_code == 0
    listed = json.loads(run("user", "list", "--json").stdout)
    assert [(u["name"], u["role"], u["disabled"]) for u in listed] == [("ada", "admin", False), ("vic", "viewer", False)]
    assert all("hash" not in json.dumps(u) and PASSWORD not in json.dumps(u) for u in listed)

    assert run("--as", "ada", "user", "role", "vic", "editor").stdout.strip() == "vic is now editor"
    assert run("--as", "ada", "user", "disable", "vic").stdout.strip() == "vic is disabled"
    assert "disabled" in run("user", "list").stdout
    assert run("--as", "ada", "user", "enable", "vic").stdout.strip() == "vic is enabled"


def test_password_lines_must_match_and_be_long_enough(run):
    result = run("user", "add", "ada", "--role", "admin", stdin="one password\nanother one\n")
    assert result.exit_code == 1 and "two lines on stdin differ" in result.stderr
    result = run("user", "add", "ada", "--role", "admin", stdin=twice("short"))
    assert result.exit_code == 1 and "password: at least 8 characters" in result.stderr
    assert "no accounts" in run("user", "list").stdout


def test_once_accounts_exist_as_must_name_an_enabled_account_with_the_right_role(run, monkeypatch):
    run("user", "add", "ada", "--role", "admin", stdin=twice())
    run("--as", "ada", "user", "add", "vic", "--role", "viewer", stdin=twice())

    refused = run("--as", "nobody", "project", "add", "R01.1", "X")
    assert refused.exit_code == 1 and "'nobody' has no account here" in refused.stderr

    refused = run("--as", "vic", "project", "add", "R01.1", "X")
    assert refused.exit_code == 1 and "vic is a viewer; this needs the editor role" in refused.stderr
    assert json.loads(run("project", "list", "--json").stdout) == []  # reading needs no role

    monkeypatch.setenv("MLTRL_USER", "ada")
    assert run("project", "add", "R01.1", "X").exit_code == 0
    refused = run("--as", "vic", "user", "role", "vic", "admin")
    assert refused.exit_code == 1 and "needs the admin role" in refused.stderr


def test_identity_provider_user_without_password(run):
    run("user", "add", "ada", "--role", "admin", stdin=twice())
    result = run("--as", "ada", "user", "add", "sso.sam", "--role", "reviewer", "--email", "sam@example.org", "--no-password")
    assert result.exit_code == 0, result.output
    (sam,) = [u for u in json.loads(run("user", "list", "--json").stdout) if u["name"] == "sso.sam"]
    assert sam["email"] == "sam@example.org" and sam["local_password"] is False
