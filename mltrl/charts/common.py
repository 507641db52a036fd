"""The colours of the charts, defined once and used everywhere (tables and badges take theirs from
here too): one colour per phase, one marker per kind of level change; and the pieces the figures
share (the level axis, the phase bands, hover lines of events). Pure: no streamlit, no database.
"""

from __future__ import annotations

import html

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
