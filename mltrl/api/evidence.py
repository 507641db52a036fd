"""``/api/v1``: a technology's evidence, the facts its gates are judged on.

* ``POST /projects/{code}/evidence`` records one piece of evidence (JSON): a level, a kind, a
  status, a title, optionally a link, an exit criterion's key, a requirement's number, named
  metrics, details, the source system, when it was produced and an ``external_id``. 201 with the
  record; 200 with the stored record when one with the same ``external_id`` exists already
  (posting twice from a retried CI job records it once).
* ``POST /projects/{code}/evidence/junit?level=N[&criterion=KEY]`` takes a JUnit XML report as
  the body (``Content-Type: application/xml``, at most 20 MB) and records it as one test report:
  pass or fail from its cases, its counts as metrics.
* ``GET /projects/{code}/evidence`` lists the records, newest first, in pages (``level``,
  ``criterion``, ``kind`` filter); each says whether it is stale and why.

Records are append-only: there is no edit or delete; a wrong record is superseded by a newer one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import Field, WithJsonSchema

from mltrl.api.http import PAGE_MAX, ActorDep, Body, Limit, Offset, SessionDep, page, read_body
from mltrl.domain import days
from mltrl.domain import evidence as rules
from mltrl.domain.errors import InvalidInput
from mltrl.services import projects, reviews
from mltrl.services.policy import current_policy

router = APIRouter(tags=["evidence"])

BASE = "/api/v1"
Loose = Annotated[Any, WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string"}]})]
_XML_TYPES = {"application/xml", "text/xml", "application/junit+xml"}
_XML_BODY = {"requestBody": {"required": True, "content": {"application/xml": {"schema": {"type": "string"}}}}}


class NewEvidence(Body):
    level: Loose = Field(description="The level (0-9) the evidence is for.")
    kind: str = Field(description=f"One of {', '.join(rules.KINDS)}.")
    status: str = Field(description="pass | fail | info (info never scores a criterion).")
    title: str = Field(description=f"What it is, in a line (at most {rules.TITLE_MAX} characters).")
    url: str = Field(default="", description="An http(s) link to it (the CI run, the MLflow run, the document).")
    criterion: str | None = Field(default=None, description="The key of the level's exit criterion it speaks to.")
    requirement: Loose = Field(default=None, description="The number of the requirement it speaks to (e.g. 2.1).")
    metrics: dict[str, Any] = Field(default_factory=dict, description="Named numbers, e.g. {\"accuracy\": 0.93}.")
    details: dict[str, Any] = Field(default_factory=dict, description="Anything else the source adds (JSON, 20 KB).")
    source: str = Field(default="", description="The system it came from (GitHub Actions, GitLab CI, MLflow...).")
    produced_at: datetime | None = Field(default=None, description="When it was produced (default: now).")
    external_id: str | None = Field(default=None, description="Its id in the source system: sent twice, kept once.")


def record_json(session, code: str, record) -> dict[str, Any]:
    project = projects.get_project(session, code)
    return reviews.evidence_record(record, project, current_policy(session), days.now())


def _answer(session, code: str, added, response: Response) -> dict[str, Any]:
    response.status_code = 201 if added.created else 200
    response.headers["Location"] = f"{BASE}/projects/{code}/evidence/{added.record.id}"
    return record_json(session, code, added.record) | {"created": added.created}


@router.post("/projects/{code}/evidence", status_code=201, summary="Record a piece of evidence")
def add_evidence(code: str, body: NewEvidence, response: Response, session: SessionDep,
                 actor: ActorDep) -> dict[str, Any]:
    added = reviews.add_evidence(session=session, actor=actor, code=code, **body.model_dump())
    return _answer(session, code, added, response)


async def _report(request: Request) -> bytes:
    """The request body as the JUnit file: refused past ``JUNIT_MAX_BYTES`` before it is read whole,
    and when it is declared as something other than XML."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind and kind not in _XML_TYPES:
        raise InvalidInput("report", f"send the JUnit report as application/xml (got {kind})")
    data = await read_body(request, field="report", limit=rules.JUNIT_MAX_BYTES)
    if not data.strip():
        raise InvalidInput("report", "the body is empty: send the JUnit XML file")
    return data


@router.post("/projects/{code}/evidence/junit", status_code=201, openapi_extra=_XML_BODY,
             summary="Record a JUnit XML test report")
def add_junit(code: str, response: Response, session: SessionDep, actor: ActorDep,
              report: Annotated[bytes, Depends(_report)],
              level: Annotated[int, Query(ge=0, le=9, description="The level (0-9) the report is for.")],
              criterion: Annotated[str | None, Query(max_length=64, description="The exit criterion it scores.")] = None,
              requirement: Annotated[str | None, Query(max_length=20, description="A requirement's number.")] = None,
              url: Annotated[str, Query(max_length=rules.URL_MAX, description="A link to the CI run.")] = "",
              title: Annotated[str | None, Query(max_length=rules.TITLE_MAX, description="Default: the counts.")] = None,
              source: Annotated[str, Query(max_length=rules.SOURCE_MAX, description="The CI system.")] = "JUnit XML",
              external_id: Annotated[str | None, Query(max_length=rules.EXTERNAL_ID_MAX,
                                                       description="The run's id: sent twice, kept once.")] = None,
              ) -> dict[str, Any]:
    added = reviews.add_junit_report(session=session, actor=actor, code=code, report=report, level=level,
                                     criterion=criterion, requirement=requirement, url=url, title=title,
                                     source=source, external_id=external_id)
    return _answer(session, code, added, response)


@router.get("/projects/{code}/evidence", summary="A technology's evidence, newest first (pages)")
def list_evidence(code: str, request: Request, response: Response, session: SessionDep, actor: ActorDep,
                  level: Annotated[int | None, Query(ge=0, le=9)] = None,
                  criterion: Annotated[str | None, Query(max_length=64)] = None,
                  kind: Annotated[str | None, Query(max_length=32)] = None,
                  limit: Limit = PAGE_MAX, offset: Offset = 0) -> dict[str, Any]:
    project = projects.get_project(session, code)
    policy, now = current_policy(session), days.now()
    rows = [reviews.evidence_record(r, project, policy, now)
            for r in reviews.evidence_of(session, code, level=level, criterion=criterion, kind=kind)]
    return page(request, response, rows, limit, offset)


@router.get("/projects/{code}/evidence/{evidence_id}", summary="One piece of evidence")
def get_evidence(code: str, evidence_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep,
                 actor: ActorDep) -> dict[str, Any]:
    return record_json(session, code, reviews.evidence_by_id(session, code, evidence_id))
