"""OKRs: objectives of a quarter, their key results and the owners' check-ins (storage, writes and
reads; key result statuses, forecasts and the quarterly report are computed in ``mltrl.domain.analytics``).

* An objective belongs to a quarter (``2027-Q1``, ``mltrl.domain.okr``) and has key results of the form
  "technology X reaches level >= L by date D". D is a calendar day, inclusive, and defaults to the
  quarter's last day; any day is accepted. One key result per (objective, technology, level).
* Owners record check-ins on a key result: a comment and a confidence 0-10, dated (append-only,
  audited in the key result's entries).
* ``copy_objective`` copies an objective with its key results into another quarter (the next one
  by default), each due date moved to the same place in the new quarter (``okr.move_due``). Check-ins
  and the review's notes stay with the quarter they were written in; the copy names its source.
* Deleting an objective deletes its key results and their check-ins (each audited with what it
  held) and unlinks the objective's copies; its delete entry holds all of it, so
  ``undo.restore_deleted`` can put it back exactly. A delete returns a ``Deletion`` (what went, in
  words, and the entry to restore from).

Every write is ``@write_service(Permission.EDIT)``: keyword-only, authorized, one transaction,
audited; an edit names the version it was made from and a newer one is a ``Conflict``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from mltrl.domain import fields
from mltrl.domain import okr
from mltrl.domain.errors import InvalidInput, NotFound
from mltrl.models import (
    NAME_MAX,
    AuditEntry,
    NOTE_MAX,
    PERSON_MAX,
    CheckIn,
    KeyResult,
    Objective,
    Project,
    utcnow,
)
from mltrl.domain.permissions import Permission
from mltrl.services._core import (
    Actor,
    check_version,
    as_utc,
    audit,
    one_line,
    parse_when,
    row_by_id,
    snapshot,
    write_service,
)
from mltrl.services.projects import get_project
from mltrl.services.undo import Deletion, deletion

_UNCHANGED = None


# --- checks of what people type -----------------------------------------------------------------


def _text(text: object, field: str, *, required: bool = False) -> str:
    """A note or a comment: line breaks kept, ends trimmed."""
    value = fields.block(text, field, NOTE_MAX)
    if required and not value:
        raise InvalidInput(field, "required: say in a sentence where things stand")
    return value



# --- rows ---------------------------------------------------------------------------------------


def _objective(session: Session, objective_id: int) -> Objective:
    row = row_by_id(session, Objective, objective_id)
    if row is None:
        raise NotFound(f"There is no objective {objective_id}.")
    return row


def _key_result(session: Session, key_result_id: int) -> KeyResult:
    row = row_by_id(session, KeyResult, key_result_id)
    if row is None:
        raise NotFound(f"There is no key result {key_result_id}.")
    return row


def _same_target(session: Session, objective_id: int, project_id: int, level: int) -> KeyResult | None:
    return session.exec(select(KeyResult).where(KeyResult.objective_id == objective_id,
                                                KeyResult.project_id == project_id,
                                                KeyResult.target_level == level)).first()


def _refuse_duplicate(session: Session, objective_id: int, project: Project, level: int) -> None:
    twin = _same_target(session, objective_id, project.id, level)
    if twin is not None:
        raise InvalidInput("target_level", f"objective {objective_id} already has a key result for {project.code} "
                                           f"reaching level {level} (key result {twin.id}): change its date instead")


def _check_ins(session: Session, key_result_id: int) -> list[CheckIn]:
    return list(session.exec(select(CheckIn).where(CheckIn.key_result_id == key_result_id)
                             .order_by(col(CheckIn.at).desc(), col(CheckIn.id).desc())).all())


def _kr_snapshot(session: Session, row: KeyResult, **extra: object) -> dict:
    code = session.get(Project, row.project_id).code
    return snapshot(row, code=code, **extra)


# --- objectives ---------------------------------------------------------------------------------


@write_service(Permission.EDIT)
def add_objective(*, session: Session, actor: Actor, quarter: str, title: str, owner: str = "") -> Objective:
    """A new objective of ``quarter`` (``2027-Q1``), without key results yet."""
    row = Objective(quarter=str(okr.parse_quarter(quarter)), title=one_line(title, "title", NAME_MAX, required=True),
                    owner=one_line(owner, "owner", PERSON_MAX), created_by=actor.name)
    session.add(row)
    session.flush()
    audit(session, actor, entity="objective", entity_id=row.id, action="create", before=None, after=snapshot(row))
    return row


@write_service(Permission.EDIT)
def edit_objective(*, session: Session, actor: Actor, objective_id: int, expected_version: int,
                   title: str | None = _UNCHANGED, owner: str | None = _UNCHANGED) -> Objective:
    """Change an objective's title or owner (``None``: unchanged; ``owner=""`` clears it)."""
    row = _objective(session, objective_id)
    check_version(row, expected_version, f"Objective {row.id}")
    values = {}
    if title is not None:
        values["title"] = one_line(title, "title", NAME_MAX, required=True)
    if owner is not None:
        values["owner"] = one_line(owner, "owner", PERSON_MAX)
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    if not changed:
        return row
    before = snapshot(row)
    for key, value in changed.items():
        setattr(row, key, value)
    session.add(row)
    session.flush()
    audit(session, actor, entity="objective", entity_id=row.id, action="update", before=before, after=snapshot(row))
    return row


def _delete_key_result(session: Session, actor: Actor, row: KeyResult) -> tuple[AuditEntry, dict]:
    """Delete a key result and its check-ins; its delete entry and snapshot (what an undo needs)."""
    check_ins = _check_ins(session, row.id)
    before = _kr_snapshot(session, row, check_ins=[snapshot(c) for c in check_ins])
    entry = audit(session, actor, entity="keyresult", entity_id=row.id, action="delete", after=None, before=before)
    for check_in_row in check_ins:
        session.delete(check_in_row)
    session.flush()
    session.delete(row)
    session.flush()
    return entry, before


@write_service(Permission.EDIT)
def delete_objective(*, session: Session, actor: Actor, objective_id: int, expected_version: int) -> Deletion:
    """Delete an objective with its key results and their check-ins; its copies lose the link.
    The delete entry holds all of it (``key_result_rows``, ``copies``), so ``undo.restore_deleted``
    can put it back."""
    row = _objective(session, objective_id)
    check_version(row, expected_version, f"Objective {row.id}")
    copies = []
    for copy in session.exec(select(Objective).where(Objective.copied_from_id == row.id)).all():
        before = snapshot(copy)
        copy.copied_from_id = None
        session.add(copy)
        session.flush()
        audit(session, actor, entity="objective", entity_id=copy.id, action="unlink", before=before,
              after=snapshot(copy))
        copies.append({"id": copy.id, "version_before": before["version"], "version": copy.version})
    key_results = _key_results_of(session, [row.id])
    rows = [_delete_key_result(session, actor, kr)[1] for kr in key_results]
    entry = audit(session, actor, entity="objective", entity_id=row.id, action="delete", after=None,
                  before=snapshot(row, key_results=[k["id"] for k in rows], key_result_rows=rows, copies=copies))
    session.delete(row)
    session.flush()
    return deletion(session, [entry])


@write_service(Permission.EDIT)
def copy_objective(*, session: Session, actor: Actor, objective_id: int, quarter: str | None = None) -> Objective:
    """Copy an objective and its key results into ``quarter`` (default: the quarter after its own).
    Each due date moves to the same place in the new quarter; check-ins and notes are not copied."""
    source = _objective(session, objective_id)
    source_quarter = okr.parse_quarter(source.quarter)
    target = okr.parse_quarter(quarter) if quarter is not None else source_quarter.next()
    row = Objective(quarter=str(target), title=source.title, owner=source.owner, created_by=actor.name,
                    copied_from_id=source.id)
    session.add(row)
    session.flush()
    audit(session, actor, entity="objective", entity_id=row.id, action="copy", before=None,
          after=snapshot(row, copied_from_quarter=source.quarter))
    for kr in _key_results_of(session, [source.id]):
        new = KeyResult(objective_id=row.id, project_id=kr.project_id, target_level=kr.target_level,
                        due=okr.move_due(kr.due, source_quarter, target), owner=kr.owner, position=kr.position)
        session.add(new)
        session.flush()
        audit(session, actor, entity="keyresult", entity_id=new.id, action="create", before=None,
              after=_kr_snapshot(session, new, copied_from=kr.id))
    return row


# --- key results --------------------------------------------------------------------------------


@write_service(Permission.EDIT)
def add_key_result(*, session: Session, actor: Actor, objective_id: int, code: str, target_level: object,
                   due: date | str | None = None, owner: str = "", note: str = "") -> KeyResult:
    """Add the key result "``code`` reaches level >= ``target_level`` by ``due``" (default: the
    quarter's last day) after the objective's other key results."""
    objective = _objective(session, objective_id)
    project = get_project(session, code)
    level = okr.parse_target_level(target_level)
    day = okr.parse_day(due) if due is not None else okr.parse_quarter(objective.quarter).end
    values = {"owner": one_line(owner, "owner", PERSON_MAX), "note": _text(note, "note")}
    _refuse_duplicate(session, objective.id, project, level)
    last = session.exec(select(func.max(KeyResult.position)).where(KeyResult.objective_id == objective.id)).one()
    row = KeyResult(objective_id=objective.id, project_id=project.id, target_level=level, due=day,
                    position=0 if last is None else last + 1, **values)
    session.add(row)
    session.flush()
    audit(session, actor, entity="keyresult", entity_id=row.id, action="create", before=None,
          after=snapshot(row, code=project.code))
    return row


@write_service(Permission.EDIT)
def edit_key_result(*, session: Session, actor: Actor, key_result_id: int, expected_version: int,
                    target_level: object = _UNCHANGED, due: date | str | None = _UNCHANGED,
                    owner: str | None = _UNCHANGED, note: str | None = _UNCHANGED) -> KeyResult:
    """Change a key result's target level, due date, owner or the review's note (``None``: unchanged)."""
    row = _key_result(session, key_result_id)
    check_version(row, expected_version, f"Key result {row.id}")
    values: dict[str, object] = {}
    if target_level is not None:
        values["target_level"] = okr.parse_target_level(target_level)
    if due is not None:
        values["due"] = okr.parse_day(due)
    if owner is not None:
        values["owner"] = one_line(owner, "owner", PERSON_MAX)
    if note is not None:
        values["note"] = _text(note, "note")
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    if not changed:
        return row
    if "target_level" in changed:
        _refuse_duplicate(session, row.objective_id, session.get(Project, row.project_id), changed["target_level"])
    before = snapshot(row)
    for key, value in changed.items():
        setattr(row, key, value)
    session.add(row)
    session.flush()
    audit(session, actor, entity="keyresult", entity_id=row.id, action="update", before=before,
          after=_kr_snapshot(session, row))
    return row


@write_service(Permission.EDIT)
def delete_key_result(*, session: Session, actor: Actor, key_result_id: int, expected_version: int) -> Deletion:
    """Delete a key result and its check-ins (kept in the audit trail, whence an undo restores them)."""
    row = _key_result(session, key_result_id)
    check_version(row, expected_version, f"Key result {row.id}")
    return deletion(session, [_delete_key_result(session, actor, row)[0]])


@write_service(Permission.EDIT)
def check_in(*, session: Session, actor: Actor, key_result_id: int, comment: str, confidence: object,
             at: datetime | date | str | None = None) -> CheckIn:
    """Record where a key result stands: a comment and the confidence (0-10) that it will be met,
    by the acting user, now or at ``at`` (a past moment; never the future)."""
    kr = _key_result(session, key_result_id)
    text = _text(comment, "comment", required=True)
    level = okr.parse_confidence(confidence)
    when = parse_when(at, field="at") if isinstance(at, str) else as_utc(at, field="at")
    now = utcnow()
    if when is None:
        when = now
    elif when > now:
        raise InvalidInput("at", f"{when.isoformat()} is in the future: a check-in records what stands now or stood "
                                 "at a past moment")
    row = CheckIn(key_result_id=kr.id, at=when, author=actor.name, comment=text, confidence=level)
    session.add(row)
    session.flush()
    audit(session, actor, entity="keyresult", entity_id=kr.id, action="check-in", before=None, after=snapshot(row))
    return row


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyResultView:
    """A key result with its technology and its check-ins (newest first)."""

    key_result: KeyResult
    code: str
    name: str  # the technology's name
    level: int | None  # the technology's level now
    check_ins: tuple[CheckIn, ...]

    @property
    def latest_check_in(self) -> CheckIn | None:
        return self.check_ins[0] if self.check_ins else None


@dataclass(frozen=True)
class ObjectiveView:
    """An objective with its key results in their order."""

    objective: Objective
    key_results: tuple[KeyResultView, ...]


def _key_results_of(session: Session, objective_ids: Sequence[int]) -> list[KeyResult]:
    if not objective_ids:
        return []
    return list(session.exec(select(KeyResult).where(col(KeyResult.objective_id).in_(list(objective_ids)))
                             .order_by(col(KeyResult.objective_id), col(KeyResult.position), col(KeyResult.id))).all())


def _views(session: Session, objectives: Iterable[Objective]) -> list[ObjectiveView]:
    objectives = list(objectives)
    rows = session.exec(
        select(KeyResult, Project.code, Project.name, Project.level)
        .join(Project, Project.id == KeyResult.project_id)
        .where(col(KeyResult.objective_id).in_([o.id for o in objectives]))
        .order_by(col(KeyResult.objective_id), col(KeyResult.position), col(KeyResult.id))
    ).all() if objectives else []
    check_ins: dict[int, list[CheckIn]] = {}
    if rows:
        for c in session.exec(select(CheckIn).where(col(CheckIn.key_result_id).in_([r[0].id for r in rows]))
                              .order_by(col(CheckIn.at).desc(), col(CheckIn.id).desc())).all():
            check_ins.setdefault(c.key_result_id, []).append(c)
    by_objective: dict[int, list[KeyResultView]] = {}
    for kr, code, name, level in rows:
        by_objective.setdefault(kr.objective_id, []).append(
            KeyResultView(kr, code, name, level, tuple(check_ins.get(kr.id, ()))))
    return [ObjectiveView(o, tuple(by_objective.get(o.id, ()))) for o in objectives]


def objectives(session: Session, quarter: str) -> list[ObjectiveView]:
    """The objectives of ``quarter`` in the order they were added, each with its key results."""
    text = str(okr.parse_quarter(quarter))
    return _views(session, session.exec(select(Objective).where(Objective.quarter == text)
                                        .order_by(col(Objective.id))).all())


def objective(session: Session, objective_id: int) -> ObjectiveView:
    return _views(session, [_objective(session, objective_id)])[0]


def key_result(session: Session, key_result_id: int) -> KeyResultView:
    kr = _key_result(session, key_result_id)
    project = session.get(Project, kr.project_id)
    return KeyResultView(kr, project.code, project.name, project.level, tuple(_check_ins(session, kr.id)))


def quarters(session: Session) -> list[str]:
    """The quarters that have objectives, oldest first."""
    return list(session.exec(select(Objective.quarter).distinct().order_by(col(Objective.quarter))).all())
