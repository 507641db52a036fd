"""Analytics: time per level, moves and switchbacks, paths and cycles, bottlenecks, the portfolio by
owner or system, and the portfolio as it stood on any date. Everything is computed from the level
history (``mltrl.domain.analytics``, pure and vectorised) over an event table cached on the data version."""

from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from mltrl import charts

from mltrl.domain import analytics, days, levels
from mltrl.domain.levels import Phase
from mltrl.services import analytics as reads
from mltrl.ui import access, context, feedback, plots, tables

TABS = ("Time per level", "Moves", "Paths & cycles", "Bottlenecks", "Heat map", "On a date")
DEFINITIONS = """
- **A stay** at a level runs from the event that entered the level to the technology's next event.
  The last stay is **ongoing**: it runs to the *To* date, and events after that date are ignored, so
  a report for a past date comes out the same every time.
- **Time in level L** for a technology is the sum of its stays at L. Completed and ongoing stays are
  kept apart everywhere: a stay still under way is not a duration yet.
- A **path** is the sequence of levels a technology held (in the period: from the level it held when
  the period began); a **cycle** is a return to a level already held, e.g. 4 → 2 → 3 → 4.
- A **bottleneck** is a level whose median completed stay is at least twice the median of the other
  levels' medians; an active technology is **stalled** when its ongoing stay (however long ago it
  began) is longer than three quarters of the completed stays at that level (levels with fewer than 3
  completed stays are not judged, nor level 9, where a deployed technology is meant to stay).
- *From* keeps the stays and moves that began on or after it; *To* is the as-of date.
- Moves recorded without a review count like any other. Technologies with no level are shown as such
  and never counted as progress.
"""

st.title("Analytics")
st.caption("Where time goes between levels, how technologies move, and where they get stuck.")
feedback.show_flash()

events = context.cached_read(reads.event_table)
techs = context.cached_read(reads.technologies)
if techs.empty:
    st.info("No technologies yet: add one on the **Project** page, or load the demo portfolio with "
            "`mltrl demo load`.", icon=":material/info:")
    st.stop()
today = days.today()
first_day = events["at"].min().date() if len(events) else today

with st.container(border=True):
    c1, c2, c3, c4, c5 = st.columns([2, 2, 2, 3, 2])
    since = access.unless_presenting(first_day, lambda: c1.date_input(
        "From", value=first_day, key="an_from", format="YYYY-MM-DD",
        help="Moves and stays that began on or after this date"))
    until = access.unless_presenting(today, lambda: c2.date_input(
        "To", value=today, key="an_to", format="YYYY-MM-DD",
        help="The as-of date: later events are ignored; ongoing stays run to the end of it"))
    if access.presenting():
        c1.markdown(f"**From** {since:%Y-%m-%d}")
        c2.markdown(f"**To** {until:%Y-%m-%d}")
    phases = c3.multiselect("Phase", [p.value for p in Phase] + ["no level"], key="an_phase",
                            placeholder="every phase", help="The technologies' current phase")
    owners = c4.multiselect("Owner", analytics.all_owners(techs), key="an_owner", placeholder="every owner")
    statuses = c5.multiselect("Status", ["active", "paused", "retired"], key="an_status", placeholder="every status")
    with st.expander("Definitions"):
        st.markdown(DEFINITIONS)

if since is None or until is None:
    st.error("From and To: choose both dates (YYYY-MM-DD).", icon=":material/event_busy:")
    st.stop()
if since > until:
    st.error(f"From ({since:%Y-%m-%d}) is after To ({until:%Y-%m-%d}): choose a From date on or before To.",
             icon=":material/event_busy:")
    st.stop()


def before(frame: pd.DataFrame, moment: datetime) -> pd.DataFrame:
    return frame.loc[frame["at"] < pd.Timestamp(moment)]


as_of = min(days.day_end(until), days.now())  # ongoing stays run to the end of To, or to now if To is today
start = days.day_start(since)
chosen = analytics.filter_portfolio(techs, phases=phases, statuses=statuses, owners=owners)
code_of = dict(zip(techs["project_id"], techs["code"]))
mine = before(events.loc[events["project_id"].isin(set(chosen["project_id"]))], as_of)
every_stay = analytics.level_intervals(mine, as_of=as_of)  # from each history's start, as of To
intervals = every_stay.loc[every_stay["start"] >= pd.Timestamp(start)].reset_index(drop=True)
moved = analytics.moves(mine, since=start, as_of=as_of)
stats = analytics.level_time_stats(intervals)
st.caption(f"{len(chosen)} of {len(techs)} technologies · {len(intervals):,} stays "
           f"({int(intervals['ongoing'].sum()):,} ongoing) · {len(moved):,} moves from {since:%Y-%m-%d} to "
           f"{until:%Y-%m-%d}.")


def with_codes(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the technology's code in front of its ``project_id``."""
    out = frame.copy()
    out.insert(0, "code", out.pop("project_id").map(code_of))
    return out


def table(frame: pd.DataFrame, name: str, key: str, *, days: tuple[str, ...] = (), **kwargs) -> None:
    """A table (headers in words, the columns named in ``days`` in whole days) and its CSV download
    (named after the table and the as-of date; days to 3 decimals, for those who compute on); no
    download in presentation mode."""
    tables.show(frame, key=key, days=days, **kwargs)
    if access.presenting():
        return
    st.download_button(f"Download {name} (CSV)", frame.round(3).to_csv(index=False).encode(), mime="text/csv",
                       file_name=f"{name.replace(' ', '_')}_{until:%Y-%m-%d}.csv", key=f"{key}_csv",
                       icon=":material/download:")


def days_column(label: str, help: str | None = None) -> dict:
    """A column of day counts (the table rounds them to whole days)."""
    return st.column_config.NumberColumn(label, format="%d", help=help)


LEVEL = st.column_config.NumberColumn("Level", format="%d", width="small")
PATH_COLUMNS = {"path": "Path", "cycle": "Cycle", "count": st.column_config.NumberColumn("Times", format="%d"),
                "technologies": st.column_config.NumberColumn("Technologies", format="%d")}
tabs = st.tabs(list(TABS), key="an_tab", on_change="rerun")
time_tab, moves_tab, paths_tab, bottleneck_tab, heat_tab, date_tab = tabs

if time_tab.open:
    with time_tab:
        if intervals.empty:
            st.info("No stay began in this period for the technologies chosen.", icon=":material/filter_alt_off:")
        else:
            plots.chart(charts.time_in_level_chart(intervals, height=access.chart_height(420)), key="an_time_chart")
            st.caption("Boxes: quartiles of the stays at each level, whiskers to the furthest stay within 1.5 times "
                       "the box. Along the top: how many completed stays, and their median in days.")
            shown = stats.assign(name=stats["level"].map(lambda n: levels.level(int(n)).name))
            table(shown[["level", "name", "completed", "median_days", "p25_days", "p75_days", "mean_days", "ongoing",
                         "ongoing_median_days"]], "time per level", "an_stats",
                  days=("median_days", "p25_days", "p75_days", "mean_days", "ongoing_median_days"), column_config={
                "level": LEVEL, "name": "Level name", "completed": "Completed stays",
                "median_days": days_column("Median days", "The median of the completed stays, in whole days"),
                "p25_days": days_column("25th pct.", "A quarter of the completed stays were this short or shorter"),
                "p75_days": days_column("75th pct.", "Three quarters of the completed stays were this short or "
                                                     "shorter"),
                "mean_days": days_column("Mean days"),
                "ongoing": "Ongoing stays",
                "ongoing_median_days": days_column("Ongoing: median so far",
                                                   "The median time so far of the stays still under way; a dash: "
                                                   "none is under way")})
            st.markdown("#### One technology")
            with_stays = set(intervals["project_id"].map(code_of))
            started = [c for c in chosen["code"] if c in with_stays]
            names = dict(zip(techs["code"], techs["name"]))
            code = st.selectbox("Technology", started, key="an_code", format_func=lambda c: f"{c} · {names.get(c, '')}")
            if code:
                per = analytics.time_per_level(intervals.loc[intervals["project_id"].map(code_of) == code])
                plots.chart(charts.technology_time_chart(per, height=access.chart_height(260)), key="an_tech_chart")
                table(with_codes(per), f"time per level {code}", "an_tech_table",
                      days=("days", "completed_days", "ongoing_days"), column_config={
                    "code": None, "level": LEVEL, "days": days_column("Days in all"),
                    "completed_days": days_column("Completed stays, days"),
                    "ongoing_days": days_column("Ongoing stay so far, days"),
                    "intervals": st.column_config.NumberColumn("Stays", format="%d",
                                                               help="How many stays, the ongoing one included")})

if moves_tab.open:
    with moves_tab:
        if moved.empty:
            st.info("No move in this period for the technologies chosen.", icon=":material/filter_alt_off:")
        else:
            counts = analytics.transition_counts(moved)
            left, right = st.columns(2)
            with left:
                st.markdown("#### From → to")
                plots.chart(charts.transition_heatmap(analytics.transition_matrix(moved)), key="an_matrix")
            with right:
                st.markdown("#### Moves by kind")
                plots.chart(charts.moves_sankey(counts), key="an_sankey")
            table(counts.rename(columns={"from_level": "from", "to_level": "to"}), "transitions", "an_transitions",
                  column_config={"from": st.column_config.NumberColumn("From level", format="%d"),
                                 "to": st.column_config.NumberColumn("To level", format="%d"),
                                 "move": "Kind of move", "count": "Moves"})
            st.markdown("#### Switchback rate by level")
            rates = analytics.switchback_rates(moved)
            plots.chart(charts.switchback_rate_chart(rates, height=access.chart_height(320)), key="an_rates")
            table(rates.assign(rate=(100 * rates["rate"]).round(0).astype("Int64")), "switchback rates",
                  "an_rates_table", column_config={
                      "level": st.column_config.NumberColumn("Level left", format="%d"),
                      "exits": st.column_config.NumberColumn("Exits", help="Moves out of the level"),
                      "discovery": "Discovery switchbacks", "review": "Review switchbacks",
                      "embedded": "Embedded switchbacks", "switchbacks": "All switchbacks",
                      "rate": st.column_config.NumberColumn("Switchback rate", format="%d%%",
                                                            help="Switchbacks / exits; a dash: no exit")})

if paths_tab.open:
    with paths_tab:
        # The period's moves, each path starting from the level held when the period began.
        held_then = mine.loc[mine["at"] < pd.Timestamp(start)].groupby("project_id").tail(1)
        in_range = pd.concat([held_then, mine.loc[mine["at"] >= pd.Timestamp(start)]])
        paths = analytics.level_paths(in_range, as_of=as_of)
        o1, o2, _ = st.columns([2, 2, 3])
        top = o1.selectbox("How many", [5, 10, 20, 50, 100], index=1, key="an_top")
        span = o2.segmented_control("Paths", ["whole", "3", "4"], default="whole", key="an_span",
                                    format_func={"whole": "Whole", "3": "Runs of 3", "4": "Runs of 4"}.get,
                                    help="Whole paths are often unique; runs of 3 or 4 consecutive levels show "
                                         "the common routes.") or "whole"
        left, right = st.columns(2)
        with left:
            st.markdown("#### Most frequent paths")
            if span == "whole":
                st.caption("The whole sequence of levels each technology held in the period.")
                table(analytics.frequent_paths(paths, top=top), "paths", "an_paths", column_config=PATH_COLUMNS)
            else:
                st.caption(f"Runs of {span} consecutive levels within the paths: how often, and by how many "
                           "technologies.")
                table(analytics.frequent_stretches(paths, int(span), top=top), f"runs of {span} levels", "an_paths",
                      column_config=PATH_COLUMNS)
        with right:
            st.markdown("#### Most frequent cycles")
            st.caption("Returns to a level already held: how often, and by how many technologies.")
            cycles = analytics.frequent_cycles(paths, top=top)
            if cycles.empty:
                st.info("No technology returned to a level it had held.", icon=":material/check_circle:")
            else:
                table(cycles, "cycles", "an_cycles", column_config=PATH_COLUMNS)

if bottleneck_tab.open:
    with bottleneck_tab:
        found = analytics.bottlenecks(stats)
        st.markdown("#### Levels that hold technologies longest")
        if found.empty:
            st.info("No level's median stay is twice the others' (or too few completed stays to tell).",
                    icon=":material/check_circle:")
        else:
            table(found, "bottlenecks", "an_bottlenecks", days=("median_days", "others_median_days"), column_config={
                "level": LEVEL, "median_days": days_column("Median days"),
                "others_median_days": days_column("Other levels' median days"),
                "ratio": st.column_config.NumberColumn("Times longer", format="%.1f×")})
        st.markdown("#### Stalled technologies")
        st.caption("Active technologies whose stay at their level, however long ago it began, is longer than "
                   "three quarters of the completed stays at that level (paused and retired ones are not waiting "
                   "to move).")
        active = set(chosen.loc[chosen["status"] == "active", "project_id"])
        whole = every_stay.loc[every_stay["project_id"].isin(active)]
        stuck = analytics.stalled(whole, analytics.level_time_stats(every_stay))
        if stuck.empty:
            st.info("No ongoing stay is longer than three quarters of the completed stays at its level.",
                    icon=":material/check_circle:")
        else:
            stuck = with_codes(stuck)
            stuck.insert(1, "timeline", "/timelines?code=" + stuck["code"])
            table(stuck, "stalled", "an_stalled", days=("days", "p75_days"), column_config={
                "code": "Technology",
                "timeline": st.column_config.LinkColumn("Timeline", display_text="open"),
                "level": LEVEL, "days": days_column("Days so far"),
                "p75_days": days_column("75th pct. of completed stays, days")})

if heat_tab.open:
    with heat_tab:
        by = st.segmented_control("Rows", ["owner", "system"], default="owner", key="an_heat_by",
                                  format_func={"owner": "Owner", "system": "Parent system"}.get) or "owner"
        counts = analytics.heatmap_counts(chosen, by=by)
        if counts.empty:
            st.info("No technology matches the filters.", icon=":material/filter_alt_off:")
        else:
            st.caption("Technologies at each level now, by " + ("owner (a technology with several owners counts "
                       "under each)" if by == "owner" else "the system they belong to") + ". *no level*: not "
                       "started, never counted as progress.")
            plots.chart(charts.portfolio_heatmap(counts), key="an_heat")
            flat = counts.reset_index().rename(columns={"group": by})
            flat.columns = [str(c) for c in flat.columns]  # levels and "no level": one type of column name
            table(flat, f"heat map by {by}", "an_heat_table",
                  column_config={by: "Owner" if by == "owner" else "Parent system",
                                 **{str(n): f"Level {n}" for n in range(levels.MIN_LEVEL, levels.MAX_LEVEL + 1)}})

if date_tab.open:
    with date_tab:
        d1, d2 = st.columns(2)
        on = access.unless_presenting(until, lambda: d1.date_input("The portfolio on", value=until, key="an_on",
                                                                   format="YYYY-MM-DD"))
        then = access.unless_presenting(until - timedelta(days=90), lambda: d2.date_input(
            "Compared with", value=until - timedelta(days=90), key="an_then", format="YYYY-MM-DD",
            help="What changed between this date and the first"))
        everything = events.loc[events["project_id"].isin(set(chosen["project_id"]))]
        # levels_on counts events at or before the moment: the day's last instant
        level_then = analytics.levels_on(everything, days.last_instant(on))
        snapshot = chosen[["project_id", "code", "name"]].assign(level=chosen["project_id"].map(level_then))
        snapshot["level"] = snapshot["level"].astype("Int64")
        snapshot["phase"] = analytics.phase_labels(snapshot["level"]).fillna("no level")
        st.markdown(f"#### Every technology's level on {on:%Y-%m-%d}")
        plots.chart(charts.levels_bar(snapshot, height=access.chart_height(240)) if len(snapshot) else None,
                    key="an_on_bar", empty="No technology matches the filters.", icon=":material/filter_alt_off:")
        table(snapshot.drop(columns="project_id"), f"levels on {on:%Y-%m-%d}", "an_on_table",
              column_config={"code": "Technology", "name": "Name", "level": LEVEL})
        lo, hi = sorted([then, on])
        changes = analytics.changes_between(everything, days.last_instant(lo), days.last_instant(hi))
        st.markdown(f"#### What changed from {lo:%Y-%m-%d} to {hi:%Y-%m-%d}")
        if changes.empty:
            st.info("Nothing moved between these dates.", icon=":material/pause_circle:")
        else:
            table(with_codes(changes), "changes", "an_changes", column_config={
                "code": "Technology",
                "level_before": st.column_config.NumberColumn(f"Level on {lo:%Y-%m-%d}", format="%d"),
                "level_after": st.column_config.NumberColumn(f"Level on {hi:%Y-%m-%d}", format="%d"),
                "change": st.column_config.NumberColumn("Change", format="%+d"), "moves": "Moves"})
