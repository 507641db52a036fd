"""Quarterly review: a quarter's objectives and key results ("technology X reaches level >= L by
date D") with their status computed from the level history, forecasts, the roll-up, the burn-up,
the quarter's report card, check-ins and notes, and the whole review exported as HTML, Markdown
or JSON. Objectives, key results and check-ins are written through ``mltrl.services.okrs``."""

import json

import pandas as pd
import streamlit as st

from mltrl import charts, reports

from mltrl.domain import days, okr
from mltrl.domain.analytics import KeyResultStatus
from mltrl.domain.errors import MltrlError
from mltrl.domain.permissions import Permission
from mltrl.services import okr_report, okrs, undo
from mltrl.ui import access, context, deleting, drafts, feedback, plots, tables

TABS = ("Roll-up", "Key results", "Objectives", "Export")
STATUS_HELP = {
    "achieved": "at or above the target level at the due date (or now, if earlier)",
    "achieved then lost": "reached the target by then, but a later switchback took it below",
    "on track": "not there yet; the forecast's expected date is on or before the due date",
    "at risk": "not there yet; expected after the due date, no forecast, or the technology is paused or retired",
    "missed": "the due date has passed without reaching the target (reaching it later is late)",
}

st.title("Quarterly review")
st.caption("Objectives and key results of the form “technology X reaches level ≥ L by date D”, judged from "
           "the level history.")
feedback.show_flash()
deleting.offer("quarterly")

today = days.today()
current = okr.quarter_of(today)
known = context.cached_read(okrs.quarters)
wanted = st.query_params.get("quarter")
try:  # a quarter named in the link is offered even when it has no objectives yet
    linked = {str(okr.parse_quarter(wanted))} if wanted else set()
except MltrlError:
    linked = set()
choices = sorted(set(known) | linked | {str(current), str(current.next()), str(current.previous())})
default = next(iter(linked)) if linked else str(current)
editable = access.can(Permission.EDIT) and not access.presenting()

c1, c2, c3, c4 = st.columns([2, 2, 2, 2])
quarter = c1.selectbox("Quarter", choices, index=choices.index(default), key="qr_quarter",
                       help="Quarters with objectives, and the ones around today")
if quarter != wanted:
    st.query_params["quarter"] = quarter
q = okr.parse_quarter(quarter)
default_day = min(today, q.end) if q.start <= today else today
# In presentation mode the review is as of today (or the quarter's end) with the standard forecast.
as_of_day = access.unless_presenting(default_day, lambda: c2.date_input(
    "As of", value=default_day, key="qr_as_of", format="YYYY-MM-DD",
    help="Judge the key results as they stood at the end of this day (today: as of now). A past date gives the "
         "same report every time."))
samples = access.unless_presenting(okr_report.DEFAULT_SAMPLES, lambda: c3.number_input(
    "Forecast samples", min_value=100, max_value=100_000, value=okr_report.DEFAULT_SAMPLES, step=1000,
    key="qr_samples", help="Resampled paths per key result"))
seed = access.unless_presenting(okr_report.DEFAULT_SEED, lambda: c4.number_input(
    "Seed", min_value=0, max_value=2**31 - 1, value=okr_report.DEFAULT_SEED, key="qr_seed",
    help="The same data, date, samples and seed give the same probabilities"))
if access.presenting():
    c2.markdown(f"**As of** {as_of_day:%Y-%m-%d}")
if as_of_day is None:
    st.error("As of: choose a date (YYYY-MM-DD).", icon=":material/event_busy:")
    st.stop()
# The end of the chosen day (its last instant: an event dated the next day is not counted), or now
# (to the minute, so reruns within a minute share the cached report).
as_of = days.as_of_instant(as_of_day, moment=days.now().replace(second=0, microsecond=0))
with st.spinner(f"Judging key results and forecasting ({int(samples):,} samples each)…"):
    report = context.quarter_report(quarter, as_of=as_of, samples=int(samples), seed=int(seed))
st.caption(f"{quarter}: {q.start:%Y-%m-%d} to {q.end:%Y-%m-%d} · as of {report.as_of:%Y-%m-%d %H:%M} UTC · "
           f"{len(report.objectives)} objective(s), {len(report.lines)} key result(s).")

tabs = st.tabs(list(TABS), key="qr_tab", on_change="rerun")
rollup_tab, krs_tab, objectives_tab, export_tab = tabs


def call(service, **kwargs):
    """Run a write ``service`` as the acting user in its own session."""
    with context.session() as s:
        return service(session=s, actor=context.actor(), **kwargs)


def confirm_delete(o) -> None:
    """Ask before deleting objective ``o``, naming what goes (counted afresh from the database:
    the report may be judged as of an earlier day); delete it when confirmed, with an Undo."""
    try:
        with context.session() as s:
            fresh = okrs.objective(s, o.id)
    except MltrlError as exc:  # deleted by someone else meanwhile
        st.error(feedback.explain(exc), icon=":material/block:")
        deleting.stop_asking()
        return
    n_krs = len(fresh.key_results)
    n_checks = sum(len(k.check_ins) for k in fresh.key_results)
    what = (f"objective “{access.literal(o.title)}” with {undo.plural(n_krs, 'key result')} and "
            f"{undo.plural(n_checks, 'check-in')}")
    targets = ", ".join(f"{k.code} ≥ {k.key_result.target_level}" for k in fresh.key_results)
    if deleting.confirm("quarterly", o.id, f"Delete the {what}?", key="qr_confirm",
                        button=f"Delete objective and {undo.plural(n_krs, 'key result')}" if n_krs
                        else "Delete objective",
                        detail=(f"Key results: {access.literal(targets)}. " if targets else "")
                        + "You can undo it afterwards."):
        deleting.run_delete("quarterly", lambda: call(okrs.delete_objective, objective_id=o.id,
                                                      expected_version=o.version),
                            reset={"qr_manage": None})


def edit_objective(objective_id: int) -> None:
    """The objective's title and owner, as stored now; a save refused for someone else's change
    keeps what was typed and says who changed what (``ui.drafts``)."""
    try:
        with context.session() as s:
            row = okrs.objective(s, objective_id).objective
    except MltrlError:  # deleted meanwhile: the selector no longer offers it on the next run
        return
    draft = drafts.Draft(f"qr_obj:{row.id}", entity="objective", entity_id=row.id, version=row.version,
                         what=f"the objective “{row.title}”", values={"title": row.title, "owner": row.owner},
                         fields=[drafts.Field("title", "Objective"), drafts.Field("owner", "Owner")])
    with st.form(f"qr_edit_objective_{row.id}", border=True):
        st.markdown("**Edit the objective**")
        e1, e2 = st.columns([3, 2])
        title = e1.text_input("Objective", key=draft.key("title"))
        owner = e2.text_input("Owner", key=draft.key("owner"))
        draft.submit("Save objective",
                     lambda version: call(okrs.edit_objective, objective_id=row.id, expected_version=version,
                                          title=title, owner=owner),
                     success=lambda saved: f"Saved the objective “{saved.title}”.")


def started(path: pd.DataFrame) -> bool:
    """Whether a key result's technology had a level by the as-of moment (its path has a start)."""
    return bool(len(path)) and bool((pd.to_datetime(path["at"], utc=True) <= pd.Timestamp(report.as_of)).any())


def status_badge(status: str) -> str:
    colour = {"achieved": "green", "achieved then lost": "violet", "on track": "blue", "at risk": "orange",
              "missed": "red"}[status]
    return f":{colour}-badge[{status}]"


def key_result_table(lines, key: str, *, with_objective: bool) -> None:
    """Key results, the columns a lead scans first on the left (the objective last, when shown):
    the technology, its target and date apart, so none is cut off mid-date."""
    rows = [{"technology": line.code, "target": f"≥ {line.target}", "due": line.due,
             "status": line.state.status.value,
             "level": line.state.level,
             "expected": ("—" if line.forecast is not None and line.forecast.reason
                          else reports.expected_text(line)),
             "P(by date)": round(100 * line.forecast.probability)
             if line.forecast is not None and line.forecast.probability is not None else None,
             "confidence": line.confidence,
             "owner": line.owner or "—", "objective": line.objective} for line in lines]
    table = pd.DataFrame(rows, columns=["technology", "target", "due", "status", "level", "expected", "P(by date)",
                                        "confidence", "owner", "objective"])
    table["level"] = table["level"].astype("Int64")
    table["confidence"] = table["confidence"].astype("Int64")
    if not with_objective:
        table = table.drop(columns="objective")
    tables.show(table, key=key, column_config={
        "technology": st.column_config.TextColumn("Technology", width=84),
        "target": st.column_config.TextColumn("Target", width=64, help="The level the technology must reach"),
        "due": st.column_config.DateColumn("By", format="YYYY-MM-DD", width=96,
                                           help="Inclusive: by the end of this day"),
        "status": st.column_config.TextColumn("Status", width=124),
        "level": st.column_config.NumberColumn("Level", format="%d", width=56,
                                               help="At the as-of date, or at the due date once it has passed"),
        "expected": st.column_config.TextColumn("Expected", width=92,
                                                help="The forecast's expected date, or “reached”"),
        "P(by date)": st.column_config.ProgressColumn(
            "P(by date)", format="%d%%", min_value=0, max_value=100, width=104,
            help=f"Share of {report.samples:,} resampled paths that reach the target by the date"),
        "confidence": st.column_config.NumberColumn("Confidence", format="%d / 10", width=92,
                                                    help="The latest check-in's confidence (0-10)"),
        "owner": st.column_config.TextColumn("Owner", width=120),
        "objective": st.column_config.TextColumn("Objective", width=200)})


if rollup_tab.open:
    with rollup_tab:
        if not report.lines:
            st.info(f"No key results in {quarter} yet: add an objective and its key results under **Objectives**.",
                    icon=":material/flag:")
        else:
            cols = st.columns(len(KeyResultStatus))
            for col, status in zip(cols, KeyResultStatus):
                col.metric(status.value.capitalize(), report.count(status), help=STATUS_HELP[status.value])
            st.markdown("#### Key results achieved over the quarter")
            plots.chart(charts.burnup_chart(report.burnup, height=access.chart_height(300)), key="qr_burnup")
            by_owner, by_phase = st.tabs(["By owner", "By phase"])
            with by_owner:
                tables.show(report.rollup("owner"), key="qr_by_owner")
            with by_phase:
                tables.show(report.rollup("phase"), key="qr_by_phase")
        card = report.card
        st.markdown("#### The quarter's report card")
        m1, m2, m3, m4 = st.columns(4)
        m1.metric("Levels gained", card.levels_gained, help="Graduations in the quarter (to the as-of date)")
        m2.metric("Levels given back", card.levels_lost, help="Levels lost to switchbacks")
        m3.metric("Switchbacks", sum(card.switchbacks.values()),
                  help=", ".join(f"{k}: {n}" for k, n in card.switchbacks.items()))
        so_far = " so far" if report.as_of < days.day_end(q.end) else ""
        m4.metric("Held at one level" + so_far, len(card.held),
                  help="Technologies with a level that did not move at all in the quarter (to the as-of date)")
        changes = {"code": st.column_config.TextColumn("Technology"),
                   "level_before": st.column_config.NumberColumn("From", format="%d"),
                   "level_after": st.column_config.NumberColumn("To", format="%d"),
                   "change": st.column_config.NumberColumn("Change", format="%+d"), "moves": "Moves"}
        r1, r2 = st.columns(2)
        for column, title, frame, key in ((r1, "Most improved", card.improved, "qr_improved"),
                                          (r2, "Biggest drops", card.dropped, "qr_dropped")):
            with column:
                st.markdown(f"**{title}**")
                if frame.empty:
                    st.caption("No technology." if title == "Most improved" else "No technology lost a level.")
                else:
                    tables.show(frame, key=key, column_config=changes)
        if len(card.held):
            with st.expander(f"Held at one level{so_far or ' all quarter'} ({len(card.held)})"):
                tables.show(card.held, key="qr_held", column_config={
                    "code": "Technology", "level": st.column_config.NumberColumn("Level", format="%d")})

if krs_tab.open:
    with krs_tab:
        if not report.lines:
            st.info(f"No key results in {quarter} yet.", icon=":material/flag:")
        else:
            titles = {v.objective.id: v.objective.title for v in report.objectives}
            f1, f2 = st.columns([3, 2])
            picked = f1.selectbox("Objective", [None, *titles], key="qr_kr_objective",
                                  format_func=lambda i: "Every objective" if i is None else titles[i])
            statuses = f2.multiselect("Status", [s.value for s in KeyResultStatus], key="qr_kr_status",
                                      placeholder="every status")
            shown = [line for line in report.lines if (picked is None or line.objective_id == picked)
                     and (not statuses or line.state.status.value in statuses)]
            key_result_table(shown, "qr_krs", with_objective=picked is None and len(titles) > 1)
            if not shown:
                st.caption("No key result matches.")
            else:
                # One key result in detail at a time: a quarter can hold hundreds.
                by_id = {line.id: line for line in shown}
                kr_id = st.selectbox("Key result", list(by_id), key="qr_kr_pick",
                                     format_func=lambda i: f"{by_id[i].label} · {by_id[i].state.status.value}")
                line = by_id[kr_id]
                with st.container(border=True):
                    st.markdown(f"**{line.label}** ({line.objective}) {status_badge(line.state.status.value)}  \n"
                                f"{STATUS_HELP[line.state.status.value].capitalize()}.")
                    plots.chart(charts.key_result_chart(report.paths[line.id], line.target, line.due,
                                                        start=report.start, end=report.end, as_of=report.as_of,
                                                        status=line.state.status.value,
                                                        height=access.chart_height(240))
                                if started(report.paths[line.id]) else None,
                                key=f"qr_path_{line.id}", icon=":material/timeline:",
                                empty=f"{line.code} has no level yet, so there is no path to draw: its first "
                                      "level, once recorded on the Project page, starts it.")
                    if line.forecast is not None and line.forecast.reason:
                        st.caption(f"No forecast: {line.forecast.reason}.")
                    for c in line.check_ins:
                        st.markdown(f"- {c.at:%Y-%m-%d} **{c.author}** ({c.confidence}/10): {c.comment}")
                    if not line.check_ins:
                        st.caption("No check-ins yet.")
                    if editable:
                        n1, n2 = st.columns(2)
                        with n1.form(f"qr_checkin_{line.id}", border=True):
                            comment = st.text_area("Check-in", key=f"qr_ci_text_{line.id}", height=80,
                                                   placeholder="Where it stands, what is in the way")
                            confidence = st.slider("Confidence it will be met (0-10)", 0, 10, 5,
                                                   key=f"qr_ci_conf_{line.id}")
                            if st.form_submit_button("Record check-in", icon=":material/add_comment:"):
                                feedback.run_use_case(
                                    lambda: call(okrs.check_in, key_result_id=line.id, comment=comment,
                                                 confidence=confidence),
                                    success=f"Check-in recorded on {line.label}.",
                                    reset={f"qr_ci_text_{line.id}": "", f"qr_ci_conf_{line.id}": 5},
                                    place=f"qr_kr_{line.id}")
                        with context.session() as s:
                            kr = okrs.key_result(s, line.id).key_result  # as stored now, not as of the report's day
                        # Keys that never carry the version: a save refused for someone else's
                        # change keeps what was typed and says who changed what (ui.drafts).
                        kr_draft = drafts.Draft(
                            f"qr_kr:{kr.id}", entity="keyresult", entity_id=kr.id, version=kr.version,
                            what=f"the key result {line.code} ≥ {kr.target_level}",
                            values={"target_level": kr.target_level, "due": kr.due, "owner": kr.owner,
                                    "note": kr.note},
                            fields=[drafts.Field("target_level", "Target level"), drafts.Field("due", "By"),
                                    drafts.Field("owner", "Owner"), drafts.Field("note", "Review note")])
                        with n2.form(f"qr_note_{line.id}", border=True):
                            k1, k2, k3 = st.columns([1, 1, 2])
                            target = k1.number_input("Reaches level ≥", 0, 9, key=kr_draft.key("target_level"))
                            due = k2.date_input("By", key=kr_draft.key("due"), format="YYYY-MM-DD",
                                                help="Inclusive: by the end of this day")
                            kr_owner = k3.text_input("Owner", key=kr_draft.key("owner"),
                                                     help="Empty: the objective's owner")
                            note = st.text_area("Review note", key=kr_draft.key("note"), height=80,
                                                help="What the review says about this key result")
                            kr_draft.submit(
                                "Save key result",
                                lambda version: call(okrs.edit_key_result, key_result_id=line.id,
                                                     expected_version=version, target_level=target, due=due,
                                                     owner=kr_owner, note=note),
                                success=lambda saved: f"Saved the key result {line.code} reaches level ≥ "
                                                      f"{saved.target_level} by {saved.due:%Y-%m-%d}.")
                        feedback.flash_here(f"qr_kr_{line.id}")
                    elif line.note:
                        st.markdown(f"**Note:** {line.note}")

if objectives_tab.open:
    with objectives_tab:
        if report.objectives:
            objectives = pd.DataFrame([{
                "objective": v.objective.title, "owner": v.objective.owner or "—", "key results": len(v.key_results),
                "targets": "; ".join(f"{k.code} ≥ {k.key_result.target_level} by {k.key_result.due:%Y-%m-%d}"
                                     for k in v.key_results) or "none yet",
                "copied from": v.objective.copied_from_id} for v in report.objectives])
            objectives["copied from"] = objectives["copied from"].map(
                lambda i: "—" if pd.isna(i) else f"objective #{int(i)}")
            if (objectives["copied from"] == "—").all():  # nothing copied: no column of dashes
                objectives = objectives.drop(columns="copied from")
            # Rows tall enough to wrap an objective's title and its targets (dates are never cut).
            tables.show(objectives, key="qr_objectives", row_height=78, column_config={
                "objective": st.column_config.TextColumn("Objective", width=260),
                "owner": st.column_config.TextColumn("Owner", width=130),
                "key results": st.column_config.NumberColumn("Key results", format="%d", width=92),
                "targets": st.column_config.TextColumn("Targets", width="large"),
                "copied from": st.column_config.TextColumn("Copied from", width=120,
                                                           help="The objective it was copied from, in an earlier "
                                                                "quarter")})
            if editable:  # one objective at a time: a quarter can hold a hundred
                managed = {v.objective.id: v for v in report.objectives}
                b0, b1, b2 = st.columns([4, 2, 2], vertical_alignment="bottom")
                # Nothing chosen at first and after a delete: never one click from deleting another.
                chosen_id = b0.selectbox("Objective to edit, copy or delete", list(managed), key="qr_manage", index=None,
                                         placeholder="Choose an objective",
                                         format_func=lambda i: managed[i].objective.title)
                o = managed[chosen_id].objective if chosen_id in managed else None
                suffix = o.id if o is not None else "none"
                if b1.button(f"Copy into {q.next()}", key=f"qr_copy_{suffix}", icon=":material/content_copy:",
                             disabled=o is None, width="stretch",
                             help="The objective and its key results (dates moved into the next quarter), "
                                  "without check-ins"):
                    feedback.run_use_case(lambda: call(okrs.copy_objective, objective_id=o.id),
                                          success=f"Copied “{o.title}” into {q.next()}.", place="qr_manage")
                feedback.flash_here("qr_manage")
                if b2.button("Delete…", key=f"qr_delete_{suffix}", icon=":material/delete:", disabled=o is None,
                             width="stretch", help="Asks first; the objective, its key results and their check-ins "
                                                   "(kept in the audit trail, and you can undo)"):
                    deleting.ask("quarterly", o.id)
                if o is not None and deleting.asking("quarterly", o.id):
                    confirm_delete(o)
                elif o is not None:
                    edit_objective(o.id)
        if not editable:
            st.caption("Editors add objectives and key results.")
        else:
            left, right = st.columns(2)
            with left.form("qr_add_objective", border=True):
                st.markdown(f"**New objective in {quarter}**")
                title = st.text_input("Objective", key="qr_obj_title", placeholder="e.g. Ship the defect detector")
                owner = st.text_input("Owner", key="qr_obj_owner")
                if st.form_submit_button("Add objective", icon=":material/flag:"):
                    feedback.run_use_case(
                        lambda: call(okrs.add_objective, quarter=quarter, title=title, owner=owner),
                        success=lambda o: f"Objective {o.id} added to {quarter}.",
                        reset={"qr_obj_title": "", "qr_obj_owner": ""}, place="qr_add")
            if report.objectives:
                known_techs = context.technologies()
                with right.form("qr_add_kr", border=True):
                    st.markdown("**New key result**")
                    titles = {v.objective.id: v.objective.title for v in report.objectives}
                    objective_id = st.selectbox("Objective", list(titles), format_func=titles.get, key="qr_kr_obj")
                    code = st.selectbox("Technology", known_techs.codes, key="qr_kr_code", index=None,
                                        placeholder="Choose a technology",
                                        format_func=lambda c: f"{c} · {known_techs.names.get(c, '')}")
                    k1, k2 = st.columns(2)
                    level = k1.number_input("Reaches level ≥", 0, 9, 1, key="qr_kr_level")
                    due = k2.date_input("By", value=q.end, key="qr_kr_due", format="YYYY-MM-DD",
                                        help="Inclusive: by the end of this day (default: the quarter's last day)")
                    kr_owner = st.text_input("Owner", key="qr_kr_owner", help="Default: the objective's owner")
                    if st.form_submit_button("Add key result", icon=":material/add_task:"):
                        feedback.run_use_case(
                            lambda: call(okrs.add_key_result, objective_id=objective_id, code=code or "",
                                         target_level=level, due=due, owner=kr_owner),
                            success=lambda kr: f"Key result {kr.id} added.", reset={"qr_kr_owner": ""},
                            place="qr_add")
            feedback.flash_here("qr_add")

if export_tab.open:
    with export_tab:
        st.caption("The whole review for stakeholders: the roll-up, burn-up, report card, and every key result with "
                   "its status, forecast, check-ins and chart. The HTML opens offline (everything is inline).")
        stem = f"quarterly_review_{quarter}_{report.as_of:%Y-%m-%d}"
        # The files are written when a button is pressed (deferred: a big quarter's HTML, with a
        # chart per key result, takes a while, and most visits download nothing).
        if access.presenting():
            st.caption("The downloads are offered outside presentation mode.")
        else:
            e1, e2, e3 = st.columns(3)
            e1.download_button("Download HTML report", lambda: reports.html_document(report).encode(),
                               file_name=f"{stem}.html", mime="text/html", key="qr_html", icon=":material/download:",
                               type="primary")
            e2.download_button("Download Markdown", lambda: reports.markdown(report).encode(), file_name=f"{stem}.md",
                               mime="text/markdown", key="qr_md", icon=":material/download:")
            e3.download_button("Download JSON", lambda: json.dumps(reports.as_json(report), indent=2).encode(),
                               file_name=f"{stem}.json", mime="application/json", key="qr_json",
                               icon=":material/download:")
        with st.expander("Preview (Markdown)"):
            st.markdown(reports.markdown(report))
