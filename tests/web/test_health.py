"""/healthz and /readyz (mltrl.web.health) through the ASGI routes, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mltrl import db
from mltrl.web import health_routes


@pytest.fixture
def client() -> TestClient:
    return TestClient(Starlette(routes=health_routes))


def test_healthz_answers_without_a_database(client, monkeypatch, tmp_path):
    monkeypatch.setenv("MLTRL_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    answer = client.get("/healthz")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})
    assert answer.headers["cache-control"] == "no-store"


def test_readyz_is_ready_on_a_database_at_the_head(client, db_url):
    db.upgrade_db(db_url)
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "ready" and answer.json()["schema"] == ["0009"]  # the newest migration: evidence and model links


def test_readyz_names_a_missing_migration_and_is_not_ready(client, empty_db_url, monkeypatch):
    monkeypatch.setenv("MLTRL_DATABASE_URL", empty_db_url)
    db.upgrade_db(empty_db_url, "0007")
    answer = client.get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["problem"] == "schema" and "['0007']" in body["detail"] and "mltrl db upgrade" in body["detail"]


def test_readyz_says_the_database_does_not_answer_without_showing_its_url(client, monkeypatch):
    url = "postgresql+psycopg://secret-user:secret-password@127.0.0.1:1/none"
    monkeypatch.setenv("MLTRL_DATABASE_URL", url)
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["problem"] == "database" and "secret" not in answer.text
