"""A technology's level over time (steps, markers by kind of move, a fork's inherited past) and the
portfolio's technologies per level. Pure: no streamlit, no database.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from mltrl.charts.common import (
    EVENT_LABELS,
    EVENT_STYLES,
    NO_LEVEL_COLOUR,
    PHASE_COLOURS,
    REVIEWED_RING,
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
    as_of = as_of or days.now()
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
