"""Builders for tests; they go through the services, never around them."""

from __future__ import annotations

from datetime import datetime, UTC

from sqlalchemy import Engine, func
from sqlmodel import Session, SQLModel, select

from mltrl.models import AuditEntry, CardRevision, LevelEvent, Project, ProjectOwner
from mltrl.services import Actor, level_moves, projects

TESTER = Actor("tester")


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


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


AUDITED_TABLES = (Project, ProjectOwner, LevelEvent, CardRevision, AuditEntry)


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            m.__tablename__: conn.execute(select(func.count()).select_from(m)).scalar_one()
            for m in AUDITED_TABLES
        }


def everything(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table, from a fresh connection (what is committed)."""
    with engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(t.select().order_by(*t.primary_key.columns)).all()]
            for t in SQLModel.metadata.sorted_tables
        }


def audit_rows(session: Session) -> list[AuditEntry]:
    return list(session.exec(select(AuditEntry).order_by(AuditEntry.id)).all())
