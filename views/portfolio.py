"""Portfolio: every technology with its level, system level, phase and owners."""

import streamlit as st

from mltrl import charts

from mltrl.domain import analytics
from mltrl.domain.levels import Phase
from mltrl.domain.permissions import Permission
from mltrl.ui import access, context, feedback, plots, tables

st.title("Portfolio")
st.caption("Every technology's readiness level. A system is only as ready as its least ready component.")
feedback.show_flash()

frame = context.portfolio_frame()
if frame.empty:
    st.info(
        "No technologies yet. Register the first one on the **Project** page, or load the demo "
        "portfolio from a terminal with `mltrl demo load`.",
        icon=":material/info:",
    )
    if access.can(Permission.EDIT):
        st.page_link("views/project.py", label="Add a technology", icon=":material/add:")
    st.stop()

summary = st.container()
with st.container(border=True):
    f1, f2, f3, f4 = st.columns([3, 2, 2, 2])
    # Typing is no choice for a projector: presentation mode offers the selectors only.
    text = "" if access.presenting() else f1.text_input("Search", key="pf_text", placeholder="code, name or summary")
    phases = f2.multiselect("Phase", [p.value for p in Phase] + ["no level"], key="pf_phase")
    statuses = f3.multiselect("Status", ["active", "paused", "retired"], key="pf_status")
    owners = f4.multiselect("Owner", analytics.all_owners(frame), key="pf_owner")

shown = analytics.filter_portfolio(frame, text=text, phases=phases, statuses=statuses, owners=owners)
matching = shown

counts = shown["phase"].value_counts()
with summary:  # drawn above the filters, counting what they let through
    cols = st.columns(5)
    cols[0].metric("Technologies", len(shown))
    for col, phase in zip(cols[1:], Phase):
        col.metric(f":{charts.PHASE_BADGES[phase.value]}[{phase.value.capitalize()}]",
                   int(counts.get(phase.value, 0)))
st.caption(f"Showing {len(shown)} of {len(frame)} technologies; components are indented under their system.")

if len(shown) > tables.PAGE_SIZE:
    pages = (len(shown) - 1) // tables.PAGE_SIZE + 1
    page = st.selectbox(f"Page (of {pages})", range(1, pages + 1), key="pf_page")
    shown = shown.iloc[(page - 1) * tables.PAGE_SIZE: page * tables.PAGE_SIZE]

event = tables.show(
    tables.style_phases(tables.portfolio_display(shown)),
    column_config=tables.PORTFOLIO_COLUMNS,
    key="pf_table",
    on_select="rerun",
    selection_mode="single-row",
)
selected = event["selection"]["rows"] if event else []
if selected:
    st.switch_page("views/project.py", query_params={"code": shown.iloc[selected[0]]["code"]})

names = dict(zip(frame["code"], frame["name"]))
o1, o2 = st.columns([3, 1], vertical_alignment="bottom")
choice = o1.selectbox(
    "Open a technology", shown["code"].tolist(), key="pf_open",
    format_func=lambda code: f"{code} · {names[code]}",
)
if choice is not None:  # a link, not a button: navigation, also in presentation mode
    o2.page_link("views/project.py", label=f"Open {choice}", icon=":material/open_in_new:",
                 query_params={"code": choice})

st.subheader("Technologies by level")
plots.chart(charts.levels_bar(matching, height=access.chart_height(240)) if len(matching) else None,
            key="pf_levels_chart", empty="No technology matches the filters, so there is nothing to count.",
            icon=":material/filter_alt_off:")
