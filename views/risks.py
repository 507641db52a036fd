"""Requirements & risks: a technology's two registers and their 5x5 risk matrix."""

import pandas as pd
import streamlit as st

from mltrl import charts
from mltrl import risk as rules
from mltrl.errors import RowErrors
from mltrl.permissions import Permission
from mltrl.services import risks as registers
from mltrl.ui import access, context, feedback

st.title("Requirements & risks")
feedback.show_flash()

frame = context.portfolio_frame()
codes = sorted(frame["code"].tolist())
names = dict(zip(frame["code"], frame["name"]))
if not codes:
    st.info("No technologies yet.", icon=":material/info:")
    st.stop()
code = context.pick_technology(codes, names, key="risk_code")
editable = access.can(Permission.EDIT) and not access.presenting()


def csv_import(kind: str, use_case, s) -> None:  # noqa: ANN001
    """Upload a CSV into a register: all or nothing, with every bad row listed."""
    upload = st.file_uploader(f"Import {kind} from CSV", type=["csv"], key=f"{kind}_upload",
                              help="Rows are added or updated (requirements by number, risks by title); one bad "
                                   "row refuses the whole file.")
    if st.button(f"Import {kind}", key=f"{kind}_import", icon=":material/upload:", disabled=upload is None):
        try:
            text = upload.getvalue().decode("utf-8")
        except UnicodeDecodeError:
            st.error("Please check **file**: the file is not UTF-8 text; nothing was imported.", icon=":material/block:")
            return

        def report(exc) -> None:  # noqa: ANN001
            if isinstance(exc, RowErrors):
                st.dataframe(pd.DataFrame(exc.errors, columns=["Row", "Field", "Problem"]), hide_index=True,
                             width="stretch", key=f"{kind}_errors")

        feedback.run_use_case(
            lambda: use_case(session=s, actor=context.actor(), code=code, text=text),
            success=lambda r: f"Imported {kind} into {code}: {r.added} added, {r.updated} updated.",
            on_refusal=report,
        )


with context.session() as s:
    reqs = registers.requirements(s, code)
    items = registers.risks(s, code)
    matrix_tab, req_tab, risk_tab = st.tabs(["Matrix", "Requirements", "Risks"], key="risk_tab", on_change="rerun")

    if matrix_tab.open:
        with matrix_tab:
            what = st.segmented_control("Count", ["Risks", "Requirements", "Both"], default="Risks", key="matrix_what")
            counts = {}
            if what in ("Risks", "Both"):
                counts = registers.matrix_counts(s, code)
            if what in ("Requirements", "Both"):
                for cell, n in registers.matrix_counts(s, code, requirements_matrix=True).items():
                    counts[cell] = counts.get(cell, 0) + n
            event = st.plotly_chart(charts.risk_matrix(counts, height=access.chart_height(420)), key="matrix",
                                    on_select="rerun", selection_mode="points", config={"displayModeBar": False})
            if not sum(counts.values()):
                st.info(f"Nothing to count yet: add {what.lower() if what != 'Both' else 'requirements and risks'} "
                        "on their tabs, or import them from CSV.", icon=":material/grid_on:")
            st.caption("Risks that are not closed; risk = p(failure) x value. Cell colour is the cell's grade: "
                       + ", ".join(f"{g.name} (score up to {g.max_score}, review every {g.review_days} days)"
                                   for g in rules.GRADES) + ". Select a cell to list what is in it.")
            points = event["selection"]["points"] if event else []
            cells = [(int(p["y"]), int(p["x"])) for p in points if "x" in p and "y" in p]
            if cells:
                pb, vb = cells[0]
                listed = []
                if what in ("Risks", "Both"):
                    listed += [dict(r, kind="risk") for r in registers.cell_items(s, pb, vb, code)]
                if what in ("Requirements", "Both"):
                    listed += [dict(r, kind="requirement") for r in registers.cell_items(s, pb, vb, code, requirements_matrix=True)]
                st.markdown(f"**Cell p(failure) {rules.P_BAND_LABELS[pb - 1]}, value {rules.VALUE_BAND_LABELS[vb - 1]}**: "
                            f"{len(listed)} item(s)")
                if listed:
                    st.dataframe(pd.DataFrame(listed)[["kind", "item", "p_failure", "value", "risk", "status"]],
                                 hide_index=True, width="stretch", key="cell_items")

    if req_tab.open:
        with req_tab:
            if reqs:
                st.dataframe(pd.DataFrame([{
                    "Number": r.number, "Kind": r.kind, "Statement": r.statement, "Level": r.level,
                    "Verification": f"{r.verification_status}" + (f" ({r.verification_method})" if r.verification_method else ""),
                    "Validation": f"{r.validation_status}" + (f" ({r.validation_method})" if r.validation_method else ""),
                    "p(failure)": r.p_failure, "Value": r.value, "Risk": round(r.p_failure * r.value, 3),
                } for r in reqs]), hide_index=True, width="stretch", key="req_table")
            else:
                st.info("No requirements yet.", icon=":material/checklist:")
            st.download_button("Download CSV", registers.export_requirements(s, code), file_name=f"{code}-requirements.csv",
                               mime="text/csv", key="req_csv", icon=":material/download:")
            if editable:
                with st.form("add_requirement", border=True):
                    st.markdown("**Add a requirement**")
                    c1, c2, c3, c4 = st.columns([1, 1, 1, 1])
                    number = c1.text_input("Number", placeholder="1, 1.2 or 1.2.3", key="rq_number")
                    p = c2.text_input("p(failure)", placeholder="0.3 or 30%", key="rq_p")
                    value = c3.number_input("Value (1-10)", min_value=1, max_value=10, value=5, key="rq_value")
                    kind = c4.selectbox("Kind", [k.value for k in rules.Kind], index=None, key="rq_kind",
                                        placeholder="by level (research below 5)")
                    statement = st.text_area("Statement", key="rq_statement", height=68,
                                             placeholder="The model shall ...")
                    v1, v2 = st.columns(2)
                    vm = v1.text_input("Verification method", key="rq_vm")
                    vs = v1.selectbox("Verification status", [v.value for v in rules.VVStatus], key="rq_vs")
                    am = v2.text_input("Validation method", key="rq_am")
                    as_ = v2.selectbox("Validation status", [v.value for v in rules.VVStatus], key="rq_as")
                    if st.form_submit_button("Add requirement", icon=":material/add:"):
                        feedback.run_use_case(
                            lambda: registers.add_requirement(
                                session=s, actor=context.actor(), code=code, number=number, statement=statement,
                                p_failure=p, value=value, kind=kind, verification_method=vm,
                                verification_status=vs, validation_method=am, validation_status=as_),
                            success=lambda r: f"Added requirement {r.number} to {code}.",
                            reset={"rq_number": "", "rq_p": "", "rq_statement": "", "rq_vm": "", "rq_am": ""},
                        )
                csv_import("requirements", registers.import_requirements, s)

    if risk_tab.open:
        with risk_tab:
            if items:
                st.dataframe(pd.DataFrame([{
                    "Title": r.title, "Category": r.category, "p(failure)": r.p_failure, "Value": r.value,
                    "Risk": round(r.p_failure * r.value, 3), "Grade": rules.grade_of(r.p_failure, r.value).name,
                    "Status": r.status, "Owner": r.owner,
                    "Next review": rules.next_review(r.last_reviewed_at, r.p_failure, r.value).date().isoformat(),
                    "Mitigation": r.mitigation,
                } for r in items]), hide_index=True, width="stretch", key="risk_table")
            else:
                st.info("No risks yet.", icon=":material/warning:")
            st.download_button("Download CSV", registers.export_risks(s, code), file_name=f"{code}-risks.csv",
                               mime="text/csv", key="risk_csv", icon=":material/download:")
            if editable:
                with st.form("add_risk", border=True):
                    st.markdown("**Add a risk**")
                    c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
                    title = c1.text_input("Title", key="rk_title")
                    category = c2.selectbox("Category", [c.value for c in rules.Category], key="rk_category")
                    p = c3.text_input("p(failure)", placeholder="0.3 or 30%", key="rk_p")
                    value = c4.number_input("Value (1-10)", min_value=1, max_value=10, value=5, key="rk_value")
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
                            reset={"rk_title": "", "rk_p": "", "rk_description": "", "rk_mitigation": "", "rk_owner": ""},
                        )
                csv_import("risks", registers.import_risks, s)
