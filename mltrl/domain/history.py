"""The level history: stays, time per level, moves, transition counts, switchback rates, paths,
runs, cycles, bottlenecks, stalled stays, levels on a date, changes between two dates and a
period's report card. Pure functions over pandas DataFrames, vectorised; no streamlit, no database.

The functions read an *event table*: one row per level event with ``project_id``, ``at``
(timezone-aware), ``from_level`` (missing for a start), ``to_level``, ``kind`` (``start``,
``graduation``, ``switchback``) and ``switchback_kind``, in recorded order (``at``, then id).
Events recorded without a review count like any other.

Definitions (also shown on the Analytics page):

* An *interval* (a stay) at level L runs from the event that entered L to the technology's next
  event. The last one is *ongoing* and runs to the as-of date. Events after the as-of date are
  ignored, so a report as of a past date is reproducible.
* *Time in level L* for a technology is the sum of its intervals at L. Completed and ongoing
  intervals are kept apart in every statistic: a stay still under way is not a duration yet.
* A *path* is the sequence of levels a technology held, in order. A *cycle* is a return to a level
  already held: the stretch of the path from that level's previous visit back to it
  (4 -> 2 -> 3 -> 4).

Forecasts and key result statuses built on these stays are ``mltrl.domain.forecast``; both are
re-exported by ``mltrl.domain.analytics``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from mltrl.domain import days
from mltrl.domain import levels as engine

MOVES = ("graduation", "discovery", "review", "embedded")
DAY_SECONDS = 86_400.0


def _stamp(value: datetime | pd.Timestamp | None) -> pd.Timestamp:
    stamp = pd.Timestamp(value if value is not None else days.now())
    return stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)


def by_project(events: pd.DataFrame) -> pd.DataFrame:
    """``events`` in project order, each project's events in recorded order (as the event table
    is read: then nothing is sorted)."""
    pid = events["project_id"].to_numpy()
    if len(pid) > 1:
        at = _nanoseconds(events["at"])
        new_project = pid[1:] > pid[:-1]
        if bool(np.all(new_project | ((pid[1:] == pid[:-1]) & (at[1:] >= at[:-1])))):
            return events
    return events.sort_values(["project_id", "at"], kind="stable")


def move_labels(events: pd.DataFrame) -> pd.Series:
    """``start``, ``graduation`` or the switchback's kind (discovery, review, embedded), per event."""
    kind = events["kind"].to_numpy(dtype=object)
    return pd.Series(np.where(kind == "switchback", events["switchback_kind"].to_numpy(dtype=object), kind),
                     index=events.index, dtype=object)


def level_intervals(events: pd.DataFrame, *, as_of: datetime | None = None) -> pd.DataFrame:
    """Every stay at a level: ``project_id``, ``level``, ``start``, ``end``, ``days`` (fractional)
    and ``ongoing`` (the technology's last stay, running to ``as_of``). Vectorised: the end of a
    stay is the start of the next event of the same technology."""
    cutoff = _stamp(as_of)
    ev = by_project(events.loc[events["at"] <= cutoff, ["project_id", "at", "to_level"]]).reset_index(drop=True)
    pid = ev["project_id"].to_numpy()
    same_next = np.zeros(len(ev), dtype=bool)
    if len(ev) > 1:
        same_next[:-1] = pid[1:] == pid[:-1]
    # Columns stay datetime Series throughout: ``to_numpy()`` of a tz-aware column makes objects.
    start = pd.to_datetime(ev["at"], utc=True)
    end = start.shift(-1).where(same_next, cutoff)
    out = pd.DataFrame({"project_id": ev["project_id"].astype("int64"), "level": ev["to_level"].astype("int64"),
                        "start": start, "end": end, "ongoing": ~same_next})
    out["days"] = (out["end"] - out["start"]).dt.total_seconds() / DAY_SECONDS
    return out[["project_id", "level", "start", "end", "days", "ongoing"]]


def time_per_level(intervals: pd.DataFrame) -> pd.DataFrame:
    """Per technology and level it has held: ``days`` (total), ``completed_days``,
    ``ongoing_days`` and ``intervals`` (the number of stays, the ongoing one included)."""
    days = intervals["days"]
    frame = pd.DataFrame({
        "project_id": intervals["project_id"], "level": intervals["level"], "days": days,
        "completed_days": days.where(~intervals["ongoing"], 0.0),
        "ongoing_days": days.where(intervals["ongoing"], 0.0),
    })
    out = frame.groupby(["project_id", "level"], sort=True).agg(
        days=("days", "sum"), completed_days=("completed_days", "sum"), ongoing_days=("ongoing_days", "sum"),
        intervals=("days", "size"))
    return out.reset_index()


def level_time_stats(intervals: pd.DataFrame) -> pd.DataFrame:
    """Per level 0-9, completed stays and ongoing ones apart: ``completed`` (how many),
    ``median_days``, ``p25_days``, ``p75_days``, ``mean_days`` over completed stays; ``ongoing``
    (how many) and ``ongoing_median_days`` (time so far) over ongoing ones."""
    done = intervals.loc[~intervals["ongoing"]].groupby("level")["days"]
    running = intervals.loc[intervals["ongoing"]].groupby("level")["days"]
    out = pd.DataFrame(index=pd.RangeIndex(engine.MIN_LEVEL, engine.MAX_LEVEL + 1, name="level"))
    out["completed"] = done.size()
    out["median_days"] = done.median()
    out["p25_days"] = done.quantile(0.25)
    out["p75_days"] = done.quantile(0.75)
    out["mean_days"] = done.mean()
    out["ongoing"] = running.size()
    out["ongoing_median_days"] = running.median()
    out[["completed", "ongoing"]] = out[["completed", "ongoing"]].fillna(0).astype("int64")
    return out.reset_index()


def moves(events: pd.DataFrame, *, since: datetime | None = None, as_of: datetime | None = None) -> pd.DataFrame:
    """Level changes (starts excluded) dated in ``[since, as_of]``: ``project_id``, ``at``,
    ``from_level``, ``to_level`` and ``move`` (graduation or the switchback's kind)."""
    mask = events["from_level"].notna() & (events["at"] <= _stamp(as_of))
    if since is not None:
        mask &= events["at"] >= _stamp(since)
    picked = events.loc[mask]
    return pd.DataFrame({
        "project_id": picked["project_id"].astype("int64"), "at": pd.to_datetime(picked["at"], utc=True),
        "from_level": picked["from_level"].astype("int64"), "to_level": picked["to_level"].astype("int64"),
        "move": move_labels(picked),
    }).reset_index(drop=True)


def transition_counts(moved: pd.DataFrame) -> pd.DataFrame:
    """From -> to counts per kind of move: ``from_level``, ``to_level``, ``move``, ``count``."""
    out = moved.groupby(["from_level", "to_level", "move"], sort=True).size().rename("count").reset_index()
    return out.astype({"from_level": "int64", "to_level": "int64", "count": "int64"})


def transition_matrix(moved: pd.DataFrame) -> pd.DataFrame:
    """A 10 x 10 table of move counts, rows ``from`` and columns ``to`` (every kind together)."""
    span = range(engine.MIN_LEVEL, engine.MAX_LEVEL + 1)
    counts = pd.crosstab(moved["from_level"], moved["to_level"]) if len(moved) else pd.DataFrame()
    return counts.reindex(index=span, columns=span, fill_value=0).rename_axis(index="from", columns="to")


def switchback_rates(moved: pd.DataFrame) -> pd.DataFrame:
    """Per level left: ``exits`` (moves out of it), ``graduations``, switchbacks per kind,
    ``switchbacks`` (all kinds) and ``rate`` (switchbacks / exits; missing with no exit)."""
    counts = pd.crosstab(moved["from_level"], moved["move"]) if len(moved) else pd.DataFrame()
    counts = counts.reindex(index=range(engine.MIN_LEVEL, engine.MAX_LEVEL + 1), columns=list(MOVES), fill_value=0)
    out = counts.rename(columns={"graduation": "graduations"}).rename_axis(index="level", columns=None)
    out["switchbacks"] = out[["discovery", "review", "embedded"]].sum(axis=1)
    out["exits"] = out["graduations"] + out["switchbacks"]
    out["rate"] = (out["switchbacks"] / out["exits"].where(out["exits"] > 0)).astype(float)
    return out.reset_index()[["level", "exits", "graduations", "discovery", "review", "embedded", "switchbacks",
                              "rate"]]


def level_paths(events: pd.DataFrame, *, as_of: datetime | None = None) -> pd.Series:
    """Per technology (indexed by ``project_id``), the tuple of levels it held in order."""
    ev = by_project(events.loc[events["at"] <= _stamp(as_of), ["project_id", "at", "to_level"]])
    if ev.empty:
        return pd.Series(dtype=object)
    return ev.groupby("project_id", sort=True)["to_level"].agg(lambda s: tuple(int(v) for v in s))


def path_label(path: Sequence[int]) -> str:
    return " → ".join(str(v) for v in path)


def frequent_paths(paths: pd.Series, *, top: int = 10) -> pd.DataFrame:
    """The ``top`` most frequent whole paths: ``path`` (e.g. "2 → 3 → 4"), ``technologies``."""
    if paths.empty:
        return pd.DataFrame({"path": pd.Series(dtype=object), "technologies": pd.Series(dtype="int64")})
    counts = paths.map(path_label).value_counts()
    out = counts.rename_axis("path").rename("technologies").reset_index()
    return out.sort_values(["technologies", "path"], ascending=[False, True], kind="stable").head(top) \
        .reset_index(drop=True)


def frequent_stretches(paths: pd.Series, length: int, *, top: int = 10) -> pd.DataFrame:
    """The ``top`` most frequent runs of ``length`` consecutive levels within the paths:
    ``path`` ("2 → 3 → 4"), ``count`` (occurrences) and ``technologies`` (how many went through
    it). Whole paths are often unique; their stretches show the common routes."""
    return _tally([(path_label(path[i:i + length]), pid) for pid, path in paths.items()
                   for i in range(len(path) - length + 1)], "path", top)


def _tally(rows: list[tuple[str, int]], name: str, top: int) -> pd.DataFrame:
    """(label, project id) pairs counted per label: ``name``, ``count`` (occurrences) and
    ``technologies`` (distinct projects), most frequent first, then by label."""
    if not rows:
        return pd.DataFrame({name: pd.Series(dtype=object), "count": pd.Series(dtype="int64"),
                             "technologies": pd.Series(dtype="int64")})
    frame = pd.DataFrame(rows, columns=[name, "project_id"])
    out = frame.groupby(name).agg(count=("project_id", "size"), technologies=("project_id", "nunique"))
    out = out.reset_index().sort_values(["count", name], ascending=[False, True], kind="stable")
    return out.head(top).reset_index(drop=True)


def path_cycles(path: Sequence[int]) -> list[tuple[int, ...]]:
    """Every return to a level already held, as the stretch from its previous visit back to it."""
    last_seen: dict[int, int] = {}
    out: list[tuple[int, ...]] = []
    for i, level in enumerate(path):
        if level in last_seen:
            out.append(tuple(path[last_seen[level]:i + 1]))
        last_seen[level] = i
    return out


def frequent_cycles(paths: pd.Series, *, top: int = 10) -> pd.DataFrame:
    """The ``top`` most frequent cycles: ``cycle`` ("4 → 2 → 3 → 4"), ``count`` (how many times)
    and ``technologies`` (how many technologies went round it at least once)."""
    return _tally([(path_label(c), pid) for pid, path in paths.items() for c in path_cycles(path)], "cycle", top)


def bottlenecks(stats: pd.DataFrame, *, factor: float = 2.0, min_stays: int = 3) -> pd.DataFrame:
    """Levels whose median completed stay is at least ``factor`` times the median of the other
    levels' medians (levels with fewer than ``min_stays`` completed stays are not judged):
    ``level``, ``median_days``, ``others_median_days``, ``ratio``."""
    judged = stats.loc[stats["completed"] >= min_stays, ["level", "median_days"]].reset_index(drop=True)
    rows = []
    for k, row in judged.iterrows():  # at most ten levels
        others = judged["median_days"].drop(index=k)
        if others.empty:
            continue
        baseline = float(others.median())
        if baseline <= 0:  # the others' stays are instantaneous: nothing to compare with
            continue
        ratio = float(row["median_days"]) / baseline
        if ratio >= factor:
            rows.append((int(row["level"]), float(row["median_days"]), baseline, ratio))
    return pd.DataFrame(rows, columns=["level", "median_days", "others_median_days", "ratio"])


def stalled(intervals: pd.DataFrame, stats: pd.DataFrame, *, min_stays: int = 3) -> pd.DataFrame:
    """Ongoing stays longer than the 75th percentile of completed stays at the same level (levels
    with fewer than ``min_stays`` completed stays are not judged; nor is level 9, where a deployed
    technology is meant to stay): ``project_id``, ``level``, ``days``, ``p75_days``, longest over
    first."""
    limits = stats.loc[stats["completed"] >= min_stays].set_index("level")["p75_days"]
    running = intervals.loc[intervals["ongoing"] & (intervals["level"] < engine.MAX_LEVEL),
                            ["project_id", "level", "days"]]
    running = running.assign(p75_days=running["level"].map(limits))
    out = running.loc[running["days"] > running["p75_days"]]
    out = out.assign(over=out["days"] / out["p75_days"]).sort_values(["over", "project_id"], ascending=[False, True])
    return out.drop(columns="over").reset_index(drop=True)


def levels_on(events: pd.DataFrame, when: datetime) -> pd.Series:
    """Each technology's level at ``when`` (its last event at or before it), by ``project_id``;
    technologies with no event by then are absent."""
    ev = by_project(events.loc[events["at"] <= _stamp(when), ["project_id", "at", "to_level"]])
    return ev.groupby("project_id", sort=True)["to_level"].last().astype("int64")


def changes_between(events: pd.DataFrame, start: datetime, end: datetime) -> pd.DataFrame:
    """What changed between two dates: per technology whose level differs, or that moved at all,
    ``project_id``, ``level_before`` (missing: no level yet), ``level_after``, ``change`` (after
    minus before; missing for a technology started in between) and ``moves`` (events in between)."""
    lo, hi = _stamp(start), _stamp(end)
    before, after = levels_on(events, lo), levels_on(events, hi)
    between = events.loc[(events["at"] > lo) & (events["at"] <= hi)].groupby("project_id").size()
    ids = sorted(set(after.index) | set(between.index))
    out = pd.DataFrame({"project_id": ids})
    out["level_before"] = out["project_id"].map(before).astype("Int64")
    out["level_after"] = out["project_id"].map(after).astype("Int64")
    out["moves"] = out["project_id"].map(between).fillna(0).astype("int64")
    out["change"] = out["level_after"] - out["level_before"]
    changed = (out["moves"] > 0) | (out["level_before"].isna() != out["level_after"].isna())
    return out.loc[changed].reset_index(drop=True)


def _nanoseconds(stamps: pd.Series) -> np.ndarray:
    """Nanoseconds since the epoch (UTC) of a column of timezone-aware timestamps."""
    return pd.DatetimeIndex(pd.to_datetime(stamps, utc=True)).as_unit("ns").asi8


@dataclass(frozen=True)
class PeriodCard:
    """What a period (a quarter) did to the portfolio, from its level events in ``[start, end]``.

    ``levels_gained``: graduations (each one level up); ``levels_lost``: the levels given back by
    switchbacks; ``switchbacks``: how many of each kind; ``improved`` and ``dropped``: technologies
    by net change of level between the start and the end (``changes_between``), best and worst
    first; ``held``: technologies that had a level at the start and did not move at all.
    """

    levels_gained: int
    levels_lost: int
    switchbacks: Mapping[str, int]
    improved: pd.DataFrame
    dropped: pd.DataFrame
    held: pd.DataFrame


def period_card(events: pd.DataFrame, start: datetime, end: datetime, *, top: int = 5) -> PeriodCard:
    lo, hi = _stamp(start), _stamp(end)
    moved = moves(events, as_of=hi)
    moved = moved.loc[moved["at"] > lo]
    graduations = moved["move"] == "graduation"
    lost = int((moved["from_level"] - moved["to_level"]).where(~graduations, 0).sum())
    kinds = moved.loc[~graduations, "move"].value_counts()
    every_change = changes_between(events, lo, hi)
    changes = every_change.dropna(subset=["change"])
    improved = changes.loc[changes["change"] > 0].sort_values(["change", "project_id"], ascending=[False, True])
    dropped = changes.loc[changes["change"] < 0].sort_values(["change", "project_id"], ascending=[True, True])
    before = levels_on(events, lo)
    still = before.loc[~before.index.isin(every_change["project_id"])]
    held = pd.DataFrame({"project_id": still.index.to_numpy(dtype="int64"), "level": still.to_numpy(dtype="int64")})
    return PeriodCard(int(graduations.sum()), lost, {k: int(kinds.get(k, 0)) for k in MOVES[1:]},
                      improved.head(top).reset_index(drop=True), dropped.head(top).reset_index(drop=True), held)
