"""Timelines' pure parts: the system level over time (against a brute-force recomputation and the
level engine's own ``system_levels``), swimlane segments and summaries, lane orders, and the
figures' shapes (traces, hover data, the inherited past, one trace per phase at any size)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mltrl import charts
from mltrl.domain import levels as engine
from mltrl.services import timelines

T0 = datetime(2024, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def system_events(rows: list[tuple[str, int, int]]) -> pd.DataFrame:
    """(code, day, level) in recorded order."""
    return pd.DataFrame({"code": [r[0] for r in rows], "at": [day(r[1]) for r in rows],
                         "to_level": [r[2] for r in rows]})


# --- the system level over time ------------------------------------------------------------------


def test_system_level_is_the_minimum_of_the_started_technologies_at_each_moment() -> None:
    events = system_events([("S", 0, 6), ("A", 10, 4), ("B", 20, 7), ("A", 30, 5), ("A", 40, 8), ("B", 50, 2),
                            ("B", 60, 9)])
    out = timelines.system_level_over_time(events)
    assert list(out["at"]) == [day(0), day(10), day(30), day(40), day(50), day(60)]
    assert list(out["level"]) == [6, 4, 5, 6, 2, 6]
    assert list(out["held_by"]) == ["S", "A", "A", "S", "B", "S"]


def test_ties_name_every_holder_and_a_change_of_holder_is_kept() -> None:
    out = timelines.system_level_over_time(system_events([("S", 0, 4), ("A", 5, 4), ("S", 9, 5)]))
    assert list(out["level"]) == [4, 4, 4]
    assert list(out["held_by"]) == ["S", "A, S", "A"]


def test_events_at_one_moment_count_in_recorded_order() -> None:
    out = timelines.system_level_over_time(system_events([("S", 0, 4), ("A", 3, 3), ("A", 3, 5)]))
    assert list(out["level"]) == [4] and list(out["held_by"]) == ["S"]  # A's 3 was gone by the end of day 3


def test_no_events_no_system_level() -> None:
    out = timelines.system_level_over_time(system_events([]))
    assert out.empty and list(out.columns) == ["at", "level", "held_by"]


def brute_force(events: pd.DataFrame) -> list[tuple[datetime, int, str]]:
    """At every moment, each technology's latest level so far; the minimum and who holds it."""
    rows = []
    for moment in sorted(set(events["at"])):
        current: dict[str, int] = {}
        for code, at, level in zip(events["code"], events["at"], events["to_level"]):
            if at <= moment:
                current[code] = level
        low = min(current.values())
        rows.append((moment, low, ", ".join(sorted(c for c, v in current.items() if v == low))))
    kept = [r for k, r in enumerate(rows) if k == 0 or r[1:] != rows[k - 1][1:]]
    return kept


codes = st.sampled_from(["S", "A", "B", "C", "D"])
histories = st.lists(st.tuples(codes, st.integers(0, 40), st.integers(0, 9)), min_size=1, max_size=30).map(
    lambda rows: sorted(rows, key=lambda r: r[1]))  # recorded in time order, ties in list order


@settings(max_examples=150)
@given(histories)
def test_system_level_over_time_equals_a_brute_force_recomputation(rows) -> None:
    events = system_events(rows)
    out = timelines.system_level_over_time(events)
    assert [(a.to_pydatetime(), int(v), h) for a, v, h in zip(out["at"], out["level"], out["held_by"])] == \
        brute_force(events)


trees = st.lists(st.integers(0, 10), min_size=1, max_size=6)  # node k's parent index (mod k): a random tree


@settings(max_examples=100)
@given(trees, st.lists(st.tuples(st.integers(0, 6), st.integers(0, 30), st.integers(0, 9)), min_size=1, max_size=25))
def test_it_agrees_with_the_level_engine_at_every_moment(parent_picks, moves) -> None:
    nodes = [f"N{k}" for k in range(len(parent_picks) + 1)]
    parents = {"N0": None} | {f"N{k}": f"N{parent_picks[k - 1] % k}" for k in range(1, len(nodes))}
    rows = sorted(((nodes[n % len(nodes)], d, lv) for n, d, lv in moves), key=lambda r: r[1])
    events = system_events(rows)
    out = timelines.system_level_over_time(events)
    for moment in sorted(set(events["at"])):
        now_levels: dict[str, int] = {}
        for code, at, level in zip(events["code"], events["at"], events["to_level"]):
            if at <= moment:
                now_levels[code] = level
        expected = engine.system_level("N0", parents, now_levels)
        shown = out[out["at"] <= moment]["level"].iloc[-1]
        assert int(shown) == expected


# --- swimlanes ----------------------------------------------------------------------------------


def portfolio_events(rows: list[tuple[int, int, int, str]]) -> pd.DataFrame:
    """(project id, day, level, kind label)."""
    return pd.DataFrame({"project_id": [r[0] for r in rows], "at": [day(r[1]) for r in rows],
                         "to_level": [r[2] for r in rows], "kind": [r[3] for r in rows]})


def test_segments_run_from_each_event_to_the_next_or_now() -> None:
    events = portfolio_events([(1, 0, 3, "start"), (2, 5, 7, "start"), (1, 10, 4, "graduation"),
                               (1, 20, 2, "discovery")])
    seg = timelines.lane_segments(events, as_of=day(30))
    assert [(p, s, e, lv, ph) for p, s, e, lv, ph in seg.itertuples(index=False)] == [
        (1, day(0), day(10), 3, "prototyping"), (1, day(10), day(20), 4, "prototyping"),
        (1, day(20), day(30), 2, "research"), (2, day(5), day(30), 7, "productization")]


@settings(max_examples=100)
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(0, 50), st.integers(0, 9)), max_size=40))
def test_segments_tile_each_history_without_gaps_or_overlaps(rows) -> None:
    rows = sorted(rows, key=lambda r: r[1])
    events = portfolio_events([(p, d, lv, "start") for p, d, lv in rows])
    seg = timelines.lane_segments(events, as_of=day(60))
    for pid in {r[0] for r in rows}:
        mine = seg[seg["project_id"] == pid]
        first = min(d for p, d, _ in rows if p == pid)
        assert mine["start"].iloc[0] == day(first) and mine["end"].iloc[-1] == day(60)
        assert (mine["start"].iloc[1:].to_numpy() == mine["end"].iloc[:-1].to_numpy()).all()
        assert (mine["end"] > mine["start"]).all()
        # each interval holds the level of the last event recorded at its start
        last_at = {}
        for p, d, lv in rows:
            if p == pid:
                last_at[d] = lv
        assert [int(v) for v in mine["level"]] == [last_at[(s - T0).days] for s in mine["start"]]


def lanes_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "id": [1, 2, 3, 4, 5], "code": ["A", "B", "C", "D", "E"], "name": ["a", "b", "c", "d", "e"],
        "level": pd.array([5, 7, None, 1, 7], dtype="Int64"), "status": ["active"] * 5,
    })


def summary() -> pd.DataFrame:
    events = portfolio_events([
        (1, 0, 3, "start"), (1, 10, 4, "graduation"), (1, 20, 5, "graduation"),
        (2, 0, 6, "start"), (2, 5, 7, "graduation"), (2, 8, 6, "review"), (2, 9, 7, "graduation"),
        (4, 40, 2, "start"), (4, 41, 1, "discovery"),
        (5, 30, 7, "start"),
    ])
    return timelines.lane_summary(lanes_frame(), events, as_of=day(100))


def test_lane_summary_counts_switchbacks_and_time_in_the_current_phase() -> None:
    lanes = summary()
    assert list(lanes["switchbacks"]) == [0, 1, 0, 1, 0]
    assert list(lanes["phase"]) == ["prototyping", "productization", None, "research", "productization"]
    assert lanes.loc[0, "phase_since"] == day(0) and lanes.loc[1, "phase_since"] == day(0)
    assert lanes.loc[3, "phase_since"] == day(40) and pd.isna(lanes.loc[2, "phase_since"])
    assert lanes.loc[0, "days_in_phase"] == 100


def test_each_sort_order_and_unstarted_technologies_last() -> None:
    lanes = summary()
    order = {by: list(timelines.order_lanes(lanes, by)["code"]) for by in timelines.SORTS}
    assert order["level"] == ["B", "E", "A", "D", "C"]
    assert order["phase"] == ["D", "A", "B", "E", "C"]  # research, prototyping, then the longest in productization
    assert order["switchbacks"] == ["B", "D", "E", "A", "C"]
    assert order["code"] == ["A", "B", "D", "E", "C"]
    assert list(timelines.order_lanes(lanes, "level", reverse=True)["code"]) == ["D", "A", "E", "B", "C"]
    with pytest.raises(ValueError, match="unknown sort"):
        timelines.order_lanes(lanes, "colour")


def test_kind_labels_name_the_switchback_kind() -> None:
    out = timelines.kind_labels(pd.Series(["start", "graduation", "switchback", "switchback"]),
                                pd.Series([None, None, "embedded", "review"]))
    assert list(out) == ["start", "graduation", "embedded", "review"]


# --- figures ------------------------------------------------------------------------------------


def tech_events(*, inherited: bool = False) -> pd.DataFrame:
    rows = [  # at, from, to, kind, note, review, source, inherited
        (day(0), None, 2, "start", "", None, "R01.1", True),
        (day(10), 2, 3, "graduation", "", 7, "R01.1", True),
        (day(20), None, 3, "start", "Forked", None, "R01.2", False),
        (day(30), 3, 4, "graduation", "A <b>bold</b> claim", 12, "R01.2", False),
        (day(40), 4, 2, "embedded", "loop", None, "R01.2", False),
        (day(50), 2, 1, "discovery", "", None, "R01.2", False),
        (day(60), 1, 0, "review", "", 15, "R01.2", False),
    ]
    if not inherited:
        rows = [r for r in rows if not r[-1]]
    frame = pd.DataFrame(rows, columns=["at", "from_level", "to_level", "kind", "note", "review_id", "source",
                                        "inherited"])
    frame["from_level"] = frame["from_level"].astype("Int64")
    frame["review_id"] = frame["review_id"].astype("Int64")
    frame["event_id"] = range(100, 100 + len(frame))
    return frame


def traces(fig) -> dict:
    return {t.name: t for t in fig.data}


def test_the_step_chart_names_each_kind_and_the_review_of_each_move() -> None:
    fig = charts.level_step_chart(tech_events(), as_of=NOW, selectable=True)
    by_name = traces(fig)
    assert {"Level", "Start", "Graduation", "Switchback: embedded", "Switchback: discovery", "Switchback: review",
            "Decided at a gated review"} <= set(by_name)
    assert [by_name[charts.EVENT_LABELS[k]].marker.symbol for k in ("discovery", "review", "embedded")] == [
        "triangle-down", "diamond", "square"]
    assert len({by_name[charts.EVENT_LABELS[k]].marker.color for k in ("discovery", "review", "embedded")}) == 3
    graduation = by_name["Graduation"].customdata[0]
    assert graduation[2] == "<br>review #12" and graduation[3] == 101 and graduation[4] == 12
    assert "&lt;b&gt;bold&lt;/b&gt;" in graduation[1]  # user text is escaped
    assert by_name["Switchback: embedded"].customdata[0][2] == "<br>recorded without a review"
    assert list(by_name["Level"].y) == [3, 4, 2, 1, 0, 0]
    assert fig.layout.clickmode == "event+select"


def test_without_review_columns_the_chart_is_as_before() -> None:
    frame = tech_events()[["at", "from_level", "to_level", "kind", "note"]]
    fig = charts.level_step_chart(frame, as_of=NOW)
    assert "Decided at a gated review" not in traces(fig) and fig.layout.clickmode is None
    assert traces(fig)["Graduation"].customdata[0][2] == ""


def test_a_forks_inherited_past_is_dashed_and_labelled_as_the_parents() -> None:
    fig = charts.level_step_chart(tech_events(inherited=True), as_of=NOW)
    past = traces(fig)["R01.1's past (before the fork)"]
    assert past.line.dash == "dash" and list(past.y) == [2, 3, 3] and past.x[-1] == day(20)
    faded = traces(fig)["R01.1's events"]
    assert faded.opacity < 1 and [c[5] for c in faded.customdata] == ["R01.1", "R01.1"]
    assert list(traces(fig)["Level"].y) == [3, 4, 2, 1, 0, 0]  # the line of its own starts at the fork
    assert any("forked from R01.1" in a.text for a in fig.layout.annotations)


def test_the_system_chart_draws_the_minimum_over_the_lines_at_exact_levels() -> None:
    members = pd.DataFrame({"code": ["S", "A", "B"], "name": ["sys", "a", "b"], "depth": [0, 1, 1]})
    events = system_events([("S", 0, 6), ("A", 10, 4), ("B", 20, 7), ("B", 30, 3)])
    events["from_level"] = pd.array([None, None, None, 7], dtype="Int64")
    events["kind"] = ["start", "start", "start", "discovery"]
    events["note"] = ""
    levels = timelines.system_level_over_time(events)
    fig = charts.system_timeline_chart(members, events, levels, as_of=NOW)
    by_name = traces(fig)
    assert list(by_name) == ["S (system)", "A", "B", "System level (minimum)", "Switchback: discovery"]
    system = by_name["System level (minimum)"]
    assert list(system.y) == [6, 4, 3, 3] and system.line.width > by_name["A"].line.width
    assert list(system.customdata) == ["S", "A", "B", "B"]
    offsets = [by_name[n].y[0] - by_name[n].customdata[0][1] for n in ("S (system)", "A", "B")]
    assert offsets == sorted(offsets) and len(set(offsets)) == 3 and max(abs(o) for o in offsets) <= 0.22


@given(st.integers(0, 40))
def test_lane_offsets_are_symmetric_distinct_and_bounded(n) -> None:
    offsets = charts.lane_offsets(n)
    assert len(offsets) == n and all(abs(o) <= 0.22 + 1e-9 for o in offsets)
    assert offsets == sorted(offsets) and abs(sum(offsets)) < 1e-6
    assert len(set(offsets)) == n or n <= 1


def test_swimlanes_keep_one_trace_per_phase_and_kind_however_many_lanes() -> None:
    n = 200
    lanes = pd.DataFrame({"id": range(n), "code": [f"T{k:03}" for k in range(n)], "name": ["x"] * n})
    events = portfolio_events([(k, k % 30, k % 10, "start") for k in range(n)]
                              + [(k, 40, (k % 10) - 1, "review") for k in range(n) if k % 10])
    events["from_level"] = pd.array([None] * n + [k % 10 for k in range(n) if k % 10], dtype="Int64")
    events["note"] = ""
    marks = events[events["kind"] == "review"]
    fig = charts.swimlanes_chart(lanes, timelines.lane_segments(events, as_of=day(60)), marks, as_of=day(60),
                                 lane_height=24)
    names = [t.name for t in fig.data]
    assert names == ["Research", "Prototyping", "Productization", "Deployment", "Switchback: discovery",
                     "Switchback: review", "Switchback: embedded"]
    assert sum(len(t.y) for t in fig.data if t.type == "bar") == n + len(marks)
    assert fig.layout.height == n * 24 + 150
    assert list(fig.layout.yaxis.categoryarray)[:2] == ["T000 · x", "T001 · x"]
    assert tuple(fig.layout.yaxis.range) == (n - 0.5, -0.5)  # the first lane on top
    small = charts.swimlanes_chart(lanes.head(3), timelines.lane_segments(events, as_of=day(60)), marks,
                                   as_of=day(60), lane_height=24)
    assert small.layout.height == 240  # a floor, so a few lanes still read
