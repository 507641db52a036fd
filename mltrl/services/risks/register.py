"""The requirements register and the risk register of a technology: checking what people type,
adding, editing, accepting and reviewing items, and saving a grid of edits.

* Requirements are keyed by their number (unique per technology); risks by their id (in CSV files,
  ``csvfiles``, by their title).
* Text fields go through ``mltrl.domain.fields`` (text only, no control characters such as NUL,
  trimmed, at most N characters); numbers, choices and requirement numbers through
  ``mltrl.domain.risk``.
* Every change of a risk's p(failure), value or status appends a ``RiskEvent`` (who, when, the new
  values), so a risk's history and the register's trend can be drawn.
* A risk becomes accepted only with who, why and until when: through ``accept_risk``, or from a
  register file that records them (``csvfiles``); never by setting its status.
* Grids save all or nothing: every row is checked first (its version with ``check_version``), and
  any bad row refuses the whole grid with a ``RowErrors`` naming each row, field and reason; the
  rows somebody else saved or deleted meanwhile are also in its ``stale`` (``StaleRow``), so the
  page can say who changed them and keep the person's edits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from mltrl.domain import fields as text_fields
from mltrl.domain import risk as rules
from mltrl.domain.errors import Conflict, InvalidInput, NotFound, RowErrors, StaleRow
from mltrl.domain.permissions import Permission
from mltrl.models import (
    CODE_MAX,
    NAME_MAX,
    NOTE_MAX,
    PERSON_MAX,
    STATEMENT_MAX,
    TEXT_MAX,
    Project,
    Requirement,
    Risk,
    RiskEvent,
    utcnow,
)
from mltrl.services._core import Actor, as_utc, audit, check_version, row_by_id, snapshot, write_service
from mltrl.services.projects import find_project, get_project
from mltrl.services.undo import Deletion, deletion

REQUIREMENT_COLUMNS = ["number", "kind", "statement", "level", "verification_method", "verification_status",
                       "validation_method", "validation_status", "p_failure", "value"]
REQUIRED_REQUIREMENT_COLUMNS = {"number", "statement", "p_failure", "value"}
ACCEPTANCE_COLUMNS = ["accepted_by", "accepted_reason", "accepted_until"]
RISK_COLUMNS = ["title", "description", "category", "component", "requirement", "p_failure", "value",
                "mitigation", "owner", "status", *ACCEPTANCE_COLUMNS]
REQUIRED_RISK_COLUMNS = {"title", "category", "p_failure", "value"}


def _text(data: dict, key: str, limit: int, *, required: bool = False) -> str:
    """A text field: one line (white space folded) up to ``NOTE_MAX`` characters, a block (line
    breaks kept, ends trimmed) above it."""
    check = text_fields.one_line if limit <= NOTE_MAX else text_fields.block
    return check(data.get(key), key, limit, required=required)


# --- requirements -------------------------------------------------------------------------------


def clean_requirement(data: dict[str, Any], project: Project) -> dict[str, Any]:
    """Checked values of a requirement from what a person typed (refusals name the field)."""
    number = rules.parse_number(data.get("number"))
    level = rules.parse_level(data.get("level"))
    if level is None:
        level = project.level
    return {
        "number": number,
        "sort_key": rules.number_sort_key(number),
        "kind": rules.parse_choice(data.get("kind"), rules.Kind, field="kind", default=rules.default_kind(level)).value,
        "statement": _text(data, "statement", STATEMENT_MAX, required=True),
        "level": level,
        "verification_method": _text(data, "verification_method", NOTE_MAX),
        "verification_status": rules.parse_choice(data.get("verification_status"), rules.VVStatus,
                                                  field="verification_status", default=rules.VVStatus.NOT_STARTED).value,
        "validation_method": _text(data, "validation_method", NOTE_MAX),
        "validation_status": rules.parse_choice(data.get("validation_status"), rules.VVStatus,
                                                field="validation_status", default=rules.VVStatus.NOT_STARTED).value,
        "p_failure": rules.parse_probability(data.get("p_failure")),
        "value": rules.parse_value(data.get("value")),
    }


def requirements(session: Session, code: str) -> list[Requirement]:
    """A technology's requirements in number order (1, 1.1, 1.2, ..., 1.10, 2)."""
    project = get_project(session, code)
    return list(session.exec(
        select(Requirement).where(Requirement.project_id == project.id).order_by(col(Requirement.sort_key))
    ).scalars())


def _requirement(session: Session, project: Project, number: str) -> Requirement | None:
    return session.exec(
        select(Requirement).where(Requirement.project_id == project.id, Requirement.number == number)
    ).scalars().first()


def _add_requirement(session: Session, actor: Actor, project: Project, values: dict) -> Requirement:
    if _requirement(session, project, values["number"]) is not None:
        raise InvalidInput("number", f"{values['number']} already exists in {project.code}: numbers are unique "
                                     "per technology")
    row = Requirement(project_id=project.id, created_by=actor.name, **values)
    session.add(row)
    session.flush()
    audit(session, actor, entity="requirement", entity_id=row.id, action="create", before=None,
          after=snapshot(row, code=project.code))
    return row


def _update_requirement(session: Session, actor: Actor, project: Project, row: Requirement, values: dict) -> Requirement:
    if values["number"] != row.number and _requirement(session, project, values["number"]) is not None:
        raise InvalidInput("number", f"{values['number']} already exists in {project.code}")
    before = snapshot(row)
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    if not changed:
        return row
    for key, value in changed.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    audit(session, actor, entity="requirement", entity_id=row.id, action="update", before=before,
          after=snapshot(row, code=project.code))
    return row


@write_service(Permission.EDIT)
def add_requirement(*, session: Session, actor: Actor, code: str, number: str, statement: str,
                    p_failure: object, value: object, kind: str | None = None, level: int | None = None,
                    verification_method: str = "", verification_status: str | None = None,
                    validation_method: str = "", validation_status: str | None = None) -> Requirement:
    """Add a requirement; its number must be new for this technology."""
    project = get_project(session, code)
    fields = {"number": number, "statement": statement, "p_failure": p_failure, "value": value, "kind": kind,
              "level": level, "verification_method": verification_method, "verification_status": verification_status,
              "validation_method": validation_method, "validation_status": validation_status}
    return _add_requirement(session, actor, project, clean_requirement(fields, project))


@write_service(Permission.EDIT)
def update_requirement(*, session: Session, actor: Actor, code: str, number: str, expected_version: int,
                       changes: dict[str, Any]) -> Requirement:
    """Edit requirement ``number`` as seen at ``expected_version`` (a newer one is a conflict);
    ``changes`` maps CSV column names to new values."""
    fields = dict(changes)
    project = get_project(session, code)
    row = _requirement(session, project, rules.parse_number(number))
    if row is None:
        raise NotFound(f"{project.code} has no requirement {number}.")
    check_version(row, expected_version, f"Requirement {row.number} of {project.code}")
    current = {k: getattr(row, k) for k in REQUIREMENT_COLUMNS}
    return _update_requirement(session, actor, project, row, clean_requirement(current | fields, project))


@write_service(Permission.EDIT)
def delete_requirement(*, session: Session, actor: Actor, code: str, number: str,
                       expected_version: int | None = None) -> Deletion:
    """Delete a requirement no risk is linked to (seen at ``expected_version``, when given); the
    delete entry holds it, whence ``undo.restore_deleted`` can put it back."""
    project = get_project(session, code)
    row = _requirement(session, project, rules.parse_number(number))
    if row is None:
        raise NotFound(f"{project.code} has no requirement {number}.")
    check_version(row, expected_version, f"requirement {row.number}")
    linked = session.exec(select(func.count()).select_from(Risk).where(Risk.requirement_id == row.id)).scalar_one()
    if linked:
        raise InvalidInput("number", f"requirement {row.number} has {linked} risk(s) linked to it: unlink them first")
    entry = audit(session, actor, entity="requirement", entity_id=row.id, action="delete",
                  before=snapshot(row, code=project.code), after=None)
    session.delete(row)
    session.flush()
    return deletion(session, [entry])


# --- risks --------------------------------------------------------------------------------------


def clean_risk(data: dict[str, Any], session: Session, project: Project, *,
               requirement_ids: dict[str, int] | None = None) -> dict[str, Any]:
    """Checked values of a risk (component and requirement are resolved by code and number;
    ``requirement_ids`` (number -> id of this technology's requirements) spares a query per row)."""
    component_id = None
    component = text_fields.one_line(data.get("component"), "component", CODE_MAX)
    if component:
        found = find_project(session, component)
        if found is None:
            raise InvalidInput("component", f"no technology has the code {component!r}")
        component_id = found.id
    requirement_id = None
    number = text_fields.one_line(data.get("requirement"), "requirement", CODE_MAX)
    if number:
        number = rules.parse_number(number, field="requirement")
        if requirement_ids is not None:
            requirement_id = requirement_ids.get(number)
        else:
            req = _requirement(session, project, number)
            requirement_id = req.id if req is not None else None
        if requirement_id is None:
            raise InvalidInput("requirement", f"{project.code} has no requirement {number}")
    return {
        "title": _text(data, "title", NAME_MAX, required=True),
        "description": _text(data, "description", TEXT_MAX),
        "category": rules.parse_choice(data.get("category"), rules.Category, field="category").value,
        "component_id": component_id,
        "requirement_id": requirement_id,
        "p_failure": rules.parse_probability(data.get("p_failure")),
        "value": rules.parse_value(data.get("value")),
        "mitigation": _text(data, "mitigation", TEXT_MAX),
        "owner": _text(data, "owner", PERSON_MAX),
        "status": rules.parse_choice(data.get("status"), rules.RiskStatus, field="status",
                                     default=rules.RiskStatus.OPEN).value,
    }


def clean_acceptance(data: dict[str, Any], status: str, current: Risk | None) -> dict[str, Any]:
    """The acceptance a register file records for a risk of ``status`` (who, why, until when), as
    fields of the risk; ``current`` is the risk the row updates, if any. An accepted row with no
    acceptance keeps the acceptance of a risk that is accepted already (files written before the
    columns existed); a new acceptance needs all three; a risk that is not accepted has none."""
    cells = {k: data.get(k) for k in ACCEPTANCE_COLUMNS}
    given = [k for k, v in cells.items() if v not in (None, "")]
    if status != rules.RiskStatus.ACCEPTED:
        if given:
            raise InvalidInput(given[0], f"only an accepted risk has an acceptance (this one is {status}): "
                                         "leave it empty, or set the status to accepted")
        return {}
    if not given and current is not None and current.status == rules.RiskStatus.ACCEPTED:
        return {}
    missing = [k for k in ACCEPTANCE_COLUMNS if k not in given]
    if missing:
        raise InvalidInput(missing[0], "required for an accepted risk: who accepted it (accepted_by), why "
                                       "(accepted_reason) and until when (accepted_until, a date such as 2027-03-31)")
    return {
        "accepted_by": text_fields.one_line(cells["accepted_by"], "accepted_by", PERSON_MAX, required=True),
        "accepted_reason": text_fields.one_line(cells["accepted_reason"], "accepted_reason", NOTE_MAX, required=True),
        "accepted_until": rules.parse_until(cells["accepted_until"]),
    }


def _event(session: Session, actor: Actor, row: Risk, action: str) -> None:
    session.add(RiskEvent(risk_id=row.id, project_id=row.project_id, actor=actor.name, action=action,
                          p_failure=row.p_failure, value=row.value, status=row.status))


_NOT_BY_STATUS = "accept a risk with its reason and review date (Accept), not by setting the status"


def _add_risk(session: Session, actor: Actor, project: Project, values: dict) -> Risk:
    """Add a risk; an accepted one only with its acceptance in ``values`` (from a file)."""
    if values["status"] == rules.RiskStatus.ACCEPTED and not values.get("accepted_by"):
        raise InvalidInput("status", _NOT_BY_STATUS)
    row = Risk(project_id=project.id, created_by=actor.name, **values)
    session.add(row)
    session.flush()
    _event(session, actor, row, "create")
    session.flush()
    audit(session, actor, entity="risk", entity_id=row.id, action="create", before=None,
          after=snapshot(row, code=project.code))
    return row


def _same(old: object, new: object) -> bool:
    if isinstance(old, datetime) and isinstance(new, datetime):
        return as_utc(old) == as_utc(new)
    return old == new


def _update_risk(session: Session, actor: Actor, project: Project, row: Risk, values: dict, *, action: str = "update") -> Risk:
    """Apply ``values`` to ``row``; it becomes accepted only with its acceptance in ``values``
    (from a file), and leaving the accepted status clears the acceptance."""
    if (values.get("status") == rules.RiskStatus.ACCEPTED and row.status != rules.RiskStatus.ACCEPTED
            and not values.get("accepted_by")):
        raise InvalidInput("status", _NOT_BY_STATUS)
    before = snapshot(row)
    changed = {k: v for k, v in values.items() if not _same(getattr(row, k), v)}
    if not changed:
        return row
    for key, value in changed.items():
        setattr(row, key, value)
    if "status" in changed and row.status != rules.RiskStatus.ACCEPTED:
        row.accepted_by = row.accepted_reason = None
        row.accepted_until = None
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    if {"p_failure", "value", "status"} & set(changed):
        _event(session, actor, row, action)
    audit(session, actor, entity="risk", entity_id=row.id, action=action, before=before,
          after=snapshot(row, code=project.code))
    return row


def _risk(session: Session, project: Project, risk_id: int) -> Risk:
    row = row_by_id(session, Risk, risk_id)
    if row is None or row.project_id != project.id:
        raise NotFound(f"{project.code} has no risk {risk_id}.")
    return row



@write_service(Permission.EDIT)
def add_risk(*, session: Session, actor: Actor, code: str, title: str, category: str, p_failure: object,
             value: object, description: str = "", component: str | None = None, requirement: str | None = None,
             mitigation: str = "", owner: str = "", status: str | None = None) -> Risk:
    """Add a risk to a technology's register."""
    project = get_project(session, code)
    fields = {"title": title, "category": category, "p_failure": p_failure, "value": value,
              "description": description, "component": component, "requirement": requirement,
              "mitigation": mitigation, "owner": owner, "status": status}
    return _add_risk(session, actor, project, clean_risk(fields, session, project))


@write_service(Permission.EDIT)
def update_risk(*, session: Session, actor: Actor, code: str, risk_id: int, expected_version: int,
                changes: dict[str, Any]) -> Risk:
    """Edit a risk as seen at ``expected_version``; a change of p, value or status is kept in its
    history. ``changes`` maps CSV column names to new values."""
    fields = dict(changes)
    project = get_project(session, code)
    row = _risk(session, project, risk_id)
    check_version(row, expected_version, f"Risk {row.title!r} of {project.code}")
    current = risk_record(session, row)
    return _update_risk(session, actor, project, row, clean_risk(current | fields, session, project))


@write_service(Permission.EDIT)
def review_risk(*, session: Session, actor: Actor, code: str, risk_id: int, expected_version: int) -> Risk:
    """Record that the risk was reviewed now: its review clock restarts."""
    project = get_project(session, code)
    row = _risk(session, project, risk_id)
    check_version(row, expected_version, f"Risk {row.title!r} of {project.code}")
    before = snapshot(row)
    row.last_reviewed_at = row.updated_at = utcnow()
    session.add(row)
    session.flush()
    _event(session, actor, row, "review")
    audit(session, actor, entity="risk", entity_id=row.id, action="review", before=before, after=snapshot(row))
    return row


@write_service(Permission.EDIT)
def accept_risk(*, session: Session, actor: Actor, code: str, risk_id: int, expected_version: int,
                reason: str, until: datetime) -> Risk:
    """Accept a risk: who accepted it (the actor), why, and until when it stands: ``until`` is the
    last instant it stands (the overdue SQL ends it once ``accepted_until < now``), so "until D"
    is ``days.last_instant(D)``; it must lie in the future."""
    project = get_project(session, code)
    row = _risk(session, project, risk_id)
    check_version(row, expected_version, f"Risk {row.title!r} of {project.code}")
    reason = text_fields.one_line(reason, "reason", NOTE_MAX)
    if not reason:
        raise InvalidInput("reason", "required: say why the risk is accepted")
    until = as_utc(until, field="until")
    if until is None or until <= utcnow():
        raise InvalidInput("until", "a date in the future, when the acceptance must be reconsidered")
    before = snapshot(row)
    row.status = rules.RiskStatus.ACCEPTED.value
    row.accepted_by, row.accepted_reason, row.accepted_until = actor.name, reason, until
    row.last_reviewed_at = row.updated_at = utcnow()
    session.add(row)
    session.flush()
    _event(session, actor, row, "accept")
    audit(session, actor, entity="risk", entity_id=row.id, action="accept", before=before, after=snapshot(row))
    return row


def risks(session: Session, code: str) -> list[Risk]:
    """A technology's risks, highest risk (p x value) first."""
    project = get_project(session, code)
    return list(session.exec(
        select(Risk).where(Risk.project_id == project.id)
        .order_by((Risk.p_failure * Risk.value).desc(), col(Risk.id))
    ).scalars())


def risk_record(session: Session, row: Risk, *, codes: dict[int, str] | None = None,
                numbers: dict[int, str] | None = None) -> dict[str, Any]:
    """A risk as its CSV row (component as a code, requirement as a number, the acceptance's end as
    ``rules.until_cell`` writes it); ``codes`` and ``numbers`` (id -> code / number) spare a query
    per row when many risks are written."""
    component = requirement = ""
    if row.component_id:
        component = codes[row.component_id] if codes is not None else session.get(Project, row.component_id).code
    if row.requirement_id:
        requirement = (numbers[row.requirement_id] if numbers is not None
                       else session.get(Requirement, row.requirement_id).number)
    return {"title": row.title, "description": row.description, "category": row.category, "component": component,
            "requirement": requirement, "p_failure": row.p_failure, "value": row.value,
            "mitigation": row.mitigation, "owner": row.owner, "status": row.status,
            "accepted_by": row.accepted_by or "", "accepted_reason": row.accepted_reason or "",
            "accepted_until": rules.until_cell(row.accepted_until) if row.accepted_until is not None else ""}


def risk_history(session: Session, risk_id: int) -> list[RiskEvent]:
    return list(session.exec(
        select(RiskEvent).where(RiskEvent.risk_id == risk_id).order_by(col(RiskEvent.at), col(RiskEvent.id))
    ).scalars())


# --- grid edits ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowEdit:
    """One edited row of a grid: the item (a requirement's number, a risk's id), the version the
    person saw, and the changed columns (CSV column names -> new values)."""

    key: str
    expected_version: int
    changes: dict[str, Any]
    # The row's id, when the grid knows it: the row is then found by it, so a requirement renumbered
    # by someone else meanwhile is met as a change of that requirement (a conflict), not as a gone one.
    row_id: int | None = None


@dataclass(frozen=True)
class EditSummary:
    updated: int
    deleted: int
    deletion: Deletion | None = None  # what the deletions removed, to undo them


def _stale(row: Requirement | Risk, item: RowEdit, label: str) -> str | None:
    """Why a grid row is stale (``check_version``'s words, without the label), or None."""
    try:
        check_version(row, item.expected_version, label)
    except Conflict as exc:
        return exc.message.removeprefix(f"{label} ")
    return None


@write_service(Permission.EDIT)
def edit_requirements(*, session: Session, actor: Actor, code: str, edits: list[RowEdit],
                      deletions: list[RowEdit]) -> EditSummary:
    """Save a grid of requirement edits and deletions at once: every row is checked first, and any
    bad row refuses the whole grid (``RowErrors`` naming each requirement, field and reason; rows
    somebody else saved or deleted since are also listed in its ``stale``)."""
    project = get_project(session, code)
    rows = {r.number: r for r in requirements(session, code)}
    by_id = {r.id: r for r in rows.values()}
    errors: list[tuple[int | str, str, str]] = []
    stale_rows: list[StaleRow] = []
    cleaned: list[tuple[Requirement, dict]] = []
    deleted: list[Requirement] = []

    def find(item: RowEdit) -> Requirement | None:
        return by_id.get(item.row_id) if item.row_id is not None else rows.get(str(item.key))

    def gone(item: RowEdit, label: str) -> None:
        errors.append((label, "number", "no longer exists (deleted by someone else?)"))
        stale_rows.append(StaleRow(str(item.key), item.row_id, None))

    def moved_on(row: Requirement, item: RowEdit, label: str) -> bool:
        if stale := _stale(row, item, label):
            errors.append((label, "version", stale))
            stale_rows.append(StaleRow(str(item.key), row.id, row.version))
        return bool(stale)

    for item in deletions:
        row = find(item)
        label = f"requirement {rules.shown(item.key) if not isinstance(item.key, str) else item.key}"
        if row is None:
            gone(item, label)
        elif moved_on(row, item, label):
            pass
        elif linked := session.exec(select(func.count()).select_from(Risk)
                                    .where(Risk.requirement_id == row.id)).scalar_one():
            errors.append((label, "number", f"{linked} risk(s) are linked to it: unlink them first"))
        else:
            deleted.append(row)
    for item in edits:
        row = find(item)
        label = f"requirement {rules.shown(item.key) if not isinstance(item.key, str) else item.key}"
        if row is None:
            gone(item, label)
            continue
        if moved_on(row, item, label):
            continue
        current = {k: getattr(row, k) for k in REQUIREMENT_COLUMNS}
        try:
            cleaned.append((row, clean_requirement(current | item.changes, project)))
        except InvalidInput as exc:
            errors.append((label, exc.field, exc.message.split(": ", 1)[-1]))
    final = {r.id: r.number for r in rows.values() if r not in deleted} | {r.id: v["number"] for r, v in cleaned}
    holders: dict[str, int] = {}
    for row_id, number in final.items():
        if number in holders:
            errors.append((f"requirement {number}", "number", f"{number} would be held by two requirements: "
                                                                "numbers are unique per technology"))
        holders[number] = row_id
    if errors:
        raise RowErrors("requirements", errors, verb="saved", stale=stale_rows)
    entries = []
    for row in deleted:
        entries.append(audit(session, actor, entity="requirement", entity_id=row.id, action="delete",
                             before=snapshot(row, code=project.code), after=None))
        session.delete(row)
    session.flush()
    for row, values in cleaned:
        _update_requirement(session, actor, project, row, values)
    return EditSummary(updated=len(cleaned), deleted=len(deleted),
                       deletion=deletion(session, entries) if entries else None)


@write_service(Permission.EDIT)
def edit_risks(*, session: Session, actor: Actor, code: str, edits: list[RowEdit]) -> EditSummary:
    """Save a grid of risk edits at once, all or nothing (risks are closed, not deleted, so their
    history stays); rows somebody else saved since are also listed in the refusal's ``stale``."""
    project = get_project(session, code)
    rows = {str(r.id): r for r in risks(session, code)}
    errors: list[tuple[int | str, str, str]] = []
    stale_rows: list[StaleRow] = []
    cleaned: list[tuple[Risk, dict]] = []
    for item in edits:
        row = rows.get(str(item.key))
        label = f"risk {row.title!r}" if row is not None else f"risk #{item.key}"
        if row is None:
            errors.append((label, "title", "no longer exists"))
            stale_rows.append(StaleRow(str(item.key), item.row_id, None))
            continue
        if stale := _stale(row, item, label):
            errors.append((label, "version", stale))
            stale_rows.append(StaleRow(str(item.key), row.id, row.version))
            continue
        try:
            values = clean_risk(risk_record(session, row) | item.changes, session, project)
            if values["status"] == rules.RiskStatus.ACCEPTED and row.status != rules.RiskStatus.ACCEPTED:
                raise InvalidInput("status", "accept a risk with its reason and date (Accept), not in the grid")
            cleaned.append((row, values))
        except InvalidInput as exc:
            errors.append((label, exc.field, exc.message.split(": ", 1)[-1]))
    if errors:
        raise RowErrors("risks", errors, verb="saved", stale=stale_rows)
    for row, values in cleaned:
        _update_risk(session, actor, project, row, values)
    return EditSummary(updated=len(cleaned), deleted=0)


