"""OKR figures: the colours of key result statuses, the quarter's burn-up and a key result's path
against its target and due date. Pure: no streamlit, no database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import date as date_type

import numpy as np
import pandas as pd
import plotly.graph_objects as go

STATUS_COLOURS = {
    "achieved": "#27AE60", "achieved then lost": "#9B51E0", "on track": "#2F80ED", "at risk": "#F2994A",
    "missed": "#EB5757",
}


def burnup_chart(burnup: pd.DataFrame, *, height: int = 300) -> go.Figure:
    """Key results achieved at the end of each day of the quarter, against how many there are."""
    days = pd.to_datetime(burnup["day"])
    fig = go.Figure([
        go.Scatter(x=days, y=burnup["total"], mode="lines", name="key results", line={"color": "#9AA0A6",
                                                                                     "dash": "dash"},
                   hovertemplate="%{y} key results<extra></extra>"),
        go.Scatter(x=days, y=burnup["achieved"], mode="lines", name="achieved", line={"color": "#27AE60", "width": 3,
                                                                                      "shape": "hv"},
                   fill="tozeroy", fillcolor="rgba(39,174,96,0.15)",
                   hovertemplate="%{x|%Y-%m-%d}: %{y} achieved<extra></extra>"),
    ])
    top = int(burnup["total"].max()) if len(burnup) else 1
    fig.update_layout(height=height, margin={"l": 60, "r": 20, "t": 30, "b": 50}, plot_bgcolor="white",
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0})
    fig.update_yaxes(title={"text": "Key results", "standoff": 12}, range=[0, max(top, 1) * 1.1],
                     dtick=max(1, int(np.ceil(top / 6))), gridcolor="#EEE", automargin=True)
    fig.update_xaxes(title=None, gridcolor="#F4F4F4", automargin=True)
    return fig


def key_result_chart(path: pd.DataFrame, target: int, due: date_type, *, start: date_type, end: date_type,
                     as_of: datetime, status: str, height: int = 220) -> go.Figure:
    """A key result's technology path (its level as steps, up to the as-of date) against the target
    level and the due date, over the quarter (and the two months before it, for context)."""
    since = pd.Timestamp(start, tz=UTC) - pd.Timedelta(days=60)
    until = max(pd.Timestamp(end, tz=UTC) + pd.Timedelta(days=1), pd.Timestamp(due, tz=UTC) + pd.Timedelta(days=1))
    now = max(min(pd.Timestamp(as_of), until), since)  # an as-of before the chart's start draws nothing
    at = pd.to_datetime(path["at"], utc=True)
    before = path.loc[at < since]
    xs, ys = [since], [int(before["to_level"].iloc[-1]) if len(before) else None]
    inside = path.loc[(at >= since) & (at <= now)]
    for t, lv in zip(pd.to_datetime(inside["at"], utc=True), inside["to_level"]):
        xs.append(t)
        ys.append(int(lv))
    xs.append(now)
    ys.append(ys[-1])
    colour = STATUS_COLOURS.get(status, "#2F80ED")
    fig = go.Figure(go.Scatter(x=xs, y=ys, mode="lines", line={"shape": "hv", "color": colour, "width": 3},
                               name="level", hovertemplate="%{x|%Y-%m-%d}: level %{y}<extra></extra>"))
    fig.add_hline(y=target, line={"color": "#3C4043", "dash": "dot"}, annotation_text=f"target {target}",
                  annotation_position="top left")
    fig.add_vline(x=pd.Timestamp(due, tz=UTC) + pd.Timedelta(days=1), line={"color": "#EB5757", "dash": "dash"})
    fig.add_vrect(x0=pd.Timestamp(start, tz=UTC), x1=pd.Timestamp(end, tz=UTC) + pd.Timedelta(days=1),
                  fillcolor="rgba(47,128,237,0.06)", line_width=0, layer="below")
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 20, "b": 10}, plot_bgcolor="white",
                      showlegend=False)
    fig.update_yaxes(range=[-0.5, 9.5], dtick=1, title="Level", gridcolor="#EEE")
    fig.update_xaxes(range=[since, until])
    return fig
