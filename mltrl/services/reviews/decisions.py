"""A gated review's life: opened at the technology's current level (copying the level's criteria
and the ethics template it uses), its panel, the members' votes (every vote kept), the team's
ethics answers, and the decision: graduate (the level event names the review), hold (tasks with
owners), switch back (kind ``review``, or ``embedded`` for the embedded pairs) or pause; or its
cancellation. What stood at the decision (scores, gates) is kept on the review.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from mltrl.domain import gates as rules
from mltrl.domain import levels as engine
from mltrl.domain.days import as_utc, parse_when
from mltrl.domain.errors import Conflict, InvalidInput, NotFound, RuleViolation
from mltrl.domain.levels import EventKind, Move
from mltrl.domain.permissions import Permission
from mltrl.models import PERSON_MAX, TEXT_MAX, EthicsAnswer, LevelEvent, Project, Review, ReviewVote, utcnow
from mltrl.services import level_moves, projects
from mltrl.services._core import Actor, audit, check_version, row_by_id, within, write_service
from mltrl.services.projects import get_project
from mltrl.domain.fields import block
from mltrl.services.reviews._common import _listed, _mapped, _note, _open_review
from mltrl.services.reviews.checklists import ethics_keys, ethics_template, level_criteria
from mltrl.services.reviews.evidence import scores_in_force
from mltrl.services.reviews.gates import gates_of

def _panel(names: Iterable[str]) -> list[str]:
    out: list[str] = []
    for raw in _listed(names, "panel", "names"):
        name = _note(raw, "panel", PERSON_MAX)
        if not name:
            continue
        if name.lower() not in (n.lower() for n in out):
            out.append(name)
    return out


def _review(session: Session, review_id: int) -> Review:
    if isinstance(review_id, bool) or not isinstance(review_id, int):
        raise InvalidInput("review", f"a review number, got {type(review_id).__name__}")
    row = row_by_id(session, Review, review_id)
    if row is None:
        raise NotFound(f"There is no review {review_id}.")
    return row


def _check_open(review: Review) -> None:
    if review.status != "open":
        raise InvalidInput("review", f"review {review.id} is {review.status}: it takes no more changes")


@write_service(Permission.EDIT)
def open_review(*, session: Session, actor: Actor, code: str, panel: Iterable[str] = ()) -> Review:
    """Open a gated review of ``code`` at its current level (one open review per technology)."""
    project = get_project(session, code)
    if project.level is None:
        raise InvalidInput("level", f"{project.code} has no level yet: record its start first")
    existing = _open_review(session, project.id)
    if existing is not None:
        raise InvalidInput("review", f"{project.code} already has an open review (review {existing.id})")
    criteria_version, criteria = level_criteria(session, project.level)
    ethics_version, ethics = ethics_template(session)
    row = Review(project_id=project.id, level=project.level, opened_by=actor.name, panel=_panel(panel),
                 criteria_version=criteria_version, criteria=rules.criteria_items(criteria),
                 ethics_version=ethics_version, ethics=ethics)
    session.add(row)
    session.flush()
    audit(session, actor, entity="review", entity_id=row.id, action="open", before=None,
          after={"code": project.code, "level": row.level, "panel": row.panel,
                 "criteria_version": criteria_version, "ethics_version": ethics_version})
    return row


@write_service(Permission.EDIT)
def set_panel(*, session: Session, actor: Actor, review_id: int, expected_version: int, panel: Iterable[str]) -> Review:
    review = _review(session, review_id)
    _check_open(review)
    check_version(review, expected_version, f"Review {review.id}")
    before = {"panel": list(review.panel), "version": review.version}
    review.panel = _panel(panel)
    session.add(review)
    session.flush()
    # With the versions, so a panel or decision refused for this change can say who made it.
    audit(session, actor, entity="review", entity_id=review.id, action="panel", before=before,
          after={"panel": review.panel, "version": review.version})
    return review


@write_service(Permission.REVIEW)
def cast_vote(*, session: Session, actor: Actor, review_id: int, vote: str, comment: str = "") -> ReviewVote:
    """A panel member's vote (graduate / not yet / switch back) with a comment; a new vote replaces
    the member's earlier one in the count, and both are kept."""
    review = _review(session, review_id)
    _check_open(review)
    if review.panel and actor.name.lower() not in (n.lower() for n in review.panel):
        raise InvalidInput("voter", f"{actor.name} is not on the panel of review {review.id} "
                                    f"({', '.join(review.panel)}): add them to the panel first")
    try:
        choice = rules.Vote(str(vote).strip().lower())
    except ValueError:
        raise InvalidInput("vote", f"{vote!r} is not a vote: graduate, not yet or switch back") from None
    row = ReviewVote(review_id=review.id, voter=actor.name, vote=choice.value, comment=_note(comment, "comment"))
    session.add(row)
    session.flush()
    audit(session, actor, entity="review", entity_id=review.id, action="vote", before=None,
          after={"voter": row.voter, "vote": row.vote, "comment": row.comment})
    return row


@write_service(Permission.EDIT)
def answer_ethics(*, session: Session, actor: Actor, review_id: int, answers: Mapping[str, str]) -> int:
    """Record answers to the review's ethics checklist (``"part:key" -> text``); returns how many
    changed."""
    review = _review(session, review_id)
    _check_open(review)
    answers = _mapped(answers, "answers", "question key -> answer")
    known = set(ethics_keys(review.ethics))
    unknown = sorted((key for key in answers if key not in known), key=repr)
    if unknown:
        raise InvalidInput("answers", f"{unknown[0]!r} is not a question of this review's ethics checklist")
    cleaned = {key: block(text, key, TEXT_MAX) for key, text in answers.items()}
    existing = {a.key: a for a in session.exec(select(EthicsAnswer).where(EthicsAnswer.review_id == review.id)).all()}
    changed = 0
    for key, text in cleaned.items():
        row = existing.get(key)
        if row is not None and row.answer == text:
            continue
        if row is None:
            if not text:
                continue
            row = EthicsAnswer(review_id=review.id, key=key, answer=text, answered_by=actor.name)
        else:
            row.answer, row.answered_by, row.answered_at = text, actor.name, utcnow()
        session.add(row)
        changed += 1
    if changed:
        session.flush()
        audit(session, actor, entity="review", entity_id=review.id, action="ethics", before=None,
              after={"answered": sorted(k for k, t in cleaned.items() if existing.get(k) is None or
                                        existing[k].answer != t)})
    return changed


@dataclass(frozen=True)
class DecisionOutcome:
    review: Review
    event: LevelEvent | None
    warnings: tuple[str, ...] = ()
    debrief: bool = False  # a graduation asks for the stage debrief of the level left


def _clean_tasks(tasks: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for n, task in enumerate(_listed(tasks, "tasks", "tasks"), start=1):
        task = _mapped(task, f"task {n}", "a task, its owner and an optional due date")
        text = _note(task.get("task"), f"task {n}")
        owner = _note(task.get("owner"), f"task {n} owner", PERSON_MAX)
        due = task.get("due")
        if not text and not owner and not due:
            continue
        if not text:
            raise InvalidInput(f"task {n}", "say what is to be done")
        if not owner:
            raise InvalidInput(f"task {n} owner", "every task has an owner")
        due_at = (parse_when(due, field=f"task {n} due") if isinstance(due, str)
                  else as_utc(due, field=f"task {n} due")) if due else None
        out.append({"number": len(out) + 1, "task": text, "owner": owner,
                    "due": due_at.date().isoformat() if due_at else None})
    return out


def _gate_record(g: rules.Gate) -> dict[str, Any]:
    record = {"key": g.key, "title": g.title, "state": g.state.value, "blockers": list(g.blockers)}
    if g.override is not None:
        record["override"] = {"by": g.override.by, "justification": g.override.justification,
                              "expires_at": g.override.expires_at.isoformat() if g.override.expires_at else None}
    return record


@write_service(Permission.REVIEW)
def decide(*, session: Session, actor: Actor, review_id: int, expected_version: int, decision: str,
           note: str = "", target_level: int | None = None, tasks: Iterable[Mapping[str, Any]] = (),
           at: datetime | None = None) -> DecisionOutcome:
    """Decide an open review: graduate, hold, switch back or pause. Gates refuse a graduation they
    block (unless an admin overrode them); what stood at the decision is kept on the review."""
    review = _review(session, review_id)
    _check_open(review)
    check_version(review, expected_version, f"Review {review.id}")
    project = session.get(Project, review.project_id)
    if project.level != review.level:
        raise Conflict(f"{project.code} is no longer at level {review.level}: its level changed since the review "
                       "was opened; cancel this review and open a new one.")
    try:
        choice = rules.Decision(str(decision).strip().lower())
    except ValueError:
        raise InvalidInput("decision", f"{decision!r} is not a decision: graduate, hold, switch back or pause") from None
    now = utcnow()
    note = _note(note, "note")
    gates = gates_of(session, project, review.level, now)
    outcome_event, warnings = None, ()
    if choice is rules.Decision.GRADUATE:
        if review.level >= engine.MAX_LEVEL:
            raise RuleViolation("no-level-above", "Level 9 is the top: a deployed technology is kept running "
                                                  "(hold), switched back or paused.")
        refusing = [g for g in gates if g.refuses]
        if refusing:
            raise RuleViolation("gate", "the gate(s) refuse this graduation: " + "; ".join(
                f"{g.title} ({g.state.value}: {', '.join(g.blockers)})" for g in refusing)
                + ". Meet them, or ask an admin to override with a justification.")
        moved = level_moves.record_decided_move(session, actor, code=project.code, review_id=review.id, note=note,
                                                move=Move(EventKind.GRADUATION, None, None, at))
        outcome_event, warnings = moved.event, tuple(moved.warnings)
    elif choice is rules.Decision.SWITCH_BACK:
        if target_level is None or isinstance(target_level, bool) or not isinstance(target_level, int):
            raise InvalidInput("target_level", f"the level to switch back to, a whole number below {review.level}")
        kind = rules.review_switchback_kind(review.level, int(target_level))
        moved = level_moves.record_decided_move(session, actor, code=project.code, review_id=review.id, note=note,
                                                move=Move(EventKind.SWITCHBACK, int(target_level), kind, at))
        outcome_event, warnings = moved.event, tuple(moved.warnings)
        review.target_level, review.switchback_kind = int(target_level), kind.value
    elif choice is rules.Decision.HOLD:
        review.tasks = _clean_tasks(tasks)
        if not review.tasks and review.level < engine.MAX_LEVEL:
            raise InvalidInput("tasks", "a hold lists what must be done before the next review, each with an owner")
    else:
        within(projects.update_project)(session=session, actor=actor, code=project.code,
                                        expected_version=project.version, status="paused")
    review.status, review.decision = "decided", choice.value
    review.decided_at, review.decided_by, review.decision_note = as_utc(at) or now, actor.name, note
    review.scores = {k: rules.score_record(s) for k, s in scores_in_force(
        session, project, review.level, rules.criteria_of(review.criteria)).items()}
    review.gates = [_gate_record(g) for g in gates]
    session.add(review)
    session.flush()
    audit(session, actor, entity="review", entity_id=review.id, action="decide", before={"status": "open"},
          after={"decision": review.decision, "note": note, "target_level": review.target_level,
                 "tasks": review.tasks, "event": outcome_event.id if outcome_event else None})
    return DecisionOutcome(review, outcome_event, warnings, debrief=choice is rules.Decision.GRADUATE)


@write_service(Permission.EDIT)
def cancel_review(*, session: Session, actor: Actor, review_id: int, reason: str) -> Review:
    """Withdraw an open review (it stays in the record as cancelled, with why)."""
    review = _review(session, review_id)
    _check_open(review)
    review.status, review.decision_note = "cancelled", _note(reason, "reason", required=True)
    review.decided_at, review.decided_by = utcnow(), actor.name
    session.add(review)
    session.flush()
    audit(session, actor, entity="review", entity_id=review.id, action="cancel", before={"status": "open"},
          after={"status": "cancelled", "reason": review.decision_note})
    return review
