"""``/api/v1/reviews`` and a technology's exit checklist: gated reviews (list, one in full, open,
panel, votes, ethics answers, the decision, cancelling) and the team's scores of a level's exit
criteria with the readiness and the gates they feed.

The records are the CLI's (``mltrl review list/show --json``; ``services.reviews.records``), with the
review's ``version`` (also its ``ETag``). A review that is decided shows the scores and gates that stood at the
decision; an open or cancelled one, what stands now.

Roles, as the services decide them: opening, the panel, ethics answers, cancelling and scoring
need an editor; a vote and the decision need a reviewer (an editor's vote is a 403). A panel
member votes only on a review whose panel names them (or whose panel is empty).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import Field
from sqlmodel import Session

from mltrl.api.http import Body, ActorDep, IfMatch, Limit, Offset, SessionDep, expected_version, page, tagged
from mltrl.domain import days
from mltrl.domain import gates as rules
from mltrl.domain.errors import InvalidInput
from mltrl.services import reviews

router = APIRouter(tags=["reviews"])

ReviewStatus = Literal["open", "decided", "cancelled"]
LevelPath = Annotated[int, Path(ge=0, le=9, description="A level, 0-9.")]




class NewReview(Body):
    panel: list[str] = Field(default=[], description="User names of the panel (empty: anyone with the reviewer role).")


class PanelBody(Body):
    panel: list[str] = Field(description="The whole panel, replacing the one stored.")
    version: int | None = Field(default=None, description="The review version read (or send If-Match).")


class VoteBody(Body):
    vote: str = Field(description='graduate | "not yet" | "switch back" ("not-yet" and "switch_back" read too)')
    comment: str = ""


class EthicsBody(Body):
    answers: dict[str, str] = Field(description='Question key ("before:privacy") -> answer; "" clears an answer.')


class Task(Body):
    task: str
    owner: str
    due: str | None = Field(default=None, description="ISO 8601 date.")


class DecisionBody(Body):
    decision: str = Field(description='graduate | hold | "switch back" | pause')
    note: str = ""
    target_level: int | None = Field(default=None, description="switch back: the level to go back to.")
    tasks: list[Task] = Field(default=[], description="hold: what must be done before the next review.")
    at: str | None = Field(default=None, description="When decided: ISO 8601 date or date-time (default: now).")
    version: int | None = Field(default=None, description="The review version read (or send If-Match).")


class CancelBody(Body):
    reason: str = Field(description="Why the review is withdrawn.")


class ScoreBody(Body):
    percent: int | float | str = Field(description='How complete, a whole number 0-100 ("80%" reads too).')
    evidence: str = Field(default="", description="A link (http or https) to the evidence, or empty.")
    comment: str = ""


# --- records -------------------------------------------------------------------------------------


def _review(session: Session, response: Response, review_id: int) -> dict[str, Any]:
    record = reviews.review_record(session, review_id)
    tagged(response, record["version"])
    return record


# --- reviews -------------------------------------------------------------------------------------


@router.get("/reviews", summary="List reviews, newest first (filters, pages)")
def list_reviews(
    request: Request, response: Response, session: SessionDep, actor: ActorDep,
    code: Annotated[str | None, Query(max_length=200, description="Only this technology's reviews.")] = None,
    status: Annotated[ReviewStatus | None, Query(description="open, decided or cancelled")] = None,
    limit: Limit = 100, offset: Offset = 0,
) -> dict[str, Any]:
    rows = reviews.reviews(session, code=code, status=status, limit=None)
    return page(request, response, [reviews.review_summary(r, c) for r, c in rows], limit, offset)


@router.get("/reviews/{review_id}", summary="One review: criteria, gates, ethics, votes, decision")
def get_review(review_id: int, response: Response, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    return _review(session, response, review_id)


@router.post("/projects/{code}/reviews", status_code=201, summary="Open a gated review at the current level")
def open_review(code: str, body: NewReview, response: Response, session: SessionDep,
                actor: ActorDep) -> dict[str, Any]:
    review = reviews.open_review(session=session, actor=actor, code=code, panel=body.panel)
    response.headers["Location"] = f"/api/v1/reviews/{review.id}"
    return _review(session, response, review.id)


@router.put("/reviews/{review_id}/panel", summary="Replace an open review's panel")
def set_panel(review_id: int, body: PanelBody, response: Response, session: SessionDep, actor: ActorDep,
              if_match: IfMatch = None) -> dict[str, Any]:
    reviews.set_panel(session=session, actor=actor, review_id=review_id, panel=body.panel,
                      expected_version=expected_version(if_match, body.version))
    return _review(session, response, review_id)


@router.post("/reviews/{review_id}/votes", status_code=201, summary="Vote on an open review (reviewers)")
def cast_vote(review_id: int, body: VoteBody, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    row = reviews.cast_vote(session=session, actor=actor, review_id=review_id, vote=reviews.choice_word(body.vote),
                            comment=body.comment)
    return {"id": row.id, "review_id": row.review_id, **reviews.vote_record(row)}


@router.post("/reviews/{review_id}/ethics", summary="Answer questions of the review's ethics checklist")
def answer_ethics(review_id: int, body: EthicsBody, response: Response, session: SessionDep,
                  actor: ActorDep) -> dict[str, Any]:
    changed = reviews.answer_ethics(session=session, actor=actor, review_id=review_id, answers=body.answers)
    return {"changed": changed, "review": _review(session, response, review_id)}


@router.post("/reviews/{review_id}/decision", summary="Decide: graduate, hold, switch back or pause (reviewers)")
def decide(review_id: int, body: DecisionBody, response: Response, session: SessionDep, actor: ActorDep,
           if_match: IfMatch = None) -> dict[str, Any]:
    word = reviews.choice_word(body.decision)
    known = {d.value for d in rules.Decision}
    if word.lower() in known:  # an unknown word is the service's to refuse, naming "decision"
        if body.target_level is not None and word.lower() != rules.Decision.SWITCH_BACK:
            raise InvalidInput("target_level", "goes with switch back only")
        if body.tasks and word.lower() != rules.Decision.HOLD:
            raise InvalidInput("tasks", "go with hold only")
    at = None if body.at is None else days.parse_when(body.at, field="at")
    outcome = reviews.decide(session=session, actor=actor, review_id=review_id,
                             expected_version=expected_version(if_match, body.version), decision=word,
                             note=body.note, target_level=body.target_level,
                             tasks=[t.model_dump() for t in body.tasks], at=at)
    event = outcome.event
    return {"review": _review(session, response, review_id),
            "event": None if event is None else reviews.event_record(event),
            "warnings": list(outcome.warnings), "debrief": outcome.debrief}


@router.post("/reviews/{review_id}/cancel", summary="Withdraw an open review, with why")
def cancel_review(review_id: int, body: CancelBody, response: Response, session: SessionDep,
                  actor: ActorDep) -> dict[str, Any]:
    reviews.cancel_review(session=session, actor=actor, review_id=review_id, reason=body.reason)
    return _review(session, response, review_id)


# --- the exit checklist --------------------------------------------------------------------------


@router.get("/projects/{code}/checklist/{level}", summary="A level's exit criteria, scores, readiness and gates")
def get_checklist(code: str, level: LevelPath, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    return reviews.checklist_record(session, code, level)


@router.post("/projects/{code}/checklist/{level}/{key}", summary="Score one exit criterion (0-100%)")
def score_criterion(code: str, level: LevelPath, key: str, body: ScoreBody, session: SessionDep,
                    actor: ActorDep) -> dict[str, Any]:
    reviews.score_criterion(session=session, actor=actor, code=code, level=level, key=key, percent=body.percent,
                            evidence=body.evidence, comment=body.comment)
    return reviews.checklist_record(session, code, level)
