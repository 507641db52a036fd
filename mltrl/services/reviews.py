"""Gated reviews: how a technology moves between levels through its review panel.

* **Exit criteria** of each level come from a versioned criteria set (version 1 is the built-in
  ``mltrl.domain.criteria_default``; an admin's edit is a new version). The team scores them (percent
  complete, evidence link, comment) at any time, before a review too; the average against the
  readiness threshold (an admin setting) says whether the level is ready for review.
* **Gates** (``mltrl.domain.gates``) read the requirements register; an admin may override a blocked gate
  with a justification and an optional expiry. Overrides are kept (append-only).
* **A review** is opened at the technology's current level. It copies the level's criteria and the
  ethics template it uses, so later edits never re-grade it. Panel members vote (every vote is
  kept); the team answers the ethics checklist; a reviewer decides: graduate (the level event names
  the review; the card of the level left is the last revision before it), hold (tasks with owners),
  switch back (kind ``review``, or ``embedded`` for the embedded pairs) or pause.
* **Level 9** is reviewed again every ``deployed_review_days``; "change to the deployed version"
  records the embedded 9 -> 7 switchback.
* **Forks** (bifurcation): a new technology linked to its parent, starting at the parent's level,
  with a copy of its card and owners; the parent's history before the fork is shown as its past.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from mltrl.domain import gates as rules
from mltrl.domain import levels as engine
from mltrl.domain.criteria_default import DEFAULT_CRITERIA
from mltrl.domain.errors import Conflict, InvalidInput, NotFound, RowErrors, RuleViolation
from mltrl.domain.ethics_default import DEFAULT_ETHICS_TEMPLATE
from mltrl.domain.levels import EventKind, Move
from mltrl.models import (
    NOTE_MAX,
    PERSON_MAX,
    TEXT_MAX,
    CriteriaSet,
    CriterionScore,
    EthicsAnswer,
    EthicsTemplate,
    GateOverride,
    LevelEvent,
    Project,
    Requirement,
    Review,
    ReviewVote,
    utcnow,
)
from mltrl.domain.permissions import Permission
from mltrl.domain.policy import Policy
from mltrl.services import cards, level_moves, projects
from mltrl.services._core import Actor, check_version, as_utc, audit, one_line, parse_when, snapshot, within, write_service
from mltrl.services.policy import current_policy
from mltrl.services.projects import get_project

BUILT_IN_VERSION = 1
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
ETHICS_PARTS = ("before", "after")


def _note(text: object, field: str, limit: int = NOTE_MAX, *, required: bool = False) -> str:
    return one_line(text, field, limit, required=required)


def _link(text: object, field: str = "evidence") -> str:
    value = str(text or "").strip()
    if value and not re.match(r"^https?://\S+$", value):
        raise InvalidInput(field, f"{value!r} is not a link: give an http(s) URL, or leave it empty")
    if len(value) > NOTE_MAX:
        raise InvalidInput(field, f"at most {NOTE_MAX} characters")
    return value


# --- criteria sets and ethics templates ----------------------------------------------------------


def _default_criteria_content() -> dict[str, list[list[str]]]:
    return {str(level): [list(c) for c in items] for level, items in DEFAULT_CRITERIA.items()}


def _default_ethics_content() -> dict[str, list[list[str]]]:
    return {part: [list(q) for q in DEFAULT_ETHICS_TEMPLATE[part]] for part in (*ETHICS_PARTS, "positions")}


def criteria_set(session: Session, version: int | None = None) -> tuple[int, dict[str, list[list[str]]]]:
    """A criteria set (default: the newest) as (version, {"level": [[key, criterion, guidance]]})."""
    query = select(CriteriaSet)
    query = query.where(CriteriaSet.version == version) if version is not None else query
    row = session.exec(query.order_by(col(CriteriaSet.version).desc()).limit(1)).first()
    if row is not None:
        return row.version, row.content
    if version in (None, BUILT_IN_VERSION):
        return BUILT_IN_VERSION, _default_criteria_content()
    raise NotFound(f"There is no criteria set version {version}.")


def level_criteria(session: Session, level: int, version: int | None = None) -> tuple[int, tuple[rules.Criterion, ...]]:
    number, content = criteria_set(session, version)
    return number, rules.criteria_of(content.get(str(level), []))


def ethics_template(session: Session, version: int | None = None) -> tuple[int, dict[str, list[list[str]]]]:
    """The ethics template (default: the newest) as (version, {"before", "after", "positions"})."""
    query = select(EthicsTemplate)
    query = query.where(EthicsTemplate.version == version) if version is not None else query
    row = session.exec(query.order_by(col(EthicsTemplate.version).desc()).limit(1)).first()
    if row is not None:
        return row.version, row.content
    if version in (None, BUILT_IN_VERSION):
        return BUILT_IN_VERSION, _default_ethics_content()
    raise NotFound(f"There is no ethics template version {version}.")


def _check_items(items: Sequence[Sequence[str]], *, field: str, width: int) -> list[list[str]]:
    cleaned, keys = [], set()
    if not items:
        raise InvalidInput(field, "at least one item")
    for n, item in enumerate(items, start=1):
        parts = [str(x or "").strip() for x in item]
        if len(parts) != width:
            raise InvalidInput(field, f"item {n} needs {width} parts")
        key = parts[0]
        if not _KEY.match(key):
            raise InvalidInput(field, f"item {n}: key {key!r} must be a short slug (a-z, 0-9 and -)")
        if key in keys:
            raise InvalidInput(field, f"item {n}: key {key!r} is used twice")
        keys.add(key)
        if not parts[1]:
            raise InvalidInput(field, f"item {n} ({key}) has no text")
        if any(len(p) > NOTE_MAX for p in parts):
            raise InvalidInput(field, f"item {n} ({key}): at most {NOTE_MAX} characters per part")
        cleaned.append(parts)
    return cleaned


@write_service(Permission.ADMIN)
def update_criteria(*, session: Session, actor: Actor, level: int, criteria: Sequence[Sequence[str]],
                    note: str = "") -> int:
    """Replace one level's exit criteria: a new criteria set version (reviews opened earlier keep
    the criteria they copied). Returns the new version."""
    engine.check_level_number(level)
    current, content = criteria_set(session)
    content = dict(content) | {str(level): _check_items(criteria, field=f"criteria of level {level}", width=3)}
    row = CriteriaSet(version=current + 1, content=content, note=_note(note, "note"), created_by=actor.name)
    session.add(row)
    session.flush()
    audit(session, actor, entity="criteriaset", entity_id=row.id, action="create", before=None,
          after={"version": row.version, "level": level, "note": row.note})
    return row.version


@write_service(Permission.ADMIN)
def update_ethics_template(*, session: Session, actor: Actor, before: Sequence[Sequence[str]],
                           after: Sequence[Sequence[str]], positions: Sequence[Sequence[str]], note: str = "") -> int:
    """A new version of the ethics template (reviews keep the version they used)."""
    current, _ = ethics_template(session)
    content = {"before": _check_items(before, field="before", width=3),
               "after": _check_items(after, field="after", width=3),
               "positions": _check_items(positions, field="positions", width=2)}
    row = EthicsTemplate(version=current + 1, content=content, note=_note(note, "note"), created_by=actor.name)
    session.add(row)
    session.flush()
    audit(session, actor, entity="ethicstemplate", entity_id=row.id, action="create", before=None,
          after={"version": row.version, "note": row.note})
    return row.version


# --- self-assessment ----------------------------------------------------------------------------


def scores_of(session: Session, project_id: int, level: int) -> dict[str, rules.Score]:
    rows = session.exec(select(CriterionScore).where(CriterionScore.project_id == project_id,
                                                     CriterionScore.level == level)).all()
    return {r.key: rules.Score(r.key, r.percent, r.evidence, r.comment) for r in rows}


def _open_review(session: Session, project_id: int) -> Review | None:
    return session.exec(select(Review).where(Review.project_id == project_id, Review.status == "open")).first()


def _known_keys(session: Session, project: Project, level: int) -> list[str]:
    review = _open_review(session, project.id)
    return ([c[0] for c in review.criteria] if review is not None and review.level == level
            else [c.key for c in level_criteria(session, level)[1]])


@write_service(Permission.EDIT)
def score_criterion(*, session: Session, actor: Actor, code: str, level: int, key: str, percent: object,
                    evidence: str = "", comment: str = "") -> CriterionScore:
    """Record how complete one exit criterion of ``level`` is (0-100%), with evidence and a comment."""
    project = get_project(session, code)
    engine.check_level_number(level)
    return _score(session, actor, project, level, _known_keys(session, project, level), key,
                  {"percent": percent, "evidence": evidence, "comment": comment})


@write_service(Permission.EDIT)
def score_criteria(*, session: Session, actor: Actor, code: str, level: int,
                   scores: Mapping[str, Mapping[str, object]]) -> int:
    """Score several criteria at once (key -> {percent, evidence, comment}); all or nothing, every
    bad row named. Returns how many were recorded."""
    project = get_project(session, code)
    engine.check_level_number(level)
    known = _known_keys(session, project, level)
    errors = []
    for key, values in scores.items():
        try:
            _check_score(known, level, key, values)
        except InvalidInput as exc:
            errors.append((f"criterion {key}", exc.field, exc.message.split(": ", 1)[-1]))
    if errors:
        raise RowErrors("checklist", errors, verb="saved")
    for key, values in scores.items():
        _score(session, actor, project, level, known, key, values)
    return len(scores)


def _check_score(known: list[str], level: int, key: str, values: Mapping[str, object]) -> dict[str, Any]:
    if key not in known:
        raise InvalidInput("key", f"{key!r} is not an exit criterion of level {level}: one of {', '.join(known)}")
    return {"percent": rules.parse_percent(values.get("percent")), "evidence": _link(values.get("evidence")),
            "comment": _note(values.get("comment"), "comment")}


def _score(session: Session, actor: Actor, project: Project, level: int, known: list[str], key: str,
           raw: Mapping[str, object]) -> CriterionScore:
    values = _check_score(known, level, key, raw)
    row = session.exec(select(CriterionScore).where(CriterionScore.project_id == project.id,
                                                    CriterionScore.level == level, CriterionScore.key == key)).first()
    before = snapshot(row) if row is not None else None
    if row is None:
        row = CriterionScore(project_id=project.id, level=level, key=key, updated_by=actor.name, **values)
    else:
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_by, row.updated_at = actor.name, utcnow()
    session.add(row)
    session.flush()
    audit(session, actor, entity="criterionscore", entity_id=row.id, action="update" if before else "create",
          before=before, after=snapshot(row, code=project.code))
    return row


# --- gates --------------------------------------------------------------------------------------


def requirement_facts(session: Session, project_id: int) -> list[rules.RequirementFacts]:
    return [rules.RequirementFacts(*r) for r in session.exec(
        select(Requirement.number, Requirement.kind, Requirement.verification_status, Requirement.validation_status)
        .where(Requirement.project_id == project_id).order_by(col(Requirement.sort_key))).all()]


def overrides_of(session: Session, project_id: int, level: int) -> list[rules.Override]:
    rows = session.exec(select(GateOverride).where(GateOverride.project_id == project_id, GateOverride.level == level)
                        .order_by(col(GateOverride.at), col(GateOverride.id))).all()
    return [rules.Override(r.gate, r.justification, r.by, as_utc(r.at), as_utc(r.expires_at)) for r in rows]


def gates_of(session: Session, project: Project, level: int, now: datetime | None = None) -> list[rules.Gate]:
    """The gates on graduating ``project`` out of ``level``, with their overrides applied."""
    return rules.with_overrides(rules.gates_for(level, requirement_facts(session, project.id)),
                                overrides_of(session, project.id, level), now or utcnow())


@write_service(Permission.ADMIN)
def override_gate(*, session: Session, actor: Actor, code: str, level: int, gate: str, justification: str,
                  expires_at: datetime | None = None) -> GateOverride:
    """Let a graduation through a blocked gate: an admin's decision, with why and until when."""
    project = get_project(session, code)
    known = [key for key, (lv, _) in rules.GATE_TITLES.items() if lv == level]
    if gate not in known:
        raise InvalidInput("gate", f"{gate!r} is not a gate of level {level}" + (
            f": one of {', '.join(known)}" if known else " (only levels 5 and 8 have gates)"))
    expires_at = as_utc(expires_at, field="expires_at")
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput("expires_at", "a date in the future, or none")
    row = GateOverride(project_id=project.id, level=level, gate=gate, by=actor.name, expires_at=expires_at,
                       justification=_note(justification, "justification", required=True))
    session.add(row)
    session.flush()
    audit(session, actor, entity="gateoverride", entity_id=row.id, action="create", before=None,
          after=snapshot(row, code=project.code))
    return row


# --- "why is it at level N, and what blocks N+1?" ------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """Where a technology stands against leaving its current level."""

    code: str
    level: int | None
    criteria_version: int
    criteria: tuple[rules.Criterion, ...]
    scores: Mapping[str, rules.Score]
    readiness: rules.Readiness | None
    gates: tuple[rules.Gate, ...]
    open_review: int | None
    status: str

    @property
    def refusing_gates(self) -> tuple[rules.Gate, ...]:
        return tuple(g for g in self.gates if g.refuses)


def standing(session: Session, code: str, *, now: datetime | None = None, policy: Policy | None = None) -> Standing:
    project = get_project(session, code)
    review = _open_review(session, project.id)
    if project.level is None:
        return Standing(project.code, None, 0, (), {}, None, (), None, project.status)
    if review is not None and review.level == project.level:
        version, criteria = review.criteria_version, rules.criteria_of(review.criteria)
    else:
        version, criteria = level_criteria(session, project.level)
    scores = scores_of(session, project.id, project.level)
    threshold = (policy or current_policy(session)).review_ready_threshold
    return Standing(project.code, project.level, version, criteria, scores,
                    rules.readiness(criteria, scores, threshold), tuple(gates_of(session, project, project.level, now)),
                    review.id if review else None, project.status)


# --- reviews ------------------------------------------------------------------------------------


def _panel(names: Iterable[str]) -> list[str]:
    out: list[str] = []
    for raw in names:
        name = " ".join(str(raw or "").split())
        if not name:
            continue
        if len(name) > PERSON_MAX:
            raise InvalidInput("panel", f"a name has at most {PERSON_MAX} characters")
        if name.lower() not in (n.lower() for n in out):
            out.append(name)
    return out


def _review(session: Session, review_id: int) -> Review:
    row = session.get(Review, review_id)
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
                 criteria_version=criteria_version, criteria=[[c.key, c.text, c.guidance] for c in criteria],
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
    before = {"panel": list(review.panel)}
    review.panel = _panel(panel)
    session.add(review)
    session.flush()
    audit(session, actor, entity="review", entity_id=review.id, action="panel", before=before,
          after={"panel": review.panel})
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


def ethics_keys(template: Mapping[str, Any]) -> list[str]:
    return [f"{part}:{q[0]}" for part in ETHICS_PARTS for q in template.get(part, [])]


@write_service(Permission.EDIT)
def answer_ethics(*, session: Session, actor: Actor, review_id: int, answers: Mapping[str, str]) -> int:
    """Record answers to the review's ethics checklist (``"part:key" -> text``); returns how many
    changed."""
    review = _review(session, review_id)
    _check_open(review)
    known = set(ethics_keys(review.ethics))
    unknown = sorted(set(answers) - known)
    if unknown:
        raise InvalidInput("answers", f"{unknown[0]!r} is not a question of this review's ethics checklist")
    cleaned = {key: str(text or "").strip() for key, text in answers.items()}
    for key, text in cleaned.items():
        if len(text) > TEXT_MAX:
            raise InvalidInput(key, f"at most {TEXT_MAX} characters (got {len(text)})")
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
    for n, task in enumerate(tasks, start=1):
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
        if target_level is None:
            raise InvalidInput("target_level", f"the level to switch back to, below {review.level}")
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
    review.scores = {k: {"percent": s.percent, "evidence": s.evidence, "comment": s.comment}
                     for k, s in scores_of(session, project.id, review.level).items()}
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


# --- level 9, forks -----------------------------------------------------------------------------


@write_service(Permission.EDIT)
def change_deployed_version(*, session: Session, actor: Actor, code: str, note: str = "",
                            at: datetime | None = None) -> level_moves.MoveOutcome:
    """A change to a deployed technology goes back through integration: the embedded 9 -> 7."""
    project = get_project(session, code)
    if project.level != engine.MAX_LEVEL:
        raise InvalidInput("level", f"{project.code} is at level {project.level}, not deployed (level 9)")
    return within(level_moves.switch_back)(session=session, actor=actor, code=project.code, level=7,
                                           kind=engine.SwitchbackKind.EMBEDDED, at=at,
                                           note=note or "Change to the deployed version")


@write_service(Permission.EDIT)
def fork(*, session: Session, actor: Actor, code: str, new_code: str, name: str, note: str = "",
         at: datetime | None = None) -> Project:
    """Bifurcate: a new technology ``new_code`` going on from ``code`` at its current level, with
    its owners, a copy of its card, and the parent's history before now as its past."""
    parent = get_project(session, code)
    when = as_utc(at) or utcnow()
    held = [e for e in level_moves.history(session, parent.code) if as_utc(e.at) <= when]
    if not held:
        raise InvalidInput("level", f"{parent.code} has no level {'yet' if at is None else 'on that date'}: "
                                    "a fork starts from the level its parent held")
    level = held[-1].to_level  # the level the parent held at the fork (its current level for a fork now)
    child = within(projects.add_project)(session=session, actor=actor, code=new_code, name=name,
                                         summary=parent.summary, owners=projects.owners_of(session, parent.id))
    child.forked_from_id, child.forked_at = parent.id, when
    session.add(child)
    session.flush()
    within(level_moves.record_start)(session=session, actor=actor, code=child.code, level=level, at=when,
                                     note=_note(note, "note") or f"Forked from {parent.code} at level {level}")
    state = cards.current_card(session, parent.code)
    if state.number:
        within(cards.save_card)(session=session, actor=actor, code=child.code, card=replace(state.card),
                                base_revision=0, summary=f"Copied from {parent.code}'s card (revision {state.number})",
                                at=when)
    audit(session, actor, entity="project", entity_id=child.id, action="fork", before=None,
          after={"code": child.code, "forked_from": parent.code, "forked_at": when.isoformat(), "level": level})
    return child


def lineage_events(session: Session, code: str) -> tuple[list[LevelEvent], list[LevelEvent]]:
    """A technology's past inherited from the technologies it was forked from (oldest first,
    each ancestor's events before its fork) and its own events."""
    project = get_project(session, code)
    own = level_moves.history(session, code)
    past: list[LevelEvent] = []
    child, seen = project, {project.id}
    while child.forked_from_id is not None and child.forked_from_id not in seen:
        parent = session.get(Project, child.forked_from_id)
        seen.add(parent.id)
        cutoff = as_utc(child.forked_at)
        past = [e for e in level_moves.history(session, parent.code) if as_utc(e.at) <= cutoff] + past
        child = parent
    return past, own


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewView:
    review: Review
    code: str
    name: str
    current_level: int | None
    votes: tuple[ReviewVote, ...]  # every vote, oldest first
    latest_votes: Mapping[str, ReviewVote]  # voter -> their vote now
    answers: Mapping[str, EthicsAnswer]
    previous_answers: Mapping[str, str]  # the technology's previous review's answers
    event: LevelEvent | None
    tasks: tuple[Mapping[str, Any], ...] = field(default=())

    @property
    def changed_answers(self) -> set[str]:
        """Questions whose answer differs from the previous review's."""
        keys = set(self.answers) | set(self.previous_answers)
        return {k for k in keys if (self.answers[k].answer if k in self.answers else "")
                != self.previous_answers.get(k, "")}


def review_view(session: Session, review_id: int) -> ReviewView:
    review = _review(session, review_id)
    project = session.get(Project, review.project_id)
    votes = tuple(session.exec(select(ReviewVote).where(ReviewVote.review_id == review.id)
                               .order_by(col(ReviewVote.at), col(ReviewVote.id))).all())
    latest = {v.voter: v for v in votes}
    answers = {a.key: a for a in session.exec(select(EthicsAnswer).where(EthicsAnswer.review_id == review.id)).all()}
    previous = session.exec(select(Review.id).where(Review.project_id == project.id, Review.id < review.id,
                                                    Review.status != "cancelled")
                            .order_by(col(Review.id).desc()).limit(1)).first()
    previous_answers = {} if previous is None else {
        a.key: a.answer for a in session.exec(select(EthicsAnswer).where(EthicsAnswer.review_id == previous)).all()}
    event = session.exec(select(LevelEvent).where(LevelEvent.review_id == review.id)).first()
    return ReviewView(review, project.code, project.name, project.level, votes, latest, answers, previous_answers,
                      event, tuple(review.tasks or ()))


def reviews(session: Session, *, code: str | None = None, status: str | None = None, limit: int = 200
            ) -> list[tuple[Review, str]]:
    """Reviews with their technology's code, newest first."""
    query = select(Review, Project.code).join(Project, Project.id == Review.project_id)
    if code is not None:
        query = query.where(Review.project_id == get_project(session, code).id)
    if status is not None:
        query = query.where(Review.status == status)
    return [tuple(r) for r in session.exec(query.order_by(col(Review.id).desc()).limit(limit)).all()]


def reviews_by_id(session: Session, ids: Iterable[int]) -> list[tuple[Review, str]]:
    return [tuple(r) for r in session.exec(select(Review, Project.code).join(Project, Project.id == Review.project_id)
                                           .where(col(Review.id).in_(list(ids)))).all()]


def count_reviews(session: Session, *, status: str | None = None) -> int:
    query = select(func.count()).select_from(Review)
    if status is not None:
        query = query.where(Review.status == status)
    return session.exec(query).one()


def waiting_for(session: Session, name: str) -> list[tuple[Review, str]]:
    """Every open review with ``name`` on the panel who has not voted yet (all of them: the panels
    are read without the reviews' large columns, then only the matching reviews are loaded)."""
    voted = set(session.exec(select(ReviewVote.review_id).where(func.lower(ReviewVote.voter) == name.lower())).all())
    wanted = [rid for rid, panel in session.exec(select(Review.id, Review.panel).where(Review.status == "open")).all()
              if rid not in voted and name.lower() in (n.lower() for n in panel or [])]
    if not wanted:
        return []
    return [tuple(r) for r in session.exec(
        select(Review, Project.code).join(Project, Project.id == Review.project_id)
        .where(col(Review.id).in_(wanted)).order_by(col(Review.id).desc())).all()]


@dataclass(frozen=True)
class DeployedDue:
    code: str
    name: str
    last_review: datetime  # the last decided level 9 review, or reaching level 9
    due: datetime
    overdue: bool


def deployed_reviews(session: Session, policy: Policy, *, now: datetime | None = None) -> list[DeployedDue]:
    """Every level 9 technology with its next review date (computed, never stored), most overdue first."""
    now = now or utcnow()
    last = dict(session.exec(select(Review.project_id, func.max(Review.decided_at))
                             .where(Review.level == engine.MAX_LEVEL, Review.status == "decided")
                             .group_by(Review.project_id)).all())
    out = []
    for project in session.exec(select(Project).where(Project.level == engine.MAX_LEVEL)).all():
        since = as_utc(project.level_since)
        reviewed = as_utc(last.get(project.id))
        anchor = max(d for d in (since, reviewed) if d is not None)
        due = anchor + timedelta(days=policy.deployed_review_days)
        out.append(DeployedDue(project.code, project.name, anchor, due, due < now))
    return sorted(out, key=lambda d: d.due)
