"""Tables as the pages show them: columns renamed for people, phases coloured."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mltrl import charts

from mltrl.domain import analytics
from mltrl.services.level_moves import event_kind_label

PAGE_SIZE = 200


def portfolio_display(frame: pd.DataFrame) -> pd.DataFrame:
    """The portfolio rows as a person reads them; components indented under their system."""
    indent = frame["depth"].map(lambda d: ("\u2003" * (d - 1) + "└ ") if d else "")
    return pd.DataFrame({
        "Technology": indent + frame["name"],
        "Code": "project?code=" + frame["code"],  # a link, shown as the code
        "Level": frame["level"],
        "System level": frame["system_level"],
        "Phase": frame["phase"].map(lambda p: p if isinstance(p, str) else "no level yet"),
        "Status": frame["status"],
        "Owners": frame["owners"].map(", ".join),
        "Days at level": analytics.days_between(frame["level_since"]).round(0),
        "Card": frame["card"].map(CARD_LABELS),
        "Reviews": frame["review_note"],
    })


CARD_LABELS = {"fresh": "up to date", "stale": "stale", "none": "no card"}


def style_phases(display: pd.DataFrame):
    """A Styler that tints the Phase column with the phase's colour."""
    styled = display.style.map(lambda p: f"background-color: {charts.phase_tint(p, 0.28)}", subset=["Phase"])
    if "Card" in display:
        styled = styled.map(lambda c: "color: #b45309; font-weight: 600" if c == "stale" else
                            ("color: #6b7280" if c == "no card" else ""), subset=["Card"])
    return styled


PORTFOLIO_COLUMNS = {
    "Technology": st.column_config.TextColumn(width="large"),
    "Code": st.column_config.LinkColumn(
        width="small", display_text=r"code=(.*)$", help="Open the project page."),
    "Status": st.column_config.TextColumn(width="small"),
    "Level": st.column_config.NumberColumn(format="%d", width="small", help="The technology's own current level."),
    "System level": st.column_config.NumberColumn(
        format="%d", help="The lowest level among the technology and all its components."),
    "Days at level": st.column_config.NumberColumn(format="%d d", help="Time since it reached its current level."),
    "Card": st.column_config.TextColumn(
        width="small", help="The TRL card: stale when not saved since the last level change or for too long."),
    "Reviews": st.column_config.TextColumn(
        help="An open review, a level 9 review overdue, and gates passed by an admin's override (or whose "
             "override expired), shown apart from gates that pass."),
}


def level_history_display(events: list) -> pd.DataFrame:
    """A technology's level events, newest first, as a person reads them."""
    newest_first = list(reversed(events))
    return pd.DataFrame({
        "Date": [e.at.date().isoformat() for e in newest_first],
        "From": ["—" if e.from_level is None else str(e.from_level) for e in newest_first],
        "To": [e.to_level for e in newest_first],
        "Kind": [event_kind_label(e) for e in newest_first],
        "Note": [e.note for e in newest_first],
        "Review": [f"review {e.review_id}" if e.review_id else "recorded without a review" for e in newest_first],
        "Recorded by": [e.recorded_by for e in newest_first],
    })


def level_events_frame(events: list) -> pd.DataFrame:
    """A technology's level events (oldest first) as the frame the charts draw."""
    return pd.DataFrame({
        "at": [e.at for e in events],
        "from_level": pd.array([e.from_level for e in events], dtype="Int64"),
        "to_level": [e.to_level for e in events],
        "kind": [event_kind_label(e) for e in events],
        "note": [e.note for e in events],
    })
