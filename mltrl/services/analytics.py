"""Analytics reads (read only): the portfolio's level history as one event table, and the
technologies it is filtered and labelled by. The arithmetic is ``mltrl.domain.analytics`` (pure,
vectorised); pages cache these reads on the data version (``mltrl.ui.context.cached_read``), so
time per level and the transition matrix are computed from memory after the first read.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session

from mltrl.domain import analytics
from mltrl.models import LevelEvent, Project, ProjectOwner

EVENT_COLUMNS = ["project_id", "at", "from_level", "to_level", "kind", "switchback_kind"]
EVENT_SQL = (f"SELECT {', '.join(EVENT_COLUMNS)} FROM {LevelEvent.__tablename__} "
             "ORDER BY project_id, at, id")
TECHNOLOGY_COLUMNS = ["project_id", "code", "name", "status", "level", "phase", "owners", "depth", "system"]


def event_table(session: Session) -> pd.DataFrame:
    """Every level event, by technology and in recorded order (``at``, then id; the order of the
    index on ``(project_id, at)``): ``project_id``, ``at`` (UTC),
    ``from_level`` (missing for a start), ``to_level``, ``kind``, ``switchback_kind``. One query;
    ``at`` is parsed for the whole column at once (the driver gives text on SQLite)."""
    # Straight through the driver's cursor: building SQLAlchemy rows costs more than the query at L
    # (a fixed statement, no user input). SQLite gives ``at`` as text, PostgreSQL as a datetime;
    # either is parsed for the whole column at once.
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(EVENT_SQL)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    frame = pd.DataFrame.from_records(rows, columns=EVENT_COLUMNS)
    frame["at"] = pd.to_datetime(frame["at"], utc=True, format="ISO8601")
    frame["project_id"] = frame["project_id"].astype("int64")
    frame["from_level"] = pd.to_numeric(frame["from_level"], errors="coerce").astype("Int64")
    frame["to_level"] = frame["to_level"].astype("int64")
    frame["kind"] = frame["kind"].astype(object)
    frame["switchback_kind"] = frame["switchback_kind"].astype(object)
    return frame


def technologies(session: Session) -> pd.DataFrame:
    """Every technology in tree order: ``project_id``, ``code``, ``name``, ``status``, ``level``,
    ``phase``, ``owners`` (a list), ``depth`` and ``system`` (the code of its tree's root)."""
    conn = session.connection()
    rows = [tuple(r) for r in conn.execute(select(Project.id, Project.code, Project.name, Project.parent_id,
                                                  Project.status, Project.level).order_by(Project.code))]
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in TECHNOLOGY_COLUMNS})
    owners: dict[int, list[str]] = {}
    for pid, name in conn.execute(select(ProjectOwner.project_id, ProjectOwner.name)
                                  .order_by(ProjectOwner.project_id, ProjectOwner.position)):
        owners.setdefault(pid, []).append(name)
    order = analytics.tree_order([r[0] for r in rows], {r[0]: r[3] for r in rows})
    by_id = {r[0]: r for r in rows}
    frame = pd.DataFrame.from_records(
        [(pid, by_id[pid][1], by_id[pid][2], by_id[pid][4], by_id[pid][5], depth) for pid, depth in order],
        columns=["project_id", "code", "name", "status", "level", "depth"])
    frame["level"] = frame["level"].astype("Int64")
    frame["phase"] = analytics.phase_labels(frame["level"])
    frame["owners"] = [owners.get(pid, []) for pid in frame["project_id"]]
    frame["system"] = frame["code"].where(frame["depth"] == 0).ffill()
    return frame[TECHNOLOGY_COLUMNS]


def time_per_level(session: Session, *, as_of: datetime | None = None) -> list[dict]:
    """Per technology and level it has held, as of ``as_of`` (default now): ``code``, ``level``,
    ``days`` (total, fractional), ``completed_days``, ``ongoing_days`` and ``intervals`` (stays,
    the ongoing one included); by code, then level. What ``mltrl analytics time-per-level`` prints."""
    events = event_table(session)
    codes = dict(session.connection().execute(select(Project.id, Project.code)).all())
    per = analytics.time_per_level(analytics.level_intervals(events, as_of=as_of))
    records = [{"code": codes[int(r.project_id)], "level": int(r.level), "days": float(r.days),
                "completed_days": float(r.completed_days), "ongoing_days": float(r.ongoing_days),
                "intervals": int(r.intervals)} for r in per.itertuples(index=False)]
    return sorted(records, key=lambda r: (r["code"], r["level"]))
