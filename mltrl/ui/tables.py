"""Tables as the pages show them: columns renamed for people, phases coloured."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from mltrl import charts

from mltrl.domain import analytics
from mltrl.services.level_moves import event_kind_label
from mltrl.ui import access

PAGE_SIZE = 200
DASH = "—"  # what a table shows for a missing value (never "None", "nan" or "NaT")


def in_words(column: object) -> str:
    """A column's name as a header: ``days_in_level`` -> ``Days in level``."""
    text = " ".join(str(column).replace("_", " ").split())
    return text[:1].upper() + text[1:]


def whole_days(values: pd.Series) -> pd.Series:
    """Day counts in whole days, a half rounded up as a person would (pandas rounds 12.5 to 12);
    a missing one stays missing, and the table shows a dash."""
    return np.floor(pd.to_numeric(values, errors="coerce").astype("float64") + 0.5).astype("Int64")


def labelled(columns, column_config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``column_config`` with every column given a header in words: a column the config does not
    name (or names without a label) is labelled ``in_words(column)``; a label given is kept."""
    config: dict[str, Any] = dict(column_config or {})
    for column in columns:
        name = str(column)
        given = config.get(name, "unset")
        if given is None:  # hidden on purpose
            continue
        if given == "unset":
            config[name] = in_words(name)
        elif isinstance(given, str):
            config[name] = given[:1].upper() + given[1:]
        elif isinstance(given, dict):
            label = given.get("label")
            config[name] = {**given, "label": in_words(name) if not label else label[:1].upper() + label[1:]}
    return config


def show(frame: pd.DataFrame | Any, *, key: str, column_config: Mapping[str, Any] | None = None,
         days: tuple[str, ...] = (), **kwargs: Any) -> Any:
    """``st.dataframe`` as every page table should be: headers in words (``labelled``), a dash for
    a missing value (never "None"), the columns named in ``days`` in whole days, no index, the
    page's width, and widths given in pixels grown with presentation mode's type. ``frame`` may be
    a Styler. Other keyword arguments go to ``st.dataframe``."""
    if not isinstance(frame, pd.DataFrame) and not hasattr(frame, "data"):
        frame = pd.DataFrame(frame)  # records
    data = getattr(frame, "data", frame)  # a Styler's frame
    if days:
        frame = frame.copy()
        for column in days:
            frame[column] = whole_days(frame[column])
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    config = labelled(data.columns, column_config)
    scale = width_scale()
    if scale != 1:  # widths in pixels hold the same text at presentation mode's larger type
        config = {name: {**c, "width": round(c["width"] * scale)}
                  if isinstance(c, dict) and isinstance(c.get("width"), int) else c for name, c in config.items()}
    return st.dataframe(frame, key=key, column_config=config, placeholder=DASH, **kwargs)


def portfolio_display(frame: pd.DataFrame) -> pd.DataFrame:
    """The portfolio rows as a person reads them; components indented under their system. What
    the technology is and how ready, then the flags (days at the level, the card, the reviews),
    then the phase, status and owners: the flags stay in view without scrolling sideways."""
    indent = frame["depth"].map(lambda d: ("\u2003" * (d - 1) + "└ ") if d else "")
    return pd.DataFrame({
        "Code": "project?code=" + frame["code"],  # a link, shown as the code
        "Technology": indent + frame["name"],
        "Level": frame["level"],
        "System level": frame["system_level"],
        # Whole days elapsed, as the Project page and the card's staleness count them.
        "Days at level": whole_days(np.floor(analytics.days_between(frame["level_since"]))),
        "Card": frame["card"].map(CARD_LABELS),
        "Reviews": frame["review_note"].map(lambda n: n or "—"),
        "Phase": frame["phase"].map(lambda p: p if isinstance(p, str) else "no level yet"),
        "Status": frame["status"],
        "Owners": frame["owners"].map(lambda names: ", ".join(names) or "—"),
    })


CARD_LABELS = {"fresh": "up to date", "stale": "stale", "none": "no card"}


def style_phases(display: pd.DataFrame):
    """A Styler that tints the Phase column and the levels with the phase's colour, and shows a
    missing value as a dash."""
    styled = display.style.map(lambda p: f"background-color: {charts.phase_tint(p, 0.28)}", subset=["Phase"])
    if "Level" in display:
        phases = display["Phase"].where(display["Phase"] != "no level yet")
        styled = styled.apply(lambda _: [f"background-color: {charts.phase_tint(p, 0.16)}" if isinstance(p, str)
                                         else "" for p in phases], subset=["Level"])
    if "Card" in display:
        styled = styled.map(lambda c: "color: #b45309; font-weight: 600" if c == "stale" else
                            ("color: #6b7280" if c == "no card" else ""), subset=["Card"])
    if "Reviews" in display:
        styled = styled.map(lambda r: "color: #b91c1c" if "overdue" in r or "expired" in r else "", subset=["Reviews"])
    return styled.format(na_rep=DASH)


def portfolio_columns() -> dict:
    """The portfolio table's columns, in pixels that fit its flag columns in a 1440-pixel-wide
    window beside the sidebar (``show`` grows them for presentation mode, whose sidebar is folded)."""
    return {
        "Code": st.column_config.LinkColumn(width=68, display_text=r"code=(.*)$", help="Open the project page."),
        "Technology": st.column_config.TextColumn(width=272),
        "Level": st.column_config.NumberColumn(
            format="%d", width=52,
            help="The technology's own current level, tinted with its phase's colour."),
        "System level": st.column_config.NumberColumn(
            "System", format="%d", width=68,
            help="System level: the lowest level among the technology and all its components."),
        "Days at level": st.column_config.NumberColumn(
            format="%d d", width=98, help="Whole days since it reached its current level."),
        "Card": st.column_config.TextColumn(
            width=84, help="The TRL card: stale when not saved since the last level change or for too long."),
        "Reviews": st.column_config.TextColumn(
            width=190,
            help="An open review, a level 9 review overdue, and gates passed by an admin's override (or whose "
                 "override expired), shown apart from gates that pass."),
        "Phase": st.column_config.TextColumn(width=110),
        "Status": st.column_config.TextColumn(width=66),
        "Owners": st.column_config.TextColumn(width=200),
    }


PORTFOLIO_COLUMNS = portfolio_columns()


def width_scale() -> float:
    """How much wider a column in pixels must be for the same text: presentation mode sets the
    page's type at 19 px instead of 16 (``access.PRESENTATION_CSS``)."""
    return 19 / 16 if access.presenting() else 1.0


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
