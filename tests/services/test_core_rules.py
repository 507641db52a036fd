"""The cross-cutting rules of the service layer that live in one place (issue 14)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from mltrl import db
from mltrl.domain.errors import Conflict
from mltrl.services._core import check_version


def test_a_stale_version_is_a_conflict_naming_both_versions():
    with pytest.raises(Conflict, match=r"^R02\.1 changed since you opened it \(version 5 -> 6\); reload"):
        check_version(SimpleNamespace(version=6), 5, "R02.1")


def test_the_current_version_or_none_passes():
    check_version(SimpleNamespace(version=6), 6, "R02.1")
    check_version(SimpleNamespace(version=6), None, "R02.1")  # a script acting on whatever is current


def test_one_settings_object_per_environment(monkeypatch):
    monkeypatch.setenv("MLTRL_CARD_STALE_DAYS", "30")
    first = db.settings()
    assert first is db.settings() and first.card_stale_days == 30
    monkeypatch.setenv("MLTRL_CARD_STALE_DAYS", "45")
    assert db.settings().card_stale_days == 45
