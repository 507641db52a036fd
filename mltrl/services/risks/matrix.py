"""Reads of the registers in SQL: the 5x5 matrix counts (with the bands of ``mltrl.domain.risk``),
what a cell holds, a risk's review state, and the portfolio's risk views (the highest risks, the
overdue reviews, the technologies whose open risk grew since their level change, a technology's
risk history for the trend, the one read that needs pandas: it imports it when called).

* Matrix cells are counted in SQL with ``CASE`` expressions built from the band edges, so no code
  loops over the risks.
* Overdue reviews are found in SQL without date arithmetic in SQL: for each grade, "cell score in
  the grade's range and last review before now minus the grade's cadence", OR-ed with "acceptance
  ended" (``accepted_until < now``). The rows shown carry their review state from
  ``mltrl.domain.risk.review_state``, the same definition in Python (``review_states``), so a page
  never computes a grade, a due date or "overdue" of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, literal_column, or_, select
from sqlmodel import Session, col

from mltrl.domain import days
from mltrl.domain import levels as level_rules
from mltrl.domain import risk as rules
from mltrl.domain.policy import Policy
from mltrl.models import Project, Requirement, Risk, RiskEvent
from mltrl.services._core import as_utc
from mltrl.services.projects import get_project

if TYPE_CHECKING:
    import pandas as pd


def review_state(row: Risk, policy: Policy, *, now: datetime | None = None) -> rules.ReviewState:
    """Risk ``row``'s grade, cadence, next review and whether it is overdue at ``now`` (default:
    the present), by the organisation's cadences."""
    return rules.review_state(last_review=as_utc(row.last_reviewed_at), p=row.p_failure, value=row.value,
                              status=row.status, now=now or days.now(), cadences=policy.risk_review_days,
                              accepted_until=as_utc(row.accepted_until))


def review_states(rows: Iterable[Risk], policy: Policy, *, now: datetime | None = None) -> dict[int, rules.ReviewState]:
    """``review_state`` of each risk, by id, at one ``now``."""
    at = now or days.now()
    return {row.id: review_state(row, policy, now=at) for row in rows}


# --- matrices -----------------------------------------------------------------------------------


def matrix_counts(session: Session, code: str | None = None, *, requirements_matrix: bool = False,
                  project_levels: Iterable[int] | None = None, categories: Iterable[str] | None = None
                  ) -> dict[tuple[int, int], int]:
    """Cell counts (p band, value band) -> n, counted in SQL: the risks that are not closed (or the
    requirements), of one technology or of the portfolio, optionally only of technologies at
    ``project_levels`` and of risk ``categories``."""
    model = Requirement if requirements_matrix else Risk
    table = model.__tablename__
    pb = literal_column(rules.p_band_sql(f"{table}.p_failure")).label("pb")
    vb = literal_column(rules.value_band_sql(f"{table}.value")).label("vb")
    query = select(pb, vb, func.count()).select_from(model)
    if project_levels is not None:
        query = query.join(Project, Project.id == model.project_id)
    query = _matrix_filters(session, query, model, code, project_levels, categories)
    query = query.group_by(literal_column("pb"), literal_column("vb"))
    return {(int(p), int(v)): int(n) for p, v, n in session.execute(query).all()}


def cell_items(session: Session, pb: int, vb: int, code: str | None = None, *, requirements_matrix: bool = False,
               project_levels: Iterable[int] | None = None, categories: Iterable[str] | None = None,
               limit: int = 500) -> list[dict[str, Any]]:
    """What falls in one cell (with the filters of ``matrix_counts``): the items a person selecting
    that cell wants to see, highest risk first."""
    model = Requirement if requirements_matrix else Risk
    table = model.__tablename__
    query = (select(model, Project.code).join(Project, Project.id == model.project_id)
             .where(literal_column(rules.p_band_sql(f"{table}.p_failure")) == pb)
             .where(literal_column(rules.value_band_sql(f"{table}.value")) == vb))
    query = _matrix_filters(session, query, model, code, project_levels, categories)
    query = query.order_by((model.p_failure * model.value).desc(), col(model.id)).limit(limit)
    items = []
    for row, project_code in session.execute(query).all():
        label = row.title if isinstance(row, Risk) else f"{row.number} · {row.statement}"
        items.append({"code": project_code, "item": label, "p_failure": row.p_failure, "value": row.value,
                      "risk": round(rules.score(row.p_failure, row.value), 3),
                      "status": row.status if isinstance(row, Risk) else row.verification_status})
    return items


# --- the portfolio's risks ----------------------------------------------------------------------


def levels_of(phases: Iterable[str] = (), levels: Iterable[int] = ()) -> list[int] | None:
    """The levels a phase and level filter keeps (None: no filter)."""
    chosen = {int(lv) for lv in levels}
    for phase in phases:
        chosen |= set(level_rules.PHASE_LEVELS[level_rules.Phase(phase)])
    return sorted(chosen) if chosen or list(phases) or list(levels) else None


def _filtered(query, *, project_levels: Iterable[int] | None, categories: Iterable[str] | None,
              project_joined: bool = False):
    """``query`` over ``Risk`` narrowed to technologies at ``project_levels`` and to ``categories``
    (``Project`` is joined only when the level filter needs it)."""
    if project_levels is not None:
        if not project_joined:
            query = query.join(Project, Project.id == Risk.project_id)
        query = query.where(col(Project.level).in_(list(project_levels)))
    if categories:
        query = query.where(col(Risk.category).in_(list(categories)))
    return query


_SCORE = literal_column(rules.cell_score_sql("risk.p_failure", "risk.value"))


def _risk_rows(session: Session, ids: list[int], policy: Policy, now: datetime) -> list[dict[str, Any]]:
    """The risks ``ids`` (in that order) as the portfolio lists them, with their review state at
    ``now``."""
    if not ids:
        return []
    found = {row.id: (code, name, row) for code, name, row in session.execute(
        select(Project.code, Project.name, Risk).join(Project, Project.id == Risk.project_id)
        .where(col(Risk.id).in_(ids))).all()}
    out = []
    for code, name, row in (found[i] for i in ids):
        state = review_state(row, policy, now=now)
        out.append({"code": code, "technology": name, "id": row.id, "title": row.title, "category": row.category,
                    "p_failure": row.p_failure, "value": row.value, "risk": round(rules.score(row.p_failure, row.value), 3),
                    "grade": state.grade.name, "status": row.status, "owner": row.owner,
                    "last_reviewed": as_utc(row.last_reviewed_at), "next_review": state.next_review,
                    "overdue": state.overdue})
    return out


def top_risks(session: Session, policy: Policy, *, limit: int = 20, project_levels: Iterable[int] | None = None,
              categories: Iterable[str] | None = None, now: datetime | None = None) -> list[dict[str, Any]]:
    """The highest risks (p x value) that are not closed, across technologies (review state at
    ``now``, default the present)."""
    query = _filtered(select(Risk.id).where(Risk.status != rules.RiskStatus.CLOSED.value),
                      project_levels=project_levels, categories=categories)
    query = query.order_by((Risk.p_failure * Risk.value).desc(), col(Risk.id)).limit(limit)
    return _risk_rows(session, list(session.execute(query).scalars()), policy, now or days.now())


def _overdue_clause(now: datetime, policy: Policy):
    """SQL: the risk is not closed and its review is due before ``now`` (grade cadence, or the end
    of an acceptance). No date arithmetic in SQL: each grade compares with its own cutoff."""
    due = [and_(_SCORE.between(lo, hi), Risk.last_reviewed_at < now - timedelta(days=policy.risk_review_days[g.name]))
           for g, lo, hi in rules.grade_score_ranges()]
    due.append(and_(Risk.status == rules.RiskStatus.ACCEPTED.value, Risk.accepted_until < now))
    return and_(Risk.status != rules.RiskStatus.CLOSED.value, or_(*due))


def overdue_risks(session: Session, policy: Policy, *, now: datetime | None = None, limit: int = 200,
                  project_levels: Iterable[int] | None = None, categories: Iterable[str] | None = None
                  ) -> tuple[int, list[dict[str, Any]]]:
    """How many risks are overdue for review, and the first ``limit`` of them (most serious cell
    first, then the oldest review)."""
    now = now or days.now()
    where = _overdue_clause(now, policy)
    filters = {"project_levels": project_levels, "categories": categories}
    total = session.execute(_filtered(select(func.count()).select_from(Risk).where(where), **filters)).scalar_one()
    ids = _filtered(select(Risk.id).where(where), **filters).order_by(
        _SCORE.desc(), col(Risk.last_reviewed_at), col(Risk.id)).limit(limit)
    return total, _risk_rows(session, list(session.execute(ids).scalars()), policy, now)


def risk_growth(session: Session, *, project_levels: Iterable[int] | None = None,
                categories: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Technologies whose total open risk (sum of p x value over risks not closed) is higher now
    than when their level last changed, largest growth first. The total then is read from each
    risk's history: its last event at or before the level change (a risk added since counts 0;
    events are appended in time order, so the newest id is the last event)."""
    now_q = _filtered(select(Risk.project_id.label("pid"), func.sum(Risk.p_failure * Risk.value).label("total"))
                      .where(Risk.status != rules.RiskStatus.CLOSED.value),
                      project_levels=project_levels, categories=categories).group_by(Risk.project_id).subquery()
    last = (select(func.max(RiskEvent.id).label("event_id"))
            .select_from(Project).join(RiskEvent, and_(RiskEvent.project_id == Project.id,
                                                       RiskEvent.at <= Project.level_since)))
    if categories:
        last = last.join(Risk, Risk.id == RiskEvent.risk_id).where(col(Risk.category).in_(list(categories)))
    if project_levels is not None:
        last = last.where(col(Project.level).in_(list(project_levels)))
    last = last.group_by(RiskEvent.risk_id).subquery()
    then_q = (select(RiskEvent.project_id.label("pid"), func.sum(RiskEvent.p_failure * RiskEvent.value).label("total"))
              .join(last, last.c.event_id == RiskEvent.id)
              .where(RiskEvent.status != rules.RiskStatus.CLOSED.value).group_by(RiskEvent.project_id).subquery())
    then_total = func.coalesce(then_q.c.total, 0.0)
    query = (select(Project.code, Project.name, Project.level, Project.level_since, then_total, now_q.c.total)
             .join(now_q, now_q.c.pid == Project.id).outerjoin(then_q, then_q.c.pid == Project.id)
             .where(col(Project.level_since).is_not(None), now_q.c.total > then_total + 1e-9)
             .order_by((now_q.c.total - then_total).desc(), Project.code))
    return [{"code": code, "technology": name, "level": level, "level_since": as_utc(since),
             "risk_then": round(float(then), 3), "risk_now": round(float(now), 3), "growth": round(float(now - then), 3)}
            for code, name, level, since, then, now in session.execute(query).all()]


def risk_events(session: Session, code: str) -> pd.DataFrame:
    """A technology's risk history as a frame (risk_id, at, p_failure, value, status, category),
    oldest first, for the trend."""
    import pandas as pd

    project = get_project(session, code)
    rows = session.execute(
        select(RiskEvent.risk_id, RiskEvent.at, RiskEvent.p_failure, RiskEvent.value, RiskEvent.status, Risk.category)
        .join(Risk, Risk.id == RiskEvent.risk_id).where(RiskEvent.project_id == project.id)
        .order_by(col(RiskEvent.at), col(RiskEvent.id))
    ).all()
    frame = pd.DataFrame([tuple(r) for r in rows],
                         columns=["risk_id", "at", "p_failure", "value", "status", "category"])
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame


def _matrix_filters(session: Session, query: Any, model: type, code: str | None,
              project_levels: Iterable[int] | None, categories: Iterable[str] | None) -> Any:
    """The matrix's filters, one home for the counts and the cell's items: open risks only (and of
    the chosen categories), one technology, technologies at the chosen levels (the query must
    already join Project for that)."""
    if model is Risk:
        query = query.where(Risk.status != rules.RiskStatus.CLOSED.value)
        if categories:
            query = query.where(col(Risk.category).in_(list(categories)))
    if code is not None:
        query = query.where(model.project_id == get_project(session, code).id)
    if project_levels is not None:
        query = query.where(col(Project.level).in_(list(project_levels)))
    return query
