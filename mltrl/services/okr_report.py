"""The quarterly readiness review (read only): every key result of a quarter with its status
computed from the level history, its forecast, the roll-up by status, owner and phase, the
burn-up over the quarter's days and the quarter's report card.

Statuses, forecasts and the report card are ``mltrl.domain.analytics`` (pure); this module gathers what
they read (the event table, the objectives, the check-ins) and labels the results with codes. The
renderings (Markdown, HTML, JSON) are ``mltrl.reports``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlmodel import Session

from mltrl.domain import analytics, levels, okr
from mltrl.domain.days import as_utc, day_end, day_start, now
from mltrl.domain.analytics import Forecast, KeyResultState, PeriodCard
from mltrl.models import CheckIn, Project
from mltrl.services import analytics as reads
from mltrl.services import okrs

DEFAULT_SAMPLES = 10_000
DEFAULT_SEED = 2027


@dataclass(frozen=True)
class KeyResultLine:
    """One key result as the review shows it."""

    id: int
    version: int
    objective_id: int
    objective: str
    code: str
    name: str
    owner: str  # the key result's owner, else its objective's
    phase: str | None  # the technology's phase at the as-of date
    active: bool
    target: int
    due: date
    note: str
    state: KeyResultState
    forecast: Forecast | None  # None: not needed (achieved, lost, missed) or not started
    expected_date: date | None
    check_ins: tuple[CheckIn, ...]  # newest first

    @property
    def confidence(self) -> int | None:
        return self.check_ins[0].confidence if self.check_ins else None

    @property
    def label(self) -> str:
        return f"{self.code} reaches level ≥ {self.target} by {self.due:%Y-%m-%d}"


@dataclass(frozen=True)
class QuarterReport:
    quarter: str
    start: date
    end: date
    as_of: datetime
    samples: int
    seed: int
    objectives: tuple[okrs.ObjectiveView, ...]
    lines: tuple[KeyResultLine, ...]
    burnup: pd.DataFrame  # day, achieved (None after the as-of date), total
    card: PeriodCard  # project ids replaced by codes (``code`` columns)
    paths: dict[int, pd.DataFrame]  # key result id -> its technology's events (at, to_level) up to as-of

    def count(self, status: analytics.KeyResultStatus) -> int:
        return sum(1 for line in self.lines if line.state.status == status)

    def rollup(self, by: str | None = None) -> pd.DataFrame:
        """Key results per status (columns in ``KeyResultStatus`` order), overall or per ``owner``
        or ``phase``."""
        statuses = [s.value for s in analytics.KeyResultStatus]
        frame = pd.DataFrame({"status": [line.state.status.value for line in self.lines],
                              "owner": [line.owner or "(no owner)" for line in self.lines],
                              "phase": [line.phase or "no level" for line in self.lines]})
        if by is None:
            counts = frame["status"].value_counts()
            return pd.DataFrame([{s: int(counts.get(s, 0)) for s in statuses} | {"total": len(frame)}])
        if frame.empty:
            return pd.DataFrame(columns=[by, *statuses, "total"])
        table = pd.crosstab(frame[by], frame["status"]).reindex(columns=statuses, fill_value=0)
        table["total"] = table.sum(axis=1)
        return table.reset_index().rename_axis(columns=None)


def _moment(value: datetime | date | None) -> datetime:
    """The judging moment: now when none is given; a day means its first instant."""
    if value is None:
        return now()
    if isinstance(value, datetime):
        return as_utc(value, field="as of")
    return day_start(value)


def quarter_report(session: Session, quarter: str, *, as_of: datetime | date | None = None,
                   samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED,
                   events: pd.DataFrame | None = None) -> QuarterReport:
    """The review of ``quarter`` as of ``as_of`` (default now; a date means its first instant).
    Forecasts resample the portfolio's completed stays as of then, ``samples`` times with
    ``seed``, so the same data, date and seed give the same report. ``events``: the event table
    already read (``services.analytics.event_table``, cached by the pages), else read here."""
    q = okr.parse_quarter(quarter)
    moment = _moment(as_of)
    views = tuple(okrs.objectives(session, str(q)))
    events = reads.event_table(session) if events is None else events
    # Codes and statuses only (one narrow query): the technologies' tree and owners are not needed.
    rows = session.connection().execute(select(Project.id, Project.code, Project.status)).all()
    code_of = {pid: code for pid, code, _ in rows}
    id_of = {code: pid for pid, code, _ in rows}
    status_of = {code: status for _, code, status in rows}
    upto = events.loc[events["at"] <= pd.Timestamp(moment)]
    intervals = analytics.level_intervals(upto, as_of=moment)
    stays = analytics.completed_stays(intervals)
    last = upto.groupby("project_id").tail(1).set_index("project_id")
    # Each key result's technology's events: slices of the table in project order (no per-event work).
    ordered = analytics.by_project(upto)[["project_id", "at", "to_level"]]
    pids = ordered["project_id"].to_numpy()
    everything = analytics.LevelHistory.of(ordered)  # arrays once; each key result takes a slice
    histories: dict[int, pd.DataFrame] = {}
    arrays: dict[int, analytics.LevelHistory] = {}
    for pid in {id_of[k.code] for v in views for k in v.key_results}:
        lo, hi = np.searchsorted(pids, pid, side="left"), np.searchsorted(pids, pid, side="right")
        histories[pid] = ordered.iloc[lo:hi, 1:].reset_index(drop=True)
        arrays[pid] = analytics.LevelHistory(everything.at[lo:hi], everything.levels[lo:hi])
    empty = pd.DataFrame({"at": pd.Series(dtype="datetime64[ns, UTC]"), "to_level": pd.Series(dtype="int64")})
    nothing = analytics.LevelHistory(np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64"))
    final = (analytics.KeyResultStatus.ACHIEVED, analytics.KeyResultStatus.LOST, analytics.KeyResultStatus.MISSED)
    lines: list[KeyResultLine] = []
    paths: dict[int, pd.DataFrame] = {}
    for view in views:
        for kr_view in view.key_results:
            kr = kr_view.key_result
            pid = id_of[kr_view.code]
            history = histories.get(pid, empty)
            paths[kr.id] = history
            active = status_of.get(kr_view.code) == "active"
            deadline = analytics.end_of_day(kr.due)
            level = int(last.loc[pid, "to_level"]) if pid in last.index else None
            state = analytics.key_result_status(arrays.get(pid, nothing), kr.target_level, kr.due, as_of=moment,
                                                active=active, since=q.start)
            forecast, expected = None, None
            if level is not None and state.status not in final:  # the forecast decides on track / at risk
                elapsed = (pd.Timestamp(moment) - last.loc[pid, "at"]).total_seconds() / analytics.DAY_SECONDS
                horizon = (deadline - pd.Timestamp(moment)).total_seconds() / analytics.DAY_SECONDS
                forecast = analytics.forecast(level, elapsed, kr.target_level, stays, horizon_days=horizon,
                                              samples=samples, seed=seed + kr.id)
                if forecast.expected_days is not None:
                    expected = moment + timedelta(days=forecast.expected_days)
                state = analytics.key_result_status(arrays.get(pid, nothing), kr.target_level, kr.due, as_of=moment,
                                                    expected_at=expected, active=active, since=q.start)
            lines.append(KeyResultLine(
                id=kr.id, version=kr.version, objective_id=view.objective.id, objective=view.objective.title,
                code=kr_view.code, name=kr_view.name, owner=kr.owner or view.objective.owner,
                phase=None if level is None else levels.level(level).phase.value,
                active=active, target=kr.target_level, due=kr.due, note=kr.note, state=state, forecast=forecast,
                expected_date=expected.date() if expected else None, check_ins=kr_view.check_ins))
    days = [q.start + timedelta(days=k) for k in range((q.end - q.start).days + 1)]
    ends = analytics.day_ends(days)
    achieved = [0] * len(days)
    for line in lines:
        flags = analytics.achieved_by_day(arrays.get(id_of[line.code], nothing), line.target, line.due, ends)
        achieved = [a + int(f) for a, f in zip(achieved, flags)]
    last_day = moment.date() if moment.time() != time() else moment.date() - timedelta(days=1)
    burnup = pd.DataFrame({"day": days, "achieved": pd.array([a if d <= last_day else None
                                                              for a, d in zip(achieved, days)], dtype="Int64"),
                           "total": len(lines)})
    # The quarter is half-open, [first day, next quarter's first day): an event at midnight on the
    # first day belongs to it (``period_card`` counts (start, end], so both ends move back 1 µs).
    tick = timedelta(microseconds=1)
    period_end = min(moment, day_end(q.end) - tick)
    raw = analytics.period_card(events.loc[events["at"] <= pd.Timestamp(moment)], day_start(q.start) - tick,
                                period_end)

    def coded(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        out.insert(0, "code", out.pop("project_id").map(code_of))
        return out

    card = PeriodCard(raw.levels_gained, raw.levels_lost, raw.switchbacks, coded(raw.improved), coded(raw.dropped),
                      coded(raw.held))
    return QuarterReport(str(q), q.start, q.end, moment, samples, seed, views, tuple(lines), burnup, card, paths)
