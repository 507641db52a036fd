"""Time per level, moves, paths, cycles (``mltrl.domain.history``), forecasts and key result statuses
(``mltrl.domain.forecast``), all reached through ``mltrl.domain.analytics``: checked against
plain-Python replays of the definitions and against figures worked out by hand; day ends are the
ones of ``mltrl.domain.days``."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mltrl.domain import analytics, days
from mltrl.domain import forecast as forecast_module
from mltrl.domain import history as history_module
from mltrl.domain.analytics import KeyResultStatus as S

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def events_frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (project_id, day offset, to_level, kind, switchback_kind) in recorded order; the
    from level is the project's previous to level."""
    last: dict[int, int] = {}
    out = []
    for pid, offset, to, kind, sb in rows:
        out.append({"project_id": pid, "at": pd.Timestamp(T0 + timedelta(days=offset)),
                    "from_level": last.get(pid) if kind != "start" else None, "to_level": to, "kind": kind,
                    "switchback_kind": sb})
        last[pid] = to
    frame = pd.DataFrame(out, columns=["project_id", "at", "from_level", "to_level", "kind", "switchback_kind"])
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    frame["from_level"] = frame["from_level"].astype("Int64")
    return frame.sort_values("at", kind="stable").reset_index(drop=True)


# A hand-checked portfolio. Technology 1: starts at 2 on day 0, 3 on day 10, 4 on day 30, back to 2
# (embedded) on day 35, 3 on day 45, 4 on day 60. Technology 2: starts at 4 on day 5, 5 on day 25.
HAND = events_frame([
    (1, 0, 2, "start", None), (2, 5, 4, "start", None), (1, 10, 3, "graduation", None),
    (2, 25, 5, "graduation", None), (1, 30, 4, "graduation", None), (1, 35, 2, "switchback", "embedded"),
    (1, 45, 3, "graduation", None), (1, 60, 4, "graduation", None),
])
AS_OF = T0 + timedelta(days=100)


def test_time_per_level_by_hand_with_a_revisit_and_ongoing_stays():
    per = analytics.time_per_level(analytics.level_intervals(HAND, as_of=AS_OF)).set_index(["project_id", "level"])
    # Technology 1 at 2: days 0-10 and 35-45 (20, completed); at 3: 10-30 and 45-60 (35); at 4: 30-35
    # (5, completed) and 60-100 (40, ongoing).
    assert per.loc[(1, 2)].to_dict() == {"days": 20.0, "completed_days": 20.0, "ongoing_days": 0.0, "intervals": 2}
    assert per.loc[(1, 3)].to_dict() == {"days": 35.0, "completed_days": 35.0, "ongoing_days": 0.0, "intervals": 2}
    assert per.loc[(1, 4)].to_dict() == {"days": 45.0, "completed_days": 5.0, "ongoing_days": 40.0, "intervals": 2}
    assert per.loc[(2, 4)].to_dict() == {"days": 20.0, "completed_days": 20.0, "ongoing_days": 0.0, "intervals": 1}
    assert per.loc[(2, 5)].to_dict() == {"days": 75.0, "completed_days": 0.0, "ongoing_days": 75.0, "intervals": 1}


def test_a_past_as_of_date_ignores_later_events():
    per = analytics.time_per_level(analytics.level_intervals(HAND, as_of=T0 + timedelta(days=32)))
    per = per.set_index(["project_id", "level"])
    assert per.loc[(1, 4)].to_dict() == {"days": 2.0, "completed_days": 0.0, "ongoing_days": 2.0, "intervals": 1}
    assert (1, 2) in per.index and per.loc[(1, 2), "intervals"] == 1
    assert analytics.level_intervals(HAND, as_of=T0 - timedelta(days=1)).empty


def test_stats_keep_completed_and_ongoing_apart():
    stats = analytics.level_time_stats(analytics.level_intervals(HAND, as_of=AS_OF)).set_index("level")
    assert stats.loc[4, "completed"] == 2 and stats.loc[4, "median_days"] == 12.5  # 5 (tech 1) and 20 (tech 2)
    assert stats.loc[4, "ongoing"] == 1 and stats.loc[4, "ongoing_median_days"] == 40.0
    assert stats.loc[5, "completed"] == 0 and pd.isna(stats.loc[5, "median_days"]) and stats.loc[5, "ongoing"] == 1
    assert list(stats.index) == list(range(10))


def test_moves_transitions_rates_paths_and_cycles_by_hand():
    moved = analytics.moves(HAND, as_of=AS_OF)
    assert len(moved) == 6 and list(moved["move"]).count("embedded") == 1
    matrix = analytics.transition_matrix(moved)
    assert matrix.loc[2, 3] == 2 and matrix.loc[3, 4] == 2 and matrix.loc[4, 2] == 1 and matrix.loc[4, 5] == 1
    assert int(matrix.to_numpy().sum()) == 6 and matrix.shape == (10, 10)
    rates = analytics.switchback_rates(moved).set_index("level")
    assert rates.loc[4, "exits"] == 2 and rates.loc[4, "embedded"] == 1 and rates.loc[4, "rate"] == 0.5
    assert rates.loc[3, "rate"] == 0.0 and pd.isna(rates.loc[7, "rate"])
    paths = analytics.level_paths(HAND, as_of=AS_OF)
    assert paths.loc[1] == (2, 3, 4, 2, 3, 4) and paths.loc[2] == (4, 5)
    cycles = analytics.frequent_cycles(paths).set_index("cycle")
    assert cycles.loc["2 → 3 → 4 → 2", "count"] == 1 and cycles.loc["3 → 4 → 2 → 3", "count"] == 1
    assert cycles.loc["4 → 2 → 3 → 4", "technologies"] == 1 and len(cycles) == 3
    assert list(analytics.frequent_paths(paths)["technologies"]) == [1, 1]


def test_levels_on_a_date_and_what_changed_between_two():
    assert analytics.levels_on(HAND, T0 + timedelta(days=36)).to_dict() == {1: 2, 2: 5}
    assert analytics.levels_on(HAND, T0 + timedelta(days=1)).to_dict() == {1: 2}
    changes = analytics.changes_between(HAND, T0 + timedelta(days=1), T0 + timedelta(days=40)).set_index("project_id")
    assert changes.loc[1, ["level_before", "level_after", "moves"]].tolist() == [2, 2, 3]  # moved, same level
    assert pd.isna(changes.loc[2, "level_before"]) and changes.loc[2, "level_after"] == 5
    assert pd.isna(changes.loc[2, "change"])  # started in between: not counted as progress


def test_bottlenecks_and_stalled_technologies():
    stats = pd.DataFrame({"level": range(10), "completed": [5] * 10,
                          "median_days": [10.0] * 5 + [50.0] + [12.0] * 4,
                          "p75_days": [20.0] * 10})
    found = analytics.bottlenecks(stats)
    assert list(found["level"]) == [5] and found["ratio"].iloc[0] == pytest.approx(50 / 10)
    intervals = pd.DataFrame({"project_id": [1, 2, 3, 4], "level": [3, 3, 4, 9], "days": [25.0, 5.0, 30.0, 400.0],
                              "ongoing": [True, True, False, True]})
    assert list(analytics.stalled(intervals, stats)["project_id"]) == [1]  # deployed (9) is not stalled
    few = stats.assign(completed=2)
    assert analytics.bottlenecks(few).empty and analytics.stalled(intervals, few).empty


def test_heatmap_counts_owners_and_systems_with_no_level_apart():
    frame = pd.DataFrame({"code": ["S", "S.1", "T"], "depth": [0, 1, 0], "level": pd.array([4, None, 2], "Int64"),
                          "owners": [["ana", "bo"], ["ana"], []]})
    by_owner = analytics.heatmap_counts(frame)
    assert by_owner.loc["ana", 4] == 1 and by_owner.loc["ana", "no level"] == 1 and by_owner.loc["bo", 4] == 1
    assert by_owner.loc["(no owner)", 2] == 1 and int(by_owner.drop(columns="no level").to_numpy().sum()) == 3
    by_system = analytics.heatmap_counts(frame, by="system")
    assert by_system.loc["S", 4] == 1 and by_system.loc["S", "no level"] == 1 and by_system.loc["T", 2] == 1


def test_period_card():
    card = analytics.period_card(HAND, T0 + timedelta(days=20), T0 + timedelta(days=50))
    # Days 20-50: technology 2 graduates 4 -> 5 (day 25); technology 1 graduates 3 -> 4 (day 30),
    # switches back 4 -> 2 (day 35), graduates 2 -> 3 (day 45).
    assert (card.levels_gained, card.levels_lost) == (3, 2)
    assert card.switchbacks == {"discovery": 0, "review": 0, "embedded": 1}
    assert list(card.improved["project_id"]) == [2] and card.dropped.empty and card.held.empty
    quiet = analytics.period_card(HAND, T0 + timedelta(days=61), T0 + timedelta(days=90))
    assert sorted(quiet.held["project_id"]) == [1, 2] and quiet.levels_gained == 0


# --- properties: the vectorised code against a replay of the definitions ------------------------

histories = st.lists(  # per technology: a start level and moves (day gap, new level)
    st.tuples(st.integers(0, 9), st.lists(st.tuples(st.integers(0, 40), st.integers(0, 9)), max_size=8)),
    min_size=1, max_size=6)


def build(raw) -> pd.DataFrame:
    rows = []
    for pid, (start, steps) in enumerate(raw, start=1):
        day, level = pid, start
        rows.append((pid, day, start, "start", None))
        for gap, to in steps:
            if to == level:
                continue
            day += gap
            kind = "graduation" if to > level else "switchback"
            rows.append((pid, day, to, kind, None if kind == "graduation" else "discovery"))
            level = to
    return events_frame(rows)


def replay_time_per_level(frame: pd.DataFrame, as_of: datetime) -> dict:
    out: dict = {}
    for pid, group in frame.groupby("project_id"):
        ev = [(r.at, r.to_level) for r in group.itertuples() if r.at <= as_of]
        for k, (at, level) in enumerate(ev):
            end = ev[k + 1][0] if k + 1 < len(ev) else as_of
            days = (end - at).total_seconds() / 86_400
            d = out.setdefault((pid, level), [0.0, 0.0, 0.0, 0])
            d[0] += days
            d[1 if k + 1 < len(ev) else 2] += days
            d[3] += 1
    return out


@settings(max_examples=60)
@given(histories, st.integers(0, 400))
def test_time_per_level_equals_a_replay(raw, as_of_day):
    frame = build(raw)
    as_of = pd.Timestamp(T0 + timedelta(days=as_of_day))
    per = analytics.time_per_level(analytics.level_intervals(frame, as_of=as_of))
    got = {(int(r.project_id), int(r.level)): [r.days, r.completed_days, r.ongoing_days, r.intervals]
           for r in per.itertuples()}
    want = replay_time_per_level(frame, as_of)
    assert got.keys() == want.keys()
    for key, values in want.items():
        assert got[key][:3] == pytest.approx(values[:3]) and got[key][3] == values[3]


@settings(max_examples=60)
@given(histories)
def test_transitions_and_paths_equal_a_replay(raw):
    frame = build(raw)
    moved = analytics.moves(frame, as_of=T0 + timedelta(days=1000))
    counts = analytics.transition_counts(moved)
    want: dict = {}
    paths: dict = {}
    for r in frame.sort_values(["project_id", "at"], kind="stable").itertuples():
        paths.setdefault(r.project_id, []).append(r.to_level)
        if r.kind != "start":
            key = (int(r.from_level), int(r.to_level), "graduation" if r.kind == "graduation" else r.switchback_kind)
            want[key] = want.get(key, 0) + 1
    assert {(r.from_level, r.to_level, r.move): r.count for r in counts.itertuples()} == want
    assert {k: list(v) for k, v in analytics.level_paths(frame).items()} == paths
    for path in paths.values():  # every cycle starts and ends on the same level, with nothing between equal to it
        for cycle in analytics.path_cycles(path):
            assert cycle[0] == cycle[-1] and cycle[0] not in cycle[1:-1]


def test_forecast_by_hand_and_reproducible():
    stays = {3: np.array([10.0, 20.0, 30.0]), 4: np.array([40.0, 60.0])}
    f = analytics.forecast(3, 5.0, 5, stays, horizon_days=60.0, samples=2000, seed=7)
    assert f.expected_days == pytest.approx((20 - 5) + 50)
    again = analytics.forecast(3, 5.0, 5, stays, horizon_days=60.0, samples=2000, seed=7)
    assert f.probability == again.probability and 0 < f.probability < 1 and f.samples == 2000
    # Remaining at 3 is 5, 15 or 25 days; at 4, 40 or 60. Within 60 days: (5, 40) and (15, 40) of
    # the six equally likely pairs, so 1/3.
    assert f.probability == pytest.approx(1 / 3, abs=0.04)
    missing = analytics.forecast(3, 0.0, 6, stays, horizon_days=60.0)
    assert missing.expected_days is None and "level 5" in missing.reason
    done = analytics.forecast(6, 0.0, 5, stays, horizon_days=1.0)
    assert done.reached and done.probability == 1.0 and done.expected_days == 0.0


@settings(max_examples=40)
@given(st.lists(st.floats(1, 200), min_size=1, max_size=8), st.lists(st.floats(1, 200), min_size=1, max_size=8),
       st.floats(1.1, 3.0), st.floats(0, 400), st.integers(0, 2**16))
def test_slower_history_never_makes_the_forecast_earlier_or_likelier(a, b, factor, horizon, seed):
    fast = {2: np.array(a), 3: np.array(b)}
    slow = {k: v * factor for k, v in fast.items()}
    f = analytics.forecast(2, 0.0, 4, fast, horizon_days=horizon, samples=500, seed=seed)
    s = analytics.forecast(2, 0.0, 4, slow, horizon_days=horizon, samples=500, seed=seed)
    assert s.expected_days >= f.expected_days and s.probability <= f.probability


def history(rows: list[tuple[int, int]]) -> pd.DataFrame:
    return pd.DataFrame({"at": pd.to_datetime([T0 + timedelta(days=d) for d, _ in rows], utc=True),
                         "to_level": [lv for _, lv in rows]})


DUE = date(2026, 3, 31)  # day 89


@pytest.mark.parametrize(("rows", "as_of_day", "expected_day", "active", "status"), [
    ([(0, 3), (20, 4), (50, 5)], 95, None, True, S.ACHIEVED),
    ([(0, 3), (20, 5), (60, 4)], 95, None, True, S.LOST),            # reached, then a switchback below
    ([(0, 3), (20, 5), (60, 4), (80, 5)], 95, None, True, S.ACHIEVED),  # lost, then back by the date
    ([(0, 3), (20, 5), (100, 2)], 120, None, True, S.ACHIEVED),       # the loss came after the date
    ([(0, 3), (95, 5)], 120, None, True, S.MISSED),                  # reached late
    ([(0, 3), (89, 5)], 120, None, True, S.ACHIEVED),                # reached on the due date itself
    ([(0, 3)], 40, 80, True, S.ON_TRACK),
    ([(0, 3)], 40, 95, True, S.AT_RISK),
    ([(0, 3)], 40, None, True, S.AT_RISK),
    ([(0, 3)], 40, 80, False, S.AT_RISK),                             # paused
    ([], 40, 80, True, S.ON_TRACK),
    ([], 95, None, True, S.MISSED),
])
def test_key_result_status_by_hand(rows, as_of_day, expected_day, active, status):
    expected_at = None if expected_day is None else T0 + timedelta(days=expected_day)
    state = analytics.key_result_status(history(rows), 5, DUE, as_of=T0 + timedelta(days=as_of_day),
                                        expected_at=expected_at, active=active)
    assert state.status == status


@settings(max_examples=60)
@given(st.lists(st.tuples(st.integers(0, 120), st.integers(0, 9)), max_size=8), st.integers(0, 9))
def test_the_burn_up_agrees_with_the_status_day_by_day(raw, target):
    h = history(sorted(raw, key=lambda r: r[0]))
    days = [date(2026, 1, 1) + timedelta(days=k) for k in range(120)]
    achieved = analytics.achieved_by_day(h, target, DUE, days)
    for day, flag in zip(days, achieved):
        as_of = analytics.end_of_day(day) - pd.Timedelta(microseconds=1)
        assert flag == (analytics.key_result_status(h, target, DUE, as_of=as_of).status == S.ACHIEVED), day


def test_runs_of_consecutive_levels():
    paths = pd.Series({1: (2, 3, 4, 2, 3, 4), 2: (3, 4, 5)})
    runs = analytics.frequent_stretches(paths, 2).set_index("path")
    assert runs.loc["3 → 4", "count"] == 3 and runs.loc["3 → 4", "technologies"] == 2
    assert runs.loc["4 → 2", "count"] == 1 and list(runs.index)[:2] == ["3 → 4", "2 → 3"]
    assert analytics.frequent_stretches(paths, 7).empty


def test_a_stay_longer_than_any_completed_one_gets_no_forecast_and_the_rest_is_conditional():
    stays = {4: np.array([20.0, 60.0, 100.0]), 5: np.array([30.0])}
    f = analytics.forecast(4, 50.0, 6, stays, horizon_days=45.0, samples=4000, seed=3)
    # Left at 4: the stays longer than 50 days, less 50: 10 or 50; then 30 at 5.
    assert f.expected_days == pytest.approx(30 + 30) and f.probability == pytest.approx(0.5, abs=0.04)
    stuck = analytics.forecast(4, 150.0, 5, stays, horizon_days=45.0)
    assert stuck.expected_days is None and stuck.probability is None
    assert "longer than any completed stay" in stuck.reason and "100" in stuck.reason


def test_achieved_then_lost_counts_only_from_the_quarters_start():
    # At 5 in 2025 (before the quarter), back to 4 before it began: not "lost" this quarter.
    h = history([(0, 5), (30, 4)])
    quarter_start = date(2026, 3, 1)  # day 59
    late = T0 + timedelta(days=80)
    assert analytics.key_result_status(h, 5, DUE, as_of=late).status == S.LOST
    assert analytics.key_result_status(h, 5, DUE, as_of=late, since=quarter_start).status == S.AT_RISK
    # At 5 when the quarter began, lost during it: lost.
    h2 = history([(0, 5), (70, 4)])
    assert analytics.key_result_status(h2, 5, DUE, as_of=late, since=quarter_start).status == S.LOST


def test_the_heat_map_by_system_keeps_each_technologys_own_system_after_filtering():
    # B (a paused system) filtered out: its component B.1 stays under B, never under A.
    frame = pd.DataFrame({"code": ["A", "A.1", "B.1"], "depth": [0, 1, 1], "system": ["A", "A", "B"],
                          "level": pd.array([4, 3, 2], "Int64"), "owners": [[], [], []]})
    counts = analytics.heatmap_counts(frame, by="system")
    assert counts.loc["B", 2] == 1 and counts.loc["A", 3] == 1 and counts.loc["A", 4] == 1
    assert counts.loc["A", 2] == 0


def test_no_bottleneck_is_flagged_against_instant_stays():
    stats = pd.DataFrame({"level": range(4), "completed": [5] * 4, "median_days": [0.0, 0.0, 0.0, 30.0],
                          "p75_days": [1.0] * 4})
    assert analytics.bottlenecks(stats).empty


# --- one home for day ends; every name still reached through analytics ---------------------------

window_days = st.dates(min_value=date(1900, 1, 1), max_value=date(2199, 12, 30))


@given(window_days)
def test_the_end_of_a_day_is_the_days_module_s(day):
    end = analytics.end_of_day(day)
    assert end == pd.Timestamp(days.day_end(day)) == pd.Timestamp(days.last_instant(day)) + pd.Timedelta(microseconds=1)
    # The same Timestamp as before it moved: the next day's midnight, UTC, in microseconds.
    before = pd.Timestamp(datetime.combine(day, datetime.min.time(), tzinfo=UTC)) + pd.Timedelta(days=1)
    assert (end.value, str(end.tz), end.unit) == (before.value, str(before.tz), before.unit)
    assert end.date() == day + timedelta(days=1) and (end.hour, end.minute, end.microsecond) == (0, 0, 0)


@given(st.lists(window_days, max_size=20))
def test_the_vectorised_day_ends_agree_with_the_days_module(chosen):
    assert analytics.day_ends(chosen).tolist() == [pd.Timestamp(days.day_end(d)).value for d in chosen]


@given(window_days, st.integers(0, 9))
def test_a_level_held_when_the_period_starts_counts_as_reached_at_its_first_instant(since, target):
    start = days.day_start(since)
    h = analytics.LevelHistory(np.array([pd.Timestamp(start - timedelta(days=3)).value]), np.array([target]))
    state = analytics.key_result_status(h, target, since + timedelta(days=1), as_of=start, since=since)
    assert state.status == S.ACHIEVED and state.reached_at == pd.Timestamp(start)


def test_every_name_of_history_and_forecast_is_reached_through_analytics():
    for module in (history_module, forecast_module):
        tree = ast.parse(Path(module.__file__).read_text())
        defined = [getattr(node, "name", None) or node.targets[0].id for node in tree.body
                   if isinstance(node, ast.FunctionDef | ast.ClassDef)
                   or (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name))]
        public = [n for n in defined if not n.startswith("_")]
        assert public, module
        missing = [n for n in public if getattr(analytics, n, None) is not getattr(module, n)]
        assert missing == [], module.__name__
    assert all(hasattr(analytics, n) for n in analytics.__all__)
