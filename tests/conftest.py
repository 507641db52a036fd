"""Shared fixtures: a fresh, migrated database per test (a temp SQLite file).

Builders in ``tests/factories.py`` go through the services, like a user would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from mltrl import db
from mltrl.services import Actor

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh database URL, also exported as MLTRL_DATABASE_URL for the CLI and the app."""
    url = f"sqlite:///{tmp_path / 'mltrl.db'}"
    monkeypatch.setenv("MLTRL_DATABASE_URL", url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = db.get_engine(db_url)
    yield eng
    db.dispose_engines()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with db.session_scope(engine) as s:
        yield s


@pytest.fixture
def actor() -> Actor:
    return Actor("tester")
