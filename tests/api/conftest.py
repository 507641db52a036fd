"""The HTTP API through ASGI, mounted at /api/v1 as server.py mounts it, on SQLite and PostgreSQL.

``team`` makes an admin, an editor, a reviewer and a viewer, each with a live token; ``client``
sends the editor's token unless a test sends another (``auth(token)``)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from mltrl.api import api
from mltrl.services import Actor, tokens, users

PASSWORD = "correct horse"


@dataclass(frozen=True)
class Team:
    admin: str
    editor: str
    reviewer: str
    viewer: str


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def team(session) -> Team:
    users.create_first_admin(session=session, actor=Actor("x"), name="ada", password=PASSWORD)
    admin = Actor("ada")
    for name, role in [("eve", "editor"), ("rey", "reviewer"), ("vic", "viewer")]:
        users.add_user(session=session, actor=admin, name=name, role=role, password=PASSWORD)
    secrets = {name: tokens.create_token(session=session, actor=Actor(name), name=f"{name}-script")[0]
               for name in ("ada", "eve", "rey", "vic")}
    return Team(secrets["ada"], secrets["eve"], secrets["rey"], secrets["vic"])


@pytest.fixture
def bare_client(db_url) -> TestClient:
    """No token sent unless the test sends one."""
    app = Starlette(routes=[Mount("/api/v1", app=api)])
    return TestClient(app, base_url="http://mltrl.test", raise_server_exceptions=False)


@pytest.fixture
def client(bare_client: TestClient, team: Team) -> TestClient:
    bare_client.headers.update(auth(team.editor))
    return bare_client


def problem(response, status: int) -> dict:
    """The body of a problem answer, after checking it is one with ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["detail"] and body["type"].startswith("https://")
    return body
