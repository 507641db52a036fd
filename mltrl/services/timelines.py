"""Timelines (read only): a technology's level history with its reviews and inherited past, a
system's tree of histories with the system level over time, and every technology's history for
the portfolio swimlanes.

Reads are few and wide: one query per timeline (the swimlanes read every level event at once);
the shaping below is vectorised pandas, pure (no session), and unit-tested on its own:

* ``kind_labels``             -- start / graduation / the switchback's kind, per event
* ``system_level_over_time``  -- the minimum over a tree's levels at every moment, and who holds it
* ``lane_segments``           -- the level held over each interval, per technology
* ``lane_summary``            -- per technology: switchbacks, phase and time in it, first event
* ``order_lanes``             -- the swimlanes' sort orders

The swimlanes page does not read every event: ``lane_frame`` gives one row per technology with its
lane facts (switchbacks, first event, time in its phase) aggregated in SQL, and ``lane_events``
reads the history of the lanes on screen only. ``lane_summary`` is the same facts computed in
pandas from a full event table: the definition the SQL is tested against.

Pages cache the reads on the data version (``mltrl.ui.context.cached_read``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Integer, String, case, false, func, literal, select, true, type_coerce
from sqlmodel import Session

from mltrl.domain import analytics, days
from mltrl.domain import levels as engine
from mltrl.models import LevelEvent, Project, ProjectOwner
from mltrl.services import reviews
from mltrl.services._core import as_utc
from mltrl.services.projects import get_project

EVENT_COLUMNS = ["event_id", "at", "from_level", "to_level", "kind", "note", "review_id", "recorded_by"]
PHASE_ORDER = {phase.value: k for k, phase in enumerate(engine.Phase)}
LEVEL_PHASE = {lv.number: lv.phase.value for lv in engine.LEVELS}
SORTS = ("level", "phase", "switchbacks", "code")
SWITCHBACK_KINDS = tuple(k.value for k in engine.SwitchbackKind)


# --- pure shaping -------------------------------------------------------------------------------


def kind_labels(kind: pd.Series, switchback_kind: pd.Series) -> pd.Series:
    """``start``, ``graduation`` or the switchback's own kind (discovery, review, embedded)."""
    return pd.Series(np.where(kind.to_numpy() == "switchback", switchback_kind.to_numpy(), kind.to_numpy()),
                     index=kind.index, dtype="object")


def _int_or_none(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype("Int64")


def system_level_over_time(events: pd.DataFrame) -> pd.DataFrame:
    """The system level at every moment one of its technologies moved.

    ``events`` has ``code``, ``at`` and ``to_level``, in the order they were recorded (``at``,
    then id). At each moment the level of each technology is its latest ``to_level`` so far; the
    system level is the minimum over those that have started (as ``levels.system_levels``: a
    technology before its start does not count). Returns ``at``, ``level`` and ``held_by`` (the
    codes at the minimum, comma-separated, in code order), one row per moment where the level or
    its holders changed.
    """
    if events.empty:
        return pd.DataFrame({"at": pd.Series(dtype="datetime64[ns, UTC]"), "level": pd.Series(dtype="Int64"),
                             "held_by": pd.Series(dtype="object")})
    frame = events[["code", "at", "to_level"]].copy()
    frame["at"] = pd.to_datetime(frame["at"], utc=True, format="ISO8601")
    frame = frame.reset_index(drop=True).sort_values("at", kind="stable")
    # The state after the last event of each (moment, technology); then carry levels forward.
    last = frame.groupby(["at", "code"], sort=True).tail(1)
    wide = last.pivot(index="at", columns="code", values="to_level").sort_index().ffill()
    wide = wide.reindex(sorted(wide.columns), axis=1)
    level = wide.min(axis=1, skipna=True)
    at_min = wide.eq(level, axis=0).to_numpy()
    codes = np.array(wide.columns, dtype=object)
    held_by = [", ".join(codes[row]) for row in at_min]
    out = pd.DataFrame({"at": wide.index, "level": level.to_numpy(), "held_by": held_by})
    changed = (out["level"] != out["level"].shift()) | (out["held_by"] != out["held_by"].shift())
    out = out[changed].reset_index(drop=True)
    out["level"] = out["level"].astype("Int64")
    return out


def lane_segments(events: pd.DataFrame, *, as_of: datetime | None = None) -> pd.DataFrame:
    """The level each technology held over each interval of its history.

    ``events`` has ``project_id``, ``at`` and ``to_level`` in recorded order. Returns
    ``project_id``, ``start``, ``end`` (the next event of the same technology, or ``as_of``),
    ``level`` and ``phase``; intervals of no length (two events at one moment) are dropped.
    """
    end_of_time = pd.Timestamp(as_of or days.now())
    if events.empty:
        return pd.DataFrame({"project_id": pd.Series(dtype="int64"),
                             "start": pd.Series(dtype="datetime64[ns, UTC]"),
                             "end": pd.Series(dtype="datetime64[ns, UTC]"),
                             "level": pd.Series(dtype="int64"), "phase": pd.Series(dtype="object")})
    frame = events[["project_id", "at", "to_level"]].reset_index(drop=True)
    frame = frame.assign(at=pd.to_datetime(frame["at"], utc=True)).sort_values(["project_id", "at"], kind="stable")
    following = frame.groupby("project_id", sort=False)["at"].shift(-1)
    out = pd.DataFrame({
        "project_id": frame["project_id"].to_numpy(),
        "start": frame["at"].to_numpy(),
        "end": following.fillna(max(end_of_time, frame["at"].max())).to_numpy(),
        "level": frame["to_level"].astype(int).to_numpy(),
    })
    out["start"] = pd.to_datetime(out["start"], utc=True)
    out["end"] = pd.to_datetime(out["end"], utc=True)
    out = out[out["end"] > out["start"]].reset_index(drop=True)
    out["phase"] = out["level"].map(LEVEL_PHASE)
    return out


def lane_summary(frame: pd.DataFrame, events: pd.DataFrame, *, as_of: datetime | None = None) -> pd.DataFrame:
    """One row per technology of the portfolio ``frame`` (``id``, ``code``, ``name``, ``level``,
    ``status``; its order is kept as ``position``), with ``switchbacks`` (how many), ``phase``,
    ``phase_since`` (when it entered its current phase for the last time), ``days_in_phase`` and
    ``first_at``. ``events`` are ``level_events``' (``project_id``, ``at``, ``to_level``, ``kind``
    labelled by ``kind_labels``)."""
    now = pd.Timestamp(as_of or days.now())
    lanes = frame[["id", "code", "name", "level", "status"]].reset_index(drop=True).copy()
    lanes["position"] = np.arange(len(lanes))
    lanes["level"] = lanes["level"].astype("Int64")
    lanes["phase"] = pd.Series([None if pd.isna(v) else LEVEL_PHASE[int(v)] for v in lanes["level"]], dtype=object)
    if events.empty:
        lanes["switchbacks"] = 0
        lanes["phase_since"] = pd.Series(pd.NaT, index=lanes.index, dtype="datetime64[ns, UTC]")
        lanes["first_at"] = lanes["phase_since"]
        lanes["days_in_phase"] = np.nan
        return lanes
    ev = events.reset_index(drop=True)
    ev = ev.assign(at=pd.to_datetime(ev["at"], utc=True)).sort_values(["project_id", "at"], kind="stable")
    counts = ev[ev["kind"].isin(SWITCHBACK_KINDS)].groupby("project_id").size()
    lanes["switchbacks"] = lanes["id"].map(counts).fillna(0).astype(int)
    lanes["first_at"] = lanes["id"].map(ev.groupby("project_id")["at"].min())
    # The start of the last run of events in one phase: where the phase differs from the previous
    # event's (or a technology's history begins).
    phase = ev["to_level"].astype(int).map(LEVEL_PHASE)
    new_run = (phase != phase.shift()) | (ev["project_id"] != ev["project_id"].shift())
    run_starts = ev.loc[new_run.to_numpy(), ["project_id", "at"]]
    lanes["phase_since"] = lanes["id"].map(run_starts.groupby("project_id")["at"].max())
    lanes["phase_since"] = pd.to_datetime(lanes["phase_since"], utc=True)
    lanes["days_in_phase"] = (now - lanes["phase_since"]).dt.total_seconds() / 86_400.0
    return lanes


def order_lanes(lanes: pd.DataFrame, by: str, *, reverse: bool = False) -> pd.DataFrame:
    """The swimlanes in the order asked for; technologies with no level yet always come last.

    * ``level``       -- highest current level first, then code;
    * ``phase``       -- by phase from research to deployment, the longest in its phase first;
    * ``switchbacks`` -- most switchbacks first, then highest level, then code;
    * ``code``        -- the portfolio's own order (components after their system).

    ``reverse`` turns the order of the started technologies round.
    """
    if by not in SORTS:
        raise ValueError(f"unknown sort {by!r}: one of {', '.join(SORTS)}")
    started = lanes[lanes["level"].notna()].copy()
    waiting = lanes[lanes["level"].isna()].sort_values("position", kind="stable")
    started["_level"] = started["level"].astype(int)
    if by == "level":
        started = started.sort_values(["_level", "code"], ascending=[False, True], kind="stable")
    elif by == "phase":
        started["_phase"] = started["phase"].map(PHASE_ORDER)
        started["_days"] = started.get("days_in_phase", 0.0)
        started = started.sort_values(["_phase", "_days", "code"], ascending=[True, False, True], kind="stable")
    elif by == "switchbacks":
        started = started.sort_values(["switchbacks", "_level", "code"], ascending=[False, False, True], kind="stable")
    else:
        started = started.sort_values("position", kind="stable")
    if reverse:
        started = started.iloc[::-1]
    started = started.drop(columns=[c for c in ("_level", "_phase", "_days") if c in started])
    return pd.concat([started, waiting]).reset_index(drop=True)


# --- reads --------------------------------------------------------------------------------------


def _events_frame(rows: Iterable[tuple], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    if frame.empty:
        frame = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    frame["at"] = pd.to_datetime(frame["at"], utc=True, format="ISO8601")
    for column in ("from_level", "review_id"):
        if column in frame:
            frame[column] = _int_or_none(frame[column])
    if "to_level" in frame:
        frame["to_level"] = frame["to_level"].astype("int64")
    if "switchback_kind" in frame:
        frame["kind"] = kind_labels(frame["kind"], frame["switchback_kind"])
        frame = frame.drop(columns="switchback_kind")
    if "note" in frame:
        frame["note"] = frame["note"].fillna("").astype(object)
    return frame


def _level_event_rows(events: Iterable[LevelEvent], **extra) -> list[dict]:
    return [{"event_id": e.id, "at": as_utc(e.at), "from_level": e.from_level, "to_level": e.to_level,
             "kind": e.switchback_kind if e.kind == "switchback" else e.kind, "note": e.note or "",
             "review_id": e.review_id, "recorded_by": e.recorded_by, **extra} for e in events]


@dataclass(frozen=True)
class TechnologyTimeline:
    """A technology's level history as the timeline draws it.

    ``events``: ``event_id``, ``at``, ``from_level``, ``to_level``, ``kind`` (start, graduation,
    discovery, review, embedded), ``note``, ``review_id`` (None: recorded without a review),
    ``recorded_by``, ``inherited`` (True for the past inherited from the technologies it was forked
    from) and ``source`` (the code of the technology whose event it is), oldest first.
    """

    code: str
    name: str
    forked_from: str | None
    forked_at: datetime | None
    events: pd.DataFrame


def technology_timeline(session: Session, code: str) -> TechnologyTimeline:
    project = get_project(session, code)
    past, own = reviews.lineage_events(session, project.code)
    codes = dict(session.execute(select(Project.id, Project.code).where(
        Project.id.in_({e.project_id for e in past} | {project.id}))).all())
    rows = [dict(r, inherited=True, source=codes[e.project_id]) for r, e in zip(_level_event_rows(past), past)]
    rows += _level_event_rows(own, inherited=False, source=project.code)
    columns = EVENT_COLUMNS + ["inherited", "source"]
    events = _events_frame([tuple(r[c] for c in columns) for r in rows], columns)
    events["inherited"] = events["inherited"].astype(bool)
    parent = session.get(Project, project.forked_from_id) if project.forked_from_id else None
    return TechnologyTimeline(project.code, project.name, parent.code if parent else None,
                              as_utc(project.forked_at), events)


@dataclass(frozen=True)
class SystemTimeline:
    """A system and every technology under it, with their histories and the system level.

    ``members``: ``code``, ``name``, ``depth`` (0 for the system), ``parent`` in tree order.
    ``events``: ``code`` and the columns of ``TechnologyTimeline.events`` (no inherited past).
    ``levels``: the system level over time (``system_level_over_time``).
    """

    code: str
    name: str
    members: pd.DataFrame
    events: pd.DataFrame
    levels: pd.DataFrame


def system_timeline(session: Session, code: str) -> SystemTimeline:
    root = get_project(session, code)
    tree = [tuple(r) for r in session.execute(select(Project.id, Project.code, Project.name, Project.parent_id))]
    children: dict[int, list[tuple]] = {}
    for row in tree:
        children.setdefault(row[3], []).append(row)
    members, stack, seen = [], [(root.id, root.code, root.name, None, 0)], set()
    while stack:  # depth first, components in code order right after their parent
        node_id, node_code, node_name, parent_code, depth = stack.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        members.append((node_id, node_code, node_name, parent_code, depth))
        for child in sorted(children.get(node_id, []), key=lambda r: r[1], reverse=True):
            stack.append((child[0], child[1], child[2], node_code, depth + 1))
    code_of = {m[0]: m[1] for m in members}
    rows = session.execute(
        select(LevelEvent.project_id, LevelEvent.id, LevelEvent.at, LevelEvent.from_level, LevelEvent.to_level,
               LevelEvent.kind, LevelEvent.switchback_kind, LevelEvent.note, LevelEvent.review_id,
               LevelEvent.recorded_by)
        .where(LevelEvent.project_id.in_(list(code_of)))
        .order_by(LevelEvent.at, LevelEvent.id)
    ).all()
    columns = ["code", "event_id", "at", "from_level", "to_level", "kind", "switchback_kind", "note", "review_id",
               "recorded_by"]
    events = _events_frame([(code_of[r[0]], *r[1:]) for r in rows], columns)
    frame = pd.DataFrame(members, columns=["id", "code", "name", "parent", "depth"]).drop(columns="id")
    return SystemTimeline(root.code, root.name, frame, events, system_level_over_time(events))


def level_events(session: Session) -> pd.DataFrame:
    """Every level event of the portfolio in one query, in recorded order: ``project_id``,
    ``event_id``, ``at``, ``from_level``, ``to_level``, ``kind`` (the switchback's kind for a
    switchback), ``note``, ``review_id``."""
    return _level_events(session, true())


def _level_events(session: Session, where) -> pd.DataFrame:
    # ``at`` is read as the driver gives it (text on SQLite, a datetime on PostgreSQL) and parsed
    # for the whole column at once: converting it row by row costs more than the query at L.
    rows = session.execute(
        select(LevelEvent.project_id, LevelEvent.id, type_coerce(LevelEvent.at, String).label("at"),
               LevelEvent.from_level, LevelEvent.to_level, LevelEvent.kind, LevelEvent.switchback_kind,
               LevelEvent.note, LevelEvent.review_id)
        .where(where)
        .order_by(LevelEvent.at, LevelEvent.id)
    ).all()
    columns = ["project_id", "event_id", "at", "from_level", "to_level", "kind", "switchback_kind", "note",
               "review_id"]
    return _events_frame([tuple(r) for r in rows], columns)


LANE_COLUMNS = ["id", "code", "name", "status", "level", "phase", "owners", "summary", "depth", "position",
                "switchbacks", "first_at", "phase_since", "days_in_phase"]


def lane_frame(session: Session, *, as_of: datetime | None = None) -> pd.DataFrame:
    """One row per technology in tree order, with what the swimlanes filter and sort on:
    ``id``, ``code``, ``name``, ``status``, ``level``, ``phase``, ``owners``, ``summary``,
    ``depth``, ``position`` and the facts of ``lane_summary`` (``switchbacks``, ``first_at``,
    ``phase_since``, ``days_in_phase``).

    Three queries: the projects, their owners, and the facts grouped per technology in SQL (a
    window over each technology's events marks where its phase changes), so no event reaches
    Python. Window functions need SQLite 3.25 or PostgreSQL.
    """
    now = pd.Timestamp(as_of or days.now())
    conn = session.connection()
    rows = [tuple(r) for r in conn.execute(
        select(Project.id, Project.code, Project.name, Project.parent_id, Project.status, Project.level,
               Project.summary).order_by(Project.code))]
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in LANE_COLUMNS})
    owners: dict[int, list[str]] = {}
    for pid, name in conn.execute(select(ProjectOwner.project_id, ProjectOwner.name)
                                  .order_by(ProjectOwner.project_id, ProjectOwner.position)):
        owners.setdefault(pid, []).append(name)
    phase_of = case(*((LevelEvent.to_level == lv.number, PHASE_ORDER[lv.phase.value]) for lv in engine.LEVELS),
                    else_=literal(-1, Integer))
    marked = select(
        LevelEvent.project_id.label("pid"), LevelEvent.at.label("at"),
        (LevelEvent.kind == "switchback").label("is_switchback"),
        phase_of.label("phase"),
        func.lag(phase_of).over(partition_by=LevelEvent.project_id,
                                order_by=(LevelEvent.at, LevelEvent.id)).label("previous"),
    ).subquery()
    run_start = case(((marked.c.previous.is_(None)) | (marked.c.previous != marked.c.phase), marked.c.at))
    facts = {r[0]: r[1:] for r in conn.execute(
        select(marked.c.pid, func.sum(case((marked.c.is_switchback, 1), else_=0)),
               type_coerce(func.min(marked.c.at), String), type_coerce(func.max(run_start), String))
        .group_by(marked.c.pid))}
    frame = pd.DataFrame.from_records(
        [(r[0], r[1], r[2], r[4], r[5], r[6]) for r in rows],
        columns=["id", "code", "name", "status", "level", "summary"])
    frame["level"] = frame["level"].astype("Int64")
    frame["phase"] = analytics.phase_labels(frame["level"])
    frame["owners"] = [owners.get(pid, []) for pid in frame["id"]]
    frame["summary"] = frame["summary"].fillna("")
    frame["switchbacks"] = [int(facts[pid][0] or 0) if pid in facts else 0 for pid in frame["id"]]
    frame["first_at"] = pd.to_datetime([facts.get(pid, (0, None, None))[1] for pid in frame["id"]],
                                       utc=True, format="ISO8601")
    frame["phase_since"] = pd.to_datetime([facts.get(pid, (0, None, None))[2] for pid in frame["id"]],
                                          utc=True, format="ISO8601")
    frame["days_in_phase"] = (now - frame["phase_since"]).dt.total_seconds() / 86_400.0
    ids = [r[0] for r in rows]
    order = analytics.tree_order(ids, {r[0]: r[3] for r in rows})
    depth = dict(order)
    frame["depth"] = [depth[i] for i in ids]
    frame = frame.set_index("id").loc[[node for node, _ in order]].reset_index()
    frame["position"] = np.arange(len(frame))
    return frame[LANE_COLUMNS]


def lane_events(session: Session, ids: Iterable[int]) -> pd.DataFrame:
    """The level events of the technologies ``ids`` (the lanes on screen), in the columns of
    ``level_events``."""
    wanted = sorted(set(int(i) for i in ids))
    return _level_events(session, LevelEvent.project_id.in_(wanted) if wanted else false())
