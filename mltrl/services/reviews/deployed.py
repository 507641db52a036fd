"""Level 9: a deployed technology is reviewed again every ``deployed_review_days`` (the due date
and "overdue" computed from the last decided level 9 review, or reaching level 9, never stored),
and a change to the deployed version goes back through integration (the embedded 9 -> 7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from mltrl.domain import levels as engine
from mltrl.domain.days import as_utc
from mltrl.domain.errors import InvalidInput
from mltrl.domain.permissions import Permission
from mltrl.domain.policy import Policy
from mltrl.models import Project, Review, utcnow
from mltrl.services import level_moves
from mltrl.services._core import Actor, within, write_service
from mltrl.services.projects import get_project

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
