"""Timelines: a technology's level over time (with its reviews and a fork's inherited past), a
system's technologies under the system level, and the portfolio's swimlanes."""


import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from mltrl import charts

from mltrl.domain import analytics, days, levels
from mltrl.domain.levels import Phase
from mltrl.services import timelines
from mltrl.ui import access, context, current, feedback, plots, tables

TABS = ("Technology", "System", "Portfolio")
LANES_PER_PAGE = 60
SORT_LABELS = {"level": "Level", "phase": "Phase", "switchbacks": "Switchbacks", "code": "Code"}
SORT_HELP = ("Level: highest first. Phase: research to deployment, the longest in its phase first. "
             "Switchbacks: most first. Code: the portfolio's order (components after their system). "
             "Technologies with no level yet always come last.")
REVIEWS_PAGE = "views/reviews.py"

st.title("Timelines")
st.caption("How technologies really moved between levels: graduations, switchbacks by kind, the reviews "
           "that decided them, and where a system is held back.")
feedback.show_flash()

known = context.technologies()
codes, names = known.codes, known.names
if not codes:
    st.info("No technologies yet: add one on the **Project** page, or load the demo portfolio with "
            "`mltrl demo load`.", icon=":material/info:")
    st.stop()
now = days.now()


def counted(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def review_link(review_id: int, *, label: str | None = None) -> None:
    """A link to the review on the Reviews page (a plain link while that page is not registered)."""
    label = label or f"Open review #{review_id}"
    try:
        st.page_link(REVIEWS_PAGE, label=label, icon=":material/gavel:", query_params={"review": str(review_id)})
    except StreamlitAPIException:
        st.markdown(f":material/gavel: [{label}](reviews?review={review_id})")


def open_technology(code: str) -> None:
    """Callback: show ``code`` on the Technology tab."""
    st.session_state["tl_tab"] = "Technology"
    current.choose(code)  # the current technology everywhere, and in the URL


def selected_points(key: str) -> list[dict]:
    state = st.session_state.get(key)
    if not state:
        return []
    return list((state.get("selection") or {}).get("points") or [])


def event_details(row: pd.Series, *, code: str, in_system: bool = False) -> None:
    """One level event: what happened, why, who recorded it, and the review that decided it (in a
    system, whose event it is and a way to that technology's own timeline)."""
    kind = charts.EVENT_LABELS.get(row["kind"], row["kind"])
    came_from = "—" if pd.isna(row["from_level"]) else int(row["from_level"])
    with st.container(border=True):
        st.markdown(f"**{f'{code} · ' if in_system else ''}{row['at']:%Y-%m-%d} · {kind}: {came_from} → "
                    f"{int(row['to_level'])}** ({levels.level(int(row['to_level'])).name})")
        source = row.get("source", code)
        if bool(row.get("inherited", False)):
            st.caption(f"From {source}'s history, before {code} was forked from it.")
        if row["note"]:
            st.write(row["note"])
        facts = [f"Recorded by {row['recorded_by']}"] if row.get("recorded_by") else []
        if pd.isna(row["review_id"]):
            facts.append("recorded without a review")
        st.caption(" · ".join(facts))
        if not pd.isna(row["review_id"]):
            review_link(int(row["review_id"]), label=f"Open review #{int(row['review_id'])}, which decided this move")
        if in_system or (source and source != code):
            st.button(f"Open {source}'s timeline", key="tl_open_source", icon=":material/timeline:",
                      on_click=open_technology, args=(source,))


def picked_event(key: str, events: pd.DataFrame) -> pd.Series | None:
    """The level event behind the chart's selected marker (its id is ``customdata[3]``)."""
    for point in selected_points(key):
        data = point.get("customdata") or []
        if len(data) > 3 and data[3] is not None:
            match = events[events["event_id"] == int(data[3])]
            if not match.empty:
                return match.iloc[0]
    return None


def history_table(events: pd.DataFrame, *, code: str) -> None:
    newest = events.iloc[::-1]
    table = pd.DataFrame({
        "Date": [f"{t:%Y-%m-%d}" for t in newest["at"]],
        "Whose": [code if not inherited else f"{source} (before the fork)"
                  for inherited, source in zip(newest["inherited"], newest["source"])],
        "Move": [f"{'—' if pd.isna(a) else int(a)} → {int(b)}" for a, b in zip(newest["from_level"], newest["to_level"])],
        "Kind": [charts.EVENT_LABELS.get(k, k) for k in newest["kind"]],
        "Review": [None if pd.isna(r) else f"reviews?review={int(r)}" for r in newest["review_id"]],
        "Note": list(newest["note"]),
        "Recorded by": list(newest["recorded_by"]),
    })
    if not newest["inherited"].any():
        table = table.drop(columns="Whose")
    tables.show(table, key="tl_history", column_config={
        "Review": st.column_config.LinkColumn("Review #", display_text=r"review=(\d+)$", width="small",
                                              help="The gated review that decided the move; a dash: recorded "
                                                   "without a review."),
        "Move": st.column_config.TextColumn(width="small"),
        "Note": st.column_config.TextColumn(width="large"),
    })


asked_tab = (st.query_params.get("tab") or "").capitalize()
tech_tab, system_tab, portfolio_tab = st.tabs(list(TABS), key="tl_tab", on_change="rerun",
                                              default=asked_tab if asked_tab in TABS else None)

# --- one technology -----------------------------------------------------------------------------
if tech_tab.open:
    with tech_tab:
        code = current.technology_picker(codes, names, key="tl_code")
        timeline = context.cached_read(timelines.technology_timeline, code)
        events = timeline.events
        if timeline.forked_from:
            st.info(f"{code} was forked from **{timeline.forked_from}** on {timeline.forked_at:%Y-%m-%d}: "
                    f"the dashed line is {timeline.forked_from}'s history before the fork, which {code} "
                    "shares as its past.", icon=":material/call_split:")
        chosen = picked_event("tl_chart", events)  # read before the chart is drawn (as ui.matrix does)
        fig = (charts.level_step_chart(events, as_of=now, height=access.chart_height(420), selectable=True)
               if not events.empty else None)
        plots.chart(fig, key="tl_chart", on_select="rerun", selection_mode="points",
                    empty=f"{code} has no level history yet: record its start on the Project page.",
                    icon=":material/timeline:")
        if chosen is not None:
            event_details(chosen, code=code)
        elif not events.empty:
            st.caption("Click a marker for the event's details and the review that decided it.")
        if not events.empty:
            mine = events[~events["inherited"]]
            switchbacks = mine["kind"].isin(timelines.SWITCHBACK_KINDS)
            reviewed = int(mine["review_id"].notna().sum())
            kinds = mine[switchbacks]["kind"].value_counts()
            st.markdown(
                f"**{counted(len(mine), 'level event')}**: "
                f"{counted(int((mine['kind'] == 'graduation').sum()), 'graduation')}, "
                f"{counted(int(switchbacks.sum()), 'switchback')}"
                + (f" ({', '.join(f'{n} {k}' for k, n in kinds.items())})" if switchbacks.any() else "")
                + f"; {reviewed} decided at a gated review, {len(mine) - reviewed} recorded without one.")
            history_table(events, code=code)

# --- a system -----------------------------------------------------------------------------------
if system_tab.open:
    with system_tab:
        frame = context.portfolio_frame()
        parent_of = dict(zip(frame["code"], frame["parent"]))
        components = frame["parent"].value_counts()

        def root_of(code: str | None) -> str | None:
            seen = set()
            while code is not None and isinstance(parent_of.get(code), str) and code not in seen:
                seen.add(code)
                code = parent_of[code]
            return code

        def has_components(code: str) -> bool:
            return int(components.get(code, 0)) > 0

        wanted = root_of(st.query_params.get("system") or st.query_params.get("code"))
        if wanted not in codes:
            wanted = next((c for c in codes if has_components(c)), codes[0])
        system = st.selectbox(
            "System", codes, index=codes.index(wanted), key="tl_system",
            format_func=lambda c: f"{c} · {names.get(c, '')}"
            + (f" ({int(components[c])} components)" if has_components(c) else ""),
            help="A system's level is the lowest level among it and all its components, at every moment.")
        data = context.cached_read(timelines.system_timeline, system)
        point = next((p for p in selected_points("tl_system_chart")
                      if len(p.get("customdata") or []) > 5 and p["customdata"][3] is not None), None)
        fig = (charts.system_timeline_chart(data.members, data.events, data.levels, as_of=now,
                                            height=access.chart_height(480)) if not data.levels.empty else None)
        plots.chart(fig, key="tl_system_chart", on_select="rerun", selection_mode="points",
                    empty=f"Nothing in {system} has a level yet, so there is no timeline to draw.",
                    icon=":material/info:")
        if not data.levels.empty:
            last = data.levels.iloc[-1]
            st.markdown(f"System level now: **{int(last['level'])}** "
                        f"({levels.level(int(last['level'])).name}), held down by **{last['held_by']}**.")
            if data.events["code"].nunique() > 1:
                st.caption("Each technology's line is drawn a little apart from the others so equal levels stay "
                           "visible (hover for the exact level); the thick band is the system level, the minimum "
                           "over the tree at each moment. Click a switchback for its details.")
        if len(data.members) == 1:
            st.caption(f"{system} has no components: its system level is its own level.")
        if point is not None:
            match = data.events[data.events["event_id"] == int(point["customdata"][3])]
            if not match.empty:
                event_details(match.iloc[0], code=str(match.iloc[0]["code"]), in_system=True)
        now_levels = frame.set_index("code")["level"]
        switchback_counts = data.events[data.events["kind"].isin(timelines.SWITCHBACK_KINDS)]["code"].value_counts()
        tables.show(pd.DataFrame({
            "Technology": [("\u2003" * max(d - 1, 0) + ("└ " if d else "")) + n
                           for d, n in zip(data.members["depth"], data.members["name"])],
            "Code": [f"timelines?code={c}" for c in data.members["code"]],
            "Level": [now_levels.get(c) for c in data.members["code"]],
            "Switchbacks": [int(switchback_counts.get(c, 0)) for c in data.members["code"]],
        }), key="tl_members", column_config={
            "Code": st.column_config.LinkColumn(display_text=r"code=(.*)$", help="Open its own timeline."),
            "Level": st.column_config.NumberColumn(format="%d"),
        })

# --- the portfolio ------------------------------------------------------------------------------
if portfolio_tab.open:
    with portfolio_tab:
        # Rounded to the hour so the cached read is shared between reruns (it only moves days_in_phase).
        frame = context.cached_read(timelines.lane_frame, as_of=now.replace(minute=0, second=0, microsecond=0))
        with st.container(border=True):
            f1, f2, f3, f4 = st.columns([3, 2, 2, 2])
            text = access.unless_presenting("", lambda: f1.text_input("Search", key="tl_text",
                                                                      placeholder="code, name or summary"))
            phases = f2.multiselect("Phase", [p.value for p in Phase] + ["no level"], key="tl_phase")
            statuses = f3.multiselect("Status", ["active", "paused", "retired"], key="tl_status")
            owners = f4.multiselect("Owner", analytics.all_owners(frame), key="tl_owner")
            s1, s2, s3 = st.columns([3, 2, 2], vertical_alignment="bottom")
            by = s1.segmented_control("Sort by", list(SORT_LABELS), default="level", key="tl_sort",
                                      format_func=SORT_LABELS.get, help=SORT_HELP) or "level"
            reverse = access.unless_presenting(False, lambda: s2.toggle("Reverse order", key="tl_reverse"))
            components_too = access.unless_presenting(True, lambda: s3.toggle("Include components", value=True,
                                                                              key="tl_components"))
        shown = analytics.filter_portfolio(frame, text=text, phases=phases, statuses=statuses, owners=owners)
        if not components_too:
            shown = shown[shown["depth"] == 0]
        lanes = timelines.order_lanes(shown, by, reverse=reverse)
        total = len(lanes)
        if total > LANES_PER_PAGE:
            pages = (total - 1) // LANES_PER_PAGE + 1
            if st.session_state.get("tl_page", 1) > pages:  # the filters left fewer pages than before
                st.session_state["tl_page"] = pages
            page = st.selectbox(f"Page (of {pages}, {LANES_PER_PAGE} lanes each)", range(1, pages + 1), key="tl_page")
            lanes = lanes.iloc[(page - 1) * LANES_PER_PAGE: page * LANES_PER_PAGE]
            first = (page - 1) * LANES_PER_PAGE + 1
            st.caption(f"Lanes {first}-{first + len(lanes) - 1} of {total} technologies matching the filters "
                       f"({len(frame)} in the portfolio).")
        else:
            st.caption(f"{total} of {len(frame)} technologies. Bars are the level held over each interval, "
                       "coloured by its phase; markers are switchbacks by kind.")
        if lanes.empty:
            st.info("No technology matches the filters.", icon=":material/filter_alt_off:")
        else:
            mine = context.cached_read(timelines.lane_events, tuple(sorted(lanes["id"])))
            segments = timelines.lane_segments(mine, as_of=now)
            marks = mine[mine["kind"].isin(timelines.SWITCHBACK_KINDS)]
            point = next((p for p in selected_points("tl_lanes") if p.get("customdata")), None)
            fig = charts.swimlanes_chart(lanes, segments, marks, as_of=now, lane_height=access.chart_height(26))
            plots.chart(fig, key="tl_lanes", on_select="rerun", selection_mode="points")
            chosen = None if point is None else str(point["customdata"][0])
            if chosen in set(lanes["code"]):
                row = lanes[lanes["code"] == chosen].iloc[0]
                with st.container(border=True):
                    level_text = ("no level yet" if pd.isna(row["level"])
                                  else f"level {int(row['level'])} ({levels.level(int(row['level'])).name})")
                    st.markdown(f"**{chosen} · {row['name']}**: {level_text}, "
                                f"{counted(int(row['switchbacks']), 'switchback')}.")
                    st.button(f"Open {chosen}'s timeline", key="tl_open_lane", icon=":material/timeline:",
                              on_click=open_technology, args=(chosen,))
            else:
                st.caption("Click a bar or a switchback to open that technology's timeline. Drag across the chart "
                           "to zoom into a period; double-click to zoom out.")
