"""Service tests hash many passwords: use cheap argon2 parameters (the real ones are tested in
tests/services/test_users.py::test_real_hash_parameters)."""

import pytest
from argon2 import PasswordHasher

from mltrl.services import users


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
