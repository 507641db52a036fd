"""The portfolio as one table: every technology with its level, system level and owners.

Two queries (projects, owners), then the arithmetic in ``mltrl.domain.analytics``. Pages cache the result
keyed on ``mltrl.db.data_version`` so a rerun after a click does not recompute it.

``project_list`` (the CLI's ``project list``) reads only what it prints, in plain Python: one
query, the system levels and the tree order from ``mltrl.domain.levels``. pandas, the analytics
and the card rules (with the Markdown renderer) are imported inside ``portfolio_frame``, so the
CLI starts without them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import case, func, select
from sqlmodel import Session

from mltrl.domain import levels as engine
from mltrl.domain.levels import MAX_LEVEL
from mltrl.models import (
    CardRevision,
    GateOverride,
    LevelEvent,
    Project,
    ProjectOwner,
    Requirement,
    Review,
    Risk,
    utcnow,
)
from mltrl.services._core import as_utc
from mltrl.services.policy import current_policy

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = [
    "id", "code", "name", "parent_id", "parent", "status", "level", "system_level", "phase",
    "level_since", "days_in_level", "owners", "depth", "summary", "version",
    "card", "card_note", "card_saved", "card_revisions", "review_note", "review_overdue",
]


def portfolio_frame(session: Session, *, as_of: datetime | None = None) -> pd.DataFrame:
    """One row per technology in tree order (components right after their parent)."""
    import pandas as pd

    from mltrl.domain import analytics
    from mltrl.domain import cards as card_rules

    conn = session.connection()
    # Plain tuples: pandas probing SQLAlchemy Row objects one by one costs more than the query.
    rows = [tuple(r) for r in conn.execute(
        select(
            Project.id, Project.code, Project.name, Project.parent_id, Project.status,
            Project.level, Project.level_since, Project.summary, Project.version,
        ).order_by(Project.code)
    )]
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})
    frame = pd.DataFrame.from_records(rows, columns=[
        "id", "code", "name", "parent_id", "status", "level", "level_since", "summary", "version",
    ])
    owner_lists: dict[int, list[str]] = {}
    for project_id, name in conn.execute(
        select(ProjectOwner.project_id, ProjectOwner.name).order_by(
            ProjectOwner.project_id, ProjectOwner.position
        )
    ):
        owner_lists.setdefault(project_id, []).append(name)
    frame["owners"] = [owner_lists.get(i, []) for i in frame["id"]]
    frame["level"] = frame["level"].astype("Int64")
    frame["parent_id"] = frame["parent_id"].astype("Int64")
    code_by_id = {r[0]: r[1] for r in rows}
    parent_by_id = {r[0]: r[3] for r in rows}
    frame["parent"] = pd.Series([code_by_id.get(r[3]) for r in rows], dtype="object")
    frame["system_level"] = analytics.with_system_levels(frame)
    frame["phase"] = analytics.phase_labels(frame["level"])
    frame["level_since"] = pd.to_datetime(frame["level_since"], utc=True)
    frame["days_in_level"] = analytics.days_between(frame["level_since"], as_of)
    saved, revisions = {}, {}
    for pid, last, count in conn.execute(
        select(CardRevision.project_id, func.max(CardRevision.at), func.count()).group_by(CardRevision.project_id)
    ):
        saved[pid], revisions[pid] = last, count
    now, max_days = as_of or utcnow(), current_policy(session).card_stale_days
    # From the raw rows: going through the pandas column makes a Timestamp per value (slow at L).
    states = [card_rules.staleness(as_utc(saved.get(r[0])), as_utc(r[6]), now, max_days) for r in rows]
    frame["card"] = [st.state for st in states]
    frame["card_note"] = [st.reason for st in states]
    frame["card_saved"] = pd.to_datetime([as_utc(saved.get(pid)) for pid in frame["id"]], utc=True)
    frame["card_revisions"] = [revisions.get(pid, 0) for pid in frame["id"]]

    notes, overdue = _review_notes(session, rows, now)
    frame["review_note"] = [notes.get(pid, "") for pid in frame["id"]]
    frame["review_overdue"] = [pid in overdue for pid in frame["id"]]

    ids = [r[0] for r in rows]
    order = analytics.tree_order(ids, parent_by_id)
    position = {node: k for k, (node, _) in enumerate(order)}
    depth = dict(order)
    frame["depth"] = [depth[i] for i in ids]
    frame = frame.iloc[sorted(range(len(ids)), key=lambda k: position[ids[k]])].reset_index(drop=True)
    return frame[COLUMNS]


def _review_notes(session: Session, rows: list[tuple], now: datetime) -> tuple[dict[int, str], set[int]]:
    """Per technology, what its reviews say at a glance: an open review, a level 9 review overdue
    (computed from the last decided one, never stored), gates overridden or whose override expired
    (shown apart from passes). Three small grouped queries."""
    conn = session.connection()
    policy = current_policy(session)
    last9 = dict(conn.execute(select(Review.project_id, func.max(Review.decided_at))
                              .where(Review.level == MAX_LEVEL, Review.status == "decided")
                              .group_by(Review.project_id)).all())
    opened = set(conn.execute(select(Review.project_id).where(Review.status == "open")).scalars())
    latest: dict[tuple[int, int, str], tuple[datetime, datetime | None]] = {}
    for pid, level, gate, at, expires in conn.execute(
            select(GateOverride.project_id, GateOverride.level, GateOverride.gate, GateOverride.at,
                   GateOverride.expires_at).order_by(GateOverride.at, GateOverride.id)):
        latest[(pid, level, gate)] = (at, expires)
    notes: dict[int, list[str]] = {}
    overdue: set[int] = set()
    for pid, level, since in ((r[0], r[5], r[6]) for r in rows):
        if pid in opened:
            notes.setdefault(pid, []).append("review open")
        if level == MAX_LEVEL and since is not None:
            anchor = max(d for d in (as_utc(since), as_utc(last9.get(pid))) if d is not None)
            if anchor + timedelta(days=policy.deployed_review_days) < now:
                overdue.add(pid)
                notes.setdefault(pid, []).append("level 9 review overdue")
    for (pid, level, gate), (_, expires) in latest.items():
        expired = expires is not None and as_utc(expires) <= now
        notes.setdefault(pid, []).append(f"level {level} gate {gate}: {'override expired' if expired else 'overridden'}")
    return {pid: "; ".join(n) for pid, n in notes.items()}, overdue


def project_list(session: Session) -> list[dict]:
    """The CLI's ``project list --json`` records, in tree order: the same rows, order and values as
    ``portfolio_frame``'s code, name, parent, level, system level and status columns, without pandas."""
    rows = [tuple(r) for r in session.connection().execute(
        select(Project.id, Project.code, Project.name, Project.parent_id, Project.status, Project.level)
        .order_by(Project.code)
    )]
    code_by_id = {r[0]: r[1] for r in rows}
    parent_by_id = {r[0]: r[3] for r in rows}
    system = engine.system_levels(parent_by_id, {r[0]: r[5] for r in rows})
    by_id = {r[0]: r for r in rows}
    return [
        {
            "code": by_id[pid][1],
            "name": by_id[pid][2],
            "parent": code_by_id.get(by_id[pid][3]),
            "level": None if by_id[pid][5] is None else int(by_id[pid][5]),
            "system_level": None if system[pid] is None else int(system[pid]),
            "status": by_id[pid][4],
        }
        for pid, _ in engine.tree_order(list(by_id), parent_by_id)
    ]


def find_projects(session: Session, *, status: str | None = None, level: int | None = None,
                  min_level: int | None = None, max_level: int | None = None, parent: str | None = None,
                  owner: str | None = None, text: str | None = None) -> list[dict]:
    """``project_list``'s records that match every filter given, in the same order: ``status``;
    the ``level`` exactly or within ``min_level``..``max_level``; the components of ``parent``
    (``""`` for systems, those with no parent); an ``owner`` (case-insensitive); ``text`` found in
    the code or the name (case-insensitive)."""
    records = project_list(session)
    if owner is not None:
        wanted = owner.strip().casefold()
        rows = session.connection().execute(select(Project.code, ProjectOwner.name)
                                            .join(ProjectOwner, ProjectOwner.project_id == Project.id))
        owned = {code for code, name in rows if name.casefold() == wanted}
        records = [r for r in records if r["code"] in owned]
    if status is not None:
        records = [r for r in records if r["status"] == status]
    if level is not None:
        records = [r for r in records if r["level"] == level]
    if min_level is not None:
        records = [r for r in records if r["level"] is not None and r["level"] >= min_level]
    if max_level is not None:
        records = [r for r in records if r["level"] is not None and r["level"] <= max_level]
    if parent is not None:
        wanted_parent = parent.strip().casefold()
        records = [r for r in records if (r["parent"] or "").casefold() == wanted_parent]
    if text:
        needle = text.casefold()
        records = [r for r in records if needle in r["code"].casefold() or needle in r["name"].casefold()]
    return records


def system_level_of(session: Session, project_id: int) -> int | None:
    """The system level of one technology: the lowest level in it and its components, at any
    depth (one light query of ids, parents and levels; no names, no tree order)."""
    rows = session.connection().execute(select(Project.id, Project.parent_id, Project.level)).all()
    children: dict[int, list[int]] = {}
    level_by_id: dict[int, int | None] = {}
    for pid, parent, level in rows:
        level_by_id[pid] = level
        if parent is not None:
            children.setdefault(parent, []).append(pid)
    levels, stack, seen = [], [project_id], set()
    while stack:
        node = stack.pop()
        if node in seen:  # a parent loop cannot be stored, but a walk never trusts that
            continue
        seen.add(node)
        if level_by_id.get(node) is not None:
            levels.append(level_by_id[node])
        stack.extend(children.get(node, ()))
    return min(levels) if levels else None


def telling_order(session: Session, *, limit: int | None = None) -> list[str]:
    """Technologies' codes, the one with the most to show first: what a page opens on when nobody
    has chosen a technology yet (``most_telling``), so a first look shows a level, a card and a
    register rather than the first code's empty pages.

    Ranked by, in turn: how many of the three things every page shows it has (a level, a card, a
    register: requirements or risks still open); how many of these it has: a level, a card,
    requirements, open risks, an open review; active before paused or retired; the length of its
    level history; the size of its registers (requirements and open risks); then the code. Grouped
    counts in one query, sorted in SQL: no row per event or risk comes back.
    """
    def counted(column, *where):
        return select(column.label("project_id"), func.count().label("n")).where(*where).group_by(column).subquery()

    events = counted(LevelEvent.project_id)
    revisions = counted(CardRevision.project_id)
    requirements = counted(Requirement.project_id)
    risks = counted(Risk.project_id, Risk.status != "closed")
    reviews = counted(Review.project_id, Review.status == "open")
    n = {name: func.coalesce(sub.c.n, 0) for name, sub in
         (("events", events), ("cards", revisions), ("requirements", requirements), ("risks", risks),
          ("reviews", reviews))}

    def has(value):
        return case((value > 0, 1), else_=0)

    has_level = case((Project.level.is_not(None), 1), else_=0)
    core = has_level + has(n["cards"]) + has(n["requirements"] + n["risks"])
    facets = has_level + has(n["cards"]) + has(n["requirements"]) + has(n["risks"]) + has(n["reviews"])
    query = select(Project.code)
    for sub in (events, revisions, requirements, risks, reviews):
        query = query.outerjoin(sub, sub.c.project_id == Project.id)
    query = query.order_by(core.desc(), facets.desc(), case((Project.status == "active", 1), else_=0).desc(),
                           n["events"].desc(), (n["requirements"] + n["risks"]).desc(), Project.code)
    if limit is not None:
        query = query.limit(limit)
    return list(session.connection().execute(query).scalars())


def most_telling(session: Session) -> str | None:
    """The technology a page opens on when none is chosen (see ``telling_order``); None when there
    is none at all."""
    first = telling_order(session, limit=1)
    return first[0] if first else None
