"""Requirements & risks: a technology's two registers, their 5x5 risk matrix and its risk trend."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from mltrl import charts

from mltrl.domain import analytics, csvcells, days
from mltrl.domain import risk as rules
from mltrl.domain.errors import RowErrors
from mltrl.domain.permissions import Permission
from mltrl.services import level_moves
from mltrl.services import policy as org_policy
from mltrl.services import risks as registers
from mltrl.services import undo
from mltrl.ui import access, context, current, deleting, drafts, feedback, grid, plots, tables
from mltrl.ui import matrix as risk_matrix

st.title("Requirements & risks")
feedback.show_flash()

known = context.technologies()
codes, names = known.codes, known.names
if not codes:
    st.info("No technologies yet.", icon=":material/info:")
    st.stop()
code = current.technology_picker(codes, names, key="risk_code")
editable = access.can(Permission.EDIT) and not access.presenting()

VV = [v.value for v in rules.VVStatus]
REQUIREMENT_GRID = {
    "number": st.column_config.TextColumn("Number", help="n, n.subset or n.subset.component", required=True,
                                          validate=rules.NUMBER_PATTERN),
    "kind": st.column_config.SelectboxColumn("Kind", options=[k.value for k in rules.Kind], required=True),
    "statement": st.column_config.TextColumn("Statement", required=True, width="large"),
    "p_failure": st.column_config.NumberColumn("p(failure)", min_value=0.0, max_value=1.0, step=0.01, format="%.2f",
                                               required=True, help="A probability from 0 to 1"),
    "value": st.column_config.NumberColumn("Value", min_value=rules.VALUE_MIN, max_value=rules.VALUE_MAX, step=1, required=True,
                                           help="An integer from 1 to 10"),
    "risk": st.column_config.NumberColumn("Risk", format="%.2f", help="p(failure) x value"),
    "verification_status": st.column_config.SelectboxColumn("Verification", options=VV, required=True),
    "validation_status": st.column_config.SelectboxColumn("Validation", options=VV, required=True),
    "level": st.column_config.NumberColumn("Level", min_value=0, max_value=9, step=1, help="Level it was introduced at"),
    "verification_method": st.column_config.TextColumn("Verification method"),
    "validation_method": st.column_config.TextColumn("Validation method"),
}
RISK_GRID = {
    "title": st.column_config.TextColumn("Title", required=True, width="medium"),
    "category": st.column_config.SelectboxColumn("Category", options=[c.value for c in rules.Category], required=True),
    "p_failure": REQUIREMENT_GRID["p_failure"],
    "value": REQUIREMENT_GRID["value"],
    "risk": REQUIREMENT_GRID["risk"],
    "grade": st.column_config.TextColumn("Grade"),
    "status": st.column_config.SelectboxColumn("Status", options=[s.value for s in rules.RiskStatus], required=True,
                                               help="Accept a risk with the Accept action below, not here"),
    "owner": st.column_config.TextColumn("Owner"),
    "next_review": st.column_config.DateColumn("Next review", help="Last review plus the grade's cadence, or the "
                                                                   "end of an acceptance if sooner"),
    "overdue": st.column_config.CheckboxColumn("Overdue", help="Its review is past due"),
    "mitigation": st.column_config.TextColumn("Mitigation", width="medium"),
    "requirement": st.column_config.TextColumn("Requirement", help="The number of the requirement it belongs to"),
    "component": st.column_config.TextColumn("Component", help="The code of the component it belongs to"),
    "description": st.column_config.TextColumn("Description", width="medium"),
}
COMPUTED = {"risk", "grade", "next_review", "overdue"}


def csv_import(kind: str, use_case, s) -> None:
    """Upload a CSV into a register: all or nothing, with every bad row listed."""
    upload = st.file_uploader(f"Import {kind} from CSV", type=["csv"], key=f"{kind}_upload",
                              help="Rows are added or updated (requirements by number, risks by title); one bad "
                                   "row refuses the whole file.")
    if st.button(f"Import {kind}", key=f"{kind}_import", icon=":material/upload:", disabled=upload is None):
        what = f"{kind} file"

        def read_and_import():
            csvcells.check_size(upload.size, what)  # before the file is read
            return use_case(session=s, actor=context.actor(), code=code, text=csvcells.decode(upload.getvalue(), what))

        feedback.run_use_case(
            read_and_import,
            success=lambda r: f"Imported {kind} into {code}: {r.added} added, {r.updated} updated.",
            on_refusal=lambda exc: row_report(exc, f"{kind}_errors"),
        )


def row_report(exc, key: str) -> None:
    """Every bad row of a refused batch, as a table."""
    if isinstance(exc, RowErrors):
        st.dataframe(pd.DataFrame([(str(r), f, p) for r, f, p in exc.errors], columns=["Row", "Field", "Problem"]),
                     hide_index=True, width="stretch", key=key)


def grid_fields(columns: dict, **audit: tuple[str, object]) -> list[drafts.Field]:
    """The grid's columns as the conflict panel names them (``audit``: column -> (the audit
    snapshot's key, how its value reads), for columns stored as ids)."""
    fields = []
    for name, config in columns.items():
        key, words = audit.get(name, (None, None))
        fields.append(drafts.Field(name, (config or {}).get("label") or name, audit=key, words=words))
    return fields


def register_grid(kind: str, table: pd.DataFrame, rows: list[grid.GridRow], columns: dict, save, *,
                  entity: str, label, fields: list) -> None:
    """A register as a grid: editable (with a Save button) for editors, read-only otherwise. The
    draft outlives someone else's save (``ui.grid.GridDraft``)."""
    if not editable:
        st.dataframe(table, column_config=columns, hide_index=True, width="stretch", key=f"{kind}_table")
        return
    draft = grid.GridDraft(f"{kind}_grid:{code}", table=table, rows=rows, entity=entity, fields=fields, label=label,
                           columns=[c for c in table.columns if c not in COMPUTED])
    key = draft.key
    deleting.offer(f"risks:{code}")  # the Undo of this browser's last deletion here
    st.data_editor(draft.table, column_config=columns, hide_index=True, width="stretch", key=key,
                   disabled=sorted(COMPUTED & set(table.columns)), num_rows="delete" if kind == "req" else "fixed")
    edits, deletions = draft.pending()
    waiting = len(edits) + len(deletions)

    def saved(r) -> str:
        deleting.remember(f"risks:{code}", r.deletion)
        return f"Saved {code}: {r.updated} row(s) changed" + (f", {r.deleted} deleted" if r.deleted else "") + "."

    def save_now() -> None:
        deleting.stop_asking()
        draft.save(save, success=saved, on_refusal=lambda exc: row_report(exc, f"{kind}_grid_errors"),
                   place=f"{kind}_save")

    draft.panel(apply=save_now)  # after a refused save: who changed which rows, where Save was
    left, right = st.columns([1, 3], vertical_alignment="center")
    if left.button("Save changes", key=f"{kind}_save", icon=":material/save:", type="primary",
                   disabled=not waiting or draft.conflict is not None,
                   help="Apply your draft on top of their versions, or discard it, above" if draft.conflict else None):
        if deletions:  # ask first, naming each requirement that goes
            deleting.ask("risks", key)
        else:
            with right:
                save_now()
    with right:
        feedback.flash_here(f"{kind}_save")  # what the save did, beside its button
    waiting_deletes = [d.key for d in deletions]
    right.caption((f"{waiting} unsaved change(s): Save checks every row and saves all or none."
                   + (f" Waiting to be deleted: {', '.join(access.literal(k) for k in waiting_deletes)}."
                      if draft.conflict is not None and waiting_deletes else ""))
                  if waiting else "Edit cells in place, then Save. Values outside their range are refused as you type.")
    if deletions and deleting.asking("risks", key):
        statements = dict(zip(table["number"], table["statement"])) if "statement" in table else {}
        listed = "\n".join(f"- {access.literal(d.key)} “{access.literal(str(statements.get(d.key, '')))}”"
                              for d in deletions)
        others = f" and save {len(edits)} other change(s)" if edits else ""
        n = undo.plural(len(deletions), "requirement")
        if deleting.confirm("risks", key, f"Delete {n} from {access.literal(code)}{others}?",
                            detail=f"{listed}\n\nYou can undo it afterwards.", key=f"{kind}_confirm",
                            button=f"Delete {n}" + (" and save" if edits else "")):
            save_now()


def risk_panel(s, items: list, states: dict) -> None:
    """One risk: its review state, its history, and the Review and Accept actions."""
    st.subheader("One risk", anchor=False)
    by_id = {r.id: r for r in items}
    chosen = st.selectbox("Risk", list(by_id), key="risk_pick",
                          format_func=lambda i: f"{by_id[i].title} ({by_id[i].status})")
    row = by_id[chosen]
    state = states[row.id]
    due = (f":{'red' if state.overdue else 'gray'}-badge[{'review overdue since' if state.overdue else 'next review'} "
           f"{state.next_review:%Y-%m-%d}] " if state.next_review is not None else ":gray-badge[closed: no review due] ")
    st.markdown(f"{due}:gray-badge[{state.grade.name}: review every {state.cadence_days} days] "
                f"Last reviewed {row.last_reviewed_at:%Y-%m-%d}.")
    if row.status == rules.RiskStatus.ACCEPTED:
        st.markdown(f"Accepted by **{row.accepted_by}** until **{row.accepted_until:%Y-%m-%d}**: {row.accepted_reason}")
    history = registers.risk_history(s, row.id)
    tables.show(pd.DataFrame({
        "When": [e.at.strftime("%Y-%m-%d %H:%M") for e in reversed(history)],
        "Who": [e.actor for e in reversed(history)],
        "What": [e.action for e in reversed(history)],
        "p(failure)": [e.p_failure for e in reversed(history)],
        "Value": [e.value for e in reversed(history)],
        "Risk": [round(e.p_failure * e.value, 3) for e in reversed(history)],
        "Status": [e.status for e in reversed(history)],
    }), key="risk_history")
    if not editable or row.status == rules.RiskStatus.CLOSED:
        return
    # The review and the acceptance judge the risk as the person saw it: saved with the version
    # the previous run showed (a click arrives in a new run), refused if someone changed it since.
    seen = context.version_seen(f"risk:{row.id}", row.version)
    act, accept = st.columns([1, 2])
    if act.button("Mark reviewed today", key="risk_review", icon=":material/task_alt:"):
        feedback.run_use_case(
            lambda: registers.review_risk(session=s, actor=context.actor(), code=code, risk_id=row.id,
                                          expected_version=seen),
            success=f"Reviewed {row.title!r}: next review in {state.cadence_days} days.")
    with accept.expander("Accept this risk", icon=":material/gavel:", expanded=draft_pending(row.id)):
        acceptance = drafts.Draft(
            f"accept:{row.id}", entity="risk", entity_id=row.id, version=row.version, what=f"the risk {row.title!r}",
            values={"reason": "", "until": days.today() + timedelta(days=90)},
            fields=[drafts.Field("reason", "Why is it accepted?", audit="accepted_reason"),
                    drafts.Field("until", "Accepted until", audit="accepted_until")],
            labels={name: config["label"] for name, config in RISK_GRID.items()})
        with st.form("accept_risk", border=False):
            reason = st.text_input("Why is it accepted?", key=acceptance.key("reason"))
            until = st.date_input("Accepted until", min_value=days.today() + timedelta(days=1),
                                  key=acceptance.key("until"), help="The acceptance stands to the end of this day (UTC)")
            acceptance.submit(
                "Accept risk",
                lambda version: registers.accept_risk(
                    session=s, actor=context.actor(), code=code, risk_id=row.id, expected_version=version,
                    reason=reason, until=days.last_instant(until)),
                success=f"Accepted {row.title!r} until {until:%Y-%m-%d}.", icon=":material/gavel:")


def draft_pending(risk_id: int) -> bool:
    """Whether the acceptance of ``risk_id`` was refused for someone else's change (its panel open)."""
    return bool((st.session_state.get(f"{drafts.STATE_PREFIX}accept:{risk_id}") or {}).get("conflict"))


with context.session() as s:
    policy = org_policy.current_policy(s)
    reqs = registers.requirements(s, code)
    items = registers.risks(s, code)
    asked_tab = (st.query_params.get("tab") or "").capitalize()
    matrix_tab, req_tab, risk_tab = st.tabs(["Matrix", "Requirements", "Risks"], key="risk_tab", on_change="rerun",
                                            default=asked_tab if asked_tab in ("Requirements", "Risks") else None)

    if matrix_tab.open:
        with matrix_tab:
            what = st.segmented_control("Count", ["Risks", "Requirements", "Both"], default="Risks", key="matrix_what")
            what = what or "Risks"
            counts = {}
            if what in ("Risks", "Both"):
                counts = registers.matrix_counts(s, code)
            if what in ("Requirements", "Both"):
                for cell, n in registers.matrix_counts(s, code, requirements_matrix=True).items():
                    counts[cell] = counts.get(cell, 0) + n

            def listing(pb: int, vb: int) -> list[dict]:
                listed = []
                if what in ("Risks", "Both"):
                    listed += [dict(r, kind="risk") for r in registers.cell_items(s, pb, vb, code)]
                if what in ("Requirements", "Both"):
                    listed += [dict(r, kind="requirement")
                               for r in registers.cell_items(s, pb, vb, code, requirements_matrix=True)]
                return listed

            risk_matrix.matrix(key="matrix", counts=counts, what=what, policy_days=policy.risk_review_days,
                               listing=listing, with_code=False,
                               empty="Nothing to count yet: add " + (what.lower() if what != "Both" else
                                                                     "requirements and risks")
                                     + " on their tabs, or import them from CSV.")

            st.subheader("Risk trend", anchor=False)
            split = st.segmented_control("Lines", ["Total", "Per category"], default="Total",
                                         key="trend_split") == "Per category"
            trend = analytics.risk_trend(registers.risk_events(s, code), by_category=split)
            marks = tables.level_events_frame(level_moves.history(s, code))
            plots.chart(charts.risk_trend(trend, marks, height=access.chart_height(320)) if not trend.empty else None,
                        key="risk_trend", icon=":material/show_chart:",
                        empty=f"No risk recorded for {code} yet: the trend starts with its first risk.")
            if not trend.empty:
                st.caption("Total open risk (the sum of p(failure) x value over risks not closed) after every "
                           "change, with the technology's level changes marked on the same time axis.")

    if req_tab.open:
        with req_tab:
            if reqs:
                table = pd.DataFrame([{
                    **{c: getattr(r, c) for c in registers.REQUIREMENT_COLUMNS},
                    "risk": round(rules.score(r.p_failure, r.value), 3),
                } for r in reqs])[list(REQUIREMENT_GRID)]
                register_grid("req", table, [grid.GridRow(r.number, r.version, r.id, r.id) for r in reqs],
                              REQUIREMENT_GRID,
                              lambda edits, deletions: registers.edit_requirements(
                                  session=s, actor=context.actor(), code=code, edits=edits, deletions=deletions),
                              entity="requirement", label=lambda number: f"requirement {number}",
                              fields=grid_fields(REQUIREMENT_GRID))
            else:
                st.info("No requirements yet.", icon=":material/checklist:")
            if not access.presenting():
                st.download_button("Download CSV", registers.export_requirements(s, code),
                                   file_name=f"{code}-requirements.csv", mime="text/csv", key="req_csv",
                                   icon=":material/download:")
            if editable:
                with st.form("add_requirement", border=True):
                    st.markdown("**Add a requirement**")
                    c1, c2, c3, c4 = st.columns([1, 1, 1, 1])
                    number = c1.text_input("Number", placeholder="1, 1.2 or 1.2.3", key="rq_number")
                    p = c2.text_input("p(failure)", placeholder="0.3 or 30%", key="rq_p")
                    value = c3.number_input("Value (1-10)", min_value=rules.VALUE_MIN, max_value=rules.VALUE_MAX, value=5, key="rq_value")
                    kind = c4.selectbox("Kind", [k.value for k in rules.Kind], index=None, key="rq_kind",
                                        placeholder="by level (research below 5)")
                    statement = st.text_area("Statement", key="rq_statement", height=68,
                                             placeholder="The model shall ...")
                    v1, v2 = st.columns(2)
                    vm = v1.text_input("Verification method", key="rq_vm")
                    vs = v1.selectbox("Verification status", VV, key="rq_vs")
                    am = v2.text_input("Validation method", key="rq_am")
                    as_ = v2.selectbox("Validation status", VV, key="rq_as")
                    if st.form_submit_button("Add requirement", icon=":material/add:"):
                        feedback.run_use_case(
                            lambda: registers.add_requirement(
                                session=s, actor=context.actor(), code=code, number=number, statement=statement,
                                p_failure=p, value=value, kind=kind, verification_method=vm,
                                verification_status=vs, validation_method=am, validation_status=as_),
                            success=lambda r: f"Added requirement {r.number} to {code}.",
                            reset={"rq_number": "", "rq_p": "", "rq_value": 5, "rq_statement": "", "rq_vm": "", "rq_am": ""},
                        )
                csv_import("requirements", registers.import_requirements, s)

    if risk_tab.open:
        with risk_tab:
            if items:
                states = registers.review_states(items, policy)
                numbers = {r.id: r.number for r in reqs}
                codes_by_id = known.code_of
                table = pd.DataFrame([{
                    **registers.risk_record(s, r, codes=codes_by_id, numbers=numbers),
                    "risk": round(rules.score(r.p_failure, r.value), 3),
                    "grade": states[r.id].grade.name,
                    "next_review": states[r.id].next_review.date() if states[r.id].next_review else None,
                    "overdue": states[r.id].overdue,
                } for r in items])[list(RISK_GRID)]
                titles = {str(r.id): r.title for r in items}
                register_grid("risk", table, [grid.GridRow(str(r.id), r.version, r.id, r.id) for r in items],
                              RISK_GRID,
                              lambda edits, _deletions: registers.edit_risks(
                                  session=s, actor=context.actor(), code=code, edits=edits),
                              entity="risk", label=lambda key: f"risk “{titles.get(key, key)}”",
                              fields=grid_fields(RISK_GRID, requirement=("requirement_id", numbers.get),
                                                 component=("component_id", codes_by_id.get)))
                risk_panel(s, items, states)
            else:
                st.info("No risks yet.", icon=":material/warning:")
            if not access.presenting():
                st.download_button("Download CSV", registers.export_risks(s, code), file_name=f"{code}-risks.csv",
                                   mime="text/csv", key="risk_csv", icon=":material/download:")
            if editable:
                with st.form("add_risk", border=True):
                    st.markdown("**Add a risk**")
                    c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
                    title = c1.text_input("Title", key="rk_title")
                    category = c2.selectbox("Category", [c.value for c in rules.Category], key="rk_category")
                    p = c3.text_input("p(failure)", placeholder="0.3 or 30%", key="rk_p")
                    value = c4.number_input("Value (1-10)", min_value=rules.VALUE_MIN, max_value=rules.VALUE_MAX, value=5, key="rk_value")
                    description = st.text_area("Description", key="rk_description", height=68)
                    m1, m2, m3 = st.columns([2, 1, 1])
                    mitigation = m1.text_input("Mitigation", key="rk_mitigation")
                    owner = m2.text_input("Owner", key="rk_owner")
                    requirement = m3.selectbox("Requirement", [r.number for r in reqs], index=None, key="rk_req",
                                               placeholder="(none)")
                    if st.form_submit_button("Add risk", icon=":material/add:"):
                        feedback.run_use_case(
                            lambda: registers.add_risk(
                                session=s, actor=context.actor(), code=code, title=title, category=category,
                                p_failure=p, value=value, description=description, mitigation=mitigation,
                                owner=owner, requirement=requirement),
                            success=lambda r: f"Added risk {r.title!r} to {code}.",
                            reset={"rk_title": "", "rk_p": "", "rk_value": 5, "rk_description": "", "rk_mitigation": "",
                                   "rk_owner": ""},
                        )
                csv_import("risks", registers.import_risks, s)
