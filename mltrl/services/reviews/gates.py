"""Gates on graduating out of a level (``mltrl.domain.gates``, read from the requirements register),
an admin's overrides (append-only, with a justification and an optional expiry compared with now
when read), and a technology's standing: why it is at level N and what blocks N+1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from mltrl.domain import gates as rules
from mltrl.domain.days import as_utc
from mltrl.domain.errors import InvalidInput
from mltrl.domain.permissions import Permission
from mltrl.domain.policy import Policy
from mltrl.models import GateOverride, Project, Requirement, utcnow
from mltrl.services._core import Actor, audit, snapshot, write_service
from mltrl.services.policy import current_policy
from mltrl.services.projects import get_project
from mltrl.services.reviews._common import _note, _open_review
from mltrl.services.reviews.checklists import level_criteria, scores_of
from mltrl.services.reviews.evidence import CriterionEvidence, criterion_evidence

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
    evidence: Mapping[str, CriterionEvidence] = field(default_factory=dict)  # criterion key -> its evidence

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
    policy = policy or current_policy(session)
    found = criterion_evidence(session, project, project.level, policy=policy, now=now)
    scores = rules.with_evidence(criteria, scores_of(session, project.id, project.level),
                                 {key: e.scoring for key, e in found.items() if e.scoring is not None})
    threshold = policy.review_ready_threshold
    return Standing(project.code, project.level, version, criteria, scores,
                    rules.readiness(criteria, scores, threshold), tuple(gates_of(session, project, project.level, now)),
                    review.id if review else None, project.status, found)
