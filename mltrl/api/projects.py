"""``/api/v1/projects``: technologies, their level moves and their TRL cards."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import Field

from starlette.concurrency import run_in_threadpool

from mltrl import db
from mltrl.api.http import (
    Body,
    ActorDep,
    IfMatch,
    Limit,
    Offset,
    SessionDep,
    expected_version,
    page,
    read_text,
    tagged,
)
from mltrl.domain import days
from mltrl.domain.cards import Card
from mltrl.domain.errors import InvalidInput, NotFound
from mltrl.services import cards, level_moves, portfolio, projects, reviews


if TYPE_CHECKING:  # annotations only: the API writes through the services
    from mltrl.models import LevelEvent, Project

router = APIRouter(tags=["projects"])




class NewProject(Body):
    code: str = Field(description="Project ID, e.g. R02.1.")
    name: str
    summary: str = ""
    parent: str | None = Field(default=None, description="Code of the system this is a component of.")
    owners: list[str] = []
    status: str = "active"


class ProjectChanges(Body):
    name: str | None = None
    summary: str | None = None
    owners: list[str] | None = None
    status: str | None = None
    parent: str | None = Field(default=None, description='Code of the new system; "" makes it a system itself.')
    version: int | None = Field(default=None, description="The version read (or send If-Match).")


class Move(Body):
    at: str | None = Field(default=None, description="When: ISO 8601 date or date-time, UTC unless an offset is given.")
    note: str | None = None
    version: int | None = Field(default=None, description="The project version read (or send If-Match).")


class Start(Move):
    level: int = Field(description="The level (0-9) where the technology enters MLTRL.")


class Switchback(Move):
    level: int = Field(description="The lower level to go back to.")
    kind: str | None = Field(default=None, description="discovery | review | embedded")


class DeployedChange(Body):
    note: str = ""


class ForkBody(Body):
    new_code: str
    name: str
    note: str = ""


class CardSave(Body):
    card: dict[str, Any] = Field(description="The card's fields (as GET .../card returns them under `card`).")
    base_revision: int | None = Field(default=None, description="The revision the edit started from (or If-Match).")
    summary: str = ""


def _when(value: str | None) -> Any:
    return None if value is None else days.parse_when(value, field="at")


def _iso(value: Any) -> str | None:
    value = days.as_utc(value)
    return None if value is None else value.isoformat()


def project_json(session, project: Project) -> dict[str, Any]:
    view = projects.view_project(session, project.code)
    return {
        "code": project.code, "name": project.name, "summary": project.summary, "status": project.status,
        "parent": view.parent_code, "owners": view.owners, "level": project.level,
        "level_since": _iso(project.level_since), "system_level": portfolio.system_level_of(session, project.id),
        "components": [{"code": c.code, "name": c.name, "level": c.level}
                       for c in projects.children_of(session, project.id)],
        "version": project.version, "created_at": _iso(project.created_at), "updated_at": _iso(project.updated_at),
    }


def event_json(event: LevelEvent) -> dict[str, Any]:
    return {"at": _iso(event.at), "from_level": event.from_level, "to_level": event.to_level,
            "kind": level_moves.event_kind_label(event), "note": event.note}


def _project(session, response: Response, code: str) -> dict[str, Any]:
    data = project_json(session, projects.get_project(session, code))
    tagged(response, data["version"])
    return data


def _moved(session, response: Response, code: str, outcome: level_moves.MoveOutcome) -> dict[str, Any]:
    return {"event": event_json(outcome.event), "warnings": list(outcome.warnings),
            "project": _project(session, response, code)}


def _current_version(session, code: str, if_match: str | None, body_version: int | None) -> int:
    given = expected_version(if_match, body_version)
    return projects.get_project(session, code).version if given is None else given


# --- technologies --------------------------------------------------------------------------------


@router.get("/projects", summary="List technologies (filters, pages)")
def list_projects(
    request: Request, response: Response, session: SessionDep, actor: ActorDep,
    status: Annotated[str | None, Query(description="active, paused or retired")] = None,
    level: Annotated[int | None, Query(ge=0, le=9)] = None,
    min_level: Annotated[int | None, Query(ge=0, le=9)] = None,
    max_level: Annotated[int | None, Query(ge=0, le=9)] = None,
    parent: Annotated[str | None, Query(description='Components of this system ("" for systems).')] = None,
    owner: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in the code or the name.")] = None,
    limit: Limit = 100, offset: Offset = 0,
) -> dict[str, Any]:
    records = portfolio.find_projects(session, status=status, level=level, min_level=min_level,
                                      max_level=max_level, parent=parent, owner=owner, text=q)
    return page(request, response, records, limit, offset)


@router.post("/projects", status_code=201, summary="Add a technology")
def add_project(body: NewProject, response: Response, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    project = projects.add_project(session=session, actor=actor, code=body.code, name=body.name,
                                   summary=body.summary, parent_code=body.parent, owners=body.owners,
                                   status=body.status)
    response.headers["Location"] = f"/api/v1/projects/{project.code}"
    return _project(session, response, project.code)


@router.get("/projects/{code}", summary="One technology: level, system level, components, owners")
def get_project(code: str, response: Response, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    return _project(session, response, code)


@router.patch("/projects/{code}", summary="Edit a technology's details")
def edit_project(code: str, body: ProjectChanges, response: Response, session: SessionDep, actor: ActorDep,
                 if_match: IfMatch = None) -> dict[str, Any]:
    version = _current_version(session, code, if_match, body.version)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude={"version", "parent"})
    if "parent" in body.model_fields_set:
        changes["parent_code"] = body.parent or None
    projects.update_project(session=session, actor=actor, code=code, expected_version=version, **changes)
    return _project(session, response, code)


@router.get("/projects/{code}/history", summary="The level history, oldest first")
def history(code: str, session: SessionDep, actor: ActorDep) -> list[dict[str, Any]]:
    return [event_json(e) for e in level_moves.history(session, code)]


# --- level moves ---------------------------------------------------------------------------------


@router.post("/projects/{code}/level/start", summary="Record where a technology starts")
def start(code: str, body: Start, response: Response, session: SessionDep, actor: ActorDep,
          if_match: IfMatch = None) -> dict[str, Any]:
    outcome = level_moves.record_start(session=session, actor=actor, code=code, level=body.level,
                                       at=_when(body.at), note=body.note,
                                       expected_version=expected_version(if_match, body.version))
    return _moved(session, response, code, outcome)


@router.post("/projects/{code}/level/graduate", summary="Graduate to the next level")
def graduate(code: str, body: Move, response: Response, session: SessionDep, actor: ActorDep,
             if_match: IfMatch = None) -> dict[str, Any]:
    outcome = level_moves.graduate(session=session, actor=actor, code=code, at=_when(body.at), note=body.note,
                                   expected_version=expected_version(if_match, body.version))
    return _moved(session, response, code, outcome)


@router.post("/projects/{code}/level/switchback", summary="Switch back to a lower level")
def switchback(code: str, body: Switchback, response: Response, session: SessionDep, actor: ActorDep,
               if_match: IfMatch = None) -> dict[str, Any]:
    outcome = level_moves.switch_back(session=session, actor=actor, code=code, level=body.level, kind=body.kind,
                                      at=_when(body.at), note=body.note,
                                      expected_version=expected_version(if_match, body.version))
    return _moved(session, response, code, outcome)


@router.post("/projects/{code}/level/deployed-change",
             summary="A change to the deployed version: the embedded 9 -> 7 switchback")
def deployed_change(code: str, body: DeployedChange, response: Response, session: SessionDep,
                    actor: ActorDep) -> dict[str, Any]:
    outcome = reviews.change_deployed_version(session=session, actor=actor, code=code, note=body.note)
    return _moved(session, response, code, outcome)


@router.post("/projects/{code}/fork", status_code=201, summary="Fork a technology at its level")
def fork(code: str, body: ForkBody, response: Response, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    child = reviews.fork(session=session, actor=actor, code=code, new_code=body.new_code, name=body.name,
                         note=body.note)
    response.headers["Location"] = f"/api/v1/projects/{child.code}"
    return _project(session, response, child.code)


# --- the TRL card --------------------------------------------------------------------------------

CardFormat = Annotated[Literal["json", "markdown", "hf"],
                       Query(alias="format", description="json, markdown, or hf: a Hugging Face model card "
                                                         "(README.md: YAML front matter whose model-index holds "
                                                         "the evidence's metrics, then the Markdown)")]


def _card_json(code: str, number: int, card: Card, **extra: Any) -> dict[str, Any]:
    return {"code": code, "revision": number, "card": card.to_dict(), **extra}


@router.get("/projects/{code}/card", summary="The TRL card: current, a prior level's, or a revision")
def get_card(code: str, response: Response, session: SessionDep, actor: ActorDep,
             level: Annotated[int | None, Query(ge=0, le=9, description="The card of a level it left.")] = None,
             revision: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
             fmt: CardFormat = "json") -> Any:
    if level is not None and revision is not None:
        raise InvalidInput("revision", "give level or revision, not both")
    if fmt in ("markdown", "hf"):
        text = cards.export_card(session, code, fmt="md" if fmt == "markdown" else "hf", level=level,
                                 number=revision)
        return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")
    if level is not None:
        card, _header, frozen = cards.card_of_level(session, code, level)
        if frozen.number is None:
            raise NotFound(f"{code} had no card when it left level {level}.")
        return _card_json(code, frozen.number, card, level=level, left_at=_iso(frozen.left_at))
    if revision is not None:
        rev = cards.revision(session, code, revision)
        return _card_json(code, rev.number, Card.from_dict(rev.content), level=rev.level,
                          saved_at=_iso(rev.at), saved_by=rev.author)
    state = cards.current_card(session, code)
    tagged(response, state.number)
    return _card_json(state.code, state.number, state.card, level=state.level, saved_at=_iso(state.saved_at),
                      saved_by=state.saved_by, stale=state.staleness.stale, stale_reason=state.staleness.reason)


@router.get("/projects/{code}/card/revisions", summary="The card's revisions, newest first")
def card_revisions(code: str, session: SessionDep, actor: ActorDep) -> list[dict[str, Any]]:
    return [{"revision": r.number, "at": _iso(r.at), "author": r.author, "action": r.action, "level": r.level,
             "summary": r.summary} for r in cards.revisions(session, code)]


@router.put("/projects/{code}/card", summary="Save the card as a new revision")
def save_card(code: str, body: CardSave, response: Response, session: SessionDep, actor: ActorDep,
              if_match: IfMatch = None) -> dict[str, Any]:
    base = expected_version(if_match, body.base_revision)
    if base is None:
        base = cards.current_card(session, code).number
    known = set(Card.__dataclass_fields__)
    unknown = sorted(set(body.card) - known)
    if unknown:
        raise InvalidInput(f"card.{unknown[0]}", f"not a card field; the fields are {', '.join(sorted(known))}")
    try:
        card = Card.from_dict(body.card)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("card", f"lists (owners, reviewers, coupled) hold names; extra_rows and "
                                   f"extra_sections hold [heading, text] pairs ({exc})") from None
    rev = cards.save_card(session=session, actor=actor, code=code, card=card, base_revision=base,
                          summary=body.summary)
    tagged(response, rev.number)
    return {"code": code, "revision": rev.number, "saved_at": _iso(rev.at), "saved_by": rev.author}


class Restore(Body):
    base_revision: int | None = Field(default=None, description="The current revision you read (or If-Match).")
    summary: str = ""


@router.post("/projects/{code}/card/revisions/{number}/restore", summary="Save an old revision again, on top")
def restore_card(code: str, number: int, body: Restore, response: Response, session: SessionDep,
                 actor: ActorDep, if_match: IfMatch = None) -> dict[str, Any]:
    base = expected_version(if_match, body.base_revision)
    if base is None:
        base = cards.current_card(session, code).number
    rev = cards.restore_revision(session=session, actor=actor, code=code, number=number, base_revision=base,
                                 summary=body.summary)
    tagged(response, rev.number)
    return {"code": code, "revision": rev.number, "saved_at": _iso(rev.at), "saved_by": rev.author,
            "restored_from": number}


CARD_TEXT_MAX = 4 * 1024 * 1024  # far above any real card; the card rules check sections' sizes


@router.post("/cards/import", summary="Import a card written in the MLTRL Markdown layout, or a Hugging Face "
                                     "model card (its model-index's new metrics recorded as evidence)",
             openapi_extra={"requestBody": {"required": True,
                                            "content": {"text/markdown": {"schema": {"type": "string"}}}}})
async def import_card(request: Request, actor: ActorDep,
                      project: Annotated[str | None, Query(description="Import into this code instead of "
                                                                          "the one the card names.")] = None,
                      summary: Annotated[str, Query(max_length=500)] = "") -> dict[str, Any]:
    text = await read_text(request, field="card", limit=CARD_TEXT_MAX)
    outcome = await run_in_threadpool(_import_card, actor, text, project, summary)
    return {"code": outcome.code, "created": outcome.created, "revision": outcome.number,
            "warnings": list(outcome.warnings), "evidence_added": outcome.evidence_added}


def _import_card(actor, text: str, project: str | None, summary: str) -> cards.ImportOutcome:
    with db.session_scope(db.get_engine()) as session:
        return cards.import_card(session=session, actor=actor, text=text, code=project, summary=summary)
