"""Project: one technology's summary, components, level history, and the forms to change them."""

from datetime import date, datetime

import pandas as pd
import streamlit as st

from mltrl import charts

from mltrl.domain import days, levels
from mltrl.domain.levels import SwitchbackKind
from mltrl.domain.permissions import Permission
from mltrl.services import level_moves, projects
from mltrl.services import policy as org_policy
from mltrl.services import reviews as review_service
from mltrl.ui import access, context, current, drafts, feedback, plots, tables
from mltrl.ui import evidence as evidence_ui
from mltrl.ui.mlflow_panel import mlflow_panel

st.title("Project")
feedback.show_flash()

frame = context.portfolio_frame()
codes = sorted(frame["code"].tolist())
names = dict(zip(frame["code"], frame["name"]))
known_codes = dict(zip(frame["id"], frame["code"]))


EVIDENCE_SHOWN = 100  # the newest records on the page; the CLI and the API list them all
PROJECT_LABELS = {"level_since": "At this level since", "parent_id": "Component of"}


def _when(day: date) -> datetime:
    """A date picked in a form, as a UTC instant: today (the UTC day) means now, another day its
    first instant."""
    if day == days.today():
        return days.now()
    return days.day_start(day)


def add_project_form(key: str) -> None:
    with st.form(key, clear_on_submit=False, border=True):
        c1, c2 = st.columns([1, 3])
        code = c1.text_input("Code", key=f"{key}_code", placeholder="R02.1", max_chars=32)
        name = c2.text_input("Name", key=f"{key}_name", max_chars=200)
        c3, c4 = st.columns(2)
        parent = c3.selectbox("Component of", codes, index=None, key=f"{key}_parent",
                              placeholder="(none: a system of its own)")
        owners = c4.text_input("Owners", key=f"{key}_owners", placeholder="comma-separated names")
        summary = st.text_area("Summary", key=f"{key}_summary", height=80)
        if st.form_submit_button("Add technology", icon=":material/add:"):
            feedback.run_use_case(
                lambda: projects.add_project(
                    session=s, actor=context.actor(), code=code, name=name, summary=summary,
                    parent_code=parent, owners=owners.split(","),
                ),
                success=lambda p: f"Added {p.code} · {p.name}.",
                reset={f"{key}_{field}": ("" if field != "parent" else None)
                       for field in ("code", "name", "parent", "owners", "summary")},
            )


editable = access.can(Permission.EDIT)
if not codes:
    if editable:
        st.info("No technologies yet: add the first one.", icon=":material/info:")
        with context.session() as s:
            add_project_form("add_first")
    else:
        st.info("No technologies yet.", icon=":material/info:")
    st.stop()

code = current.technology_picker(codes, names, key="project_code")

with context.session() as s:
    view = projects.view_project(s, code)
    project = view.project
    seen = context.version_seen(code, project.version)

    def moved_meanwhile(button: str):
        """A level move refused for someone else's change: who changed what (the entries stay,
        and the next press builds on the version now shown)."""
        return lambda exc: drafts.show_changes(
            exc, entity="project", entity_id=project.id, since=seen, labels=PROJECT_LABELS,
            again=f"If it still stands, press {button} again: it is then recorded on top of their change.")
    events = level_moves.history(s, code)
    children = projects.children_of(s, project.id)
    row = frame[frame["code"] == code].iloc[0]

    # --- header ---------------------------------------------------------------------------
    st.header(f"{project.code} · {project.name}", anchor=False)
    lv = project.level
    badges = []
    if lv is None:
        badges.append(":gray-badge[no level yet]")
    else:
        meta = levels.level(lv)
        badges.append(f":{charts.PHASE_BADGES[meta.phase.value]}-badge[Level {lv} · {meta.name}]")
        badges.append(f":{charts.PHASE_BADGES[meta.phase.value]}-badge[{meta.phase.value}]")
    if not pd.isna(row["system_level"]) and row["system_level"] != lv:
        badges.append(f":red-badge[system level {int(row['system_level'])}]")
    badges.append(f":gray-badge[{project.status}]")
    card_badge = {"fresh": ":green-badge[card up to date]", "stale": f":orange-badge[card stale: {row['card_note']}]",
                  "none": ":gray-badge[no TRL card yet]"}[row["card"]]
    badges.append(card_badge)
    st.markdown(" ".join(badges))
    link_row = st.container(horizontal=True, gap="medium")
    link_row.page_link("views/card.py", label="Open the TRL card", icon=":material/description:",
                          query_params={"code": code})
    link_row.page_link("views/timelines.py", label="Timeline", icon=":material/timeline:",
                          query_params={"code": code})
    link_row.page_link("views/risks.py", label="Requirements & risks", icon=":material/grid_on:",
                          query_params={"code": code})
    facts = []
    if view.owners:
        facts.append("**Owners:** " + ", ".join(view.owners))
    if view.parent_code:
        facts.append(f"**Component of:** [{view.parent_code}](project?code={view.parent_code})")
    if project.level_since is not None:
        facts.append(f"**At this level since:** {project.level_since.date().isoformat()} "
                     f"({int(row['days_in_level'])} days)")
    if project.forked_from_id is not None:
        parent_code = known_codes.get(project.forked_from_id, "?")
        facts.append(f"**Forked from:** [{parent_code}](project?code={parent_code}) on {project.forked_at:%Y-%m-%d}")
    if facts:
        st.markdown(" · ".join(facts))
    if project.summary:
        st.write(project.summary)

    # --- readiness: why at level N, what blocks N+1 ---------------------------------------
    if lv is not None:
        standing = review_service.standing(s, code)
        st.subheader(f"Why level {lv}, and what blocks {lv + 1 if lv < levels.MAX_LEVEL else 'the next review'}?",
                     anchor=False)
        r = standing.readiness
        st.markdown(f":{'green' if r.ready else 'orange'}-badge[{'ready for review' if r.ready else 'not ready yet'}] "
                    f"Level {lv}'s exit criteria average **{r.average:.0f}%** (ready at {r.threshold}%); "
                    f"{r.total - len(r.unmet)} of {r.total} fully met.")
        refusing = standing.refusing_gates
        overridden = [g for g in standing.gates if g.state.value == "overridden"]
        if r.unmet or refusing or overridden:
            with st.container(border=True):
                for g in refusing:
                    st.markdown(f":red-badge[gate {g.state.value}] **{g.title}**: " + "; ".join(g.blockers)
                                + f"  \n*What to do:* {g.advice}")
                for g in overridden:
                    until = f" valid through {days.last_day_before(g.override.expires_at):%Y-%m-%d}" if g.override.expires_at else ""
                    st.markdown(f":orange-badge[gate overridden] **{g.title}**, by {g.override.by}{until}: "
                                f"{g.override.justification}")
                for criterion, percent in sorted(r.unmet, key=lambda cp: cp[1])[:6]:
                    said = evidence_ui.criterion_note(criterion, standing.scores, standing.evidence)
                    st.markdown(f":gray-badge[{percent}%] {criterion.text}  \n{said}*What to do:* {criterion.guidance}")
                if len(r.unmet) > 6:
                    st.caption(f"And {len(r.unmet) - 6} more criteria under 100%.")
        else:
            st.caption("Every exit criterion is met and no gate refuses.")
        links = st.columns([1, 1, 2])
        if not access.presenting():  # an invitation to work, not to look
            links[0].page_link("views/reviews.py", label="Score the checklist", icon=":material/checklist:",
                               query_params={"code": code, "tab": "checklist"})
        if standing.open_review is not None:
            links[1].page_link("views/reviews.py", label=f"Open review {standing.open_review}",
                               icon=":material/rate_review:", query_params={"review": str(standing.open_review)})
        if lv == levels.MAX_LEVEL:
            due = next((d for d in review_service.deployed_reviews(s, org_policy.current_policy(s)) if d.code == code),
                       None)
            if due is not None:
                st.markdown(f":{'red' if due.overdue else 'gray'}-badge[{'review overdue since' if due.overdue else 'next review'}"
                            f" {due.due:%Y-%m-%d}] Deployed technologies are reviewed again every "
                            f"{org_policy.current_policy(s).deployed_review_days} days; last review {due.last_review:%Y-%m-%d}.")

    # --- components -----------------------------------------------------------------------
    if children:
        st.subheader("Components", anchor=False)
        sub = frame[frame["parent"] == code]
        st.caption(
            f"System level {'—' if pd.isna(row['system_level']) else int(row['system_level'])}: "
            "the lowest level among this technology and all its components."
        )
        tables.show(tables.style_phases(tables.portfolio_display(sub.assign(depth=0))),
                    column_config=tables.PORTFOLIO_COLUMNS, key="components")

    # --- history --------------------------------------------------------------------------
    st.subheader("Level history", anchor=False)
    plots.chart(charts.level_step_chart(tables.level_events_frame(events), height=access.chart_height(360))
                if events else None, key="level_chart",
                empty=f"{code} has no level history yet: its first level, once recorded, starts the chart.",
                icon=":material/timeline:")
    if events:
        st.caption("Newest first.")
        tables.show(tables.level_history_display(events), key="history")

    # --- evidence ---------------------------------------------------------------------------
    st.subheader("Evidence", anchor=False)
    evidence_count = review_service.count_evidence(s, code)
    if evidence_count:
        shown = review_service.evidence_of(s, code, limit=EVIDENCE_SHOWN)
        policy, now = org_policy.current_policy(s), days.now()
        evidence_ui.timeline([review_service.evidence_record(e, project, policy, now) for e in shown],
                             key="evidence_timeline")
        st.caption(f"Newest first{f'; the latest {EVIDENCE_SHOWN} of {evidence_count}' if evidence_count > EVIDENCE_SHOWN else ''}."
                   " Test reports, model versions and documents arrive from CI jobs and syncs through the API or "
                   "`mltrl evidence`; they are never edited, a newer record supersedes an older one.")
    else:
        st.caption(f"No evidence for {code} yet. A CI job posts its test report with `mltrl evidence junit` or the "
                   "API; see the README.")

    # --- the MLflow registry (a link, its sync, a proposed 9 -> 7) -------------------------
    st.subheader("MLflow model", anchor=False)
    mlflow_panel(s, code)

    # --- actions --------------------------------------------------------------------------
    if not editable:
        if not access.presenting():
            st.caption(f"Read-only: as a {access.viewer().role} you can see everything here but change nothing.")
        st.stop()
    st.subheader("Change", anchor=False)
    move_tab, edit_tab, fork_tab, add_tab = st.tabs(["Record a level change", "Edit details", "Fork",
                                                     "Add a technology"])
    with move_tab:
        st.caption("For history before the dashboard was adopted, or moves made outside it: what is recorded here is "
                   "marked *recorded without a review*. A move through a gated review is decided on the Reviews page.")
        if lv == levels.MAX_LEVEL:
            with st.form("deployed_change_form", border=True):
                st.markdown("**Change to the deployed version**: an update of a deployed technology goes back "
                            "through integration, as the embedded 9 → 7 switchback.")
                dc_note = st.text_input("What changes?", key="deployed_change_note")
                if st.form_submit_button("Record the change (9 → 7)", icon=":material/published_with_changes:"):
                    feedback.run_use_case(
                        lambda: review_service.change_deployed_version(session=s, actor=context.actor(), code=code,
                                                                       note=dc_note),
                        success=f"{code} is back at level 7 for the change (embedded switchback).",
                        reset={"deployed_change_note": ""})
        if lv is None:
            with st.form("start_form", border=True):
                st.markdown("**Start**: where does this technology enter MLTRL? Any level 0-9.")
                start_level = st.selectbox("Level", [x.number for x in levels.LEVELS], key="start_level",
                                           format_func=lambda n: levels.level(n).label)
                start_day = st.date_input("Date", key="start_date")
                start_note = st.text_input("Note", key="start_note")
                if st.form_submit_button("Record start", icon=":material/flag:"):
                    feedback.run_use_case(
                        lambda: level_moves.record_start(
                            session=s, actor=context.actor(), code=code, level=start_level,
                            at=_when(start_day), note=start_note, expected_version=seen),
                        success=lambda o: f"{code} starts at level {o.event.to_level}.",
                        reset={"start_note": ""}, on_refusal=moved_meanwhile("Record start"),
                    )
        else:
            g_col, s_col = st.columns(2)
            with g_col, st.form("graduate_form", border=True):
                if lv < levels.MAX_LEVEL:
                    nxt = levels.level(lv + 1)
                    st.markdown(f"**Graduate** from level {lv} to **{nxt.label}** ({nxt.phase.value}).")
                    st.caption(f"Review panel: {', '.join(levels.level(lv).panel)}. Looks at: {levels.level(lv).review}")
                else:
                    st.markdown("**Graduate**: level 9 is the highest level; from here a change to the "
                                "deployed version goes back to level 7 or earlier (switch back).")
                g_day = st.date_input("Date", key="graduate_date")
                g_note = st.text_input("Note", key="graduate_note")
                if st.form_submit_button("Graduate", icon=":material/arrow_upward:", disabled=lv >= levels.MAX_LEVEL):
                    feedback.run_use_case(
                        lambda: level_moves.graduate(
                            session=s, actor=context.actor(), code=code, at=_when(g_day), note=g_note,
                            expected_version=seen),
                        success=lambda o: f"{code} graduated to level {o.event.to_level}.",
                        reset={"graduate_note": ""}, on_refusal=moved_meanwhile("Graduate"),
                    )
            with s_col, st.form("switchback_form", border=True):
                st.markdown(f"**Switch back** from level {lv} to a lower level.")
                targets = list(range(lv - 1, -1, -1)) or [0]
                sb_level = st.selectbox("To level", targets, key="switchback_level",
                                        format_func=lambda n: levels.level(n).label)
                sb_kind = st.selectbox(
                    "Kind", [k.value for k in SwitchbackKind], index=None, key="switchback_kind",
                    placeholder="choose (embedded is implied for 4→2, 9→4, 9→7)",
                )
                sb_day = st.date_input("Date", key="switchback_date")
                sb_note = st.text_input("Note (why?)", key="switchback_note")
                if st.form_submit_button("Switch back", icon=":material/arrow_downward:"):
                    feedback.run_use_case(
                        lambda: level_moves.switch_back(
                            session=s, actor=context.actor(), code=code, level=sb_level, kind=sb_kind,
                            at=_when(sb_day), note=sb_note, expected_version=seen),
                        success=lambda o: (f"{code} switched back to level {o.event.to_level} "
                                           f"({o.event.switchback_kind})."),
                        reset={"switchback_note": "", "switchback_kind": None},
                        on_refusal=moved_meanwhile("Switch back"),
                    )
    with edit_tab:
        # Keys that never carry the version: a save refused for someone else's change keeps the draft.
        details = drafts.Draft(
            f"details:{code}", entity="project", entity_id=project.id, version=project.version, what=code,
            values={"name": project.name, "status": project.status, "parent": view.parent_code,
                    "owners": ", ".join(view.owners), "summary": project.summary},
            fields=[drafts.Field("name", "Name"), drafts.Field("status", "Status"),
                    drafts.Field("parent", "Component of", audit="parent_id", words=known_codes.get),
                    drafts.Field("owners", "Owners"), drafts.Field("summary", "Summary")])
        with st.form("edit_form", border=True):
            e_name = st.text_input("Name", key=details.key("name"), max_chars=200)
            e1, e2 = st.columns(2)
            e_status = e1.selectbox("Status", ["active", "paused", "retired"], key=details.key("status"))
            e_parent = e2.selectbox("Component of", [c for c in codes if c != code], key=details.key("parent"),
                                    index=None, placeholder="(none: a system of its own)")
            e_owners = st.text_input("Owners", key=details.key("owners"), placeholder="comma-separated names")
            e_summary = st.text_area("Summary", key=details.key("summary"), height=80)
            details.submit(
                "Save details",
                lambda version: projects.update_project(
                    session=s, actor=context.actor(), code=code, expected_version=version,
                    name=e_name, status=e_status, parent_code=e_parent, owners=e_owners.split(","),
                    summary=e_summary),
                success=f"Saved {code}.",
            )
    with fork_tab:
        if lv is None:
            st.caption("A fork goes on from its parent's level: record a start first.")
        else:
            with st.form("fork_form", border=True):
                st.markdown(f"**Fork {code}** into a new technology that goes on independently from level {lv} "
                            "(typically at level 2, into research and applied paths; or at level 6). The fork gets "
                            "its own code, a link to this technology, a copy of its card and owners, and this "
                            "technology's history as its past.")
                f1, f2 = st.columns([1, 3])
                f_code = f1.text_input("New code", key="fork_code", placeholder=f"{code[:-1]}2", max_chars=32)
                f_name = f2.text_input("Name", key="fork_name", max_chars=200)
                f_note = st.text_input("Why fork?", key="fork_note")
                if st.form_submit_button("Fork", icon=":material/call_split:"):
                    feedback.run_use_case(
                        lambda: review_service.fork(session=s, actor=context.actor(), code=code, new_code=f_code,
                                                    name=f_name, note=f_note),
                        success=lambda p: f"Forked {code} into {p.code} · {p.name} at level {lv}.",
                        reset={"fork_code": "", "fork_name": "", "fork_note": ""})
    with add_tab:
        add_project_form("add_form")

