"""The requirements register and the risk register of a technology, their CSV files, and the 5x5
matrix counts (computed in SQL with the bands of ``mltrl.domain.risk``).

* Requirements are keyed by their number (unique per technology); risks by their id, and in CSV
  files by their title (unique per technology within a file: importing updates the risk of that
  title, or adds it).
* Every change of a risk's p(failure), value or status appends a ``RiskEvent`` (who, when, the new
  values), so a risk's history and the register's trend can be drawn.
* Imports are all or nothing: every row is checked first, and any bad row refuses the whole file
  with a ``RowErrors`` naming each row, field and reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, literal_column, or_, select
from sqlmodel import Session, col

from mltrl.domain import levels as level_rules
from mltrl.domain import risk as rules
from mltrl.domain.errors import InvalidInput, NotFound, RowErrors
from mltrl.models import (
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
from mltrl.domain.permissions import Permission
from mltrl.domain.policy import Policy
from mltrl.services._core import Actor, check_version, as_utc, audit, snapshot, write_service
from mltrl.services.projects import find_project, get_project

REQUIREMENT_COLUMNS = ["number", "kind", "statement", "level", "verification_method", "verification_status",
                       "validation_method", "validation_status", "p_failure", "value"]
REQUIRED_REQUIREMENT_COLUMNS = {"number", "statement", "p_failure", "value"}
RISK_COLUMNS = ["title", "description", "category", "component", "requirement", "p_failure", "value",
                "mitigation", "owner", "status"]
REQUIRED_RISK_COLUMNS = {"title", "category", "p_failure", "value"}


def _text(data: dict, key: str, limit: int, *, required: bool = False) -> str:
    value = " ".join(str(data.get(key) or "").split()) if limit <= NOTE_MAX else str(data.get(key) or "").strip()
    if required and not value:
        raise InvalidInput(key, "required")
    if len(value) > limit:
        raise InvalidInput(key, f"at most {limit} characters (got {len(value)})")
    return value


def _level(raw: object) -> int | None:
    if raw is None or str(raw).strip() == "":
        return None
    try:
        level = int(str(raw).strip())
    except ValueError:
        raise InvalidInput("level", f"{raw!r} is not a level: an integer from 0 to 9") from None
    if not 0 <= level <= 9:
        raise InvalidInput("level", f"{level} is outside 0-9")
    return level


# --- requirements -------------------------------------------------------------------------------


def clean_requirement(data: dict[str, Any], project: Project) -> dict[str, Any]:
    """Checked values of a requirement from what a person typed (refusals name the field)."""
    number = rules.parse_number(data.get("number"))
    level = _level(data.get("level"))
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
def delete_requirement(*, session: Session, actor: Actor, code: str, number: str) -> None:
    project = get_project(session, code)
    row = _requirement(session, project, rules.parse_number(number))
    if row is None:
        raise NotFound(f"{project.code} has no requirement {number}.")
    linked = session.exec(select(func.count()).select_from(Risk).where(Risk.requirement_id == row.id)).scalar_one()
    if linked:
        raise InvalidInput("number", f"requirement {row.number} has {linked} risk(s) linked to it: unlink them first")
    audit(session, actor, entity="requirement", entity_id=row.id, action="delete", before=snapshot(row), after=None)
    session.delete(row)
    session.flush()


# --- risks --------------------------------------------------------------------------------------


def clean_risk(data: dict[str, Any], session: Session, project: Project, *,
               requirement_ids: dict[str, int] | None = None) -> dict[str, Any]:
    """Checked values of a risk (component and requirement are resolved by code and number;
    ``requirement_ids`` (number -> id of this technology's requirements) spares a query per row)."""
    component_id = None
    component = str(data.get("component") or "").strip()
    if component:
        found = find_project(session, component)
        if found is None:
            raise InvalidInput("component", f"no technology has the code {component!r}")
        component_id = found.id
    requirement_id = None
    number = str(data.get("requirement") or "").strip()
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


def _event(session: Session, actor: Actor, row: Risk, action: str) -> None:
    session.add(RiskEvent(risk_id=row.id, project_id=row.project_id, actor=actor.name, action=action,
                          p_failure=row.p_failure, value=row.value, status=row.status))


def _add_risk(session: Session, actor: Actor, project: Project, values: dict) -> Risk:
    if values["status"] == rules.RiskStatus.ACCEPTED:
        raise InvalidInput("status", "accept a risk with its reason and review date (Accept), not by setting the status")
    row = Risk(project_id=project.id, created_by=actor.name, **values)
    session.add(row)
    session.flush()
    _event(session, actor, row, "create")
    session.flush()
    audit(session, actor, entity="risk", entity_id=row.id, action="create", before=None,
          after=snapshot(row, code=project.code))
    return row


def _update_risk(session: Session, actor: Actor, project: Project, row: Risk, values: dict, *, action: str = "update") -> Risk:
    if values.get("status") == rules.RiskStatus.ACCEPTED and row.status != rules.RiskStatus.ACCEPTED:
        raise InvalidInput("status", "accept a risk with its reason and review date (Accept), not by setting the status")
    before = snapshot(row)
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
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
    row = session.get(Risk, risk_id)
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
    """Accept a risk: who accepted it (the actor), why, and until when it stands."""
    project = get_project(session, code)
    row = _risk(session, project, risk_id)
    check_version(row, expected_version, f"Risk {row.title!r} of {project.code}")
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput("reason", "say why the risk is accepted")
    if len(reason) > NOTE_MAX:
        raise InvalidInput("reason", f"at most {NOTE_MAX} characters")
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
    """A risk as its CSV row (component as a code, requirement as a number); ``codes`` and
    ``numbers`` (id -> code / number) spare a query per row when many risks are written."""
    component = requirement = ""
    if row.component_id:
        component = codes[row.component_id] if codes is not None else session.get(Project, row.component_id).code
    if row.requirement_id:
        requirement = (numbers[row.requirement_id] if numbers is not None
                       else session.get(Requirement, row.requirement_id).number)
    return {"title": row.title, "description": row.description, "category": row.category, "component": component,
            "requirement": requirement, "p_failure": row.p_failure, "value": row.value,
            "mitigation": row.mitigation, "owner": row.owner, "status": row.status}


def risk_history(session: Session, risk_id: int) -> list[RiskEvent]:
    return list(session.exec(
        select(RiskEvent).where(RiskEvent.risk_id == risk_id).order_by(col(RiskEvent.at), col(RiskEvent.id))
    ).scalars())


# --- CSV ----------------------------------------------------------------------------------------


def _csv(rows: Iterable[dict], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
    return out.getvalue()


def export_requirements(session: Session, code: str) -> str:
    return _csv(({k: getattr(r, k) for k in REQUIREMENT_COLUMNS} for r in requirements(session, code)),
                REQUIREMENT_COLUMNS)


def export_risks(session: Session, code: str) -> str:
    rows = risks(session, code)
    used = {r.component_id for r in rows if r.component_id}
    codes = dict(session.execute(select(Project.id, Project.code).where(col(Project.id).in_(used))).all()) if used else {}
    numbers = dict(session.execute(
        select(Requirement.id, Requirement.number).where(Requirement.project_id == get_project(session, code).id)
    ).all())
    return _csv((risk_record(session, r, codes=codes, numbers=numbers) for r in rows), RISK_COLUMNS)


def _read_csv(text: str, columns: list[str], required: set[str], what: str) -> list[tuple[int, dict]]:
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise InvalidInput(what, "the file is empty: the first line names the columns")
    unknown = [h for h in header if h not in columns]
    if unknown:
        raise InvalidInput(what, f"unknown column(s) {', '.join(map(repr, unknown))}; the columns are "
                                 f"{', '.join(columns)}")
    missing = sorted(required - set(header))
    if missing:
        raise InvalidInput(what, f"missing required column(s) {', '.join(missing)}")
    reader.fieldnames = header
    rows = []
    for line, row in enumerate(reader, start=2):
        if None in row:
            raise RowErrors(what, [(line, "(row)", "more cells than columns")])
        if any((v or "").strip() for v in row.values()):
            rows.append((line, {k: (v or "").strip() for k, v in row.items()}))
    return rows


@dataclass(frozen=True)
class ImportSummary:
    added: int
    updated: int


@write_service(Permission.EDIT)
def import_requirements(*, session: Session, actor: Actor, code: str, text: str) -> ImportSummary:
    """Add or update (by number) every requirement of a CSV file; all or nothing."""
    project = get_project(session, code)
    rows = _read_csv(text, REQUIREMENT_COLUMNS, REQUIRED_REQUIREMENT_COLUMNS, "requirements file")
    errors: list[tuple[int, str, str]] = []
    cleaned: list[tuple[int, dict]] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        try:
            values = clean_requirement(row, project)
        except InvalidInput as exc:
            errors.append((line, exc.field, exc.message.split(": ", 1)[-1]))
            continue
        if values["number"] in seen:
            errors.append((line, "number", f"{values['number']} is also on row {seen[values['number']]}"))
            continue
        seen[values["number"]] = line
        cleaned.append((line, values))
    if errors:
        raise RowErrors("requirements file", errors)
    added = updated = 0
    for _, values in cleaned:
        row = _requirement(session, project, values["number"])
        if row is None:
            _add_requirement(session, actor, project, values)
            added += 1
        else:
            _update_requirement(session, actor, project, row, values)
            updated += 1
    return ImportSummary(added, updated)


@write_service(Permission.EDIT)
def import_risks(*, session: Session, actor: Actor, code: str, text: str) -> ImportSummary:
    """Add or update (by title) every risk of a CSV file; all or nothing."""
    project = get_project(session, code)
    rows = _read_csv(text, RISK_COLUMNS, REQUIRED_RISK_COLUMNS, "risks file")
    existing = {r.title.lower(): r for r in risks(session, code)}
    requirement_ids = dict(session.execute(
        select(Requirement.number, Requirement.id).where(Requirement.project_id == project.id)).all())
    errors: list[tuple[int, str, str]] = []
    cleaned: list[dict] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        try:
            values = clean_risk(row, session, project, requirement_ids=requirement_ids)
            if values["status"] == rules.RiskStatus.ACCEPTED and not (
                    values["title"].lower() in existing
                    and existing[values["title"].lower()].status == rules.RiskStatus.ACCEPTED):
                raise InvalidInput("status", "accepted risks are accepted in the app, with who, why and until when")
        except InvalidInput as exc:
            errors.append((line, exc.field, exc.message.split(": ", 1)[-1]))
            continue
        key = values["title"].lower()
        if key in seen:
            errors.append((line, "title", f"{values['title']!r} is also on row {seen[key]}"))
            continue
        seen[key] = line
        cleaned.append(values)
    if errors:
        raise RowErrors("risks file", errors)
    added = updated = 0
    for values in cleaned:
        row = existing.get(values["title"].lower())
        if row is None:
            _add_risk(session, actor, project, values)
            added += 1
        else:
            _update_risk(session, actor, project, row, values, action="import")
            updated += 1
    return ImportSummary(added, updated)


# --- matrices -----------------------------------------------------------------------------------


def matrix_counts(session: Session, code: str | None = None, *, requirements_matrix: bool = False,
                  project_levels: Iterable[int] | None = None, categories: Iterable[str] | None = None
                  ) -> dict[tuple[int, int], int]:
    """Cell counts (p band, value band) -> n, counted in SQL: the risks that are not closed (or the
    requirements), of one technology or of the portfolio, optionally only of technologies at
    ``project_levels`` and of risk ``categories``."""
    model = Requirement if requirements_matrix else Risk
    table = model.__tablename__
    pb = literal_column(rules.p_band_sql(f"{table}.p_failure")).label("pb")
    vb = literal_column(rules.value_band_sql(f"{table}.value")).label("vb")
    query = select(pb, vb, func.count()).select_from(model)
    if not requirements_matrix:
        query = query.where(Risk.status != rules.RiskStatus.CLOSED.value)
        if categories:
            query = query.where(col(Risk.category).in_(list(categories)))
    if code is not None:
        query = query.where(model.project_id == get_project(session, code).id)
    if project_levels is not None:
        query = query.join(Project, Project.id == model.project_id).where(col(Project.level).in_(list(project_levels)))
    query = query.group_by(literal_column("pb"), literal_column("vb"))
    return {(int(p), int(v)): int(n) for p, v, n in session.execute(query).all()}


def cell_items(session: Session, pb: int, vb: int, code: str | None = None, *, requirements_matrix: bool = False,
               project_levels: Iterable[int] | None = None, categories: Iterable[str] | None = None,
               limit: int = 500) -> list[dict[str, Any]]:
    """What falls in one cell (with the filters of ``matrix_counts``): the items a person selecting
    that cell wants to see, highest risk first."""
    model = Requirement if requirements_matrix else Risk
    table = model.__tablename__
    query = (select(model, Project.code).join(Project, Project.id == model.project_id)
             .where(literal_column(rules.p_band_sql(f"{table}.p_failure")) == pb)
             .where(literal_column(rules.value_band_sql(f"{table}.value")) == vb))
    if not requirements_matrix:
        query = query.where(Risk.status != rules.RiskStatus.CLOSED.value)
        if categories:
            query = query.where(col(Risk.category).in_(list(categories)))
    if code is not None:
        query = query.where(model.project_id == get_project(session, code).id)
    if project_levels is not None:
        query = query.where(col(Project.level).in_(list(project_levels)))
    query = query.order_by((model.p_failure * model.value).desc(), col(model.id)).limit(limit)
    items = []
    for row, project_code in session.execute(query).all():
        label = row.title if isinstance(row, Risk) else f"{row.number} · {row.statement}"
        items.append({"code": project_code, "item": label, "p_failure": row.p_failure, "value": row.value,
                      "risk": round(rules.score(row.p_failure, row.value), 3),
                      "status": row.status if isinstance(row, Risk) else row.verification_status})
    return items


# --- grid edits ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowEdit:
    """One edited row of a grid: the item (a requirement's number, a risk's id), the version the
    person saw, and the changed columns (CSV column names -> new values)."""

    key: str
    expected_version: int
    changes: dict[str, Any]


@dataclass(frozen=True)
class EditSummary:
    updated: int
    deleted: int


@write_service(Permission.EDIT)
def edit_requirements(*, session: Session, actor: Actor, code: str, edits: list[RowEdit],
                      deletions: list[RowEdit]) -> EditSummary:
    """Save a grid of requirement edits and deletions at once: every row is checked first, and any
    bad row refuses the whole grid (``RowErrors`` naming each requirement, field and reason)."""
    project = get_project(session, code)
    rows = {r.number: r for r in requirements(session, code)}
    errors: list[tuple[int | str, str, str]] = []
    cleaned: list[tuple[Requirement, dict]] = []
    deleted: list[Requirement] = []
    for item in deletions:
        row = rows.get(item.key)
        label = f"requirement {item.key}"
        if row is None:
            errors.append((label, "number", "no longer exists (deleted by someone else?)"))
        elif row.version != item.expected_version:
            errors.append((label, "version", "changed since you opened it; reload and try again"))
        elif linked := session.exec(select(func.count()).select_from(Risk)
                                    .where(Risk.requirement_id == row.id)).scalar_one():
            errors.append((label, "number", f"{linked} risk(s) are linked to it: unlink them first"))
        else:
            deleted.append(row)
    for item in edits:
        row = rows.get(item.key)
        label = f"requirement {item.key}"
        if row is None:
            errors.append((label, "number", "no longer exists (deleted by someone else?)"))
            continue
        if row.version != item.expected_version:
            errors.append((label, "version", "changed since you opened it; reload and try again"))
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
        raise RowErrors("requirements", errors, verb="saved")
    for row in deleted:
        audit(session, actor, entity="requirement", entity_id=row.id, action="delete", before=snapshot(row), after=None)
        session.delete(row)
    session.flush()
    for row, values in cleaned:
        _update_requirement(session, actor, project, row, values)
    return EditSummary(updated=len(cleaned), deleted=len(deleted))


@write_service(Permission.EDIT)
def edit_risks(*, session: Session, actor: Actor, code: str, edits: list[RowEdit]) -> EditSummary:
    """Save a grid of risk edits at once, all or nothing (risks are closed, not deleted, so their
    history stays)."""
    project = get_project(session, code)
    rows = {str(r.id): r for r in risks(session, code)}
    errors: list[tuple[int | str, str, str]] = []
    cleaned: list[tuple[Risk, dict]] = []
    for item in edits:
        row = rows.get(str(item.key))
        label = f"risk {row.title!r}" if row is not None else f"risk #{item.key}"
        if row is None:
            errors.append((label, "title", "no longer exists"))
            continue
        if row.version != item.expected_version:
            errors.append((label, "version", "changed since you opened it; reload and try again"))
            continue
        try:
            values = clean_risk(risk_record(session, row) | item.changes, session, project)
            if values["status"] == rules.RiskStatus.ACCEPTED and row.status != rules.RiskStatus.ACCEPTED:
                raise InvalidInput("status", "accept a risk with its reason and date (Accept), not in the grid")
            cleaned.append((row, values))
        except InvalidInput as exc:
            errors.append((label, exc.field, exc.message.split(": ", 1)[-1]))
    if errors:
        raise RowErrors("risks", errors, verb="saved")
    for row, values in cleaned:
        _update_risk(session, actor, project, row, values)
    return EditSummary(updated=len(cleaned), deleted=0)


# --- the portfolio's risks ----------------------------------------------------------------------


def levels_of(phases: Iterable[str] = (), levels: Iterable[int] = ()) -> list[int] | None:
    """The levels a phase and level filter keeps (None: no filter)."""
    chosen = {int(lv) for lv in levels}
    for phase in phases:
        chosen |= set(level_rules.PHASE_LEVELS[level_rules.Phase(phase)])
    return sorted(chosen) if chosen or list(phases) or list(levels) else None


def _filtered(query, *, project_levels: Iterable[int] | None, categories: Iterable[str] | None,
              project_joined: bool = False):
    """``query`` over ``Risk`` narrowed to technologies at ``project_levels`` and to ``categories``
    (``Project`` is joined only when the level filter needs it)."""
    if project_levels is not None:
        if not project_joined:
            query = query.join(Project, Project.id == Risk.project_id)
        query = query.where(col(Project.level).in_(list(project_levels)))
    if categories:
        query = query.where(col(Risk.category).in_(list(categories)))
    return query


_SCORE = literal_column(rules.cell_score_sql("risk.p_failure", "risk.value"))


def _risk_rows(session: Session, ids: list[int], policy: Policy) -> list[dict[str, Any]]:
    """The risks ``ids`` (in that order) as the portfolio lists them, due dates computed here."""
    if not ids:
        return []
    found = {row.id: (code, name, row) for code, name, row in session.execute(
        select(Project.code, Project.name, Risk).join(Project, Project.id == Risk.project_id)
        .where(col(Risk.id).in_(ids))).all()}
    out = []
    for code, name, row in (found[i] for i in ids):
        due = rules.next_review(as_utc(row.last_reviewed_at), row.p_failure, row.value, policy.risk_review_days,
                                accepted_until=as_utc(row.accepted_until))
        out.append({"code": code, "technology": name, "id": row.id, "title": row.title, "category": row.category,
                    "p_failure": row.p_failure, "value": row.value, "risk": round(rules.score(row.p_failure, row.value), 3),
                    "grade": rules.grade_of(row.p_failure, row.value).name, "status": row.status, "owner": row.owner,
                    "last_reviewed": as_utc(row.last_reviewed_at), "next_review": due})
    return out


def top_risks(session: Session, policy: Policy, *, limit: int = 20, project_levels: Iterable[int] | None = None,
              categories: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The highest risks (p x value) that are not closed, across technologies."""
    query = _filtered(select(Risk.id).where(Risk.status != rules.RiskStatus.CLOSED.value),
                      project_levels=project_levels, categories=categories)
    query = query.order_by((Risk.p_failure * Risk.value).desc(), col(Risk.id)).limit(limit)
    return _risk_rows(session, list(session.execute(query).scalars()), policy)


def _overdue_clause(now: datetime, policy: Policy):
    """SQL: the risk is not closed and its review is due before ``now`` (grade cadence, or the end
    of an acceptance). No date arithmetic in SQL: each grade compares with its own cutoff."""
    due = [and_(_SCORE.between(lo, hi), Risk.last_reviewed_at < now - timedelta(days=policy.risk_review_days[g.name]))
           for g, lo, hi in rules.grade_score_ranges()]
    due.append(and_(Risk.status == rules.RiskStatus.ACCEPTED.value, Risk.accepted_until < now))
    return and_(Risk.status != rules.RiskStatus.CLOSED.value, or_(*due))


def overdue_risks(session: Session, policy: Policy, *, now: datetime | None = None, limit: int = 200,
                  project_levels: Iterable[int] | None = None, categories: Iterable[str] | None = None
                  ) -> tuple[int, list[dict[str, Any]]]:
    """How many risks are overdue for review, and the first ``limit`` of them (most serious cell
    first, then the oldest review)."""
    where = _overdue_clause(now or utcnow(), policy)
    filters = {"project_levels": project_levels, "categories": categories}
    total = session.execute(_filtered(select(func.count()).select_from(Risk).where(where), **filters)).scalar_one()
    ids = _filtered(select(Risk.id).where(where), **filters).order_by(
        _SCORE.desc(), col(Risk.last_reviewed_at), col(Risk.id)).limit(limit)
    return total, _risk_rows(session, list(session.execute(ids).scalars()), policy)


def risk_growth(session: Session, *, project_levels: Iterable[int] | None = None,
                categories: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Technologies whose total open risk (sum of p x value over risks not closed) is higher now
    than when their level last changed, largest growth first. The total then is read from each
    risk's history: its last event at or before the level change (a risk added since counts 0;
    events are appended in time order, so the newest id is the last event)."""
    now_q = _filtered(select(Risk.project_id.label("pid"), func.sum(Risk.p_failure * Risk.value).label("total"))
                      .where(Risk.status != rules.RiskStatus.CLOSED.value),
                      project_levels=project_levels, categories=categories).group_by(Risk.project_id).subquery()
    last = (select(func.max(RiskEvent.id).label("event_id"))
            .select_from(Project).join(RiskEvent, and_(RiskEvent.project_id == Project.id,
                                                       RiskEvent.at <= Project.level_since)))
    if categories:
        last = last.join(Risk, Risk.id == RiskEvent.risk_id).where(col(Risk.category).in_(list(categories)))
    if project_levels is not None:
        last = last.where(col(Project.level).in_(list(project_levels)))
    last = last.group_by(RiskEvent.risk_id).subquery()
    then_q = (select(RiskEvent.project_id.label("pid"), func.sum(RiskEvent.p_failure * RiskEvent.value).label("total"))
              .join(last, last.c.event_id == RiskEvent.id)
              .where(RiskEvent.status != rules.RiskStatus.CLOSED.value).group_by(RiskEvent.project_id).subquery())
    then_total = func.coalesce(then_q.c.total, 0.0)
    query = (select(Project.code, Project.name, Project.level, Project.level_since, then_total, now_q.c.total)
             .join(now_q, now_q.c.pid == Project.id).outerjoin(then_q, then_q.c.pid == Project.id)
             .where(col(Project.level_since).is_not(None), now_q.c.total > then_total + 1e-9)
             .order_by((now_q.c.total - then_total).desc(), Project.code))
    return [{"code": code, "technology": name, "level": level, "level_since": as_utc(since),
             "risk_then": round(float(then), 3), "risk_now": round(float(now), 3), "growth": round(float(now - then), 3)}
            for code, name, level, since, then, now in session.execute(query).all()]


def risk_events(session: Session, code: str) -> pd.DataFrame:
    """A technology's risk history as a frame (risk_id, at, p_failure, value, status, category),
    oldest first, for the trend."""
    project = get_project(session, code)
    rows = session.execute(
        select(RiskEvent.risk_id, RiskEvent.at, RiskEvent.p_failure, RiskEvent.value, RiskEvent.status, Risk.category)
        .join(Risk, Risk.id == RiskEvent.risk_id).where(RiskEvent.project_id == project.id)
        .order_by(col(RiskEvent.at), col(RiskEvent.id))
    ).all()
    frame = pd.DataFrame([tuple(r) for r in rows],
                         columns=["risk_id", "at", "p_failure", "value", "status", "category"])
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame
