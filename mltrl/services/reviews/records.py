"""A review as plain JSON-ready records: one home for what ``mltrl review list/show --json`` prints
and what ``/api/v1/reviews`` answers.

A decided review shows the scores and gates that stood at the decision; an open (or cancelled) one,
what stands now. Instants are ISO 8601 in UTC.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from mltrl.domain import days
from mltrl.domain import gates as rules
from mltrl.domain import levels as engine
from mltrl.services import level_moves, projects
from mltrl.services.policy import current_policy
from mltrl.services.reviews.checklists import ETHICS_PARTS, level_criteria
from mltrl.services.reviews.evidence import scores_in_force
from mltrl.services.reviews.gates import gates_of, standing
from mltrl.services.reviews.reading import review_view


def _iso(value: Any) -> str | None:
    value = days.as_utc(value)
    return None if value is None else value.isoformat()


def vote_record(vote: Any) -> dict[str, Any]:
    """One vote as a JSON-ready record (who, what, why, when)."""
    return {"voter": vote.voter, "vote": vote.vote, "comment": vote.comment, "at": _iso(vote.at)}


def choice_word(word: str) -> str:
    """``switch-back`` and ``not_yet`` read as ``switch back`` and ``not yet`` (easier in a shell)."""
    return " ".join(str(word).replace("-", " ").replace("_", " ").split())


def review_summary(review, code: str) -> dict[str, Any]:
    return {"id": review.id, "code": code, "level": review.level, "status": review.status,
            "opened_at": _iso(review.opened_at), "opened_by": review.opened_by, "panel": list(review.panel),
            "decision": review.decision, "decided_at": _iso(review.decided_at), "decided_by": review.decided_by,
            "version": review.version}


def gate_record(gate: rules.Gate) -> dict[str, Any]:
    record = {"key": gate.key, "title": gate.title, "state": gate.state.value, "blockers": list(gate.blockers),
              "advice": gate.advice, "override": None}
    if gate.override is not None:
        o = gate.override
        record["override"] = {"by": o.by, "justification": o.justification, "at": _iso(o.at),
                              "expires_at": _iso(o.expires_at)}
    return record


def readiness_record(readiness: rules.Readiness) -> dict[str, Any]:
    return {"average": float(readiness.average), "threshold": readiness.threshold, "ready": readiness.ready,
            "scored": readiness.scored, "total": readiness.total}


def criteria_records(criteria, scores) -> list[dict[str, Any]]:
    """Each criterion with its score in force: ``scored_by`` says how the criterion is scored (hand
    or evidence), ``source`` where this percent came from; a score from evidence names its record
    (``from_evidence``) and keeps the team's own percent apart (``manual_percent``)."""
    records = []
    for c in criteria:
        score = scores.get(c.key)
        proof = score.proof if score is not None else None
        records.append({
            "key": c.key, "criterion": c.text, "guidance": c.guidance, "scored_by": c.scored_by,
            "percent": score.percent if score else None, "evidence": score.evidence if score else "",
            "comment": score.comment if score else "", "source": score.source if score else None,
            "manual_percent": score.manual if score else None,
            "from_evidence": None if proof is None else {
                "id": proof.id, "status": proof.status, "title": proof.title, "url": proof.url,
                "source": proof.source, "produced_at": _iso(proof.produced_at), "stale": proof.stale}})
    return records


def event_record(event) -> dict[str, Any]:
    return {"id": event.id, "at": _iso(event.at), "from_level": event.from_level, "to_level": event.to_level,
            "kind": level_moves.event_kind_label(event), "note": event.note}


def review_record(session: Session, review_id: int) -> dict[str, Any]:
    """Everything about one review: criteria and scores, readiness, gates, ethics answers, votes,
    the decision and its level event."""
    view = review_view(session, review_id)
    review = view.review
    project = projects.get_project(session, view.code)
    decided = review.status == "decided"
    if decided:
        scores = rules.decided_scores(review.scores)
        gates = [dict({"advice": None, "override": None}, **g) for g in review.gates or []]
    else:
        scores = scores_in_force(session, project, review.level, rules.criteria_of(review.criteria))
        gates = [gate_record(g) for g in gates_of(session, project, review.level)]
    criteria = rules.criteria_of(review.criteria)
    readiness = rules.readiness(criteria, scores, current_policy(session).review_ready_threshold)
    changed = view.changed_answers
    ethics = []
    for part in ETHICS_PARTS:
        for question in review.ethics.get(part, []):
            key = f"{part}:{question[0]}"
            answer = view.answers.get(key)
            ethics.append({"key": key, "part": part, "question": question[1],
                           "answer": answer.answer if answer else "",
                           "answered_by": answer.answered_by if answer else None,
                           "answered_at": _iso(answer.answered_at) if answer else None,
                           "previous_answer": view.previous_answers.get(key, ""), "changed": key in changed})
    event = view.event
    return {
        **review_summary(review, view.code),
        "technology": {"code": view.code, "name": view.name, "level": view.current_level, "status": project.status},
        "suggested_panel": list(engine.level(review.level).panel),
        "criteria_version": review.criteria_version,
        "scores_as_of": "decision" if decided else "now",
        "criteria": criteria_records(criteria, scores),
        "readiness": readiness_record(readiness),
        "gates_as_of": "decision" if decided else "now",
        "gates": gates,
        "ethics_version": review.ethics_version,
        "ethics": ethics,
        "ethics_changed": sorted(changed),
        "votes": [vote_record(v) for v in view.votes],
        "latest_votes": {name: {"vote": v.vote, "comment": v.comment, "at": _iso(v.at)}
                         for name, v in view.latest_votes.items()},
        "note": review.decision_note,
        "target_level": review.target_level,
        "switchback_kind": review.switchback_kind,
        "tasks": [dict(t) for t in view.tasks],
        "event": None if event is None else event_record(event),
    }


def checklist_record(session: Session, code: str, level: int) -> dict[str, Any]:
    """A level's exit criteria with the team's scores, the readiness and the gates on leaving it.
    At the technology's current level this is its standing (the open review's copied criteria,
    if one is open there)."""
    project = projects.get_project(session, code)
    open_review = None
    if project.level is not None and level == project.level:
        stand = standing(session, code)
        version, criteria, scores = stand.criteria_version, stand.criteria, stand.scores
        readiness, gates, open_review = stand.readiness, stand.gates, stand.open_review
    else:
        version, criteria = level_criteria(session, level)
        scores = scores_in_force(session, project, level, criteria)
        readiness = rules.readiness(criteria, scores, current_policy(session).review_ready_threshold)
        gates = gates_of(session, project, level)
    return {"code": project.code, "level": level, "current_level": project.level, "status": project.status,
            "criteria_version": version, "criteria": criteria_records(criteria, scores),
            "readiness": readiness_record(readiness), "gates": [gate_record(g) for g in gates],
            "refusing_gates": [g.key for g in gates if g.refuses], "open_review": open_review}
