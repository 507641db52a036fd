"""Portfolio arithmetic: pure functions over plain values and pandas DataFrames.

No streamlit, no database: the services read the rows, this module does the maths, vectorised.

The level history's arithmetic (stays, moves, paths, cycles, a period's report card) is
``mltrl.domain.history``; forecasts, key result statuses and the burn-up are
``mltrl.domain.forecast``. Both are re-exported here, so ``analytics.X`` reaches every name; so is
``tree_order`` (the component tree's display order), which lives in ``mltrl.domain.levels`` beside
the system levels so that callers without pandas (the CLI's ``project list``) can use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from mltrl.domain import days
from mltrl.domain import levels as engine
from mltrl.domain.levels import tree_order
from mltrl.domain.forecast import (
    Forecast,
    KeyResultState,
    KeyResultStatus,
    LevelHistory,
    achieved_by_day,
    completed_stays,
    day_ends,
    end_of_day,
    forecast,
    key_result_status,
)
from mltrl.domain.history import (
    DAY_SECONDS,
    MOVES,
    PeriodCard,
    bottlenecks,
    by_project,
    changes_between,
    frequent_cycles,
    frequent_paths,
    frequent_stretches,
    level_intervals,
    level_paths,
    level_time_stats,
    levels_on,
    move_labels,
    moves,
    path_cycles,
    path_label,
    period_card,
    stalled,
    switchback_rates,
    time_per_level,
    transition_counts,
    transition_matrix,
)

__all__ = [
    # portfolio arithmetic (this module)
    "all_owners", "days_between", "filter_portfolio", "heatmap_counts", "phase_labels", "risk_trend",
    "with_system_levels",
    # the component tree's order (mltrl.domain.levels)
    "tree_order",
    # the level history (mltrl.domain.history)
    "DAY_SECONDS", "MOVES", "PeriodCard", "bottlenecks", "by_project", "changes_between", "frequent_cycles",
    "frequent_paths", "frequent_stretches", "level_intervals", "level_paths", "level_time_stats", "levels_on",
    "move_labels", "moves", "path_cycles", "path_label", "period_card", "stalled", "switchback_rates",
    "time_per_level", "transition_counts", "transition_matrix",
    # forecasts and key results (mltrl.domain.forecast)
    "Forecast", "KeyResultState", "KeyResultStatus", "LevelHistory", "achieved_by_day", "completed_stays",
    "day_ends", "end_of_day", "forecast", "key_result_status",
]


def days_between(start: pd.Series, as_of: datetime | None = None) -> pd.Series:
    """Fractional days from each timestamp in ``start`` to ``as_of`` (default now); NaN stays NaN."""
    as_of = as_of or days.now()
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
