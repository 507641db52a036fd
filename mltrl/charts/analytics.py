"""The Analytics page's figures: time per level (boxes computed here), a technology's time per
level, the transition heat map, the moves as a Sankey, switchback rates and the portfolio heat map
(technologies by group and level). Pure: no streamlit, no database.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from mltrl.charts.common import EVENT_LABELS, EVENT_STYLES
from mltrl.domain import levels as engine

ONGOING_COLOUR = "#9AA0A6"
MOVE_COLOURS = {k: EVENT_STYLES[k][1] for k in ("graduation", "discovery", "review", "embedded")}


def _box_stats(days: pd.Series) -> dict[str, float]:
    """Tukey's box for one level: quartiles and whiskers at the furthest stay within 1.5 IQR, in
    whole days."""
    q1, median, q3 = (float(days.quantile(q)) for q in (0.25, 0.5, 0.75))
    reach = 1.5 * (q3 - q1)
    inside = days[(days >= q1 - reach) & (days <= q3 + reach)]
    box = {"q1": q1, "median": median, "q3": q3, "lowerfence": float(inside.min()), "upperfence": float(inside.max())}
    return {k: float(np.floor(v + 0.5)) for k, v in box.items()}  # whole days: a hover never reads "143.5"


def time_in_level_chart(intervals: pd.DataFrame, *, height: int = 420) -> go.Figure:
    """Time per level across the portfolio: a box of the completed stays per level (quartiles
    computed here, so the figure stays small however many stays there are), ongoing stays as a
    grey box beside it, and above each level the count and median of its completed stays."""
    fig = go.Figure()
    top = 0.0
    styles = ((False, "completed stays", "#2F80ED", "rgba(47,128,237,0.25)"),
              (True, "ongoing stays (so far)", "#5F6368", "rgba(154,160,166,0.35)"))
    for ongoing, name, line, fill in styles:
        part = intervals.loc[intervals["ongoing"] == ongoing]
        xs, stats, counts = [], [], []
        for level, days in part.groupby("level")["days"]:
            xs.append(str(int(level)))
            stats.append(_box_stats(days))
            counts.append(len(days))
            top = max(top, stats[-1]["upperfence"])
        if not xs:
            continue
        fig.add_trace(go.Box(
            x=xs, name=name, q1=[s["q1"] for s in stats], median=[s["median"] for s in stats],
            q3=[s["q3"] for s in stats], lowerfence=[s["lowerfence"] for s in stats],
            upperfence=[s["upperfence"] for s in stats], marker_color=line, fillcolor=fill, line={"width": 1.5},
            boxpoints=False,
        ))
        if not ongoing:  # along the top: how many completed stays, and their median
            for x, n, st in zip(xs, counts, stats):
                fig.add_annotation(x=x, y=1.0, xref="x", yref="paper", yanchor="bottom", showarrow=False,
                                   text=f"n={n}<br>{st['median']:.0f} d", font={"size": 11, "color": "#3C4043"})
    fig.update_layout(boxmode="group", height=height, margin={"l": 10, "r": 10, "t": 70, "b": 10},
                      plot_bgcolor="white", legend={"orientation": "h", "yanchor": "bottom", "y": 1.14, "x": 0})
    fig.update_xaxes(title="Level", type="category", categoryorder="array",
                     categoryarray=[str(n) for n in range(engine.MIN_LEVEL, engine.MAX_LEVEL + 1)])
    fig.update_yaxes(title="Days at the level", gridcolor="#EEE", range=[0, top * 1.05 if top else 1], hoverformat=".0f")
    return fig


def technology_time_chart(per: pd.DataFrame, *, height: int = 260) -> go.Figure:
    """One technology's time per level: completed days and the ongoing stay, stacked per level."""
    xs = [str(int(v)) for v in per["level"]]
    fig = go.Figure([
        go.Bar(x=xs, y=per["completed_days"], name="completed", marker_color="#2F80ED",
               hovertemplate="Level %{x}: %{y:.0f} days completed<extra></extra>"),
        go.Bar(x=xs, y=per["ongoing_days"], name="ongoing (so far)", marker_color=ONGOING_COLOUR,
               hovertemplate="Level %{x}: %{y:.0f} days so far<extra></extra>"),
    ])
    fig.update_layout(barmode="stack", height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      plot_bgcolor="white", legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0})
    fig.update_xaxes(title="Level", type="category")
    fig.update_yaxes(title="Days", gridcolor="#EEE")
    return fig


def transition_heatmap(matrix: pd.DataFrame, *, height: int = 420) -> go.Figure:
    """From -> to move counts: rows are the level left, columns the level reached; above the
    diagonal graduations, below it switchbacks. Empty cells stay blank."""
    z = matrix.to_numpy().astype(float)
    text = [[str(int(v)) if v else "" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(
        z=[[v if v else None for v in row] for row in z], x=[str(c) for c in matrix.columns],
        y=[str(r) for r in matrix.index], text=text, texttemplate="%{text}", colorscale="Blues", xgap=2, ygap=2,
        hovertemplate="from %{y} to %{x}: %{z} moves<extra></extra>", colorbar={"title": "moves"},
    ))
    fig.update_xaxes(title="to level", type="category", side="top")
    fig.update_yaxes(title="from level", type="category", autorange="reversed")
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 50, "b": 10}, plot_bgcolor="white")
    return fig


def moves_sankey(counts: pd.DataFrame, *, height: int = 460) -> go.Figure:
    """Moves as a Sankey: levels left on the left, levels reached on the right, one band per
    (from, to, kind), coloured by kind (graduations green, each switchback kind its own colour)."""
    lefts = sorted(set(counts["from_level"]))
    rights = sorted(set(counts["to_level"]))
    index = {("from", lv): k for k, lv in enumerate(lefts)}
    index.update({("to", lv): len(lefts) + k for k, lv in enumerate(rights)})
    labels = [f"from {lv}" for lv in lefts] + [f"to {lv}" for lv in rights]
    colours = ["#5F6368"] * (len(lefts) + len(rights))  # neutral: colour is the kind of move, on the links

    def faded(hex_colour: str) -> str:
        r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
        return f"rgba({r},{g},{b},0.45)"

    fig = go.Figure(go.Sankey(
        arrangement="fixed", textfont={"color": "#1f2430", "size": 12},
        node={"label": labels, "color": colours, "pad": 12, "thickness": 14,
              "x": [0.02] * len(lefts) + [0.98] * len(rights),
              "y": [0.02 + 0.96 * k / max(len(lefts) - 1, 1) for k in range(len(lefts))]
              + [0.02 + 0.96 * k / max(len(rights) - 1, 1) for k in range(len(rights))]},
        link={"source": [index[("from", v)] for v in counts["from_level"]],
              "target": [index[("to", v)] for v in counts["to_level"]],
              "value": counts["count"].tolist(),
              "color": [faded(MOVE_COLOURS[m]) for m in counts["move"]],
              "customdata": [EVENT_LABELS[m] for m in counts["move"]],
              "hovertemplate": "%{source.label} → %{target.label}<br>%{customdata}: %{value}<extra></extra>"},
    ))
    for move in MOVE_COLOURS:  # a legend of the link colours (Sankey traces have none of their own)
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=EVENT_LABELS[move],
                                 marker={"size": 12, "symbol": "square", "color": MOVE_COLOURS[move]}))
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10}, plot_bgcolor="white",
                      xaxis={"visible": False}, yaxis={"visible": False},
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0})
    return fig


def switchback_rate_chart(rates: pd.DataFrame, *, height: int = 320) -> go.Figure:
    """Per level left, the share of its exits that were switchbacks, stacked by kind."""
    xs = [str(int(v)) for v in rates["level"]]
    exits = rates["exits"].where(rates["exits"] > 0)
    fig = go.Figure()
    for kind in ("discovery", "review", "embedded"):
        share = (rates[kind] / exits).fillna(0.0)
        fig.add_trace(go.Bar(x=xs, y=share, name=EVENT_LABELS[kind], marker_color=MOVE_COLOURS[kind],
                             customdata=list(zip(rates[kind], rates["exits"])),
                             hovertemplate="Level %{x}: %{customdata[0]} of %{customdata[1]} exits (%{y:.0%})"
                                           "<extra>%{fullData.name}</extra>"))
    fig.update_layout(barmode="stack", height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      plot_bgcolor="white", legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0,
                                                    "traceorder": "normal"})
    fig.update_xaxes(title="Level left", type="category")
    fig.update_yaxes(title="Switchbacks / exits", tickformat=".0%", gridcolor="#EEE", rangemode="tozero")
    return fig


def portfolio_heatmap(counts: pd.DataFrame, *, height: int | None = None) -> go.Figure:
    """Technologies by group (rows) and level (columns 0-9, then "no level", which is not
    progress: its counts are written on a grey band, never coloured like a level's)."""
    columns = [str(c) for c in counts.columns]
    values = counts.to_numpy().astype(float)
    progress = [[(v if v else None) if c != "no level" else None for v, c in zip(row, columns)] for row in values]
    rows = [str(r) for r in counts.index]
    top = float(np.nanmax(values[:, [c != "no level" for c in columns]])) if values.size else 1.0
    fig = go.Figure(go.Heatmap(
        z=progress, x=columns, y=rows, text=[[str(int(v)) if v else "" for v in row] for row in values],
        texttemplate="%{text}", colorscale="Blues", xgap=2, ygap=2, zmin=0,
        colorbar={"title": "technologies", "dtick": max(1, int(np.ceil(top / 5)))},
        customdata=values, hovertemplate="%{y} · level %{x}: %{customdata}<extra></extra>",
    ))
    if "no level" in columns:
        k = columns.index("no level")
        fig.add_shape(type="rect", xref="x", yref="paper", x0=k - 0.5, x1=k + 0.5, y0=0, y1=1, layer="below",
                      fillcolor="#EEEEEE", line={"width": 0})
    fig.update_xaxes(type="category", side="top", title="Level", categoryorder="array", categoryarray=columns)
    fig.update_yaxes(type="category", autorange="reversed")
    fig.update_layout(height=height or max(220, 28 * len(rows) + 90), margin={"l": 10, "r": 10, "t": 50, "b": 10},
                      plot_bgcolor="white")
    return fig
