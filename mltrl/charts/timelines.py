"""Timelines: a system's tree of technologies over time (with the system level, the minimum over
the tree) and the portfolio's swimlanes (one lane per technology, bars coloured by phase, few
traces whatever the number of lanes). Pure: no streamlit, no database.
"""

from __future__ import annotations

import html
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from mltrl.charts.common import (
    EVENT_LABELS,
    EVENT_STYLES,
    NO_LEVEL_COLOUR,
    PHASE_COLOURS,
    _event_marker,
    _from_text,
    _level_axis,
    _note_lines,
    _phase_bands,
    _plain_ints,
    review_labels,
)
from mltrl.domain import days
from mltrl.domain import levels as engine


# One colour per technology of a system (qualitative, apart from the phase colours' tints).
# (No red, orange, green or violet: those belong to switchback kinds and graduations.)
COMPONENT_COLOURS = ("#1F77B4", "#17BECF", "#8C564B", "#E377C2", "#BCBD22", "#393B79", "#7F7F7F",
                     "#AD494A", "#637939", "#6B6ECF")
SYSTEM_LINE_COLOUR = "rgba(31,36,48,0.55)"
SWITCHBACK_KINDS = ("discovery", "review", "embedded")


def _short(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def lane_offsets(n: int, *, spread: float = 0.22, step: float = 0.1) -> list[float]:
    """Vertical offsets (in levels) that spread ``n`` lines apart around their true level, so
    technologies at the same level stay visible side by side; symmetric, at most ``spread``."""
    if n <= 1:
        return [0.0] * n
    gap = min(step, 2 * spread / (n - 1))
    return [round((k - (n - 1) / 2) * gap, 4) for k in range(n)]


def system_timeline_chart(
    members: pd.DataFrame, events: pd.DataFrame, system_levels: pd.DataFrame, *,
    as_of: datetime | None = None, title: str | None = None, height: int = 460,
) -> go.Figure:
    """A system's technologies over time: one step line per technology (``members``: ``code``,
    ``name``, ``depth``, in tree order, the system first), spread a little apart so equal levels
    stay visible (the hover gives the true level), their switchbacks marked by kind, and the
    system level (``system_levels``: ``at``, ``level``, ``held_by``, the minimum over the tree at
    each moment) drawn over them as a thick band at its exact level.

    ``events`` has ``code``, ``at``, ``from_level``, ``to_level``, ``kind``, ``note`` and
    optionally ``review_id`` and ``event_id`` (carried in the markers' ``customdata`` as by
    ``level_step_chart``, with the code last).
    """
    fig = go.Figure()
    _phase_bands(fig)
    _level_axis(fig)
    fig.update_layout(  # the legend (a line per technology) goes below, clear of the chart's tool bar
        margin=dict(l=10, r=10, t=40 if title else 10, b=10), height=height, title=title,
        legend=dict(orientation="h", yanchor="top", y=-0.08, x=0), hovermode="closest", plot_bgcolor="white",
        clickmode="event+select",
    )
    if events.empty:
        fig.add_annotation(text="No level history yet in this system", x=0.5, y=0.5, xref="paper", yref="paper",
                           showarrow=False, font=dict(size=14, color=NO_LEVEL_COLOUR))
        return fig
    end = pd.Timestamp(as_of or days.now())
    events = events.reset_index(drop=True)
    at = pd.to_datetime(events["at"], utc=True)
    started = [c for c in members["code"] if (events["code"] == c).any()]
    offsets = dict(zip(started, lane_offsets(len(started))))
    names = dict(zip(members["code"], members["name"]))
    depth = dict(zip(members["code"], members["depth"]))
    root = members["code"].iloc[0]
    for k, code in enumerate(started):
        mask = (events["code"] == code).to_numpy()
        part = events[mask]
        levels = [int(v) for v in part["to_level"]]
        label = f"{code} (system)" if code == root else code
        fig.add_trace(go.Scatter(
            x=list(at[mask]) + [end], y=[v + offsets[code] for v in levels + levels[-1:]],
            mode="lines", line_shape="hv", name=label, legendgroup=code,
            line=dict(color=COMPONENT_COLOURS[k % len(COMPONENT_COLOURS)], width=2.4 if code == root else 1.8,
                      dash="solid" if depth.get(code, 1) <= 1 else "dot"),
            customdata=[[code, v, html.escape(_short(names.get(code, ""), 60))] for v in levels + levels[-1:]],
            hovertemplate="<b>%{customdata[0]}</b> %{customdata[2]}<br>%{x|%Y-%m-%d}: level %{customdata[1]}"
                          "<extra></extra>",
        ))
    if not system_levels.empty:  # over the lines (translucent), under the switchback markers
        levels = [int(v) for v in system_levels["level"]]
        held = [str(h) for h in system_levels["held_by"]]
        fig.add_trace(go.Scatter(
            x=list(pd.to_datetime(system_levels["at"], utc=True)) + [end], y=levels + levels[-1:],
            mode="lines", line_shape="hv", line=dict(color=SYSTEM_LINE_COLOUR, width=9),
            name="System level (minimum)", customdata=held + held[-1:],
            hovertemplate="%{x|%Y-%m-%d}<br><b>system level %{y}</b><br>held down by %{customdata}<extra></extra>",
        ))
    has_reviews = "review_id" in events
    reviews = review_labels(events["review_id"]) if has_reviews else [""] * len(events)
    for kind in SWITCHBACK_KINDS:
        symbol, colour = EVENT_STYLES[kind]
        mask = (events["kind"] == kind).to_numpy()
        if not mask.any():
            continue
        part = events[mask]
        customdata = [list(row) for row in zip(
            _from_text(part["from_level"]), _note_lines(part["note"].fillna("")),
            [f"<br>{r}" if r else "" for r, keep in zip(reviews, mask) if keep],
            _plain_ints(part["event_id"]) if "event_id" in part else [None] * len(part),
            _plain_ints(part["review_id"]) if has_reviews else [None] * len(part),
            [str(c) for c in part["code"]], [int(v) for v in part["to_level"]],
        )]
        fig.add_trace(go.Scatter(
            x=list(at[mask]), y=[int(v) + offsets.get(c, 0.0) for v, c in zip(part["to_level"], part["code"])],
            mode="markers", name=EVENT_LABELS[kind], legendgroup=f"kind-{kind}",
            marker=_event_marker(symbol, colour, part["review_id"].notna().tolist() if has_reviews
                                 else [False] * len(part), size=12),
            customdata=customdata,
            hovertemplate=("%{customdata[5]} · %{x|%Y-%m-%d}<br>" + EVENT_LABELS[kind]
                           + ": %{customdata[0]} → %{customdata[6]}%{customdata[1]}%{customdata[2]}<extra></extra>"),
        ))
    # Room for the lines: from one level below the lowest ever held to the top.
    fig.update_yaxes(range=[max(int(events["to_level"].min()) - 1, 0) - 0.5, 9.5])
    return fig


def _lane_label(code: str, name: str) -> str:
    return f"{code} · {_short(name, 30)}"


def swimlanes_chart(
    lanes: pd.DataFrame, segments: pd.DataFrame, marks: pd.DataFrame, *, as_of: datetime | None = None,
    lane_height: int = 26, title: str | None = None,
) -> go.Figure:
    """Many technologies on one time axis: one lane per technology (``lanes``: ``id``, ``code``,
    ``name``, in the order to draw, top first), each interval of its history a bar coloured by the
    phase of the level held then and labelled with the level (``segments``: ``project_id``,
    ``start``, ``end``, ``level``), and its switchbacks marked by kind (``marks``: ``project_id``,
    ``at``, ``from_level``, ``to_level``, ``kind``, ``note``, optionally ``review_id``).

    However many lanes, the figure has one bar trace per phase and one marker trace per
    switchback kind; lanes have a fixed height and the figure grows with them. Bars' and markers'
    ``customdata`` start with the technology's code.
    """
    end = pd.Timestamp(as_of or days.now())
    labels = [_lane_label(c, n) for c, n in zip(lanes["code"], lanes["name"])]
    label_of = dict(zip(lanes["id"], labels))
    n = len(labels)
    fig = go.Figure()
    fig.update_layout(
        height=max(240, n * lane_height + 150), margin=dict(l=10, r=10, t=120 if title else 100, b=30), title=title,
        plot_bgcolor="white", hovermode="closest", clickmode="event+select", barmode="overlay",
        # Above the top date axis, in pixels from the figure's top whatever its height.
        legend=dict(orientation="h", yref="container", yanchor="top", y=1, x=0),
    )
    # The first lane on top, and no padding: an explicit reversed range (autorange pads by markers).
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=labels, autorange=False,
                     range=[n - 0.5, -0.5] if n else None, fixedrange=True, showgrid=False, ticks="", title=None,
                     automargin=True)
    fig.update_xaxes(type="date", side="top", showgrid=True, gridcolor="rgba(0,0,0,0.08)", title=None,
                     ticklabelposition="outside", showline=False)
    if not n:
        fig.add_annotation(text="No technologies to show", x=0.5, y=0.5, xref="paper", yref="paper",
                           showarrow=False, font=dict(size=14, color=NO_LEVEL_COLOUR))
        return fig
    # Every other lane lightly shaded, so a long lane stays easy to follow across the chart.
    fig.update_layout(shapes=[dict(type="rect", xref="paper", x0=0, x1=1, yref="y", y0=k - 0.5, y1=k + 0.5,
                                   fillcolor="rgba(0,0,0,0.035)", line=dict(width=0), layer="below")
                              for k in range(1, n, 2)])
    segs = segments[segments["project_id"].isin(label_of)]
    start = pd.to_datetime(segs["start"], utc=True)
    stop = pd.to_datetime(segs["end"], utc=True)
    stay_days = ((stop - start).dt.total_seconds() / 86_400.0).round(0).astype(int)
    # The level is written in a bar wide enough for it: 2.5% of the time shown (about 20 px).
    span = max((end - start.min()).total_seconds() / 86_400.0, 1.0) if len(start) else 1.0
    labelled = (stay_days >= 0.025 * span).to_numpy()
    for phase in engine.Phase:
        mask = (segs["level"].map(lambda v: engine.LEVELS[int(v)].phase.value) == phase.value).to_numpy() \
            if len(segs) else []
        if not len(segs) or not mask.any():
            fig.add_trace(go.Bar(x=[None], y=[None], orientation="h", name=phase.value.capitalize(),
                                 marker_color=PHASE_COLOURS[phase.value], hoverinfo="skip"))
            continue
        part = segs[mask]
        codes = part["project_id"].map(lanes.set_index("id")["code"])
        level_names = [engine.LEVELS[int(v)].name for v in part["level"]]
        fig.add_trace(go.Bar(
            y=[label_of[p] for p in part["project_id"]],
            base=[t.isoformat() for t in start[mask]],
            x=((stop[mask] - start[mask]).dt.total_seconds() * 1000.0).round(0).tolist(),
            orientation="h", width=0.64, name=phase.value.capitalize(),
            marker=dict(color=PHASE_COLOURS[phase.value], line=dict(color="white", width=1)),
            text=[str(int(v)) if wide else "" for v, wide in zip(part["level"], labelled[mask])],
            textposition="inside", insidetextanchor="middle", textangle=0, constraintext="none",
            textfont=dict(color="white", size=11), cliponaxis=True,
            customdata=[list(r) for r in zip(codes, [int(v) for v in part["level"]], level_names,
                                               [f"{t:%Y-%m-%d}" for t in start[mask]],
                                               [("today" if t >= end else f"{t:%Y-%m-%d}") for t in stop[mask]],
                                               [int(d) for d in stay_days[mask]])],
            hovertemplate=("<b>%{customdata[0]}</b> · level %{customdata[1]} %{customdata[2]}<br>"
                           "%{customdata[3]} → %{customdata[4]} (%{customdata[5]} days)<extra>"
                           + phase.value + "</extra>"),
        ))
    marks = marks[marks["project_id"].isin(label_of)]
    has_reviews = "review_id" in marks
    for kind in SWITCHBACK_KINDS:
        symbol, colour = EVENT_STYLES[kind]
        part = marks[marks["kind"] == kind]
        if part.empty:
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=EVENT_LABELS[kind], hoverinfo="skip",
                                     marker=dict(symbol=symbol, size=11, color=colour,
                                                 line=dict(width=1.5, color="#1f2430"))))
            continue
        codes = part["project_id"].map(lanes.set_index("id")["code"])
        fig.add_trace(go.Scatter(
            x=list(pd.to_datetime(part["at"], utc=True)), y=[label_of[p] for p in part["project_id"]],
            mode="markers", name=EVENT_LABELS[kind],
            marker=dict(symbol=symbol, size=11, color=colour, line=dict(width=1.5, color="#1f2430")),
            customdata=[list(r) for r in zip(
                codes, _from_text(part["from_level"]), [int(v) for v in part["to_level"]],
                _note_lines(part["note"].fillna("")),
                [f"<br>{r}" for r in review_labels(part["review_id"])] if has_reviews else [""] * len(part),
                _plain_ints(part["event_id"]) if "event_id" in part else [None] * len(part),
                _plain_ints(part["review_id"]) if has_reviews else [None] * len(part),
            )],
            hovertemplate=("<b>%{customdata[0]}</b> · %{x|%Y-%m-%d}<br>" + EVENT_LABELS[kind]
                           + ": %{customdata[1]} → %{customdata[2]}%{customdata[3]}%{customdata[4]}<extra></extra>"),
        ))
    waiting = [label for pid, label in label_of.items() if not (segs["project_id"] == pid).any()]
    if waiting:  # lanes with no history: say so at the left edge
        left = start.min() if len(start) else end - pd.Timedelta(days=365)
        fig.add_trace(go.Scatter(x=[left] * len(waiting), y=waiting, mode="text", text=["no level yet"] * len(waiting),
                                 textposition="middle right", textfont=dict(color=NO_LEVEL_COLOUR, size=11),
                                 hoverinfo="skip", showlegend=False, name="no level yet"))
    fig.add_shape(type="line", xref="x", yref="paper", x0=end, x1=end, y0=0, y1=1,
                  line=dict(color="#4F4F4F", width=1, dash="dot"))
    return fig
