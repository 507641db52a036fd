"""Portfolio arithmetic (``mltrl.domain.analytics``): tree order, days in level, system levels, phases."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, UTC

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mltrl.domain import analytics

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


# --- tree_order ---------------------------------------------------------------------------------


def test_components_follow_their_parent_directly_with_depth() -> None:
    nodes = ["A", "B", "A.1", "A.2", "A.1.x", "B.1"]
    parents = {"A": None, "B": None, "A.1": "A", "A.2": "A", "A.1.x": "A.1", "B.1": "B"}
    assert analytics.tree_order(nodes, parents) == [
        ("A", 0), ("A.1", 1), ("A.1.x", 2), ("A.2", 1), ("B", 0), ("B.1", 1),
    ]


def test_roots_and_siblings_keep_the_given_order() -> None:
    nodes = ["z", "c2", "a", "c1"]
    parents = {"c2": "z", "c1": "z"}
    assert analytics.tree_order(nodes, parents) == [("z", 0), ("c2", 1), ("c1", 1), ("a", 0)]


def test_a_component_listed_before_its_parent_still_comes_after_it() -> None:
    assert analytics.tree_order([3, 2, 1], {3: 2, 2: 1, 1: None}) == [(1, 0), (2, 1), (3, 2)]


def test_an_unknown_parent_is_treated_as_a_root() -> None:
    assert analytics.tree_order(["a", "b"], {"a": "gone", "b": "a"}) == [("a", 0), ("b", 1)]


def test_a_node_that_is_its_own_parent_is_a_root() -> None:
    assert analytics.tree_order(["a", "b"], {"a": "a", "b": "a"}) == [("a", 0), ("b", 1)]


def test_nodes_on_a_parent_loop_are_shown_not_lost() -> None:
    nodes = ["root", "x", "y", "z", "y.kid"]
    parents = {"root": None, "x": "y", "y": "x", "z": "root", "y.kid": "y"}
    order = analytics.tree_order(nodes, parents)
    assert sorted(n for n, _ in order) == sorted(nodes)
    assert len(order) == len(nodes)
    assert order[:2] == [("root", 0), ("z", 1)]


def test_empty_tree() -> None:
    assert analytics.tree_order([], {}) == []


@st.composite
def forests(draw: st.DrawFn) -> tuple[list[int], dict[int, int | None]]:
    n = draw(st.integers(min_value=0, max_value=30))
    raw = draw(st.lists(st.integers(min_value=0, max_value=10_000), min_size=n, max_size=n))
    parents = {i: (None if i == 0 or raw[i] % 4 == 0 else raw[i] % i) for i in range(n)}
    nodes = draw(st.permutations(list(range(n))))
    return list(nodes), parents


@settings(max_examples=200)
@given(forests())
def test_tree_order_shows_every_node_once_right_under_its_parent(forest) -> None:
    nodes, parents = forest
    order = analytics.tree_order(nodes, parents)
    assert sorted(n for n, _ in order) == sorted(nodes)
    position = {n: k for k, (n, _) in enumerate(order)}
    depth = dict(order)
    for node in nodes:
        parent = parents[node]
        if parent is None:
            assert depth[node] == 0
            continue
        assert depth[node] == depth[parent] + 1
        assert position[parent] < position[node]
        # everything between the parent and the node is inside the parent's subtree
        for other, _ in order[position[parent] + 1: position[node]]:
            assert depth[other] > depth[parent]


# --- days_between -------------------------------------------------------------------------------


def test_days_between_counts_fractional_days_and_keeps_gaps() -> None:
    start = pd.Series([NOW - timedelta(days=10), NOW - timedelta(hours=36), None, NOW])
    days = analytics.days_between(start, NOW)
    assert days.iloc[0] == pytest.approx(10.0)
    assert days.iloc[1] == pytest.approx(1.5)
    assert math.isnan(days.iloc[2])
    assert days.iloc[3] == 0


def test_days_between_reads_iso_strings_and_other_timezones() -> None:
    start = pd.Series(["2025-05-31T12:00:00+00:00", "2025-06-01T10:00:00+02:00"])  # 08:00 UTC
    assert analytics.days_between(start, NOW).tolist() == pytest.approx([1.0, 4 / 24])


def test_days_between_defaults_to_now() -> None:
    days = analytics.days_between(pd.Series([datetime.now(UTC) - timedelta(days=3)]))
    assert days.iloc[0] == pytest.approx(3.0, abs=0.01)


# --- with_system_levels / phase_labels ----------------------------------------------------------


def test_with_system_levels_takes_the_minimum_over_each_subtree() -> None:
    frame = pd.DataFrame({
        "id": [1, 2, 3, 4, 5],
        "parent_id": pd.array([None, 1, 1, 2, None], dtype="Int64"),
        "level": pd.array([9, 6, None, 4, None], dtype="Int64"),
    }, index=[10, 20, 30, 40, 50])
    result = analytics.with_system_levels(frame)
    assert str(result.dtype) == "Int64"
    assert list(result.index) == [10, 20, 30, 40, 50]
    assert result.tolist() == [4, 4, pd.NA, 4, pd.NA]


def test_with_system_levels_accepts_float_columns_with_nan() -> None:
    frame = pd.DataFrame({"id": [1, 2], "parent_id": [float("nan"), 1.0], "level": [7.0, 3.0]})
    assert analytics.with_system_levels(frame).tolist() == [3, 3]


def test_phase_labels() -> None:
    levels = pd.Series(pd.array([0, 2, 3, 5, 6, 7, 8, 9, None], dtype="Int64"))
    labels = analytics.phase_labels(levels)
    assert labels.tolist()[:8] == [
        "research", "research", "prototyping", "prototyping", "productization", "productization",
        "deployment", "deployment",
    ]
    assert pd.isna(labels.iloc[8])


def test_phase_labels_give_none_before_the_first_event() -> None:
    """``None`` (not NaN, which is truthy) where there is no level yet, even under pandas 3."""
    levels = pd.Series(pd.array([4, None], dtype="Int64"))
    labels = analytics.phase_labels(levels)
    assert labels.tolist() == ["prototyping", None]
    assert labels.dtype == object


def test_phase_labels_of_an_empty_column() -> None:
    assert analytics.phase_labels(pd.Series([], dtype="Int64")).tolist() == []


# --- filter_portfolio / all_owners --------------------------------------------------------------


def _portfolio() -> pd.DataFrame:
    levels = pd.Series(pd.array([9, 6, None, 2, 4], dtype="Int64"))
    return pd.DataFrame({
        "code": ["P05.1", "P06.1", "R21.1", "R01.1", "X.1"],
        "name": ["Recycling sorter", "Camera model", "New idea", "Causal diagnosis", "Odd one"],
        "summary": ["Sorts waste", "Sees the waste", None, "Finds root causes", "a+b (regex chars)"],
        "status": ["active", "active", "paused", "active", "retired"],
        "owners": [["Ada", "Grace"], ["Grace"], [], ["Linus"], ["Ada"]],
        "level": levels,
        "phase": analytics.phase_labels(levels),
    }, index=[0, 1, 2, 3, 4])


def test_no_filter_keeps_everything_in_order() -> None:
    frame = _portfolio()
    assert analytics.filter_portfolio(frame)["code"].tolist() == frame["code"].tolist()


@pytest.mark.parametrize(("filters", "codes"), [
    pytest.param({"text": "waste"}, ["P05.1", "P06.1"], id="text-in-summary"),
    pytest.param({"text": "  CAMERA "}, ["P06.1"], id="text-case-and-spaces"),
    pytest.param({"text": "r01"}, ["R01.1"], id="text-in-code"),
    pytest.param({"text": "a+b (regex"}, ["X.1"], id="text-is-literal-not-regex"),
    pytest.param({"text": "."}, ["P05.1", "P06.1", "R21.1", "R01.1", "X.1"], id="dot-is-literal"),
    pytest.param({"text": "nothing like this"}, [], id="text-no-match"),
    pytest.param({"phases": ["deployment"]}, ["P05.1"], id="phase"),
    pytest.param({"phases": ["no level"]}, ["R21.1"], id="phase-no-level"),
    pytest.param({"phases": ["research", "prototyping"]}, ["R01.1", "X.1"], id="two-phases"),
    pytest.param({"statuses": ["paused", "retired"]}, ["R21.1", "X.1"], id="statuses"),
    pytest.param({"owners": ["Grace"]}, ["P05.1", "P06.1"], id="owner"),
    pytest.param({"owners": ["Linus", "Ada"]}, ["P05.1", "R01.1", "X.1"], id="any-of-owners"),
    pytest.param({"owners": ["Ada"], "statuses": ["active"], "text": "sort"}, ["P05.1"], id="all-filters-and"),
])
def test_filter_portfolio_keeps_the_rows_matching_every_filter(filters: dict, codes: list[str]) -> None:
    assert analytics.filter_portfolio(_portfolio(), **filters)["code"].tolist() == codes


def test_all_owners_are_listed_once_sorted() -> None:
    assert analytics.all_owners(_portfolio()) == ["Ada", "Grace", "Linus"]


_EVENT = st.tuples(st.integers(0, 4), st.integers(0, 30), st.floats(0, 1), st.integers(1, 10),
                   st.sampled_from(["open", "mitigating", "accepted", "closed"]))


@given(st.lists(_EVENT, max_size=40))
@settings(max_examples=150)
def test_risk_trend_equals_replaying_the_history_one_event_at_a_time(raw):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    events = pd.DataFrame([{"risk_id": r, "at": start + timedelta(days=d), "p_failure": p, "value": v, "status": s,
                            "category": "data" if r % 2 else "ethics"} for r, d, p, v, s in raw],
                          columns=["risk_id", "at", "p_failure", "value", "status", "category"])
    got = analytics.risk_trend(events)
    state: dict[int, float] = {}
    expected: dict[datetime, float] = {}
    for row in events.sort_values("at", kind="stable").itertuples():
        state[row.risk_id] = 0.0 if row.status == "closed" else row.p_failure * row.value
        expected[row.at] = sum(state.values())
    assert list(got["at"]) == list(expected)
    assert list(got["total"]) == pytest.approx(list(expected.values()), abs=1e-5)
    by_category = analytics.risk_trend(events, by_category=True)
    if not events.empty:
        last = by_category.groupby("category")["total"].last().sum()
        assert last == pytest.approx(got["total"].iloc[-1], abs=1e-5)
    else:
        assert by_category.empty and list(by_category.columns) == ["at", "category", "total"]
