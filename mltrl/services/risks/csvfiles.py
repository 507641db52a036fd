"""The registers as CSV files: export, and import all or nothing.

* The file rules (size checked before parsing, any line ending, one header per column, cells that
  would be spreadsheet formulas written with a quote and read back without it) are
  ``mltrl.domain.csvcells``'; the field rules are the register's (``register.clean_requirement``,
  ``register.clean_risk``, ``register.clean_acceptance``).
* Requirements are matched by number; risks by title (unique per technology within a file:
  importing updates the risk of that title, or adds it).
* A risk's acceptance (who, why, until when) is written and read back, so an exported register
  imports again and export -> import -> export gives the same file. An acceptance read from a file
  is a fact recorded elsewhere: its end may have passed (the risk is then overdue for review).
* Imports are all or nothing: every row is checked first, and any bad row refuses the whole file
  with a ``RowErrors`` naming each row, field and reason; nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from mltrl.domain import csvcells
from mltrl.domain import risk as rules
from mltrl.domain.errors import InvalidInput, RowErrors
from mltrl.domain.permissions import Permission
from mltrl.models import Project, Requirement
from mltrl.services._core import Actor, write_service
from mltrl.services.projects import get_project
from mltrl.services.risks.register import (
    REQUIRED_REQUIREMENT_COLUMNS,
    REQUIRED_RISK_COLUMNS,
    REQUIREMENT_COLUMNS,
    RISK_COLUMNS,
    _add_requirement,
    _add_risk,
    _requirement,
    _update_requirement,
    _update_risk,
    clean_acceptance,
    clean_requirement,
    clean_risk,
    requirements,
    risk_record,
    risks,
)


def export_requirements(session: Session, code: str) -> str:
    return csvcells.write_table(({k: getattr(r, k) for k in REQUIREMENT_COLUMNS} for r in requirements(session, code)),
                                REQUIREMENT_COLUMNS)


def export_risks(session: Session, code: str) -> str:
    rows = risks(session, code)
    used = {r.component_id for r in rows if r.component_id}
    codes = dict(session.execute(select(Project.id, Project.code).where(col(Project.id).in_(used))).all()) if used else {}
    numbers = dict(session.execute(
        select(Requirement.id, Requirement.number).where(Requirement.project_id == get_project(session, code).id)
    ).all())
    return csvcells.write_table((risk_record(session, r, codes=codes, numbers=numbers) for r in rows), RISK_COLUMNS)


@dataclass(frozen=True)
class ImportSummary:
    added: int
    updated: int


def _reason(exc: InvalidInput) -> str:
    return exc.message.split(": ", 1)[-1]


@write_service(Permission.EDIT)
def import_requirements(*, session: Session, actor: Actor, code: str, text: str) -> ImportSummary:
    """Add or update (by number) every requirement of a CSV file; all or nothing."""
    project = get_project(session, code)
    rows = csvcells.read_table(text, REQUIREMENT_COLUMNS, REQUIRED_REQUIREMENT_COLUMNS, "requirements file")
    errors: list[tuple[int | str, str, str]] = []
    cleaned: list[tuple[int, dict]] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        try:
            values = clean_requirement(row, project)
        except InvalidInput as exc:
            errors.append((line, exc.field, _reason(exc)))
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
    """Add or update (by title) every risk of a CSV file, with its acceptance; all or nothing."""
    project = get_project(session, code)
    rows = csvcells.read_table(text, RISK_COLUMNS, REQUIRED_RISK_COLUMNS, "risks file")
    existing = {r.title.lower(): r for r in risks(session, code)}
    requirement_ids = dict(session.execute(
        select(Requirement.number, Requirement.id).where(Requirement.project_id == project.id)).all())
    errors: list[tuple[int | str, str, str]] = []
    cleaned: list[dict] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        try:
            values = clean_risk(row, session, project, requirement_ids=requirement_ids)
            values |= clean_acceptance(row, values["status"], existing.get(values["title"].lower()))
        except InvalidInput as exc:
            errors.append((line, exc.field, _reason(exc)))
            continue
        key = values["title"].lower()
        if key in seen:
            errors.append((line, "title", f"{rules.shown(values['title'])} is also on row {seen[key]}"))
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
