"""Evidence for a technology's gates: test reports from CI, MLflow runs and model versions, model
cards, documents and dashboards, each for a level and optionally for one exit criterion of it or
one requirement (``mltrl.domain.evidence`` holds the rules: kinds, statuses, metrics, what scores,
what is stale, JUnit reports).

Records are append-only and audited; a record names who sent it and how (a person, a token, a
sync). A record with an ``external_id`` (an MLflow model version, say) is kept once per
technology: sending it again changes nothing and says so (``Added.created`` is false).

A criterion scored from evidence (a criteria set marks it so) takes the latest pass or fail
record sent for it (``proofs``; ``scores_in_force`` lays those over the team's own scores), so a
CI job posting a report moves the checklist, the readiness and the gate without anyone editing a
score.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from mltrl.domain import days
from mltrl.domain import evidence as rules
from mltrl.domain import gates as gate_rules
from mltrl.domain import levels as engine
from mltrl.domain.errors import InvalidInput, NotFound, RuleViolation
from mltrl.domain.fields import one_line
from mltrl.domain.permissions import Permission
from mltrl.domain.policy import Policy
from mltrl.models import Evidence, Project, Requirement, utcnow
from mltrl.services._core import Actor, audit, snapshot, within, write_service
from mltrl.services.policy import current_policy
from mltrl.services.projects import get_project
from mltrl.services.reviews._common import _open_review
from mltrl.services.reviews.checklists import level_criteria, scores_of

DETAILS_MAX_BYTES = 20_000
FUTURE_SLACK = timedelta(minutes=10)  # clocks differ: a CI runner's a little ahead is not refused


@dataclass(frozen=True)
class Added:
    """What ``add_evidence`` did: the record, and whether it is new (``False``: the same
    ``external_id`` was sent before, and that record is returned unchanged)."""

    record: Evidence
    created: bool


def criteria_at(session: Session, project: Project, level: int) -> tuple[gate_rules.Criterion, ...]:
    """The exit criteria of ``level`` the technology is judged on: its open review's copy when the
    review is at that level, else the newest criteria set's."""
    review = _open_review(session, project.id)
    if review is not None and review.level == level:
        return gate_rules.criteria_of(review.criteria)
    return level_criteria(session, level)[1]


def _level(value: object) -> int:
    try:
        return engine.check_level_number(value)
    except RuleViolation:
        raise InvalidInput("level", f"{value!r} is not a level: a whole number 0-9") from None


def _criterion(session: Session, project: Project, level: int, key: object) -> str | None:
    if key is None or (isinstance(key, str) and not key.strip()):
        return None
    known = [c.key for c in criteria_at(session, project, level)]
    text = key.strip() if isinstance(key, str) else key
    if text not in known:
        raise InvalidInput("criterion", f"{key!r} is not an exit criterion of level {level}: one of {', '.join(known)}")
    return text


def _requirement(session: Session, project: Project, number: object) -> str | None:
    if number is None or (isinstance(number, str) and not number.strip()):
        return None
    text = one_line(str(number) if isinstance(number, int) and not isinstance(number, bool) else number,
                    "requirement", 20)
    found = session.exec(select(Requirement.number).where(Requirement.project_id == project.id,
                                                          Requirement.number == text)).first()
    if found is None:
        raise InvalidInput("requirement", f"{project.code} has no requirement {text!r}")
    return text


def _details(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput("details", f"expected an object of named values, got {type(value).__name__}")
    try:
        size = len(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError):
        raise InvalidInput("details", "must hold only text, numbers, true/false, lists and objects") from None
    if size > DETAILS_MAX_BYTES:
        raise InvalidInput("details", f"at most {DETAILS_MAX_BYTES // 1000} KB as JSON (got {size // 1000} KB)")
    return dict(value)


@write_service(Permission.EDIT)
def add_evidence(*, session: Session, actor: Actor, code: str, level: object, kind: object, status: object,
                 title: object, url: object = "", criterion: object = None, requirement: object = None,
                 metrics: Mapping[str, object] | Iterable[str] | None = None, details: object = None,
                 source: object = "", produced_at: datetime | str | None = None,
                 external_id: object = None) -> Added:
    """Record a piece of evidence for ``code`` at ``level`` (an exit criterion's key and a
    requirement's number optional). Every field is checked and refused by name; nothing is written
    unless all pass. ``produced_at`` (default now) may not lie in the future."""
    project = get_project(session, code)
    level = _level(level)
    values = {
        "kind": rules.kind_of(kind), "status": rules.status_of(status),
        "title": one_line(title, "title", rules.TITLE_MAX, required=True), "url": rules.url_of(url),
        "criterion_key": _criterion(session, project, level, criterion),
        "requirement": _requirement(session, project, requirement),
        "metrics": rules.metrics_of(metrics), "details": _details(details),
        "source": one_line(source, "source", rules.SOURCE_MAX),
        "external_id": one_line(external_id, "external_id", rules.EXTERNAL_ID_MAX) or None,
    }
    now = utcnow()
    when = days.parse_when(produced_at, field="produced_at") if isinstance(produced_at, str) else \
        days.as_utc(produced_at, field="produced_at") or now
    if when > now + FUTURE_SLACK:
        raise InvalidInput("produced_at", f"{when.isoformat()} is in the future: give when the evidence was produced")
    if values["external_id"] is not None:
        existing = session.exec(select(Evidence).where(Evidence.project_id == project.id,
                                                       Evidence.external_id == values["external_id"])).first()
        if existing is not None:
            return Added(existing, False)
    row = Evidence(project_id=project.id, level=level, produced_at=when, recorded_by=actor.name,
                   recorded_via=actor.via, **values)
    session.add(row)
    session.flush()
    audit(session, actor, entity="evidence", entity_id=row.id, action="create", before=None,
          after=snapshot(row, code=project.code))
    return Added(row, True)


@write_service(Permission.EDIT)
def add_junit_report(*, session: Session, actor: Actor, code: str, report: bytes | str, level: object,
                     criterion: object = None, requirement: object = None, url: object = "", title: object = None,
                     source: object = "JUnit XML", produced_at: datetime | str | None = None,
                     external_id: object = None) -> Added:
    """Record a JUnit XML report as one test-report record: pass when no case failed or errored,
    its counts as metrics (tests, passed, failures, errors, skipped, duration_s), the suites and
    the first failing cases in its details. ``produced_at`` defaults to the report's earliest
    suite timestamp, else now. A report that is not JUnit XML, or holds no test case, is refused
    and nothing is written."""
    summary = rules.read_junit(report)
    when = produced_at
    if when is None and summary.produced_at is not None and summary.produced_at <= utcnow() + FUTURE_SLACK:
        when = summary.produced_at  # (a stamp ahead of now, a runner's local time read as UTC: now instead)
    return within(add_evidence)(
        session=session, actor=actor, code=code, level=level, kind="test-report", status=summary.status,
        title=title or f"Tests: {summary.title()}", url=url, criterion=criterion, requirement=requirement,
        metrics=summary.metrics(), details={"suites": list(summary.suites[:20]), "failed": list(summary.failed_cases)},
        source=source, produced_at=when, external_id=external_id)


# --- reading ----------------------------------------------------------------------------------------


def stale_reason(record: Evidence, project: Project, policy: Policy, now: datetime) -> str | None:
    """Why ``record`` no longer speaks for the technology (``mltrl.domain.evidence.stale_reason``):
    the level change counts for records of the technology's current level only."""
    since = project.level_since if record.level == project.level else None
    return rules.stale_reason(days.as_utc(record.produced_at), level=project.level, level_since=days.as_utc(since),
                              now=now, max_days=policy.evidence_stale_days)


def proof_of(record: Evidence, project: Project, policy: Policy, now: datetime) -> rules.Proof:
    return rules.Proof(record.id, record.status, record.title, record.url, record.source,
                       days.as_utc(record.produced_at), stale_reason(record, project, policy, now))


def proofs(session: Session, project: Project, level: int, *, policy: Policy | None = None,
           now: datetime | None = None) -> dict[str, rules.Proof]:
    """Each criterion of ``level`` with evidence: its latest pass or fail record (the one that
    scores it, when it is scored from evidence)."""
    found = criterion_evidence(session, project, level, policy=policy, now=now)
    return {key: e.scoring for key, e in found.items() if e.scoring is not None}


@dataclass(frozen=True)
class CriterionEvidence:
    """The evidence of one criterion at a level: the newest record of any status, the newest pass
    or fail record (the one that scores), and how many there are."""

    latest: rules.Proof
    scoring: rules.Proof | None
    count: int


def criterion_evidence(session: Session, project: Project, level: int, *, policy: Policy | None = None,
                       now: datetime | None = None) -> dict[str, CriterionEvidence]:
    """Each criterion of ``level`` that has evidence (key -> ``CriterionEvidence``)."""
    policy = policy or current_policy(session)
    now = now or utcnow()
    rows = session.exec(select(Evidence).where(
        Evidence.project_id == project.id, Evidence.level == level, col(Evidence.criterion_key).is_not(None))
        .order_by(col(Evidence.produced_at).desc(), col(Evidence.id).desc())).all()
    found: dict[str, list[Evidence]] = {}
    for row in rows:
        found.setdefault(row.criterion_key, []).append(row)
    out = {}
    for key, records in found.items():
        scoring = next((r for r in records if r.status in rules.STATUS_PERCENT), None)
        out[key] = CriterionEvidence(proof_of(records[0], project, policy, now),
                                     None if scoring is None else proof_of(scoring, project, policy, now), len(records))
    return out


def scores_in_force(session: Session, project: Project, level: int,
                    criteria: Iterable[gate_rules.Criterion], *, policy: Policy | None = None,
                    now: datetime | None = None) -> dict[str, gate_rules.Score]:
    """The scores ``level``'s checklist is judged on: the team's own, with each criterion scored
    from evidence taking its latest pass or fail record's (``mltrl.domain.gates.with_evidence``)."""
    criteria = tuple(criteria)
    own = scores_of(session, project.id, level)
    if not any(c.from_evidence for c in criteria):
        return own
    return gate_rules.with_evidence(criteria, own, proofs(session, project, level, policy=policy, now=now))


def evidence_counts(session: Session, project_id: int, level: int) -> dict[str, int]:
    """How many records each criterion of ``level`` has (key -> count)."""
    rows = session.exec(select(Evidence.criterion_key, func.count()).where(
        Evidence.project_id == project_id, Evidence.level == level, col(Evidence.criterion_key).is_not(None))
        .group_by(Evidence.criterion_key)).all()
    return {key: count for key, count in rows}


def evidence_of(session: Session, code: str, *, level: int | None = None, criterion: str | None = None,
                kind: str | None = None, limit: int | None = None, offset: int = 0) -> list[Evidence]:
    """A technology's evidence, newest first (by when it was produced), optionally of one level,
    criterion or kind."""
    project = get_project(session, code)
    query = select(Evidence).where(Evidence.project_id == project.id)
    if level is not None:
        query = query.where(Evidence.level == _level(level))
    if criterion is not None:
        query = query.where(Evidence.criterion_key == criterion)
    if kind is not None:
        query = query.where(Evidence.kind == rules.kind_of(kind))
    query = query.order_by(col(Evidence.produced_at).desc(), col(Evidence.id).desc()).offset(offset)
    return list(session.exec(query.limit(limit) if limit is not None else query).all())


def evidence_by_id(session: Session, code: str, evidence_id: int) -> Evidence:
    project = get_project(session, code)
    row = session.get(Evidence, evidence_id) if isinstance(evidence_id, int) and 0 < evidence_id < 2**31 else None
    if row is None or row.project_id != project.id:
        raise NotFound(f"{project.code} has no evidence record {evidence_id}.")
    return row


def count_evidence(session: Session, code: str, *, level: int | None = None) -> int:
    project = get_project(session, code)
    query = select(func.count()).select_from(Evidence).where(Evidence.project_id == project.id)
    if level is not None:
        query = query.where(Evidence.level == level)
    return session.exec(query).one()


def evidence_record(record: Evidence, project: Project, policy: Policy, now: datetime) -> dict[str, Any]:
    """One record, JSON-ready (the CLI's ``--json`` and the API's answers)."""
    return {"id": record.id, "code": project.code, "level": record.level, "criterion": record.criterion_key,
            "requirement": record.requirement, "kind": record.kind, "status": record.status, "title": record.title,
            "url": record.url, "metrics": dict(record.metrics or {}), "details": dict(record.details or {}),
            "source": record.source, "external_id": record.external_id,
            "produced_at": days.as_utc(record.produced_at).isoformat(),
            "recorded_at": days.as_utc(record.recorded_at).isoformat(), "recorded_by": record.recorded_by,
            "recorded_via": record.recorded_via, "stale": stale_reason(record, project, policy, now)}
