"""The risk matrix (cells coloured by grade, counts written in) and total open risk over time beside
the technology's level changes. Pure: no streamlit, no database.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from mltrl.charts.common import EVENT_LABELS, EVENT_STYLES, NO_LEVEL_COLOUR
from mltrl.domain import days
from mltrl.domain import risk as rules


def risk_matrix(counts: dict[tuple[int, int], int], *, height: int = 420, title: str = "",
                selected: tuple[int, int] | None = None) -> go.Figure:
    """The 5x5 risk matrix: p(failure) bands up, value bands across, each cell coloured by its
    grade (``mltrl.domain.risk.GRADES``) and showing how many items fall in it. An invisible marker per
    cell makes cells selectable (heatmaps emit no selections in Streamlit)."""
    bands = list(rules.BANDS)
    grade_index = {g.name: k for k, g in enumerate(rules.GRADES)}
    z = [[grade_index[rules.grade(pb, vb).name] + 0.5 for vb in bands] for pb in bands]  # mid-band colour
    text = [[str(counts.get((pb, vb), 0)) for vb in bands] for pb in bands]
    n = len(rules.GRADES)
    colorscale = []
    for k, g in enumerate(rules.GRADES):
        colorscale += [[k / n, g.colour], [(k + 1) / n, g.colour]]
    fig = go.Figure(go.Heatmap(
        z=z, x=bands, y=bands, text=text, texttemplate="%{text}", textfont={"size": 18},
        colorscale=colorscale, zmin=0, zmax=n, showscale=False, hoverinfo="skip", xgap=3, ygap=3,
    ))
    xs = [vb for pb in bands for vb in bands]
    ys = [pb for pb in bands for vb in bands]
    labels = [f"{rules.grade(pb, vb).name}: {counts.get((pb, vb), 0)} item(s)" for pb, vb in zip(ys, xs)]
    fig.add_trace(go.Scatter(
        x=xs, y=ys, mode="markers", marker={"size": 40, "symbol": "square", "opacity": 0},
        customdata=labels, hovertemplate="value band %{x}, p(failure) band %{y}<br>%{customdata}<extra></extra>",
        showlegend=False, name="cells",
    ))
    if selected is not None:  # the selected cell (p band, value band) gets a dark outline
        pb, vb = selected
        fig.add_shape(type="rect", x0=vb - 0.5, x1=vb + 0.5, y0=pb - 0.5, y1=pb + 0.5,
                      line={"color": "#1f2430", "width": 4})
    for g in rules.GRADES:  # the legend: one entry per grade, with its colour and cell-score range
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=f"{g.name} (cell score ≤ {g.max_score})",
                                 marker={"size": 12, "symbol": "square", "color": g.colour}, hoverinfo="skip"))
    fig.update_xaxes(title="value", tickvals=bands, ticktext=list(rules.VALUE_BAND_LABELS), fixedrange=True)
    fig.update_yaxes(title="p(failure)", tickvals=bands, ticktext=list(rules.P_BAND_LABELS), fixedrange=True)
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 70 if title else 40, "b": 10},
                      title=title or None, clickmode="event+select", dragmode=False,
                      plot_bgcolor="white", legend={"orientation": "h", "yanchor": "bottom", "y": 1.01, "x": 0,
                                                    "title": {"text": "cell grade:"}, "itemclick": False,
                                                    "itemdoubleclick": False})
    return fig


CATEGORY_COLOURS = ("#2F80ED", "#EB5757", "#27AE60", "#9B51E0", "#F2994A", "#56CCF2", "#4F4F4F")


def risk_trend(trend: pd.DataFrame, level_events: pd.DataFrame, *, as_of: datetime | None = None,
               height: int = 340, title: str | None = None) -> go.Figure:
    """Total open risk over time as steps (``analytics.risk_trend``: ``at``, ``total`` and, for a
    line per category, ``category``), with the technology's level changes (``at``, ``to_level``,
    ``from_level``, ``kind``, ``note``) as dotted vertical lines marked by kind on the same axis."""
    fig = go.Figure()
    fig.update_layout(margin=dict(l=10, r=10, t=40 if title else 10, b=10), height=height, title=title,
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0), hovermode="closest",
                      plot_bgcolor="white")
    fig.update_yaxes(title="open risk (sum of p × value)", rangemode="tozero", gridcolor="rgba(0,0,0,0.06)")
    if trend.empty:
        fig.add_annotation(text="No risks recorded yet", x=0.5, y=0.5, xref="paper", yref="paper",
                           showarrow=False, font=dict(size=14, color=NO_LEVEL_COLOUR))
        return fig
    end = pd.Timestamp(as_of or days.now())
    groups = trend.groupby("category", sort=True) if "category" in trend else [("Total", trend)]
    for k, (name, part) in enumerate(groups):
        xs = list(pd.to_datetime(part["at"], utc=True)) + [end]
        ys = list(part["total"]) + [float(part["total"].iloc[-1])]
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines", line_shape="hv", name=str(name),
            line=dict(width=2, color=CATEGORY_COLOURS[k % len(CATEGORY_COLOURS)] if "category" in trend else "#C62828"),
            hovertemplate="%{x|%Y-%m-%d}<br>" + str(name) + ": %{y:.2f}<extra></extra>",
        ))
    if not level_events.empty:
        at = pd.to_datetime(level_events["at"], utc=True)
        # Level changes live on a hidden second axis (0-1) above the risk lines, so their markers
        # never read as risk values; dotted lines run down from them through the plot.
        fig.update_layout(
            yaxis={"domain": [0, 0.84]},
            yaxis2={"domain": [0.86, 1], "range": [0, 1], "visible": False, "fixedrange": True},
            shapes=[{"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 0.9,
                     "line": {"color": EVENT_STYLES.get(kind, EVENT_STYLES["start"])[1], "width": 1, "dash": "dot"}}
                    for x, kind in zip(at, level_events["kind"])])
        for kind, (symbol, colour) in EVENT_STYLES.items():
            mask = level_events["kind"] == kind
            if not mask.any():
                continue
            part = level_events[mask]
            from_text = part["from_level"].map(lambda v: "—" if pd.isna(v) else str(int(v)))
            fig.add_trace(go.Scatter(
                x=at[mask], y=[0.25] * int(mask.sum()), yaxis="y2", mode="markers+text", name=EVENT_LABELS[kind],
                text=[f"L{int(v)}" for v in part["to_level"]], textposition="top center",
                marker=dict(symbol=symbol, size=11, color=colour, line=dict(width=1, color="white")),
                customdata=list(zip(from_text, part["to_level"].astype(int), part["note"].fillna(""))),
                hovertemplate=("%{x|%Y-%m-%d}<br>" + EVENT_LABELS[kind]
                               + ": %{customdata[0]} → %{customdata[1]}<br>%{customdata[2]}<extra></extra>"),
            ))
    return fig
