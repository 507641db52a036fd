"""Builders for tests; they go through the services, never around them."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlmodel import Session

from mltrl.models import Project
from mltrl.services import Actor, level_moves, projects

TESTER = Actor("tester")


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def make_project(session: Session, code: str = "R01.1", name: str | None = None, **overrides) -> Project:
    return projects.add_project(
        session=session, actor=overrides.pop("actor", TESTER), code=code,
        name=name or f"Technology {code}", **overrides,
    )


def make_history(session: Session, code: str, steps: list[tuple[str, int | None, str | None, str]]) -> None:
    """Record ``steps`` of (kind, level, switchback kind, ISO date); kind is start/graduation/switchback."""
    for kind, level, sb_kind, when in steps:
        if kind == "start":
            level_moves.record_start(session=session, actor=TESTER, code=code, level=level, at=day(when))
        elif kind == "graduation":
            level_moves.graduate(session=session, actor=TESTER, code=code, at=day(when))
        else:
            level_moves.switch_back(session=session, actor=TESTER, code=code, level=level, kind=sb_kind, at=day(when))
