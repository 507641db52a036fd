"""``/api/v1``: a technology's requirements and risks (list, one, add, edit, CSV export and
import), a risk's review and acceptance, and the 5x5 matrix counts of one technology or the
portfolio.

* A requirement is named by its number (``/requirements/1.2``), a risk by its id
  (``/risks/17``); both carry ``version`` and answer with an ``ETag``, and an edit takes
  ``If-Match`` (or ``version`` in the body).
* The registers are listed in pages (``limit``, ``offset``; up to ``PAGE_MAX`` items in one page,
  by default a page holds that many, so a usual register arrives whole): an imported register may
  hold thousands of rows.
* Numbers (``p_failure``, ``value``, ``level``, a requirement's ``number``) are read by the
  services as people type them (``0.3``, ``"30%"``, ``"1.2"``), so a body passes them on as given
  and the service's refusal names the field.
* Imports take the CSV file itself as the body (``Content-Type: text/csv``), at most
  ``csvcells.FILE_MAX_BYTES`` (read in chunks and refused past it); all or nothing: a bad file is
  a 422 whose ``errors`` list every row, field and reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import Field, WithJsonSchema
from sqlmodel import Session

from mltrl.api.http import Body, PAGE_MAX, ActorDep, IfMatch, Limit, Offset, SessionDep, expected_version, page, tagged
from mltrl.domain import csvcells, days
from mltrl.domain import levels as level_rules
from mltrl.domain import risk as rules
from mltrl.domain.errors import InvalidInput, NotFound
from mltrl.domain.policy import Policy
from mltrl.services import policy as org_policy
from mltrl.services import risks as registers


if TYPE_CHECKING:  # annotations only: the API writes through the services
    from mltrl.models import Requirement, Risk

router = APIRouter(tags=["registers"])

BASE = "/api/v1"

# Numbers as people type them (0.3, "30%", 7, "1.2"), passed to the service as given: it reads them
# and its refusal names the field (a boolean, a list or "ten" included).
Number = Annotated[Any, WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string"}]})]
Whole = Annotated[Any, WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string"}]})]
Text = Annotated[Any, WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "integer"}]})]

RiskId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The risk's id (as listed).")]
RequirementNumber = Annotated[str, Path(max_length=40, description="The requirement's number, e.g. 2.1.")]




class RequirementFields(Body):
    kind: str | None = Field(default=None, description="research | product (default: by its level, product from 5).")
    level: Whole = Field(default=None, description="The level (0-9) it belongs to (default: the technology's).")
    verification_method: str = ""
    verification_status: str | None = Field(default=None, description="not started | in progress | passed | failed")
    validation_method: str = ""
    validation_status: str | None = Field(default=None, description="not started | in progress | passed | failed")


class NewRequirement(RequirementFields):
    number: Text = Field(description="n, n.subset or n.subset.component, e.g. 2, 2.1 or 2.1.3; new for this technology.")
    statement: str
    p_failure: Number = Field(description="p(failure) in [0, 1]: 0.3 or \"30%\".")
    value: Whole = Field(description="An integer 1-10.")


class RequirementChanges(RequirementFields):
    number: Text = Field(default=None, description="A new number (renumbers it).")
    statement: str | None = None
    p_failure: Number = None
    value: Whole = None
    verification_method: str | None = None  # type: ignore[assignment]
    validation_method: str | None = None  # type: ignore[assignment]
    version: int | None = Field(default=None, description="The version read (or send If-Match).")


class RiskFields(Body):
    description: str = ""
    component: str | None = Field(default=None, description="Code of the component the risk lies in.")
    requirement: Text = Field(default=None, description="Number of the requirement it threatens.")
    mitigation: str = ""
    owner: str = ""


class NewRisk(RiskFields):
    title: str
    category: str = Field(description=", ".join(c.value for c in rules.Category))
    p_failure: Number = Field(description="p(failure) in [0, 1]: 0.3 or \"30%\".")
    value: Whole = Field(description="An integer 1-10.")
    status: str | None = Field(default=None, description="open (default) | mitigating | closed; accept with .../accept.")


class RiskChanges(RiskFields):
    title: str | None = None
    category: str | None = None
    p_failure: Number = None
    value: Whole = None
    status: str | None = Field(default=None, description="open | mitigating | closed (accept with .../accept).")
    description: str | None = None  # type: ignore[assignment]
    mitigation: str | None = None  # type: ignore[assignment]
    owner: str | None = None  # type: ignore[assignment]
    version: int | None = Field(default=None, description="The version read (or send If-Match).")


class Reviewed(Body):
    version: int | None = Field(default=None, description="The version read (or send If-Match).")


class Acceptance(Body):
    reason: str = Field(description="Why the risk is accepted.")
    until: str = Field(description="When it must be reconsidered: a day (until its end, UTC) or an ISO date-time; "
                                   "in the future.")
    version: int | None = Field(default=None, description="The version read (or send If-Match).")


# --- representations ----------------------------------------------------------------------------


def _iso(value: Any) -> str | None:
    value = days.as_utc(value)
    return None if value is None else value.isoformat()


def requirement_json(code: str, row: Requirement) -> dict[str, Any]:
    return {
        "id": row.id, "code": code, "number": row.number, "kind": row.kind, "statement": row.statement,
        "level": row.level, "verification_method": row.verification_method,
        "verification_status": row.verification_status, "validation_method": row.validation_method,
        "validation_status": row.validation_status, "p_failure": row.p_failure, "value": row.value,
        "risk": round(rules.score(row.p_failure, row.value), 3), "grade": rules.grade_of(row.p_failure, row.value).name,
        "created_at": _iso(row.created_at), "created_by": row.created_by, "updated_at": _iso(row.updated_at),
        "version": row.version,
    }


def risk_json(session: Session, code: str, row: Risk, policy: Policy, *,
              numbers: dict[int, str] | None = None) -> dict[str, Any]:
    record = registers.risk_record(session, row, numbers=numbers)
    state = registers.review_state(row, policy)
    return {
        "id": row.id, "code": code, "title": row.title, "description": row.description, "category": row.category,
        "component": record["component"] or None, "requirement": record["requirement"] or None,
        "p_failure": row.p_failure, "value": row.value, "risk": round(rules.score(row.p_failure, row.value), 3),
        "grade": state.grade.name, "status": row.status, "owner": row.owner, "mitigation": row.mitigation,
        "accepted_by": row.accepted_by, "accepted_reason": row.accepted_reason,
        "accepted_until": _iso(row.accepted_until), "last_reviewed_at": _iso(row.last_reviewed_at),
        "next_review": _iso(state.next_review), "review_overdue": state.overdue,
        "created_at": _iso(row.created_at), "created_by": row.created_by, "updated_at": _iso(row.updated_at),
        "version": row.version,
    }


def _requirement(session: Session, code: str, number: str) -> Requirement:
    wanted = rules.parse_number(number)
    found = next((r for r in registers.requirements(session, code) if r.number == wanted), None)
    if found is None:
        raise NotFound(f"{code} has no requirement {wanted}.")
    return found


def _risk(session: Session, code: str, risk_id: int) -> Risk:
    found = next((r for r in registers.risks(session, code) if r.id == risk_id), None)
    if found is None:
        raise NotFound(f"{code} has no risk {risk_id}.")
    return found


def _one_requirement(response: Response, code: str, row: Requirement) -> dict[str, Any]:
    tagged(response, row.version)
    return requirement_json(code, row)


def _one_risk(session: Session, response: Response, code: str, row: Risk) -> dict[str, Any]:
    tagged(response, row.version)
    return risk_json(session, code, row, org_policy.current_policy(session))


# --- requirements -------------------------------------------------------------------------------


@router.get("/projects/{code}/requirements", summary="List a technology's requirements (number order, pages)")
def list_requirements(code: str, request: Request, response: Response, session: SessionDep, actor: ActorDep,
                      limit: Limit = PAGE_MAX, offset: Offset = 0) -> dict[str, Any]:
    rows = [requirement_json(code, r) for r in registers.requirements(session, code)]
    return page(request, response, rows, limit, offset)


@router.post("/projects/{code}/requirements", status_code=201, summary="Add a requirement")
def add_requirement(code: str, body: NewRequirement, response: Response, session: SessionDep,
                    actor: ActorDep) -> dict[str, Any]:
    row = registers.add_requirement(session=session, actor=actor, code=code, **body.model_dump())
    response.headers["Location"] = f"{BASE}/projects/{code}/requirements/{row.number}"
    return _one_requirement(response, code, row)


@router.get("/projects/{code}/requirements/{number}", summary="One requirement")
def get_requirement(code: str, number: RequirementNumber, response: Response, session: SessionDep,
                    actor: ActorDep) -> dict[str, Any]:
    return _one_requirement(response, code, _requirement(session, code, number))


@router.patch("/projects/{code}/requirements/{number}", summary="Edit a requirement")
def edit_requirement(code: str, number: RequirementNumber, body: RequirementChanges, response: Response, session: SessionDep,
                     actor: ActorDep, if_match: IfMatch = None) -> dict[str, Any]:
    version = expected_version(if_match, body.version)
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    row = registers.update_requirement(session=session, actor=actor, code=code, number=number,
                                       expected_version=version, changes=changes)
    return _one_requirement(response, code, row)


@router.delete("/projects/{code}/requirements/{number}", status_code=204, summary="Delete a requirement")
def delete_requirement(code: str, number: RequirementNumber, session: SessionDep, actor: ActorDep,
                       if_match: IfMatch = None) -> Response:
    registers.delete_requirement(session=session, actor=actor, code=code, number=number,
                                 expected_version=expected_version(if_match))
    return Response(status_code=204)


# --- risks --------------------------------------------------------------------------------------


@router.get("/projects/{code}/risks", summary="List a technology's risks (highest first, pages)")
def list_risks(code: str, request: Request, response: Response, session: SessionDep, actor: ActorDep,
               limit: Limit = PAGE_MAX, offset: Offset = 0) -> dict[str, Any]:
    policy = org_policy.current_policy(session)
    numbers = {r.id: r.number for r in registers.requirements(session, code)}
    rows = [risk_json(session, code, r, policy, numbers=numbers) for r in registers.risks(session, code)]
    return page(request, response, rows, limit, offset)


@router.post("/projects/{code}/risks", status_code=201, summary="Add a risk")
def add_risk(code: str, body: NewRisk, response: Response, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    row = registers.add_risk(session=session, actor=actor, code=code, **body.model_dump())
    response.headers["Location"] = f"{BASE}/projects/{code}/risks/{row.id}"
    return _one_risk(session, response, code, row)


@router.get("/projects/{code}/risks/{risk_id}", summary="One risk, with its review state")
def get_risk(code: str, risk_id: RiskId, response: Response, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    return _one_risk(session, response, code, _risk(session, code, risk_id))


@router.patch("/projects/{code}/risks/{risk_id}", summary="Edit a risk")
def edit_risk(code: str, risk_id: RiskId, body: RiskChanges, response: Response, session: SessionDep,
              actor: ActorDep, if_match: IfMatch = None) -> dict[str, Any]:
    version = expected_version(if_match, body.version)
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    row = registers.update_risk(session=session, actor=actor, code=code, risk_id=risk_id,
                                expected_version=version, changes=changes)
    return _one_risk(session, response, code, row)


@router.get("/projects/{code}/risks/{risk_id}/history", summary="A risk's history (p, value, status), oldest first")
def risk_history(code: str, risk_id: RiskId, session: SessionDep, actor: ActorDep) -> list[dict[str, Any]]:
    row = _risk(session, code, risk_id)
    return [{"at": _iso(e.at), "actor": e.actor, "action": e.action, "p_failure": e.p_failure, "value": e.value,
             "status": e.status} for e in registers.risk_history(session, row.id)]


@router.post("/projects/{code}/risks/{risk_id}/reviewed", summary="Record that a risk was reviewed now")
def review_risk(code: str, risk_id: RiskId, response: Response, session: SessionDep, actor: ActorDep,
                body: Reviewed | None = None, if_match: IfMatch = None) -> dict[str, Any]:
    version = expected_version(if_match, body.version if body else None)
    row = registers.review_risk(session=session, actor=actor, code=code, risk_id=risk_id,
                                expected_version=version)
    return _one_risk(session, response, code, row)


@router.post("/projects/{code}/risks/{risk_id}/accept", summary="Accept a risk: why, and until when")
def accept_risk(code: str, risk_id: RiskId, body: Acceptance, response: Response, session: SessionDep,
                actor: ActorDep, if_match: IfMatch = None) -> dict[str, Any]:
    version = expected_version(if_match, body.version)
    until = rules.parse_until(body.until, field="until")
    row = registers.accept_risk(session=session, actor=actor, code=code, risk_id=risk_id,
                                expected_version=version, reason=body.reason, until=until)
    return _one_risk(session, response, code, row)


# --- CSV files ----------------------------------------------------------------------------------

_CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/octet-stream")
_CSV_BODY = {"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}}


def _reader(what: str):
    async def read_csv(request: Request) -> str:
        """The request body as the CSV file's text: refused past ``FILE_MAX_BYTES`` before it is
        read whole, and unless it is UTF-8 text."""
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind and kind not in _CSV_TYPES:
            raise InvalidInput("Content-Type", f"{kind[:60]!r}: send the file itself as text/csv (UTF-8)")
        declared = request.headers.get("content-length", "")
        if declared.isdigit():
            csvcells.check_size(int(declared), what)
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            csvcells.check_size(len(data), what)
        return csvcells.decode(bytes(data), what)

    return read_csv


RequirementsFile = Annotated[str, Depends(_reader("requirements file"))]
RisksFile = Annotated[str, Depends(_reader("risks file"))]


def _csv(text: str, code: str, what: str) -> PlainTextResponse:
    return PlainTextResponse(text, media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{code}-{what}.csv"'})


@router.get("/projects/{code}/requirements.csv", summary="The requirements register as CSV",
            response_class=PlainTextResponse, responses={200: {"content": {"text/csv": {}}}})
def export_requirements(code: str, session: SessionDep, actor: ActorDep) -> PlainTextResponse:
    return _csv(registers.export_requirements(session, code), code, "requirements")


@router.get("/projects/{code}/risks.csv", summary="The risk register as CSV",
            response_class=PlainTextResponse, responses={200: {"content": {"text/csv": {}}}})
def export_risks(code: str, session: SessionDep, actor: ActorDep) -> PlainTextResponse:
    return _csv(registers.export_risks(session, code), code, "risks")


@router.post("/projects/{code}/requirements/import", openapi_extra=_CSV_BODY,
             summary="Import requirements from CSV (by number, all or nothing)")
def import_requirements(code: str, text: RequirementsFile, session: SessionDep, actor: ActorDep) -> dict[str, int]:
    summary = registers.import_requirements(session=session, actor=actor, code=code, text=text)
    return {"added": summary.added, "updated": summary.updated}


@router.post("/projects/{code}/risks/import", openapi_extra=_CSV_BODY,
             summary="Import risks from CSV (by title, all or nothing)")
def import_risks(code: str, text: RisksFile, session: SessionDep, actor: ActorDep) -> dict[str, int]:
    summary = registers.import_risks(session=session, actor=actor, code=code, text=text)
    return {"added": summary.added, "updated": summary.updated}


# --- the 5x5 matrix -----------------------------------------------------------------------------

def _matrix(session: Session, code: str | None, requirements_matrix: bool, phases: list[level_rules.Phase], levels: list[int],
            categories: list[str]) -> dict[str, Any]:
    chosen = [rules.parse_choice(c, rules.Category, field="category").value for c in categories]
    if requirements_matrix and chosen:
        raise InvalidInput("category", "risk categories filter the risk matrix, not the requirements matrix")
    project_levels = registers.levels_of(phases, levels)
    counts = registers.matrix_counts(session, code, requirements_matrix=requirements_matrix,
                                     project_levels=project_levels, categories=chosen or None)
    cells = [cell | {"grade": rules.grade(cell["p_band"], cell["value_band"]).name}
             for cell in rules.matrix_cells(counts)]
    return {
        "code": code, "of": "requirements" if requirements_matrix else "risks (not closed)",
        "axes": {"p_band": {"name": "p(failure)", "labels": list(rules.P_BAND_LABELS)},
                 "value_band": {"name": "value", "labels": list(rules.VALUE_BAND_LABELS)}},
        "cells": cells, "total": sum(c["count"] for c in cells),
        "filters": {"levels": project_levels, "categories": chosen},
    }


RequirementsMatrix = Annotated[bool, Query(description="Count requirements instead of risks.")]
Phases = Annotated[list[level_rules.Phase], Query(alias="phase", description="Only technologies in these phases.")]
Levels = Annotated[list[Annotated[int, Field(ge=0, le=9)]], Query(alias="level",
                                                                 description="Only technologies at these levels.")]
Categories = Annotated[list[str], Query(alias="category", description="Only risks of these categories.")]


@router.get("/projects/{code}/risk-matrix", summary="A technology's 5x5 matrix: counts per cell")
def project_matrix(code: str, session: SessionDep, actor: ActorDep, requirements_matrix: RequirementsMatrix = False,
                   category: Categories = []) -> dict[str, Any]:  # noqa: B006 (FastAPI copies defaults)
    return _matrix(session, code, requirements_matrix, [], [], category)


@router.get("/risk-matrix", summary="The portfolio's 5x5 matrix: counts per cell")
def portfolio_matrix(session: SessionDep, actor: ActorDep, requirements_matrix: RequirementsMatrix = False,
                     phase: Phases = [], level: Levels = [],  # noqa: B006
                     category: Categories = []) -> dict[str, Any]:  # noqa: B006
    return _matrix(session, None, requirements_matrix, phase, level, category)
