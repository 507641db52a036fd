"""Forecasts and key results: when a technology should reach a level (resampling the portfolio's
completed stays, seeded), the status of a key result "reaches level L by day D" judged at a moment,
and whether it counts as achieved at the end of each day of a quarter (the burn-up). Pure
functions over plain arrays and pandas; no streamlit, no database.

"By D" means before the end of D (``mltrl.domain.days.day_end``, the one home of day ends).
The stays and event arrays come from ``mltrl.domain.history``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

import numpy as np
import pandas as pd

from mltrl.domain.days import day_end, day_start
from mltrl.domain.history import _nanoseconds, _stamp


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
    """The first instant after ``day`` (UTC): "by date D" means before this (``days.day_end``, as
    a pandas timestamp)."""
    return pd.Timestamp(day_end(day))


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
        start = pd.Timestamp(day_start(since))
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
