"""The selectable 5x5 risk matrix with the listing of the selected cell (one technology's page and
the portfolio's page draw it the same way)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from mltrl import charts
from mltrl.domain import risk as rules
from mltrl.ui import access, plots, tables

LISTING_COLUMNS = {
    "code": "Technology", "kind": "Kind", "item": "Item",
    "p_failure": st.column_config.NumberColumn("p(failure)", format="%.2f"),
    "value": st.column_config.NumberColumn("Value", format="%d"),
    "risk": st.column_config.NumberColumn("Risk", format="%.2f"),
    "status": st.column_config.TextColumn("Status", help="A risk's status, or a requirement's verification status"),
}


def selected_cell(key: str) -> tuple[int, int] | None:
    """The (p band, value band) of the cell selected in the matrix chart ``key``, if any."""
    state = st.session_state.get(key) or {}
    points = (state.get("selection") or {}).get("points") or []
    cells = [(int(p["y"]), int(p["x"])) for p in points if "x" in p and "y" in p]
    return cells[0] if cells else None


def matrix(*, key: str, counts: dict[tuple[int, int], int], what: str, policy_days: dict[str, int],
           listing: Callable[[int, int], list[dict]], with_code: bool, height: int = 420,
           empty: str | None = None) -> None:
    """Draw the matrix of ``counts`` (of ``what``: risks, requirements or both), its legend in
    words, and the items of the selected cell (``listing(p_band, value_band)``); with nothing
    counted, the sentence ``empty`` (why) instead of an empty matrix, when one is given."""
    if empty and not sum(counts.values()):
        st.info(empty, icon=":material/grid_on:")
        return
    cell = selected_cell(key)
    plots.chart(charts.risk_matrix(counts, height=access.chart_height(height), selected=cell), key=key,
                on_select="rerun", selection_mode="points")
    counted = {"Risks": "risks that are not closed", "Requirements": "requirements",
               "Both": "risks that are not closed and requirements"}[what]
    st.caption(f"**{sum(counts.values())}** item(s): {counted}; risk = p(failure) x value. A cell's colour is its "
               "grade by cell score (p band x value band); reviews are due every "
               + ", ".join(f"{policy_days[g.name]} days ({g.name})" for g in rules.GRADES)
               + ". Select a cell to list what is in it.")
    if cell is None:
        return
    pb, vb = cell
    listed = listing(pb, vb)
    st.markdown(f"**Cell p(failure) {rules.P_BAND_LABELS[pb - 1]}, value {rules.VALUE_BAND_LABELS[vb - 1]}**: "
                f"{len(listed)} item(s)" + (" (the first 500 of each kind)" if len(listed) >= 500 else ""))
    if listed:
        columns = [c for c in LISTING_COLUMNS if with_code or c != "code"]
        tables.show(pd.DataFrame(listed)[columns], column_config=LISTING_COLUMNS, key=f"{key}_items")
