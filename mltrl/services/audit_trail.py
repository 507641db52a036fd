"""Reading the audit trail: filters applied in SQL, newest first, a bounded page at a time; and
who changed one versioned record since the version a person opened (``changes_since``: what an
edit form refused as a conflict shows, so nobody has to guess what happened to the record)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

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


# Bookkeeping columns every versioned row carries: they change with every save, so they say
# nothing about what a person changed (who and when are the entry's own actor and time).
BOOKKEEPING = frozenset({"id", "version", "updated_at", "updated_by", "created_at", "created_by"})
CHANGES_LIMIT = 20


@dataclass(frozen=True)
class FieldChange:
    """One field of a record as one change left it: its value before and after (audit snapshot
    values: JSON, so dates are ISO text and lists stay lists)."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class RecordChange:
    """One audited change of a record: who (and how, when not in person: "token ci-bot"), when,
    the action ("update", "level", "delete", ...), the version it left the record at (None: the
    record is gone) and the fields it changed."""

    actor: str
    via: str | None
    at: datetime
    action: str
    version: int | None
    fields: tuple[FieldChange, ...]


def _version_of(snapshot: dict[str, Any] | None) -> int | None:
    value = (snapshot or {}).get("version")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def changes_since(session: Session, *, entity: str, entity_id: object, version: int,
                  limit: int = CHANGES_LIMIT) -> list[RecordChange]:
    """The changes of record ``entity_id`` of ``entity`` (an audit entity name: "project",
    "requirement", "keyresult", ...) made after ``version``, the version the person opened (0: the
    record did not exist yet), oldest first, at most the newest ``limit``.

    A change counts when its entry left the record at a later version than ``version``, or
    deleted it from that version on. Entries that do not move the record's version (a check-in
    audited in its key result's entries, say) are not changes of the record. Bookkeeping fields
    (``version``, ``updated_at``, ...) are left out of each change's fields; a delete lists none.

    No permission is needed beyond reading the record: the entries describe the one record the
    person was editing, and snapshots never hold secrets (``_core.SECRET_FIELDS`` are masked).
    """
    query = (select(AuditEntry)
             .where(AuditEntry.entity == entity, AuditEntry.entity_id == str(entity_id))
             .order_by(col(AuditEntry.id).desc()))
    found: list[RecordChange] = []
    result = session.execute(query.execution_options(yield_per=50)).scalars()
    try:
        for entry in result:
            after_version, before_version = _version_of(entry.after), _version_of(entry.before)
            deleted = entry.after is None and before_version is not None and before_version >= version
            if not deleted and (after_version is None or after_version <= version):
                if after_version is not None:  # entries come in version order: nothing older counts
                    break
                continue
            fields = () if deleted else _changed(entry.before, entry.after or {})
            found.append(RecordChange(actor=entry.actor, via=entry.via, at=entry.at, action=entry.action,
                                      version=None if deleted else after_version, fields=fields))
            if len(found) >= limit:
                break
    finally:
        result.close()
    return found[::-1]


def _changed(before: dict[str, Any] | None, after: dict[str, Any]) -> tuple[FieldChange, ...]:
    """The fields an entry changed, in the order the record lists them. A create changed every
    field it set; an update the fields both snapshots hold with different values (a snapshot may
    carry context the other lacks, such as a requirement's technology code: not a change)."""
    if before is None:
        return tuple(FieldChange(k, None, v) for k, v in after.items() if k not in BOOKKEEPING)
    return tuple(FieldChange(k, before[k], v) for k, v in after.items()
                 if k in before and k not in BOOKKEEPING and before[k] != v)
