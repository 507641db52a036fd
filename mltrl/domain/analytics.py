"""Portfolio arithmetic: pure functions over plain values and pandas DataFrames.

No streamlit, no database: the services read the rows, this module does the maths, vectorised.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum

import numpy as np
import pandas as pd

from mltrl.domain import levels as engine


def tree_order(
    nodes: Sequence[Hashable], parents: Mapping[Hashable, Hashable | None]
) -> list[tuple[Hashable, int]]:
    """Nodes in display order for a component tree, each with its depth (0 at a root).

    Roots keep the order of ``nodes``; each node's components follow it directly, in the order
    of ``nodes``. A node whose parent is unknown is treated as a root.
    """
    known = set(nodes)
    children: dict[Hashable, list[Hashable]] = {n: [] for n in nodes}
    roots: list[Hashable] = []
    for node in nodes:
        parent = parents.get(node)
        if parent is None or parent not in known or parent == node:
            roots.append(node)
        else:
            children[parent].append(node)
    out: list[tuple[Hashable, int]] = []
    seen: set[Hashable] = set()
    for root in roots:
        stack = [(root, 0)]
        while stack:
            node, depth = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            out.append((node, depth))
            stack.extend((child, depth + 1) for child in reversed(children[node]))
    # Anything left sits on a parent loop; show it rather than lose it.
    out.extend((n, 0) for n in nodes if n not in seen)
    return out


def days_between(start: pd.Series, as_of: datetime | None = None) -> pd.Series:
    """Fractional days from each timestamp in ``start`` to ``as_of`` (default now); NaN stays NaN."""
    as_of = as_of or datetime.now(UTC)
    stamps = pd.to_datetime(start, utc=True)
    return (pd.Timestamp(as_of) - stamps).dt.total_seconds() / 86_400.0


def _plain(values: pd.Series) -> list:
    """Python ints (and None for missing) from a nullable integer column, quickly."""
    return [None if v is pd.NA or v is None or v != v else int(v) for v in values.astype(object).tolist()]


def with_system_levels(frame: pd.DataFrame) -> pd.Series:
    """System level per row of a frame with ``id``, ``parent_id`` and ``level`` columns."""
    ids = _plain(frame["id"])
    parents = dict(zip(ids, _plain(frame["parent_id"])))
    lv = dict(zip(ids, _plain(frame["level"])))
    result = engine.system_levels(parents, lv)
    return pd.Series([result[i] for i in ids], index=frame.index, dtype="Int64")


def phase_labels(levels: pd.Series) -> pd.Series:
    """The phase of each level (``None`` where there is no level yet)."""
    mapping = {lv.number: lv.phase.value for lv in engine.LEVELS}
    return pd.Series([None if v is None else mapping[v] for v in _plain(levels)], index=levels.index, dtype="object")


def filter_portfolio(
    frame: pd.DataFrame,
    *,
    text: str = "",
    phases: Sequence[str] = (),
    statuses: Sequence[str] = (),
    owners: Sequence[str] = (),
) -> pd.DataFrame:
    """Rows of the portfolio table that match every given filter (tree order kept).

    ``text`` matches code, name or summary, case-insensitively; ``phases`` may include
    ``"no level"`` for technologies not started yet; ``owners`` keeps rows owned by any of them.
    """
    mask = pd.Series(True, index=frame.index)
    needle = (text or "").strip().lower()
    if needle:
        haystack = (frame["code"] + " " + frame["name"] + " " + frame["summary"].fillna("")).str.lower()
        mask &= haystack.str.contains(needle, regex=False)
    if phases:
        wanted = set(phases)
        mask &= frame["phase"].map(lambda p: (p if isinstance(p, str) else "no level") in wanted)
    if statuses:
        mask &= frame["status"].isin(list(statuses))
    if owners:
        wanted_owners = set(owners)
        mask &= frame["owners"].map(lambda names: bool(wanted_owners.intersection(names)))
    return frame[mask]


def all_owners(frame: pd.DataFrame) -> list[str]:
    """Every owner named in the portfolio, sorted."""
    return sorted({name for names in frame["owners"] for name in names})


def risk_trend(events: pd.DataFrame, *, by_category: bool = False) -> pd.DataFrame:
    """Total open risk over time from a risk history.

    ``events`` has one row per change of a risk (``risk_id``, ``at``, ``p_failure``, ``value``,
    ``status``, and ``category`` when ``by_category``), each giving the risk's state from then on.
    A risk contributes p(failure) x value while its status is not ``closed``, and 0 otherwise. The
    result has one row per event time (and category): ``at``, (``category``,) ``total``, the sum of
    the contributions in force just after ``at``. Vectorised: each event adds the difference from
    the same risk's previous contribution, and the totals are running sums of those differences.
    """
    columns = ["at", "category", "total"] if by_category else ["at", "total"]
    if events.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c == "total" else "object") for c in columns})
    frame = events.sort_values("at", kind="stable").reset_index(drop=True)
    contribution = (frame["p_failure"] * frame["value"]).where(frame["status"] != "closed", 0.0)
    frame["delta"] = contribution - contribution.groupby(frame["risk_id"]).shift(1).fillna(0.0)
    keys = ["category"] if by_category else []
    if by_category:
        frame["total"] = frame.groupby("category")["delta"].cumsum()
    else:
        frame["total"] = frame["delta"].cumsum()
    # One point per time (and category): the state after every event of that instant.
    out = frame.groupby([*keys, "at"], sort=False).tail(1)[["at", *keys, "total"]]
    out["total"] = out["total"].round(6).clip(lower=0.0)
    return out.sort_values(["at", *keys], kind="stable").reset_index(drop=True)[columns]


# --- level history: time per level, moves, paths and cycles -------------------------------------
#
# The functions below read an *event table*: one row per level event with ``project_id``, ``at``
# (timezone-aware), ``from_level`` (missing for a start), ``to_level``, ``kind`` (``start``,
# ``graduation``, ``switchback``) and ``switchback_kind``, in recorded order (``at``, then id).
# Events recorded without a review count like any other.
#
# Definitions (also shown on the Analytics page):
#
# * An *interval* (a stay) at level L runs from the event that entered L to the technology's next
#   event. The last one is *ongoing* and runs to the as-of date. Events after the as-of date are
#   ignored, so a report as of a past date is reproducible.
# * *Time in level L* for a technology is the sum of its intervals at L. Completed and ongoing
#   intervals are kept apart in every statistic: a stay still under way is not a duration yet.
# * A *path* is the sequence of levels a technology held, in order. A *cycle* is a return to a level
#   already held: the stretch of the path from that level's previous visit back to it
#   (4 -> 2 -> 3 -> 4).

MOVES = ("graduation", "discovery", "review", "embedded")
DAY_SECONDS = 86_400.0


def _stamp(value: datetime | pd.Timestamp | None) -> pd.Timestamp:
    stamp = pd.Timestamp(value if value is not None else datetime.now(UTC))
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


def heatmap_counts(frame: pd.DataFrame, *, by: str = "owner") -> pd.DataFrame:
    """Technologies counted by group and current level: rows are owners (``by="owner"``; a
    technology with several owners counts once under each, one with none under "(no owner)") or
    systems (``by="system"``: the root of each technology's tree, the ``system`` column, or else
    from ``depth`` in tree order);
    columns are the levels 0-9 and "no level" (not started: never counted as progress)."""
    if by not in ("owner", "system"):
        raise ValueError(f"unknown grouping {by!r}: owner or system")
    level = frame["level"].astype("Int64")
    column = level.astype(object).where(level.notna(), "no level")
    if by == "owner":
        groups = frame["owners"].map(lambda names: list(names) or ["(no owner)"])
        long = pd.DataFrame({"group": groups, "column": column}).explode("group")
    else:  # the tree's root, as worked out on the whole tree (a filtered frame may have lost it)
        roots = frame["system"] if "system" in frame else frame["code"].where(frame["depth"] == 0).ffill()
        long = pd.DataFrame({"group": roots, "column": column})
    columns = [*range(engine.MIN_LEVEL, engine.MAX_LEVEL + 1), "no level"]
    if long.empty:
        return pd.DataFrame(columns=columns).rename_axis(index="group")
    counts = pd.crosstab(long["group"], long["column"])
    return counts.reindex(columns=columns, fill_value=0).rename_axis(index="group", columns=None)


# --- forecasts and key results ------------------------------------------------------------------


def completed_stays(intervals: pd.DataFrame) -> dict[int, np.ndarray]:
    """The portfolio's completed stays, in days, per level: what forecasts resample."""
    done = intervals.loc[~intervals["ongoing"]]
    return {int(level): group.to_numpy(dtype=float) for level, group in done.groupby("level")["days"]}


@dataclass(frozen=True)
class Forecast:
    """When a technology at ``level`` (for ``elapsed_days`` so far) should reach ``target``.

    The time left at the current level is learnt from the completed stays there that lasted longer
    than ``elapsed_days`` (minus the time already spent): a stay already under way for a month is
    compared with stays of more than a month. ``expected_days``: the median of that time left plus
    the median completed stay at each level still to go. ``probability``: the share of ``samples``
    resampled paths (the time left and each later level's stay drawn from those observations) that
    arrive within ``horizon_days``; None without a horizon. ``reason`` says why there is no
    forecast (a level with no completed stay to learn from, or a stay already longer than every
    completed one), or is empty.
    """

    level: int
    target: int
    elapsed_days: float
    expected_days: float | None
    probability: float | None
    samples: int
    seed: int
    reason: str = ""

    @property
    def reached(self) -> bool:
        return self.level >= self.target


def forecast(level: int, elapsed_days: float, target: int, stays: Mapping[int, np.ndarray], *,
             horizon_days: float | None = None, samples: int = 10_000, seed: int = 0) -> Forecast:
    """Forecast reaching ``target`` from ``level`` (see ``Forecast``). Reproducible: the same
    stays, seed and sample count give the same probability. Vectorised over the samples."""
    if samples < 1:
        raise ValueError("samples must be at least 1")
    if level >= target:
        return Forecast(level, target, elapsed_days, 0.0, 1.0 if horizon_days is not None else None, samples, seed)
    to_go = list(range(level, target))
    missing = [lv for lv in to_go if len(stays.get(lv, ())) == 0]
    if missing:
        return Forecast(level, target, elapsed_days, None, None, samples, seed,
                        reason="no completed stay at level " + ", ".join(map(str, missing))
                        + " in the portfolio to learn from")
    observed = np.asarray(stays[level], dtype=float)
    left = observed[observed > elapsed_days] - elapsed_days
    if len(left) == 0:
        return Forecast(level, target, elapsed_days, None, None, samples, seed,
                        reason=f"already {elapsed_days:.0f} days at level {level}, longer than any completed stay "
                               f"there, the longest of which took {observed.max():.0f} days")
    pools = [left] + [np.asarray(stays[lv], dtype=float) for lv in to_go[1:]]
    expected = float(sum(np.median(pool) for pool in pools))
    probability = None
    if horizon_days is not None:
        rng = np.random.default_rng(seed)
        total = np.zeros(samples)
        for pool in pools:
            total += rng.choice(pool, size=samples, replace=True)
        probability = float(np.mean(total <= horizon_days))
    return Forecast(level, target, elapsed_days, expected, probability, samples, seed)


class KeyResultStatus(StrEnum):
    ACHIEVED = "achieved"
    LOST = "achieved then lost"
    ON_TRACK = "on track"
    AT_RISK = "at risk"
    MISSED = "missed"


def end_of_day(day: date) -> pd.Timestamp:
    """The first instant after ``day`` (UTC): "by date D" means before this."""
    return pd.Timestamp(datetime.combine(day, time(), tzinfo=UTC)) + pd.Timedelta(days=1)


@dataclass(frozen=True)
class KeyResultState:
    status: KeyResultStatus
    level: int | None          # the level at the judging moment (min of as-of and the end of the due date)
    reached_at: pd.Timestamp | None  # first time at or above the target by then (from ``since``: the
    # period's first instant when it already held the target then)


@dataclass(frozen=True)
class LevelHistory:
    """One technology's level events as plain arrays: ``at`` (nanoseconds since the epoch, UTC,
    in recorded order) and ``levels`` (the level each event led to). What the per-key-result rules
    read: a quarter can hold hundreds of key results, and pandas per call would dominate."""

    at: np.ndarray
    levels: np.ndarray

    @classmethod
    def of(cls, history: pd.DataFrame) -> LevelHistory:
        """From a frame with ``at`` and ``to_level``."""
        return cls(_nanoseconds(history["at"]), history["to_level"].to_numpy(dtype="int64"))

    def __len__(self) -> int:
        return len(self.at)


def day_ends(days: Sequence[date]) -> np.ndarray:
    """The end of each day (the next day's first instant, UTC) in nanoseconds since the epoch."""
    return pd.DatetimeIndex(pd.to_datetime(list(days))).tz_localize(UTC).as_unit("ns").asi8 + 86_400 * 10**9


def key_result_status(history: pd.DataFrame | LevelHistory, target: int, due: date, *,
                      as_of: datetime | None = None,
                      expected_at: datetime | None = None, active: bool = True,
                      since: date | None = None) -> KeyResultState:
    """The status of "reaches level >= ``target`` by ``due``" from one technology's ``history``
    (``at``, ``to_level``, recorded order), judged at ``as_of`` (default now):

    * events count up to the earlier of ``as_of`` and the end of ``due``;
    * **achieved**: its level then is at least the target;
    * **achieved then lost**: it was at or above the target at some moment from ``since`` (the
      quarter's first day; default: its whole history) to then, but a switchback took it below;
    * **missed**: not reached by the end of ``due``, which has passed (reaching it later is late);
    * **on track**: the due date is still ahead and the forecast's expected date (``expected_at``)
      falls on or before it;
    * **at risk**: the due date is ahead but there is no forecast, the expected date is after it,
      or the technology is not active (paused or retired).
    """
    now, deadline = _stamp(as_of), end_of_day(due)
    # Plain arrays (nanoseconds since the epoch): this runs once per key result of a quarter.
    arrays = history if isinstance(history, LevelHistory) else LevelHistory.of(history)
    at, levels = arrays.at, arrays.levels
    counted = (at <= now.value) & (at < deadline.value)
    at, levels = at[counted], levels[counted]
    level = int(levels[-1]) if len(levels) else None
    first = 0
    held = False
    if since is not None:  # only what held from the start of the period counts as reached
        start = pd.Timestamp(datetime.combine(since, time(), tzinfo=UTC))
        first = int(np.searchsorted(at, start.value, side="left"))
        held = first > 0 and levels[first - 1] >= target
    hits = np.flatnonzero(levels[first:] >= target)
    if held:
        reached = start
    else:
        reached = pd.Timestamp(int(at[first + hits[0]]), tz=UTC) if len(hits) else None
    if level is not None and level >= target:
        status = KeyResultStatus.ACHIEVED
    elif reached is not None:
        status = KeyResultStatus.LOST
    elif now >= deadline:
        status = KeyResultStatus.MISSED
    elif active and expected_at is not None and _stamp(expected_at) < deadline:
        status = KeyResultStatus.ON_TRACK
    else:
        status = KeyResultStatus.AT_RISK
    return KeyResultState(status, level, reached)


def _nanoseconds(stamps: pd.Series) -> np.ndarray:
    """Nanoseconds since the epoch (UTC) of a column of timezone-aware timestamps."""
    return pd.DatetimeIndex(pd.to_datetime(stamps, utc=True)).as_unit("ns").asi8


def achieved_by_day(history: pd.DataFrame | LevelHistory, target: int, due: date,
                    days: Sequence[date] | np.ndarray) -> np.ndarray:
    """For each day, whether the key result counts as achieved at the end of it (as
    ``key_result_status`` would say with ``as_of`` at the end of that day). ``days`` are dates, or
    their ends already worked out by ``day_ends`` (once for every key result of a quarter).
    Vectorised over days."""
    ends = days if isinstance(days, np.ndarray) else day_ends(days)
    arrays = history if isinstance(history, LevelHistory) else LevelHistory.of(history)
    if not len(arrays) or not len(ends):
        return np.zeros(len(ends), dtype=bool)
    moments = np.minimum(ends, end_of_day(due).value)
    # Events strictly before each moment (the end of a day is the next day's first instant).
    index = np.searchsorted(arrays.at, moments, side="left") - 1
    return (index >= 0) & (arrays.levels[np.maximum(index, 0)] >= target)


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
