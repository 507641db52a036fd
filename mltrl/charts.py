"""Plotly figures from DataFrames. Pure: no streamlit, no database.

Colours are defined here once and used everywhere (tables and badges take theirs from here too):
one colour per phase, one marker per kind of level change.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from datetime import date as date_type

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from mltrl.domain import levels as engine
from mltrl.domain.levels import Phase

PHASE_COLOURS: dict[str, str] = {
    Phase.RESEARCH.value: "#8E6CC9",        # violet
    Phase.PROTOTYPING.value: "#2F80ED",     # blue
    Phase.PRODUCTIZATION.value: "#F2994A",  # orange
    Phase.DEPLOYMENT.value: "#27AE60",      # green
}
# Streamlit's named badge colours closest to the phase colours above.
PHASE_BADGES: dict[str, str] = {
    Phase.RESEARCH.value: "violet",
    Phase.PROTOTYPING.value: "blue",
    Phase.PRODUCTIZATION.value: "orange",
    Phase.DEPLOYMENT.value: "green",
}
NO_LEVEL_COLOUR = "#9AA0A6"

# Kind of level change -> (marker symbol, colour). Switchbacks point down, in their own colours.
EVENT_STYLES: dict[str, tuple[str, str]] = {
    "start": ("circle", "#4F4F4F"),
    "graduation": ("triangle-up", "#27AE60"),
    "discovery": ("triangle-down", "#EB5757"),
    "review": ("diamond", "#F2994A"),
    "embedded": ("square", "#9B51E0"),
}
REVIEWED_RING = "#1f2430"  # the outline of a move decided at a gated review
EVENT_LABELS: dict[str, str] = {
    "start": "Start",
    "graduation": "Graduation",
    "discovery": "Switchback: discovery",
    "review": "Switchback: review",
    "embedded": "Switchback: embedded",
}


def phase_tint(phase: str | None, alpha: float = 0.18) -> str:
    """A light background colour for a phase (for table cells and chart bands)."""
    hex_colour = PHASE_COLOURS.get(phase or "", NO_LEVEL_COLOUR).lstrip("#")
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _level_axis(fig: go.Figure) -> None:
    fig.update_yaxes(
        range=[-0.5, 9.5],
        tickmode="array",
        tickvals=[lv.number for lv in engine.LEVELS],
        ticktext=[f"{lv.number} {lv.name}" for lv in engine.LEVELS],
        title=None,
        gridcolor="rgba(0,0,0,0.06)",
    )


def _phase_bands(fig: go.Figure) -> None:
    """Light background bands per phase, with the phase's name at the top left."""
    shapes, notes = [], []
    for phase, numbers in engine.PHASE_LEVELS.items():
        shapes.append(dict(
            type="rect", xref="paper", x0=0, x1=1, yref="y", y0=min(numbers) - 0.5, y1=max(numbers) + 0.5,
            line=dict(width=0), fillcolor=phase_tint(phase.value, 0.10), layer="below",
        ))
        notes.append(dict(
            xref="paper", x=0, yref="y", y=max(numbers) + 0.5, text=phase.value, showarrow=False,
            xanchor="left", yanchor="top", font=dict(color=PHASE_COLOURS[phase.value], size=11),
        ))
    fig.update_layout(shapes=shapes, annotations=notes)


def _from_text(values: pd.Series) -> list[str]:
    return ["—" if pd.isna(v) else str(int(v)) for v in values]


def _note_lines(notes: pd.Series) -> list[str]:
    """Each note as a hover line of its own (escaped: notes are user text), or nothing."""
    return [f"<br>{html.escape(str(n))}" if isinstance(n, str) and n.strip() else "" for n in notes]


def review_labels(review_ids: pd.Series) -> list[str]:
    """``review #12`` for a move decided at a gated review, else ``recorded without a review``."""
    return ["recorded without a review" if pd.isna(r) else f"review #{int(r)}" for r in review_ids]


def _plain_ints(values: pd.Series) -> list[int | None]:
    return [None if pd.isna(v) else int(v) for v in values]


def _event_marker(symbol: str, colour: str, reviewed: list[bool], *, size: int) -> dict:
    """A kind's marker; a move decided at a gated review gets a dark ring (one recorded without a
    review, a white one). Opacity is set: sizes given per point would make plotly default to a
    bubble chart's 0.7."""
    return dict(symbol=symbol, color=colour, opacity=1, size=[size + 2 if r else size for r in reviewed],
                line=dict(width=[2.5 if r else 1 for r in reviewed],
                          color=[REVIEWED_RING if r else "white" for r in reviewed]))


def level_step_chart(
    events: pd.DataFrame, *, as_of: datetime | None = None, title: str | None = None, height: int = 360,
    selectable: bool = False,
) -> go.Figure:
    """Level over time as steps, one marker per event styled by its kind.

    ``events`` has columns ``at`` (datetime), ``to_level``, ``from_level``, ``kind`` (start,
    graduation, discovery, review, embedded) and ``note``; oldest first. The line runs on to
    ``as_of`` (default now) at the current level. Optional columns:

    * ``review_id``: the hover names the review that decided the move ("review #12") or says it
      was recorded without a review;
    * ``event_id``: carried in each marker's ``customdata`` (with the review id) for selections;
    * ``inherited`` and ``source``: a fork's past inherited from the technology it was forked from
      (``source``: whose event it is) is drawn dashed and faded, labelled as that technology's,
      with a dotted line at the fork.

    Markers' ``customdata``: from level, note line, review line, event id, review id, source.
    ``selectable`` makes a click select a marker (for ``st.plotly_chart(on_select=...)``).
    """
    fig = go.Figure()
    _phase_bands(fig)
    _level_axis(fig)
    fig.update_layout(
        margin=dict(l=10, r=10, t=40 if title else 10, b=10), height=height,
        title=title, legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        hovermode="closest", plot_bgcolor="white",
    )
    if selectable:
        fig.update_layout(clickmode="event+select")
    if events.empty:
        fig.add_annotation(text="No level history yet", x=0.5, y=0.5, xref="paper", yref="paper",
                           showarrow=False, font=dict(size=14, color=NO_LEVEL_COLOUR))
        return fig
    as_of = as_of or datetime.now(UTC)
    events = events.reset_index(drop=True)
    at = pd.to_datetime(events["at"], utc=True)
    inherited = (events["inherited"].fillna(False).astype(bool) if "inherited" in events
                 else pd.Series(False, index=events.index))
    own = ~inherited
    if not own.any():  # nothing of its own (should not happen: a fork starts): draw the past as its own
        own, inherited = inherited, ~inherited
    has_reviews = "review_id" in events
    reviews = review_labels(events["review_id"]) if has_reviews else [""] * len(events)
    n = len(events)
    customdata = [list(row) for row in zip(
        _from_text(events["from_level"]),
        _note_lines(events["note"].fillna("")),
        [f"<br>{r}" if r else "" for r in reviews],
        _plain_ints(events["event_id"]) if "event_id" in events else [None] * n,
        _plain_ints(events["review_id"]) if has_reviews else [None] * n,
        [str(v) for v in events["source"]] if "source" in events else [""] * n,
    )]

    if inherited.any():
        past = events[inherited]
        fork_at = at[own].iloc[0]
        sources = list(dict.fromkeys(past["source"])) if "source" in past else []
        whose = ", ".join(sources) or "parent"
        fig.add_trace(go.Scatter(
            x=list(at[inherited]) + [fork_at], y=[int(v) for v in past["to_level"]] + [int(past["to_level"].iloc[-1])],
            mode="lines", line_shape="hv", line=dict(color=NO_LEVEL_COLOUR, width=2, dash="dash"),
            name=f"{whose}'s past (before the fork)", legendgroup="inherited", hoverinfo="skip",
        ))
        fig.add_trace(go.Scatter(
            x=list(at[inherited]), y=[int(v) for v in past["to_level"]], mode="markers",
            name=f"{whose}'s events", legendgroup="inherited", showlegend=False, opacity=0.45,
            marker=dict(symbol=[EVENT_STYLES.get(k, EVENT_STYLES["start"])[0] for k in past["kind"]], size=11,
                        color=[EVENT_STYLES.get(k, EVENT_STYLES["start"])[1] for k in past["kind"]],
                        line=dict(width=1, color="white")),
            customdata=[c for c, keep in zip(customdata, inherited) if keep],
            hovertemplate=[
                f"%{{customdata[5]}}'s past · %{{x|%Y-%m-%d}}<br>{EVENT_LABELS.get(k, k)}: %{{customdata[0]}} → %{{y}}"
                "%{customdata[1]}%{customdata[2]}<extra></extra>" for k in past["kind"]],
        ))
        fig.add_shape(type="line", xref="x", yref="paper", x0=fork_at, x1=fork_at, y0=0, y1=1,
                      line=dict(color="#4F4F4F", width=1, dash="dot"))
        fig.add_annotation(x=fork_at, xref="x", y=1, yref="paper", text=f"forked from {sources[-1] if sources else 'parent'}",
                           showarrow=False, xanchor="left", yanchor="top", xshift=4,
                           font=dict(size=11, color="#4F4F4F"), bgcolor="rgba(255,255,255,0.8)")

    mine = events[own]
    xs = list(at[own]) + [pd.Timestamp(as_of)]
    ys = [int(v) for v in mine["to_level"]] + [int(mine["to_level"].iloc[-1])]
    fig.add_trace(go.Scatter(
        x=xs, y=ys, mode="lines", line_shape="hv", line=dict(color="#4F4F4F", width=2),
        name="Level", hoverinfo="skip", showlegend=False,
    ))
    for kind, (symbol, colour) in EVENT_STYLES.items():
        mask = (own & (events["kind"] == kind)).to_numpy()
        if not mask.any():
            continue
        part = events[mask]
        reviewed = part["review_id"].notna().tolist() if has_reviews else [False] * len(part)
        fig.add_trace(go.Scatter(
            x=list(at[mask]), y=[int(v) for v in part["to_level"]], mode="markers", name=EVENT_LABELS[kind],
            marker=_event_marker(symbol, colour, reviewed, size=13),
            customdata=[c for c, keep in zip(customdata, mask) if keep],
            hovertemplate=(
                "%{x|%Y-%m-%d}<br>" + EVENT_LABELS[kind] + ": %{customdata[0]} → %{y}"
                "%{customdata[1]}%{customdata[2]}<extra></extra>"
            ),
        ))
    if has_reviews and events.loc[own, "review_id"].notna().any():  # explain the dark ring
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="Decided at a gated review",
                                 hoverinfo="skip", marker=dict(symbol="circle-open", size=13, color=REVIEWED_RING,
                                                               line=dict(width=2.5, color=REVIEWED_RING))))
    return fig


def levels_bar(frame: pd.DataFrame, *, height: int = 240) -> go.Figure:
    """How many technologies sit at each level, coloured by phase (plus 'no level yet')."""
    counts = frame["level"].value_counts(dropna=True)
    xs = [lv.number for lv in engine.LEVELS]
    ys = [int(counts.get(n, 0)) for n in xs]
    colours = [PHASE_COLOURS[lv.phase.value] for lv in engine.LEVELS]
    fig = go.Figure(go.Bar(
        x=[str(n) for n in xs], y=ys, marker_color=colours,
        customdata=[lv.name for lv in engine.LEVELS],
        hovertemplate="Level %{x} · %{customdata}<br>%{y} technologies<extra></extra>",
        text=ys, textposition="outside", cliponaxis=False,
    ))
    missing = int(frame["level"].isna().sum())
    if missing:
        fig.add_trace(go.Bar(x=["none"], y=[missing], marker_color=NO_LEVEL_COLOUR, text=[missing],
                             textposition="outside", hovertemplate="No level yet: %{y}<extra></extra>"))
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=10, b=10), showlegend=False, plot_bgcolor="white",
        xaxis_title="Level", yaxis_title="Technologies", bargap=0.25,
    )
    fig.update_xaxes(type="category")  # "none" sits beside 0-9 instead of being dropped as NaN
    return fig


def risk_matrix(counts: dict[tuple[int, int], int], *, height: int = 420, title: str = "",
                selected: tuple[int, int] | None = None) -> go.Figure:
    """The 5x5 risk matrix: p(failure) bands up, value bands across, each cell coloured by its
    grade (``mltrl.domain.risk.GRADES``) and showing how many items fall in it. An invisible marker per
    cell makes cells selectable (heatmaps emit no selections in Streamlit)."""
    from mltrl.domain import risk as rules

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
    end = pd.Timestamp(as_of or datetime.now(UTC))
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


# --- timelines: a system's tree, the portfolio's swimlanes ----------------------------------------

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
    end = pd.Timestamp(as_of or datetime.now(UTC))
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
    end = pd.Timestamp(as_of or datetime.now(UTC))
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
    days = ((stop - start).dt.total_seconds() / 86_400.0).round(0).astype(int)
    # The level is written in a bar wide enough for it: 2.5% of the time shown (about 20 px).
    span = max((end - start.min()).total_seconds() / 86_400.0, 1.0) if len(start) else 1.0
    labelled = (days >= 0.025 * span).to_numpy()
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
                                               [int(d) for d in days[mask]])],
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


# --- analytics ----------------------------------------------------------------------------------

ONGOING_COLOUR = "#9AA0A6"
MOVE_COLOURS = {k: EVENT_STYLES[k][1] for k in ("graduation", "discovery", "review", "embedded")}


def _box_stats(days: pd.Series) -> dict[str, float]:
    """Tukey's box for one level: quartiles and whiskers at the furthest stay within 1.5 IQR."""
    q1, median, q3 = (float(days.quantile(q)) for q in (0.25, 0.5, 0.75))
    reach = 1.5 * (q3 - q1)
    inside = days[(days >= q1 - reach) & (days <= q3 + reach)]
    return {"q1": q1, "median": median, "q3": q3, "lowerfence": float(inside.min()), "upperfence": float(inside.max())}


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
    fig.update_yaxes(title="Days at the level", gridcolor="#EEE", range=[0, top * 1.05 if top else 1])
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


# --- OKRs ---------------------------------------------------------------------------------------

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
