"""SQLModel tables. The schema is owned by Alembic (``migrations/``); a test checks they agree.

Conventions:

* Dates are timezone-aware UTC (sqlmodel maps ``datetime`` to ``UTCDateTime``).
  The one calendar day without a time is a key result's ``due`` (a ``date`` column, inclusive).
* Enumerations are stored as short strings, checked by the services and by CHECK constraints,
  so the same schema runs on SQLite and PostgreSQL without native enum types.
* Editable entities carry a ``version`` that SQLAlchemy checks on every UPDATE
  (``version_id_col``): an edit made from a stale copy is refused, never silently applied.
* Level history (``LevelEvent``) and the audit trail (``AuditEntry``) are append-only.
* ``Project.level`` and ``Project.level_since`` mirror the project's last level event; only the
  level service writes them, in the same transaction as the event, so the portfolio reads one row
  per technology instead of scanning the history.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from mltrl.domain import days

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CODE_MAX = 32
NAME_MAX = 200
SUMMARY_MAX = 5_000
NOTE_MAX = 2_000
PERSON_MAX = 100
VIA_MAX = 120
TOKEN_NAME_MAX = 80
USER_AGENT_MAX = 300
ADDRESS_MAX = 64

PROJECT_STATUSES = ("active", "paused", "retired")
ROLES = ("viewer", "editor", "reviewer", "admin")
EMAIL_MAX = 254
EVENT_KINDS = ("start", "graduation", "switchback")
SWITCHBACK_KINDS = ("discovery", "review", "embedded")


def utcnow() -> datetime:
    """The present instant (``mltrl.domain.days.now``: the clock, or the moment the demo loader
    records a step at)."""
    return days.now()


def version_column() -> Column:
    """A fresh ``version`` column for an optimistically locked table (see ``__mapper_args__``)."""
    return Column("version", Integer, nullable=False, default=1)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


_project_version = version_column()


# A technology: a project or one of its components (``parent_id`` builds the tree).
class Project(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(_in("status", PROJECT_STATUSES), name="status"),
        CheckConstraint("level IS NULL OR (level >= 0 AND level <= 9)", name="level"),
    )
    __mapper_args__ = {"version_id_col": _project_version}

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=CODE_MAX, unique=True)
    name: str = Field(max_length=NAME_MAX)
    summary: str = Field(default="", max_length=SUMMARY_MAX)
    parent_id: int | None = Field(default=None, foreign_key="project.id", index=True)
    status: str = Field(default="active", max_length=16)
    level: int | None = Field(default=None)
    level_since: datetime | None = Field(default=None)
    # A fork (bifurcation) names the technology it was forked from and when; the parent's history
    # before that moment is shown as the fork's past.
    forked_from_id: int | None = Field(default=None, foreign_key="project.id", index=True)
    forked_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(max_length=PERSON_MAX)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1, sa_column=_project_version)


# An owner of a technology; ``position`` keeps the order they were given in.
class ProjectOwner(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_projectowner_project_name"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    name: str = Field(max_length=PERSON_MAX, index=True)
    position: int = Field(default=0)


# Owners are audited as part of their project's snapshot, not as rows of their own.
ProjectOwner.__audit_parent__ = ("project", "project_id")


# One step of a technology's level history: its start, a graduation or a switchback.
class LevelEvent(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(_in("kind", EVENT_KINDS), name="kind"),
        CheckConstraint(
            "switchback_kind IS NULL OR " + _in("switchback_kind", SWITCHBACK_KINDS),
            name="switchback_kind",
        ),
        CheckConstraint("to_level >= 0 AND to_level <= 9", name="to_level"),
        Index("ix_levelevent_project_at", "project_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    from_level: int | None = Field(default=None)
    to_level: int
    kind: str = Field(max_length=16)
    switchback_kind: str | None = Field(default=None, max_length=16)
    at: datetime
    note: str = Field(default="", max_length=NOTE_MAX)
    recorded_by: str = Field(max_length=PERSON_MAX)
    # The gated review that decided this move; None: recorded without a review (past history).
    review_id: int | None = Field(default=None, foreign_key="review.id", index=True)
    recorded_at: datetime = Field(default_factory=utcnow)


# Who changed what, when, and the values before and after; written by ``services.audit`` only.
class AuditEntry(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=PERSON_MAX, index=True)
    entity: str = Field(max_length=64, index=True)
    entity_id: str = Field(max_length=64)
    action: str = Field(max_length=32)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    # How the actor acted when not in person: "token NAME" for a write made with an API token.
    via: str | None = Field(default=None, max_length=VIA_MAX)


_user_version = version_column()


# A person who signs in. Local accounts have a password hash (argon2); accounts used only through
# the identity provider (OIDC) have none and are matched by e-mail. Disabled users keep their
# history; their name stays on everything they recorded.
class User(SQLModel, table=True):
    __tablename__ = "appuser"  # "user" is reserved in PostgreSQL
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)
    __mapper_args__ = {"version_id_col": _user_version}

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=PERSON_MAX, unique=True)
    display_name: str = Field(default="", max_length=NAME_MAX)
    email: str | None = Field(default=None, max_length=EMAIL_MAX, unique=True)
    role: str = Field(max_length=16)
    password_hash: str | None = Field(default=None, max_length=255)
    disabled: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(max_length=PERSON_MAX)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1, sa_column=_user_version)


# A browser's sign-in (local accounts): the cookie holds a random token, this row only its SHA-256.
# It ends at ``expires_at`` (absolute lifetime), after the idle timeout since ``last_seen_at``, or
# when revoked (sign-out, a password, role or enabled change, an admin). Not in backups: a restored
# database signs everyone in again.
class UserSession(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="appuser.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    user_agent: str = Field(default="", max_length=USER_AGENT_MAX)
    address: str = Field(default="", max_length=ADDRESS_MAX)
    revoked_at: datetime | None = Field(default=None)
    revoked_by: str | None = Field(default=None, max_length=PERSON_MAX)
    revoked_reason: str | None = Field(default=None, max_length=64)


# A failed sign-in, kept for the throttle (per account name and per address) and pruned after a day.
class SignInFailure(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    name: str = Field(max_length=PERSON_MAX, index=True)
    address: str = Field(default="", max_length=ADDRESS_MAX, index=True)


# A personal API token (or a service account's): shown once, stored as its SHA-256; acts with the
# lower of its ``role`` and its owner's role, until ``expires_at`` or revocation. ``prefix`` (the
# token's first characters) lets a person tell their tokens apart without the secret.
class ApiToken(SQLModel, table=True):
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="appuser.id", index=True)
    name: str = Field(max_length=TOKEN_NAME_MAX)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    role: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(max_length=PERSON_MAX)
    expires_at: datetime | None = Field(default=None)
    last_used_at: datetime | None = Field(default=None)
    revoked_at: datetime | None = Field(default=None)
    revoked_by: str | None = Field(default=None, max_length=PERSON_MAX)


CARD_ACTIONS = ("edit", "import", "restore")
CHANGE_SUMMARY_MAX = 500


# One saved version of a technology's TRL card: the full content, who saved it, when and why.
# Revisions are append-only; ``number`` counts 1, 2, 3... per technology and is unique with it, so
# two people saving from the same revision cannot both succeed. The card of a level the technology
# left is the last revision saved at or before the level change (``services.cards.level_cards``).
class CardRevision(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("project_id", "number", name="uq_cardrevision_project_number"),
        CheckConstraint(_in("action", CARD_ACTIONS), name="action"),
        CheckConstraint("level IS NULL OR (level >= 0 AND level <= 9)", name="level"),
        Index("ix_cardrevision_project_at", "project_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    number: int
    at: datetime = Field(default_factory=utcnow)
    author: str = Field(max_length=PERSON_MAX)
    summary: str = Field(default="", max_length=CHANGE_SUMMARY_MAX)
    action: str = Field(default="edit", max_length=16)
    restored_from: int | None = Field(default=None)
    level: int | None = Field(default=None)
    content: dict[str, Any] = Field(sa_type=JSON)


KINDS = ("research", "product")
VV_STATUSES = ("not started", "in progress", "passed", "failed")
RISK_CATEGORIES = ("science", "technical", "data", "ethics", "security & privacy", "sim-to-real", "project/business")
RISK_STATUSES = ("open", "mitigating", "accepted", "closed")
STATEMENT_MAX = 2_000
TEXT_MAX = 5_000
_P_CHECK = "p_failure >= 0 AND p_failure <= 1"
_VALUE_CHECK = "value >= 1 AND value <= 10"

_requirement_version = version_column()


# A requirement of a technology, with its verification and validation and its risk
# (p(failure) x value). ``number`` is n, n.subset or n.subset.component, unique per technology;
# ``sort_key`` orders numbers numerically in SQL (1.9 before 1.10). See ``mltrl.domain.risk``.
class Requirement(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("project_id", "number", name="uq_requirement_project_number"),
        CheckConstraint(_in("kind", KINDS), name="kind"),
        CheckConstraint(_in("verification_status", VV_STATUSES), name="verification_status"),
        CheckConstraint(_in("validation_status", VV_STATUSES), name="validation_status"),
        CheckConstraint(_P_CHECK, name="p_failure"),
        CheckConstraint(_VALUE_CHECK, name="value"),
        CheckConstraint("level IS NULL OR (level >= 0 AND level <= 9)", name="level"),
    )
    __mapper_args__ = {"version_id_col": _requirement_version}

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    number: str = Field(max_length=20)
    sort_key: str = Field(max_length=32)
    kind: str = Field(max_length=16)
    statement: str = Field(max_length=STATEMENT_MAX)
    level: int | None = Field(default=None)
    verification_method: str = Field(default="", max_length=NOTE_MAX)
    verification_status: str = Field(default="not started", max_length=16)
    validation_method: str = Field(default="", max_length=NOTE_MAX)
    validation_status: str = Field(default="not started", max_length=16)
    p_failure: float
    value: int
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(max_length=PERSON_MAX)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1, sa_column=_requirement_version)


_risk_version = version_column()


# A risk of a technology: p(failure) x value, category, mitigation, owner and status. An accepted
# risk records who accepted it, why and until when. ``last_reviewed_at`` starts the review clock;
# the next review date is computed from it and the risk's grade, never stored.
class Risk(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(_in("category", RISK_CATEGORIES), name="category"),
        CheckConstraint(_in("status", RISK_STATUSES), name="status"),
        CheckConstraint(_P_CHECK, name="p_failure"),
        CheckConstraint(_VALUE_CHECK, name="value"),
        Index("ix_risk_project_status", "project_id", "status"),
    )
    __mapper_args__ = {"version_id_col": _risk_version}

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    title: str = Field(max_length=NAME_MAX)
    description: str = Field(default="", max_length=TEXT_MAX)
    category: str = Field(max_length=32)
    component_id: int | None = Field(default=None, foreign_key="project.id", index=True)
    requirement_id: int | None = Field(default=None, foreign_key="requirement.id", index=True)
    p_failure: float
    value: int
    mitigation: str = Field(default="", max_length=TEXT_MAX)
    owner: str = Field(default="", max_length=PERSON_MAX)
    status: str = Field(default="open", max_length=16)
    accepted_by: str | None = Field(default=None, max_length=PERSON_MAX)
    accepted_reason: str | None = Field(default=None, max_length=NOTE_MAX)
    accepted_until: datetime | None = Field(default=None)
    last_reviewed_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(max_length=PERSON_MAX)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1, sa_column=_risk_version)


# One step of a risk's history: its p(failure), value and status after a change, who made it and
# when (append-only). The risk trend adds these up over time.
class RiskEvent(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(_in("status", RISK_STATUSES), name="status"),
        Index("ix_riskevent_project_at", "project_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    risk_id: int = Field(foreign_key="risk.id", index=True)
    project_id: int = Field(foreign_key="project.id")
    at: datetime = Field(default_factory=utcnow)
    actor: str = Field(max_length=PERSON_MAX)
    action: str = Field(max_length=16)
    p_failure: float
    value: int
    status: str = Field(max_length=16)


# A risk's history rows are audited in the risk's own audit entry.
RiskEvent.__audit_parent__ = ("risk", "risk_id")


# A setting an admin changed (``mltrl.domain.policy`` defines every setting, its default and range);
# settings never changed have no row and keep their default. Changes are audited.
class OrgSetting(SQLModel, table=True):
    key: str = Field(primary_key=True, max_length=64)
    value: int
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: str = Field(max_length=PERSON_MAX)



REVIEW_STATUSES = ("open", "decided", "cancelled")
DECISIONS = ("graduate", "hold", "switch back", "pause")
VOTES = ("graduate", "not yet", "switch back")

_review_version = version_column()
_score_version = version_column()
_answer_version = version_column()


# A version of the exit checklists of every level, written by an admin (version 1 is the built-in
# set, ``mltrl.domain.criteria_default``, and has no row). A review keeps a copy of the criteria it used.
class CriteriaSet(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(unique=True)
    content: dict[str, Any] = Field(sa_type=JSON)  # {"0": [[key, criterion, guidance], ...], ...}
    note: str = Field(default="", max_length=NOTE_MAX)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(max_length=PERSON_MAX)


# A version of the organisation's ethics checklist (version 1 is ``mltrl.domain.ethics_default``).
class EthicsTemplate(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(unique=True)
    content: dict[str, Any] = Field(sa_type=JSON)  # {"before": [[key, q, help]], "after": [...], "positions": [[key, s]]}
    note: str = Field(default="", max_length=NOTE_MAX)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(max_length=PERSON_MAX)


# The team's self-assessment of one exit criterion of a level: percent complete, evidence, comment.
class CriterionScore(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("project_id", "level", "key", name="uq_criterionscore_project_level_key"),
        CheckConstraint("percent >= 0 AND percent <= 100", name="percent"),
        CheckConstraint("level >= 0 AND level <= 9", name="level"),
    )
    __mapper_args__ = {"version_id_col": _score_version}

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    level: int
    key: str = Field(max_length=64)
    percent: int
    evidence: str = Field(default="", max_length=NOTE_MAX)
    comment: str = Field(default="", max_length=NOTE_MAX)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: str = Field(max_length=PERSON_MAX)
    version: int = Field(default=1, sa_column=_score_version)


# A gated review of a technology at a level: its panel, the criteria and ethics template it used
# (copied, so later edits never re-grade it), and once decided, the decision and what stood then.
class Review(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(_in("status", REVIEW_STATUSES), name="status"),
        CheckConstraint("decision IS NULL OR " + _in("decision", DECISIONS), name="decision"),
        CheckConstraint("level >= 0 AND level <= 9", name="level"),
        Index("ix_review_project_status", "project_id", "status"),
        Index("ix_review_status_level", "status", "level", "project_id", "decided_at"),
    )
    __mapper_args__ = {"version_id_col": _review_version}

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    level: int
    status: str = Field(default="open", max_length=16)
    opened_at: datetime = Field(default_factory=utcnow)
    opened_by: str = Field(max_length=PERSON_MAX)
    panel: list[str] = Field(default_factory=list, sa_type=JSON)
    criteria_version: int
    criteria: list[Any] = Field(sa_type=JSON)  # this level's [[key, criterion, guidance], ...]
    ethics_version: int
    ethics: dict[str, Any] = Field(sa_type=JSON)
    decision: str | None = Field(default=None, max_length=16)
    decided_at: datetime | None = Field(default=None, index=True)
    decided_by: str | None = Field(default=None, max_length=PERSON_MAX)
    decision_note: str = Field(default="", max_length=NOTE_MAX)
    target_level: int | None = Field(default=None)
    switchback_kind: str | None = Field(default=None, max_length=16)
    tasks: list[Any] = Field(default_factory=list, sa_type=JSON)  # hold: [{"task", "owner", "due"}]
    scores: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # at the decision: key -> score
    gates: list[Any] = Field(default_factory=list, sa_type=JSON)  # at the decision: the gates' states
    version: int = Field(default=1, sa_column=_review_version)


# A panel member's vote on a review; append-only, so a changed vote keeps the earlier ones.
class ReviewVote(SQLModel, table=True):
    __table_args__ = (CheckConstraint(_in("vote", VOTES), name="vote"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", index=True)
    voter: str = Field(max_length=PERSON_MAX)
    vote: str = Field(max_length=16)
    comment: str = Field(default="", max_length=NOTE_MAX)
    at: datetime = Field(default_factory=utcnow)


ReviewVote.__audit_parent__ = ("review", "review_id")


# An answer to one question of the ethics checklist at a review (``key`` is "part:question").
class EthicsAnswer(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("review_id", "key", name="uq_ethicsanswer_review_key"),)
    __mapper_args__ = {"version_id_col": _answer_version}

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id")
    key: str = Field(max_length=100)
    answer: str = Field(default="", max_length=TEXT_MAX)
    answered_by: str = Field(max_length=PERSON_MAX)
    answered_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1, sa_column=_answer_version)


EthicsAnswer.__audit_parent__ = ("review", "review_id")


# An admin's override of a gate that blocks graduating out of ``level``; append-only. The latest
# override of a gate counts; once ``expires_at`` passes it no longer lets the graduation through.
class GateOverride(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    level: int
    gate: str = Field(max_length=64)
    justification: str = Field(max_length=NOTE_MAX)
    expires_at: datetime | None = Field(default=None)
    by: str = Field(max_length=PERSON_MAX)
    at: datetime = Field(default_factory=utcnow)


QUARTER_MAX = 7  # "2027-Q1"

_objective_version = version_column()
_key_result_version = version_column()


# An objective of a quarter ("2027-Q1", see ``mltrl.domain.okr``; the fixed-width string sorts in time
# order). ``copied_from_id`` names the objective it was copied from (into a later quarter, say);
# deleting that one unlinks its copies.
class Objective(SQLModel, table=True):
    __table_args__ = (CheckConstraint("quarter LIKE '____-Q_'", name="quarter"),)
    __mapper_args__ = {"version_id_col": _objective_version}

    id: int | None = Field(default=None, primary_key=True)
    quarter: str = Field(max_length=QUARTER_MAX, index=True)
    title: str = Field(max_length=NAME_MAX)
    owner: str = Field(default="", max_length=PERSON_MAX)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(max_length=PERSON_MAX)
    copied_from_id: int | None = Field(default=None, foreign_key="objective.id", index=True)
    version: int = Field(default=1, sa_column=_objective_version)


# A key result of an objective: "technology ``project_id`` reaches level >= ``target_level`` by
# ``due``". ``due`` is a calendar day and inclusive (by the end of that day); it defaults to the
# quarter's last day. Its status (achieved, lost, on track, at risk, missed) is computed from the
# level history, never stored. One key result per (objective, technology, level): two that differ
# only in their date would count the same progress twice in the roll-up (edit the date instead).
class KeyResult(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("objective_id", "project_id", "target_level", name="uq_keyresult_objective_project_level"),
        CheckConstraint("target_level >= 0 AND target_level <= 9", name="target_level"),
    )
    __mapper_args__ = {"version_id_col": _key_result_version}

    id: int | None = Field(default=None, primary_key=True)
    objective_id: int = Field(foreign_key="objective.id", index=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    target_level: int
    due: date
    owner: str = Field(default="", max_length=PERSON_MAX)
    note: str = Field(default="", max_length=NOTE_MAX)  # the review's notes on this key result
    position: int = Field(default=0)
    version: int = Field(default=1, sa_column=_key_result_version)


# An owner's check-in on a key result: a comment and their confidence (0-10) that it will be met,
# dated. Append-only; audited in the key result's own audit entries.
class CheckIn(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("confidence >= 0 AND confidence <= 10", name="confidence"),
        Index("ix_checkin_key_result_at", "key_result_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key_result_id: int = Field(foreign_key="keyresult.id")
    at: datetime = Field(default_factory=utcnow)
    author: str = Field(max_length=PERSON_MAX)
    comment: str = Field(max_length=NOTE_MAX)
    confidence: int


CheckIn.__audit_parent__ = ("keyresult", "key_result_id")


EVIDENCE_KINDS = ("ci-run", "test-report", "mlflow-run", "model-version", "model-card", "document", "dashboard",
                  "other")
EVIDENCE_STATUSES = ("pass", "fail", "info")
EVIDENCE_TITLE_MAX = 200
URL_MAX = 2_000
SOURCE_MAX = 120


# A piece of evidence for a technology at a level (optionally for one exit criterion or one
# requirement): a CI run, a test report, an MLflow run or model version, a model card, a document,
# a dashboard. Append-only and audited; a requirement is named by its number, so the record
# outlives the requirement's deletion. ``external_id`` names the record in the system it came from
# (an MLflow model version, say), so a second sync of the same thing adds nothing.
class Evidence(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(_in("kind", EVIDENCE_KINDS), name="kind"),
        CheckConstraint(_in("status", EVIDENCE_STATUSES), name="status"),
        CheckConstraint("level >= 0 AND level <= 9", name="level"),
        UniqueConstraint("project_id", "external_id", name="uq_evidence_project_external_id"),
        Index("ix_evidence_project_level_criterion", "project_id", "level", "criterion_key", "produced_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    level: int
    criterion_key: str | None = Field(default=None, max_length=64)
    requirement: str | None = Field(default=None, max_length=20)  # a requirement's number (kept if it goes)
    kind: str = Field(max_length=16)
    status: str = Field(max_length=8)
    title: str = Field(max_length=EVIDENCE_TITLE_MAX)
    url: str = Field(default="", max_length=URL_MAX)
    metrics: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # name -> number
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # what the source adds (counts, ids)
    source: str = Field(default="", max_length=SOURCE_MAX)
    external_id: str | None = Field(default=None, max_length=200)
    produced_at: datetime
    recorded_at: datetime = Field(default_factory=utcnow)
    recorded_by: str = Field(max_length=PERSON_MAX)
    recorded_via: str | None = Field(default=None, max_length=VIA_MAX)  # "token ci-bot", "mlflow sync"


_model_link_version = version_column()


# A technology's link to a registered model in an MLflow tracking server. ``deployed_alias`` is the
# alias the team moves to the version in production; ``deployed_version`` is the version it pointed
# at in the last sync. When it moves on a level 9 technology, ``proposal`` holds the 9 -> 7 change
# the dashboard proposes (recorded only when a person accepts it). ``webhook_secret`` signs
# MLflow's webhooks (HMAC-SHA256); it is kept as given, since checking a signature needs it.
class ModelLink(SQLModel, table=True):
    __mapper_args__ = {"version_id_col": _model_link_version}

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", unique=True)
    tracking_uri: str = Field(max_length=500)
    model_name: str = Field(max_length=NAME_MAX)
    deployed_alias: str = Field(default="champion", max_length=64)
    webhook_secret: str | None = Field(default=None, max_length=128)
    deployed_version: str | None = Field(default=None, max_length=32)
    proposal: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    last_synced_at: datetime | None = Field(default=None)
    last_sync_error: str = Field(default="", max_length=NOTE_MAX)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(max_length=PERSON_MAX)
    version: int = Field(default=1, sa_column=_model_link_version)
