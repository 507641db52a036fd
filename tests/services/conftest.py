"""Service and CLI tests: cheap argon2 parameters, since they hash many passwords (the real ones
are tested in tests/services/test_users.py::test_real_hash_parameters); the CLI's fresh database."""

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from mltrl import db
from mltrl.services import users


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def cli_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database for the CLI (MLTRL_DATABASE_URL is set by ``db_url``), acting as cli-user
    in single-user mode. Modules that need a technology or two first define their own."""
    monkeypatch.setenv("MLTRL_USER", "cli-user")
    yield db_url
    db.dispose_engines()
