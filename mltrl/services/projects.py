"""Technologies (projects and their components): register, edit, read.

Write use cases take ``session`` and ``actor`` and commit once (``@write_service``); reads take a
session and return rows or plain values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mltrl.domain import fields
from mltrl.domain.errors import InvalidInput, NotFound
from mltrl.models import (
    CODE_MAX,
    NAME_MAX,
    PERSON_MAX,
    PROJECT_STATUSES,
    SUMMARY_MAX,
    Project,
    ProjectOwner,
    utcnow,
)
from mltrl.domain.permissions import Permission
from mltrl.services._core import Actor, check_version, audit, snapshot, write_service

# Project IDs as the paper writes them (R02.1: Research, index 02, version 1), but any short code
# of letters, digits, dots, dashes and underscores is accepted so existing schemes carry over.
CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # used with fullmatch

_UNSET = object()


def _code_text(code: object, field: str) -> str:
    """A code as typed, trimmed; anything but text (a list, a number from a hand-edited file) is
    refused naming ``field``."""
    if code is None:
        return ""
    if not isinstance(code, str):
        raise InvalidInput(field, f"expected a project code as text, got {type(code).__name__}")
    return code.strip()


def clean_code(code: str, *, field: str = "code") -> str:
    code = _code_text(code, field)
    if not code:
        raise InvalidInput(field, "a project code is required, e.g. R02.1")
    if len(code) > CODE_MAX or not CODE_PATTERN.fullmatch(code):
        raise InvalidInput(
            field,
            f"{code!r} is not a valid code: use up to {CODE_MAX} letters, digits, '.', '-' or '_', "
            "starting with a letter or digit (e.g. R02.1)",
        )
    return code


def _clean_name(name: str) -> str:
    return fields.one_line(name, "name", NAME_MAX, required=True)


def _clean_summary(summary: str | None) -> str:
    return fields.block(summary, "summary", SUMMARY_MAX)


def _clean_status(status: str) -> str:
    status = (status or "").strip().lower()
    if status not in PROJECT_STATUSES:
        raise InvalidInput("status", f"{status!r} is not one of {', '.join(PROJECT_STATUSES)}")
    return status


def clean_owners(owners: Iterable[str] | None) -> list[str]:
    """Owners as given, trimmed, blanks and repeats dropped, order kept."""
    result: list[str] = []
    if isinstance(owners, str):
        raise InvalidInput("owners", "expected a list of names, got text")
    for raw in owners or ():
        name = fields.one_line(raw, "owners", PERSON_MAX)
        if not name:
            continue
        if name not in result:
            result.append(name)
    return result


def get_project(session: Session, code: str) -> Project:
    """The project with this code, or ``NotFound``."""
    project = find_project(session, code)
    if project is None:
        raise NotFound(f"No project with code {_code_text(code, 'code')!r}.")
    return project


def find_project(session: Session, code: str) -> Project | None:
    return session.exec(select(Project).where(Project.code == _code_text(code, "code"))).first()


def owners_of(session: Session, project_id: int) -> list[str]:
    rows = session.exec(
        select(ProjectOwner.name)
        .where(ProjectOwner.project_id == project_id)
        .order_by(col(ProjectOwner.position))
    ).all()
    return list(rows)


def children_of(session: Session, project_id: int) -> list[Project]:
    return list(
        session.exec(select(Project).where(Project.parent_id == project_id).order_by(col(Project.code))).all()
    )


def project_codes(session: Session) -> list[str]:
    return list(session.exec(select(Project.code).order_by(col(Project.code))).all())


def project_index(session: Session) -> list[tuple[int, str, str]]:
    """Every technology's (id, code, name), in code order: what a picker needs, in one light query."""
    return [tuple(r) for r in session.exec(select(Project.id, Project.code, Project.name)
                                           .order_by(col(Project.code))).all()]


@dataclass(frozen=True)
class ProjectView:
    """A project with what a reader wants next to it."""

    project: Project
    owners: list[str]
    parent_code: str | None


def view_project(session: Session, code: str) -> ProjectView:
    project = get_project(session, code)
    parent_code = None
    if project.parent_id is not None:
        parent = session.get(Project, project.parent_id)
        parent_code = parent.code if parent else None
    return ProjectView(project, owners_of(session, project.id), parent_code)


def _project_snapshot(session: Session, project: Project) -> dict:
    return snapshot(project, owners=owners_of(session, project.id) if project.id else [])


def _set_owners(session: Session, project: Project, owners: Sequence[str]) -> None:
    for row in session.exec(select(ProjectOwner).where(ProjectOwner.project_id == project.id)).all():
        session.delete(row)
    session.flush()
    for position, name in enumerate(owners):
        session.add(ProjectOwner(project_id=project.id, name=name, position=position))
    session.flush()


def _resolve_parent(session: Session, parent_code: str | None, *, child: Project | None = None) -> int | None:
    if parent_code is None or not str(parent_code).strip():
        return None
    parent = find_project(session, clean_code(parent_code, field="parent"))
    if parent is None:
        raise InvalidInput("parent", f"no project with code {parent_code!r}")
    if child is not None and child.id is not None:
        # Walk up from the new parent: meeting the child means the tree would loop.
        node: Project | None = parent
        while node is not None:
            if node.id == child.id:
                raise InvalidInput(
                    "parent",
                    f"{parent.code} is {child.code} itself or one of its components; "
                    "a technology cannot be its own component",
                )
            node = session.get(Project, node.parent_id) if node.parent_id is not None else None
    return parent.id


@write_service(Permission.EDIT)
def add_project(
    *,
    session: Session,
    actor: Actor,
    code: str,
    name: str,
    summary: str = "",
    parent_code: str | None = None,
    owners: Iterable[str] = (),
    status: str = "active",
) -> Project:
    """Register a technology (optionally as a component of ``parent_code``)."""
    code = clean_code(code)
    name = _clean_name(name)
    summary = _clean_summary(summary)
    status = _clean_status(status)
    owner_list = clean_owners(owners)
    if find_project(session, code) is not None:
        raise InvalidInput("code", f"{code} is already taken by another project")
    parent_id = _resolve_parent(session, parent_code)
    project = Project(
        code=code, name=name, summary=summary, parent_id=parent_id, status=status, created_by=actor.name
    )
    session.add(project)
    try:
        session.flush()
    except IntegrityError:  # someone took the code between the check above and this insert
        raise InvalidInput("code", f"{code} is already taken by another project") from None
    _set_owners(session, project, owner_list)
    audit(session, actor, entity="project", entity_id=project.id, action="create",
          before=None, after=_project_snapshot(session, project))
    return project


@write_service(Permission.EDIT)
def update_project(
    *,
    session: Session,
    actor: Actor,
    code: str,
    expected_version: int,
    name: str | None = None,
    summary: str | None = None,
    owners: Iterable[str] | None = None,
    status: str | None = None,
    parent_code: object = _UNSET,
) -> Project:
    """Edit a technology seen at ``expected_version``; a newer version means a conflict."""
    project = get_project(session, code)
    check_version(project, expected_version, project.code)
    before = _project_snapshot(session, project)
    # Check every input (and look the parent up) before touching the row, so one save is one
    # UPDATE: a query in between would autoflush a half-edited row and bump the version twice.
    new_name = _clean_name(name) if name is not None else project.name
    new_summary = _clean_summary(summary) if summary is not None else project.summary
    new_status = _clean_status(status) if status is not None else project.status
    new_parent = (project.parent_id if parent_code is _UNSET
                  else _resolve_parent(session, parent_code, child=project))  # type: ignore[arg-type]
    new_owners = clean_owners(owners) if owners is not None else None
    project.name, project.summary, project.status = new_name, new_summary, new_status
    project.parent_id = new_parent
    project.updated_at = utcnow()
    session.add(project)
    session.flush()  # the version-checked UPDATE first: a stale edit stops here, as a Conflict
    if new_owners is not None:
        _set_owners(session, project, new_owners)
    after = _project_snapshot(session, project)
    audit(session, actor, entity="project", entity_id=project.id, action="update", before=before, after=after)
    return project
