"""Reading the audit trail: filters applied in SQL, newest first, a bounded page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from mltrl.models import AuditEntry
from mltrl.domain import days
from mltrl.domain.permissions import Permission
from mltrl.services._core import Actor, authorize

PAGE_LIMIT = 500


@dataclass(frozen=True)
class Facets:
    """The distinct values each filter can take."""

    actors: list[str]
    entities: list[str]
    actions: list[str]
    first: datetime | None
    last: datetime | None


def facets(session: Session) -> Facets:
    def distinct(column) -> list[str]:
        return list(session.execute(select(column).distinct().order_by(column)).scalars())

    first, last = session.execute(select(func.min(AuditEntry.at), func.max(AuditEntry.at))).one()
    return Facets(distinct(AuditEntry.actor), distinct(AuditEntry.entity), distinct(AuditEntry.action), first, last)


def entries(
    session: Session,
    *,
    actor: Actor,
    actors: list[str] | None = None,
    entities: list[str] | None = None,
    actions: list[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    limit: int = PAGE_LIMIT,
) -> tuple[list[AuditEntry], int]:
    """Matching audit rows, newest first (at most ``limit``), and how many match in all.

    The audit trail is for admins (anyone in single-user mode). ``start``/``end`` are whole days,
    inclusive, in UTC.
    """
    authorize(session, actor, Permission.ADMIN)
    conditions = []
    if actors:
        conditions.append(col(AuditEntry.actor).in_(actors))
    if entities:
        conditions.append(col(AuditEntry.entity).in_(entities))
    if actions:
        conditions.append(col(AuditEntry.action).in_(actions))
    if start:
        conditions.append(AuditEntry.at >= days.day_start(start))
    if end:
        conditions.append(AuditEntry.at < days.day_end(end))
    total = session.execute(select(func.count()).select_from(AuditEntry).where(*conditions)).scalar_one()
    rows = session.execute(
        select(AuditEntry).where(*conditions).order_by(col(AuditEntry.id).desc()).limit(limit)
    ).scalars().all()
    return list(rows), total


def changed_fields(entry: AuditEntry) -> list[str]:
    """The keys whose value differs between before and after (all keys for a create)."""
    before, after = entry.before or {}, entry.after or {}
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
