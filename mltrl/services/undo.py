"""Undo a delete: put back exactly what it removed, from the delete's audit entry.

A delete's audit entry holds in ``before`` everything the delete removed:

* an objective's: its row, its key results with their check-ins (``key_result_rows``) and the
  copies whose link it cut (``copies``); entries written before ``key_result_rows`` existed name
  the key results' ids only, and their rows are read from the key results' own delete entries,
  written in the same transaction;
* a key result's: its row, its technology's code and its check-ins;
* a requirement's: its row (and its technology's code).

``restore_deleted`` writes those rows back as they were: the same ids, the same versions (an
edit made from a copy seen before the delete still applies, to the same content), children
included; the copies get their link back. A row whose id another row took meanwhile (SQLite
hands the highest id out again) comes back under a new id. Each restored row gets a "restore"
audit entry naming the delete entry it came from (``restored_from``), so a delete is restored
once.

Who: the person who deleted, undoing their own delete (the editor role), or an admin, restoring
any delete from the audit trail. Refused, with nothing written: an entry that is not a delete of
an objective, a key result or a requirement; a delete restored already; a key result whose
objective is gone (restore the objective, which brings its key results); a technology that no
longer exists; a requirement number or a key result's target taken again meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, SQLModel, col, select

from mltrl.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mltrl.domain.permissions import Permission
from mltrl.models import AuditEntry, CheckIn, KeyResult, Objective, Project, Requirement
from mltrl.services import backup_rows
from mltrl.services._core import Actor, audit, authorize, row_by_id, write_service

RESTORABLE = {"objective": "objective", "keyresult": "key result", "requirement": "requirement"}
MAX_ENTRIES = 1000
_STATEMENT_SHOWN = 60


@dataclass(frozen=True)
class Deletion:
    """What a delete removed, in words, and the audit entries that can put it back."""

    entries: tuple[int, ...]
    what: str


@dataclass(frozen=True)
class Restorable:
    """A delete entry as the audit trail offers it: what a restore would bring back, and why it
    cannot (``problem``, a sentence), if it cannot."""

    entry_id: int
    what: str
    deleted_by: str
    problem: str | None


@dataclass(frozen=True)
class Restored:
    """What came back, in words (one item per delete entry)."""

    what: tuple[str, ...]

    @property
    def text(self) -> str:
        return "; ".join(self.what)


# --- words ----------------------------------------------------------------------------------------


def plural(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def _statement(text: str) -> str:
    return text if len(text) <= _STATEMENT_SHOWN else text[:_STATEMENT_SHOWN - 1].rstrip() + "…"


def _kr_label(data: dict) -> str:
    return f"“{data.get('code', '?')} ≥ {data.get('target_level')} by {data.get('due')}”"


def describe(entity: str, before: dict) -> str:
    """A deleted thing in words, from its delete snapshot: 'objective “Ship it” with 2 key results
    and 3 check-ins', 'key result “R02.1 ≥ 5 by 2027-03-31” with 1 check-in', 'requirement 1.2
    “The model…” of R02.1'."""
    if entity == "objective":
        rows = before.get("key_result_rows")
        krs = len(rows) if rows is not None else len(before.get("key_results") or [])
        checks = sum(len(k.get("check_ins") or []) for k in rows or [])
        tail = f" and {plural(checks, 'check-in')}" if rows is not None else ""
        return f"objective “{before.get('title')}” with {plural(krs, 'key result')}{tail}"
    if entity == "keyresult":
        return f"key result {_kr_label(before)} with {plural(len(before.get('check_ins') or []), 'check-in')}"
    if entity == "requirement":
        of = f" of {before['code']}" if before.get("code") else ""
        return f"requirement {before.get('number')} “{_statement(str(before.get('statement', '')))}”{of}"
    return f"{entity} {before.get('id')}"


def deletion(session: Session, entries: Sequence[AuditEntry]) -> Deletion:
    """The ``Deletion`` a delete use case returns, from the delete entries it wrote."""
    session.flush()
    return Deletion(tuple(e.id for e in entries), "; ".join(describe(e.entity, e.before or {}) for e in entries))


# --- reading the trail ------------------------------------------------------------------------------


def _entry(session: Session, entry_id: object) -> AuditEntry:
    entry = row_by_id(session, AuditEntry, entry_id)
    if entry is None:
        raise NotFound(f"There is no audit entry {entry_id}.")
    if entry.action != "delete" or entry.entity not in RESTORABLE or not entry.before:
        raise InvalidInput("entry_id", f"audit entry {entry.id} records a {entry.action} of {entry.entity}: only "
                                       "deletes of objectives, key results and requirements can be restored")
    return entry


def _restored_by(session: Session, entry: AuditEntry) -> AuditEntry | None:
    """The restore entry that brought ``entry``'s rows back, if any (restores are few: scanned)."""
    for later in session.exec(select(AuditEntry).where(AuditEntry.entity == entry.entity,
                                                       AuditEntry.action == "restore",
                                                       col(AuditEntry.id) > entry.id)).all():
        if (later.after or {}).get("restored_from") == entry.id:
            return later
    return None


def _own_delete_entry(session: Session, entity: str, row_id: object, before: int | None = None) -> AuditEntry | None:
    """The newest delete entry of ``entity`` ``row_id`` (written before entry id ``before``)."""
    query = select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.action == "delete",
                                     AuditEntry.entity_id == str(row_id))
    if before is not None:
        query = query.where(col(AuditEntry.id) < before)
    return session.exec(query.order_by(col(AuditEntry.id).desc())).first()


# --- the plan: every row to write back, checked before any is written --------------------------------


@dataclass
class _Row:
    model: type[SQLModel]
    values: dict[str, Any]           # column values, typed
    snapshot: dict[str, Any]         # as the audit trail holds it
    restored_from: int | None = None  # the row's own delete entry, for a row with one
    children: list[_Row] = field(default_factory=list)
    parent_key: str | None = None    # the column naming the parent row


@dataclass
class _Plan:
    entry: AuditEntry
    what: str
    rows: list[_Row]
    copies: list[dict] = field(default_factory=list)


def _typed(model: type[SQLModel], data: dict, entry: AuditEntry) -> dict[str, Any]:
    """``data`` (a snapshot) as ``model``'s column values, checked as a backup's rows are."""
    annotations = {name: f.annotation for name, f in model.model_fields.items()}
    values = {}
    for column in model.__table__.columns:
        if column.name not in data:  # a column added after the delete: its default
            continue
        try:
            values[column.name] = backup_rows.reader(column, annotations.get(column.name, Any))(data[column.name])
        except InvalidInput as exc:
            raise InvalidInput("entry_id", f"audit entry {entry.id} does not hold a restorable "
                                           f"{model.__tablename__}: {exc.field}: {exc.message}") from None
    return values


def _project(session: Session, data: dict, what: str) -> Project:
    project = row_by_id(session, Project, data.get("project_id"))
    if project is None:
        raise Conflict(f"Cannot restore {what}: its technology {data.get('code') or data.get('project_id')} "
                       "no longer exists.")
    return project


def _key_result_row(session: Session, entry: AuditEntry, data: dict, what: str, own_entry: int | None, *,
                    with_objective: bool) -> _Row:
    """A key result (with its check-ins) to write back, alone (its objective must exist) or
    ``with_objective``."""
    project = _project(session, data, what)
    if not with_objective:
        objective = row_by_id(session, Objective, data.get("objective_id"))
        if objective is None:
            deleted = _own_delete_entry(session, "objective", data.get("objective_id"))
            hint = f" (audit entry {deleted.id})" if deleted is not None else ""
            raise Conflict(f"Cannot restore {what}: its objective was deleted too. Restore the objective{hint}, "
                           "which brings back its key results.")
        twin = session.exec(select(KeyResult).where(KeyResult.objective_id == objective.id,
                                                    KeyResult.project_id == project.id,
                                                    KeyResult.target_level == data.get("target_level"))).first()
        if twin is not None:
            raise Conflict(f"Cannot restore {what}: objective “{objective.title}” has a key result for {project.code} "
                           f"reaching level {twin.target_level} again (key result {twin.id}).")
    row = _Row(KeyResult, _typed(KeyResult, data, entry), data, restored_from=own_entry, parent_key="objective_id")
    row.children = [_Row(CheckIn, _typed(CheckIn, c, entry), c, parent_key="key_result_id")
                    for c in data.get("check_ins") or []]
    return row


def _plan(session: Session, entry: AuditEntry) -> _Plan:
    before = dict(entry.before or {})
    what = describe(entry.entity, before)
    if (done := _restored_by(session, entry)) is not None:
        raise Conflict(f"The {what} was restored already, by {done.actor} on {done.at:%Y-%m-%d %H:%M} UTC.")
    if entry.entity == "requirement":
        project = _project(session, before, what)
        twin = session.exec(select(Requirement).where(Requirement.project_id == project.id,
                                                      Requirement.number == before.get("number"))).first()
        if twin is not None:
            raise Conflict(f"Cannot restore {what}: {project.code} has a requirement {twin.number} again "
                           f"(“{_statement(twin.statement)}”); renumber or delete it first.")
        return _Plan(entry, what, [_Row(Requirement, _typed(Requirement, before, entry), before,
                                        restored_from=entry.id)])
    if entry.entity == "keyresult":
        return _Plan(entry, what, [_key_result_row(session, entry, before, what, entry.id, with_objective=False)])
    # an objective, with its key results and their check-ins
    rows = before.get("key_result_rows")
    own: dict[int, AuditEntry | None] = {k: _own_delete_entry(session, "keyresult", k, entry.id)
                                         for k in before.get("key_results") or []}
    if rows is None:  # an entry written before objectives carried their key results
        missing = [k for k, e in own.items() if e is None or not e.before]
        if missing:
            raise InvalidInput("entry_id", f"audit entry {entry.id} names key results {missing} whose delete "
                                           "entries are missing: it cannot be restored")
        rows = [e.before for e in own.values()]
    objective = _Row(Objective, _typed(Objective, before, entry), before, restored_from=entry.id)
    for kr in rows:
        kr_entry = own.get(kr.get("id"))
        objective.children.append(_key_result_row(session, entry, kr, f"{what} (its key result {_kr_label(kr)})",
                                                  kr_entry.id if kr_entry is not None else None, with_objective=True))
    copied_from = before.get("copied_from_id")
    if copied_from is not None and row_by_id(session, Objective, copied_from) is None:
        objective.values["copied_from_id"] = None  # its source went meanwhile (and unlinked it then)
        objective.snapshot = {**before, "copied_from_id": None}
    return _Plan(entry, what, [objective], copies=list(before.get("copies") or []))


# --- writing ------------------------------------------------------------------------------------------


def _insert(session: Session, actor: Actor, row: _Row, parent_id: int | None, entry: AuditEntry) -> None:
    model, values = row.model, dict(row.values)
    if row.parent_key is not None and parent_id is not None:
        values[row.parent_key] = parent_id
    if row_by_id(session, model, values.get("id")) is not None:
        values.pop("id")  # the id went to another row meanwhile: a new one
    new_id = session.execute(insert(model.__table__).values(**values)).inserted_primary_key[0]
    restored = {k: v for k, v in row.snapshot.items() if k in model.__table__.columns}
    restored.update({k: values[k] for k in ("objective_id", "key_result_id") if k in values} | {"id": new_id})
    if model is CheckIn:  # audited inside its key result's entry
        row.snapshot = restored
        return
    for child in row.children:
        _insert(session, actor, child, new_id, entry)
    extra: dict[str, Any] = {"restored_from": row.restored_from if row.restored_from is not None else entry.id}
    if "code" in row.snapshot:
        extra["code"] = row.snapshot["code"]
    if model is KeyResult:
        extra["check_ins"] = [c.snapshot for c in row.children]
    if model is Objective:
        extra["key_results"] = [c.snapshot["id"] for c in row.children]
    audit(session, actor, entity=model.__tablename__, entity_id=new_id, action="restore", before=None,
          after={**restored, **extra})
    row.snapshot = restored


def _relink(session: Session, actor: Actor, objective_id: int, copies: list[dict]) -> None:
    """Give the copies their link back: with the version they had before the delete when nobody
    changed them since, else as a change of its own."""
    for copy in copies:
        row = row_by_id(session, Objective, copy.get("id"))
        if row is None or row.copied_from_id is not None:
            continue  # deleted since, or linked again: nothing to give back
        before = {"id": row.id, "copied_from_id": None, "version": row.version}
        version = copy.get("version_before") if row.version == copy.get("version") else row.version + 1
        session.execute(update(Objective.__table__).where(Objective.__table__.c.id == row.id)
                        .values(copied_from_id=objective_id, version=version))
        session.expire(row)
        audit(session, actor, entity="objective", entity_id=row.id, action="relink", before=before,
              after={"id": row.id, "copied_from_id": objective_id, "version": version})


def _may_restore(session: Session, actor: Actor, entry: AuditEntry, what: str) -> None:
    if entry.actor == actor.name:
        return  # one's own delete: the editor role, checked by the decorator
    try:
        authorize(session, actor, Permission.ADMIN)
    except PermissionDenied:
        raise PermissionDenied(f"Only {entry.actor}, who deleted it, or an admin may restore the {what}.") from None


def _entry_ids(entry_ids: object) -> list[int]:
    if isinstance(entry_ids, int):
        entry_ids = [entry_ids]
    if not isinstance(entry_ids, (list, tuple)) or not entry_ids:
        raise InvalidInput("entry_ids", "name the delete entries to restore (audit entry ids)")
    if len(entry_ids) > MAX_ENTRIES:
        raise InvalidInput("entry_ids", f"at most {MAX_ENTRIES} entries at once (got {len(entry_ids)})")
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in entry_ids):
        raise InvalidInput("entry_ids", "audit entry ids are whole numbers")
    return list(dict.fromkeys(entry_ids))


@write_service(Permission.EDIT)
def restore_deleted(*, session: Session, actor: Actor, entry_ids: Sequence[int] | int) -> Restored:
    """Put back what the delete entries ``entry_ids`` removed, exactly, all or nothing (see the
    module docstring: who may, and what is refused)."""
    plans = []
    for entry_id in _entry_ids(entry_ids):
        entry = _entry(session, entry_id)
        plan = _plan(session, entry)
        _may_restore(session, actor, entry, plan.what)
        plans.append(plan)
    for plan in plans:
        for row in plan.rows:
            _insert(session, actor, row, None, plan.entry)
            if row.model is Objective:
                _relink(session, actor, row.snapshot["id"], plan.copies)
    session.flush()
    return Restored(tuple(p.what for p in plans))


def restorable(session: Session, entry_id: int) -> Restorable | None:
    """What restoring delete entry ``entry_id`` would bring back, and why it cannot if it cannot;
    ``None`` for an entry that is not a restorable delete."""
    try:
        entry = _entry(session, entry_id)
    except (NotFound, InvalidInput):
        return None
    what = describe(entry.entity, entry.before or {})
    if (done := _restored_by(session, entry)) is not None:
        return Restorable(entry.id, what, entry.actor,
                          f"It was restored already, by {done.actor} on {done.at:%Y-%m-%d %H:%M} UTC.")
    try:
        _plan(session, entry)
    except (Conflict, InvalidInput) as exc:
        reason = exc.message.removeprefix(f"Cannot restore {what}: ")
        return Restorable(entry.id, what, entry.actor, f"It cannot be restored: {reason}")
    return Restorable(entry.id, what, entry.actor, None)
