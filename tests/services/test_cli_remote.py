"""The CLI as a client: with MLTRL_SERVER and MLTRL_TOKEN the same commands act on a running
dashboard through /api/v1 (a real HTTP server on loopback, uvicorn in a thread), and do the same
work as locally: the same output, the same rows, audited under the token's owner."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from argon2 import PasswordHasher
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.routing import Mount
from typer.testing import CliRunner

from mltrl import db
from mltrl.api import api
from mltrl.cli import app
from mltrl.models import AuditEntry
from mltrl.services import Actor, tokens, users

PASSWORD = "correct horse"

CARD = """| Tech name (project ID) | Remote tech (R50.1) |
|---|---|
| Current Level | 2 |

## TL;DR
Sent from a CI job.
"""

HF_CARD = """---
license: mit
model-index:
- name: Remote tech
  results:
  - task: {type: summarization}
    dataset: {type: tickets, name: Support tickets}
    metrics: [{type: rouge1, value: 0.41}]
---
""" + CARD

JUNIT = '<testsuite name="unit"><testcase classname="t" name="a"/><testcase classname="t" name="b"/></testsuite>'
REQUIREMENTS = "number,kind,statement,level,verification_method,p_failure,value\n1,product,Fast.,4,test,0.2,3\n"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(db_url: str) -> Iterator[str]:
    config = uvicorn.Config(Starlette(routes=[Mount("/api/v1", app=api)]), host="127.0.0.1", port=_port(),
                            log_level="warning", lifespan="off")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        instance.should_exit = True
        thread.join(10)


def _team(url: str) -> dict[str, str]:
    users._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with Session(db.get_engine(url), expire_on_commit=False) as s:
        users.create_first_admin(session=s, actor=Actor("x"), name="ada", password=PASSWORD)
        users.add_user(session=s, actor=Actor("ada"), name="ci-bot", role="editor", service=True)
        users.add_user(session=s, actor=Actor("ada"), name="vic", role="viewer", password=PASSWORD)
        return {"ci": tokens.create_token(session=s, actor=Actor("ada"), name="pipeline", owner="ci-bot")[0],
                "viewer": tokens.create_token(session=s, actor=Actor("vic"), name="look")[0]}


SCRIPT = [
    ("project", "add", "R50.0", "Remote system", "--owner", "Ada"),
    ("project", "add", "R50.2", "Remote part", "--parent", "R50.0"),
    ("card", "import", "{card}"),
    ("level", "start", "R50.0", "3", "--at", "2026-01-05"),
    ("level", "graduate", "R50.1", "--note", "tests pass"),
    ("level", "start", "R50.2", "8", "--at", "2026-01-05"),
    ("level", "graduate", "R50.2", "--at", "2026-03-01"),
    ("level", "deployed-change", "R50.2", "--note", "v2"),
    ("evidence", "junit", "R50.1", "{junit}", "--level", "3", "--criterion", "tests", "--url",
     "https://ci.example.org/runs/9", "--external-id", "run-9"),
    ("evidence", "junit", "R50.1", "{junit}", "--level", "3", "--criterion", "tests", "--external-id", "run-9"),
    ("evidence", "add", "R50.1", "--level", "3", "--kind", "document", "--status", "info", "--title",
     "Design note", "--metric", "pages=12"),
    ("evidence", "list", "R50.1"),
    ("level", "switchback", "R50.1", "2", "--kind", "review"),
    ("fork", "R50.1", "R50.9", "Remote fork"),
    ("requirements", "import", "R50.1", "{requirements}"),
    ("okr", "add", "2026-Q4", "Ship remote"),
    ("okr", "kr", "1", "R50.1", "4", "--by", "2026-12-31"),
    ("okr", "checkin", "1", "7", "On track.", "--at", "2026-11-10"),
    ("level", "history", "R50.1", "--json"),
    ("card", "history", "R50.1", "--json"),
    ("card", "export", "R50.1"),
    ("card", "import", "{hf_card}"),
    ("card", "export", "R50.1", "--format", "hf"),
    ("requirements", "export", "R50.1", "-"),
    ("risks", "matrix", "--requirements", "--json"),
    ("project", "list", "--json"),
    ("project", "list"),
]


def _script(tmp_path: Path) -> list[list[str]]:
    card = tmp_path / "card.md"
    card.write_text(CARD)
    requirements = tmp_path / "requirements.csv"
    requirements.write_text(REQUIREMENTS)
    junit = tmp_path / "report.xml"
    junit.write_text(JUNIT)
    hf_card = tmp_path / "README.md"
    hf_card.write_text(HF_CARD)
    return [[a.format(card=card, requirements=requirements, junit=junit, hf_card=hf_card) for a in step]
            for step in SCRIPT]


def _mask_times(text: str) -> str:
    """Instants recorded 'now' differ between the two runs: keep their day only."""
    import re

    return re.sub(r"(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00", r"\1", text)


def test_the_cli_does_the_same_work_remotely_as_locally(server, db_url, tmp_path, monkeypatch):
    secrets = _team(db_url)
    runner = CliRunner()
    remote_env = {"MLTRL_SERVER": server, "MLTRL_TOKEN": secrets["ci"]}
    remote = []
    for step in _script(tmp_path):
        result = runner.invoke(app, step, env=remote_env)
        assert result.exit_code == 0, (step, result.output)
        remote.append(result.stdout)

    local_url = f"sqlite:///{tmp_path / 'local.db'}"
    monkeypatch.setenv("MLTRL_DATABASE_URL", local_url)
    local = []
    for step in _script(tmp_path):
        result = runner.invoke(app, ["--as", "ci-bot", *step], env={"MLTRL_SERVER": ""})
        assert result.exit_code == 0, (step, result.output)
        local.append(result.stdout)
    assert [_mask_times(t) for t in remote] == [_mask_times(t) for t in local]
    assert '"code": "R50.9"' in remote[-2] and "Sent from a CI job." in remote[20]
    assert remote[21] == "R50.1: saved card revision 2; recorded 1 evidence record from its model-index\n"
    assert remote[22].startswith("---\nlicense: mit\n") and "value: 0.41" in remote[22]

    with Session(db.get_engine(db_url)) as s:
        written = s.exec(select(AuditEntry).where(AuditEntry.entity != "appuser",
                                                  AuditEntry.entity != "apitoken")).all()
        assert written and {(a.actor, a.via) for a in written} == {("ci-bot", "token pipeline")}


def test_refusals_come_back_as_the_servers_words(server, db_url, tmp_path):
    secrets = _team(db_url)
    runner = CliRunner()
    env = {"MLTRL_SERVER": server, "MLTRL_TOKEN": secrets["viewer"]}
    denied = runner.invoke(app, ["project", "add", "X1", "Nope"], env=env)
    assert denied.exit_code == 1
    assert "error: vic is a viewer; this needs the editor role or higher." in denied.stderr
    unknown = runner.invoke(app, ["level", "history", "NOPE"], env=env)
    assert unknown.exit_code == 1 and "NOPE" in unknown.stderr
    bad = runner.invoke(app, ["project", "list"], env={"MLTRL_SERVER": server, "MLTRL_TOKEN": "mltrl_wrong"})
    assert bad.exit_code == 1 and "The API token is unknown, expired or revoked" in bad.stderr
    no_token = runner.invoke(app, ["project", "list"], env={"MLTRL_SERVER": server, "MLTRL_TOKEN": ""})
    assert no_token.exit_code == 1 and "--token: a server is set" in no_token.stderr
    local_only = runner.invoke(app, ["demo", "load"], env=env)
    assert local_only.exit_code == 1 and "works on a local database only" in local_only.stderr
    unreachable = runner.invoke(app, ["project", "list"],
                                env={"MLTRL_SERVER": f"http://127.0.0.1:{_port()}", "MLTRL_TOKEN": "x"})
    assert unreachable.exit_code == 1 and "cannot reach the dashboard at http://127.0.0.1:" in unreachable.stderr
    not_url = runner.invoke(app, ["--server", "ftp://x", "--token", "y", "project", "list"])
    assert not_url.exit_code == 1 and "--server: 'ftp://x' is not a dashboard address" in not_url.stderr
    html = runner.invoke(app, ["card", "export", "R01.1", "--format", "html"], env=env)
    assert html.exit_code == 1 and "--format" in html.stderr and "Hugging Face model card (hf)" in html.stderr
