"""The analytics figures: small whatever the number of stays, the moves' kinds told apart, and
technologies with no level never coloured as progress."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from mltrl import charts

from mltrl.domain import analytics


def intervals(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"project_id": np.arange(n), "level": rng.integers(0, 10, n), "days": rng.gamma(2, 60, n),
                         "ongoing": rng.random(n) < 0.1})


def test_the_time_chart_sends_box_statistics_not_every_stay():
    small, large = (len(charts.time_in_level_chart(intervals(n)).to_json()) for n in (200, 50_000))
    assert large < 2 * small  # the figure carries quartiles, not the stays
    fig = charts.time_in_level_chart(intervals(5_000))
    boxes = [t for t in fig.data if t.type == "box"]
    assert [b.name for b in boxes] == ["completed stays", "ongoing stays (so far)"]
    frame = intervals(5_000)
    medians = frame.loc[~frame["ongoing"]].groupby("level")["days"].median()
    assert np.array_equal(boxes[0].median, np.floor(medians.to_numpy() + 0.5))  # in whole days: no "143.5" hover
    counts = [a.text.split("<br>")[0] for a in fig.layout.annotations]
    assert counts == [f"n={n}" for n in frame.loc[~frame["ongoing"]].groupby("level").size()]


def test_the_sankey_colours_each_kind_of_move():
    moved = pd.DataFrame({"from_level": [2, 4, 4, 9], "to_level": [3, 2, 5, 7],
                          "move": ["graduation", "embedded", "graduation", "review"], "count": [5, 1, 4, 2]})
    fig = json.loads(charts.moves_sankey(moved).to_json())
    sankey = fig["data"][0]
    assert sankey["node"]["label"] == ["from 2", "from 4", "from 9", "to 2", "to 3", "to 5", "to 7"]
    colours = dict(zip(moved["move"], sankey["link"]["color"]))
    assert len(set(colours.values())) == 3 and sankey["link"]["value"] == [5, 1, 4, 2]
    assert {t["name"] for t in fig["data"][1:]} == {"Graduation", "Switchback: discovery", "Switchback: review",
                                                     "Switchback: embedded"}


def test_the_transition_heatmap_leaves_empty_cells_blank():
    moved = pd.DataFrame({"from_level": [2, 2, 4], "to_level": [3, 3, 2], "move": ["graduation"] * 2 + ["discovery"]})
    fig = charts.transition_heatmap(analytics.transition_matrix(moved))
    z = fig.data[0].z
    assert z[2][3] == 2 and z[4][2] == 1 and z[0][0] is None


def test_no_level_is_written_on_grey_never_coloured():
    frame = pd.DataFrame({"code": ["A", "B"], "depth": [0, 0], "level": pd.array([3, None], "Int64"),
                          "owners": [["ana"], ["ana"]]})
    fig = charts.portfolio_heatmap(analytics.heatmap_counts(frame))
    heat = fig.data[0]
    column = list(heat.x).index("no level")
    assert heat.z[0][column] is None and heat.text[0][column] == "1" and heat.z[0][list(heat.x).index("3")] == 1
    assert fig.layout.shapes[0].fillcolor == "#EEEEEE"
