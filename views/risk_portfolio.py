"""Risk portfolio: the 5x5 matrix across every technology, the highest risks, the reviews that are
overdue and the technologies whose open risk grew since their last level change."""

import pandas as pd
import streamlit as st

from mltrl.domain import days, levels
from mltrl.domain import risk as rules
from mltrl.services import policy as org_policy
from mltrl.services import risks as registers
from mltrl.ui import context, feedback, tables
from mltrl.ui import matrix as risk_matrix

st.title("Risk portfolio")
feedback.show_flash()
st.caption("Every technology's registers at once. Risks count while they are not closed; risk = p(failure) x value.")

f1, f2, f3 = st.columns(3)
phases = f1.multiselect("Phase", [p.value for p in levels.Phase], key="rp_phase", placeholder="every phase")
chosen_levels = f2.multiselect("Level", list(range(10)), key="rp_level", placeholder="every level",
                               help="Technologies at these levels (with the phases chosen)")
categories = f3.multiselect("Category", [c.value for c in rules.Category], key="rp_category",
                            placeholder="every category", help="Risk categories (requirements have none)")
project_levels = registers.levels_of(phases, chosen_levels)
filters = {"project_levels": project_levels, "categories": categories or None}

# What the risk is and how serious, then the flags (overdue, when due), then the rest: the flags
# stay in view without scrolling sideways at 1440 px beside the sidebar.
RISK_COLUMNS = {
    "code": st.column_config.LinkColumn("Technology", display_text=r"code=([^&]+)", width=86),
    "title": st.column_config.TextColumn("Risk", width=280),
    "risk": st.column_config.NumberColumn("Score", format="%.2f", width=62, help="p(failure) x value"),
    "grade": st.column_config.TextColumn("Grade", width=84, help="The grade of the risk's matrix cell"),
    "overdue": st.column_config.CheckboxColumn("Overdue", width=74, help="Its review is overdue"),
    "next_review": st.column_config.DateColumn("Review due", width=100),
    "last_reviewed": st.column_config.DateColumn("Last review", width=100),
    "status": st.column_config.TextColumn("Status", width=90),
    "category": st.column_config.TextColumn("Category", width=130),
    "owner": st.column_config.TextColumn("Owner", width=130),
}


def risk_table(rows: list[dict], key: str) -> None:
    """Risks listed with a link to their technology's registers."""
    table = pd.DataFrame(rows)
    table["code"] = "/risks?code=" + table["code"] + "&tab=Risks"
    tables.show(table[list(RISK_COLUMNS)], column_config=RISK_COLUMNS, key=key,
                 height=min(36 * len(table) + 40, 640))


read = context.cached_read
now = days.now().replace(second=0, microsecond=0)  # review states are cached per minute
policy = read(org_policy.current_policy)
matrix_tab, top_tab, overdue_tab, growth_tab = st.tabs(
    ["Matrix", "Highest risks", "Overdue reviews", "Grown since level change"], key="rp_tab", on_change="rerun")

if matrix_tab.open:
    with matrix_tab:
        what = st.segmented_control("Count", ["Risks", "Requirements", "Both"], default="Risks",
                                    key="rp_what") or "Risks"
        counts: dict[tuple[int, int], int] = {}
        if what in ("Risks", "Both"):
            counts = read(registers.matrix_counts, **filters)
        if what in ("Requirements", "Both"):
            for cell, n in read(registers.matrix_counts, requirements_matrix=True,
                                project_levels=project_levels).items():
                counts[cell] = counts.get(cell, 0) + n

        def listing(pb: int, vb: int) -> list[dict]:
            listed = []
            if what in ("Risks", "Both"):
                listed += [dict(r, kind="risk") for r in read(registers.cell_items, pb, vb, **filters)]
            if what in ("Requirements", "Both"):
                listed += [dict(r, kind="requirement") for r in read(
                    registers.cell_items, pb, vb, requirements_matrix=True, project_levels=project_levels)]
            return listed

        risk_matrix.matrix(key="rp_matrix", counts=counts, what=what, policy_days=policy.risk_review_days,
                           listing=listing, with_code=True, height=440,
                           empty="Nothing to count: no " + {"Risks": "open risk", "Requirements": "requirement",
                                                             "Both": "open risk or requirement"}[what]
                                 + " matches these filters.")

if top_tab.open:
    with top_tab:
        top = read(registers.top_risks, policy, limit=25, now=now, **filters)
        if top:
            risk_table(top, "rp_top")
            st.caption(f"The {len(top)} highest risks (p(failure) x value) that are not closed, across "
                       "technologies. Grade is the grade of the risk's matrix cell.")
        else:
            st.info("No open risks match these filters.", icon=":material/check_circle:")

if overdue_tab.open:
    with overdue_tab:
        total, late = read(registers.overdue_risks, policy, now=now, limit=200, **filters)
        st.metric("Risks overdue for review", total)
        if late:
            risk_table(late, "rp_overdue")
            st.caption("Most serious cell first, then the oldest review"
                       + (f"; the first {len(late)} of {total}." if total > len(late) else ".")
                       + " A risk is due its grade's cadence after its last review, or when its acceptance "
                         "runs out. An admin sets the cadences (Admin › Settings).")
        else:
            st.info("No risk is overdue for review.", icon=":material/check_circle:")

if growth_tab.open:
    with growth_tab:
        grown = read(registers.risk_growth, **filters)
        if grown:
            table = pd.DataFrame(grown)
            table["code"] = "/risks?code=" + table["code"]
            tables.show(table[["code", "technology", "level", "level_since", "risk_then", "risk_now", "growth"]],
                         column_config={
                             "code": st.column_config.LinkColumn("Technology", display_text=r"code=([^&]+)"),
                             "technology": "Name", "level": "Level",
                             "level_since": st.column_config.DateColumn("Level since"),
                             "risk_then": st.column_config.NumberColumn("Open risk then", format="%.2f"),
                             "risk_now": st.column_config.NumberColumn("Open risk now", format="%.2f"),
                             "growth": st.column_config.NumberColumn("Growth", format="+%.2f"),
                         }, key="rp_growth")
            st.caption("Open risk (the sum of p x value over risks not closed) now, against the same sum "
                       "when the technology's level last changed, read from each risk's history.")
        else:
            st.info("No technology's open risk grew since its last level change.", icon=":material/check_circle:")
