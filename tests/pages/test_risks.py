"""The Requirements & risks page under AppTest: registers, adding with refusals, the matrix
toggle and cell selection."""

from __future__ import annotations

import html
import json

import pytest
from sqlmodel import func, select

from mltrl.models import Requirement, Risk
from mltrl.services import Actor, risks
from tests.factories import make_history, make_project

PAGE = "views/risks.py"
ANA = Actor("ana")


def _setup(session):
    make_project(session, "R02.1", "Mixed-variable BO")
    make_history(session, "R02.1", [("start", 4, None, "2026-01-05")])
    risks.add_requirement(session=session, actor=ANA, code="R02.1", number="1", statement="It shall optimise.",
                          p_failure=0.9, value=10)
    risks.add_risk(session=session, actor=ANA, code="R02.1", title="Drift", category="data", p_failure=0.5, value=8)
    risks.add_risk(session=session, actor=ANA, code="R02.1", title="Old", category="data", p_failure=0.5, value=8,
                   status="closed")


def _cells(at) -> list[list[str]]:
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return spec["data"][0]["text"]


def test_matrix_counts_open_risks_and_toggles_to_requirements(open_page, session):
    _setup(session)
    at = open_page(PAGE, code="R02.1")
    cells = _cells(at)
    assert cells[2][3] == "1"  # p band 3 (row), value band 4 (column): Drift; the closed one is not counted
    assert sum(int(n) for row in cells for n in row) == 1
    at.session_state["matrix_what"] = "Requirements"
    at.run()
    assert _cells(at)[4][4] == "1" and sum(int(n) for row in _cells(at) for n in row) == 1
    at.session_state["matrix_what"] = "Both"
    at.run()
    assert sum(int(n) for row in _cells(at) for n in row) == 2


def test_selecting_a_cell_lists_its_items(open_page, session):
    _setup(session)
    at = open_page(PAGE, code="R02.1")
    at.session_state["matrix"] = {"selection": {"points": [{"x": 4, "y": 3}], "point_indices": [], "box": [], "lasso": []}}
    at.run()
    listed = at.dataframe[0].value
    assert list(listed["item"]) == ["Drift"]
    assert "1 item(s)" in " ".join(m.value for m in at.markdown)


def test_add_requirement_and_risk_with_refusals(open_page, session):
    _setup(session)
    at = open_page(PAGE, code="R02.1")
    at.session_state["risk_tab"] = "Requirements"
    at.run()
    at.text_input(key="rq_number").input("1")
    at.text_input(key="rq_p").input("30%")
    at.text_area(key="rq_statement").input("Duplicate number.")
    next(b for b in at.button if b.label == "Add requirement").click().run()
    assert "number" in at.error[0].value and "already exists" in at.error[0].value
    at.text_input(key="rq_number").input("1.10")
    at.text_input(key="rq_p").input("130%")
    next(b for b in at.button if b.label == "Add requirement").click().run()
    assert "p_failure" in at.error[0].value and "0 to 1" in at.error[0].value
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Requirement)).one() == 1
    at.text_input(key="rq_p").input("30%")
    next(b for b in at.button if b.label == "Add requirement").click().run()
    assert at.success[0].value == "Added requirement 1.10 to R02.1."
    assert list(at.data_editor[0].value["number"]) == ["1", "1.10"]
    at.session_state["risk_tab"] = "Risks"
    at.run()
    at.text_input(key="rk_title").input("Sensor outage")
    at.text_input(key="rk_p").input("0.2")
    next(b for b in at.button if b.label == "Add risk").click().run()
    assert at.success[0].value == "Added risk 'Sensor outage' to R02.1."
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Risk)).one() == 3


def test_viewers_see_registers_without_forms(open_page, session, team):
    make_project(session, "R02.1", "x", actor=Actor("eve"))
    at = open_page(PAGE, signed_in="vic", code="R02.1")
    at.session_state["risk_tab"] = "Risks"
    at.run()
    assert "No risks yet." in at.info[0].value
    at.session_state["risk_tab"] = "Matrix"
    at.run()
    assert "Nothing to count yet" in at.info[0].value
    assert not [b for b in at.button if b.label == "Add risk"]


def test_csv_upload_is_all_or_nothing_with_every_bad_row_listed(open_page, session):
    _setup(session)
    at = open_page(PAGE, code="R02.1")
    at.session_state["risk_tab"] = "Requirements"
    at.run()
    bad = b"number,statement,p_failure,value\n2,fine,0.1,2\n3,bad,0.1,12\n4,,2,2\n"
    at.get("file_uploader")[0].set_value(("reqs.csv", bad, "text/csv")).run()
    next(b for b in at.button if b.label == "Import requirements").click().run()
    assert "nothing was imported" in at.error[0].value
    report = at.dataframe[-1].value
    assert list(zip(report["Row"], report["Field"])) == [("3", "value"), ("4", "statement")]
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Requirement)).one() == 1
    good = b"number,statement,p_failure,value\n2,fine,0.1,2\n1,Changed,0.9,10\n"
    at.get("file_uploader")[0].set_value(("reqs.csv", good, "text/csv")).run()
    next(b for b in at.button if b.label == "Import requirements").click().run()
    assert at.success[0].value == "Imported requirements into R02.1: 1 added, 1 updated."


def _editor(at, prefix: str):
    """The grid whose key starts with ``prefix`` (its key carries a fingerprint of its rows)."""
    return next(e for e in at.data_editor if e.key and e.key.startswith(prefix))


def _history(at):
    return next(d.value for d in at.dataframe if "What" in d.value.columns)


def _save(at) -> None:
    next(b for b in at.button if b.label == "Save changes").click().run()


def test_requirements_grid_saves_edits_and_deletions_and_refuses_a_bad_cell(open_page, session):
    _setup(session)
    risks.add_requirement(session=session, actor=ANA, code="R02.1", number="2", statement="Spare.", p_failure=0.1,
                          value=2)
    at = open_page(PAGE, code="R02.1")
    at.session_state["risk_tab"] = "Requirements"
    at.run()
    grid = _editor(at, "req_grid:R02.1")
    assert list(grid.value["number"]) == ["1", "2"] and grid.editing_mode == "delete"
    assert next(b for b in at.button if b.label == "Save changes").disabled
    # A value outside 1-10 (the grid's own check bypassed): refused by name, nothing written.
    at.session_state[grid.key] = {"edited_rows": {0: {"value": 11, "verification_status": "passed"}},
                                  "added_rows": [], "deleted_rows": [1]}
    at.run()
    assert "2 unsaved change(s)" in " ".join(c.value for c in at.caption)
    _save(at)  # a deletion is asked about first, naming the requirement
    shown = " ".join(html.unescape(m.value) for m in at.markdown)
    assert "Delete 1 requirement from R02.1 and save 1 other change(s)?" in shown and "- 2 “Spare.”" in shown
    assert at.button(key="req_confirm_yes").label == "Delete 1 requirement and save"
    at.button(key="req_confirm_yes").click().run()
    assert "requirement 1, value" in at.error[0].value and "nothing was saved" in at.error[0].value
    report = at.dataframe[-1].value
    assert list(zip(report["Row"], report["Field"])) == [("requirement 1", "value")]
    session.expire_all()
    assert [(r.number, r.value, r.verification_status) for r in risks.requirements(session, "R02.1")] == [
        ("1", 10, "not started"), ("2", 2, "not started")]
    at.session_state[grid.key] = {"edited_rows": {0: {"value": 7, "verification_status": "passed"}},
                                  "added_rows": [], "deleted_rows": [1]}
    at.run()
    _save(at)
    at.button(key="req_confirm_yes").click().run()
    assert at.success[0].value == "Saved R02.1: 1 row(s) changed, 1 deleted."
    session.expire_all()
    assert [(r.number, r.value, r.verification_status) for r in risks.requirements(session, "R02.1")] == [
        ("1", 7, "passed")]
    assert list(_editor(at, "req_grid:R02.1").value["value"]) == [7]
    # the person who deleted may undo it: the requirement comes back as it was, the edit stays
    assert "Deleted requirement 2 “Spare.” of R02.1." in " ".join(html.unescape(m.value) for m in at.markdown)
    at.button(key="undo_button").click().run()
    assert at.success[0].value == "Restored requirement 2 “Spare.” of R02.1."
    session.expire_all()
    assert [(r.number, r.value, r.statement) for r in risks.requirements(session, "R02.1")] == [
        ("1", 7, "It shall optimise."), ("2", 2, "Spare.")]


def test_risks_grid_edits_and_refuses_accepting_in_the_grid(open_page, session):
    _setup(session)
    at = open_page(PAGE, code="R02.1")
    at.session_state["risk_tab"] = "Risks"
    at.run()
    grid = _editor(at, "risk_grid:R02.1")
    assert list(grid.value["title"]) == ["Drift", "Old"] and grid.editing_mode == "fixed"
    at.session_state[grid.key] = {"edited_rows": {0: {"status": "accepted"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    _save(at)
    assert "risk 'Drift', status" in at.error[0].value
    at.session_state[grid.key] = {"edited_rows": {0: {"p_failure": 0.9, "owner": "ana"}}, "added_rows": [],
                                  "deleted_rows": []}
    at.run()
    _save(at)
    assert at.success[0].value == "Saved R02.1: 1 row(s) changed."
    session.expire_all()
    drift = risks.risks(session, "R02.1")[0]
    assert (drift.title, drift.p_failure, drift.owner) == ("Drift", 0.9, "ana")
    history = _history(at)
    assert list(history["What"]) == ["update", "create"] and list(history["p(failure)"]) == [0.9, 0.5]


def test_review_and_accept_a_risk(open_page, session):
    _setup(session)
    at = open_page(PAGE, code="R02.1")
    at.session_state["risk_tab"] = "Risks"
    at.run()
    assert at.selectbox(key="risk_pick").value == risks.risks(session, "R02.1")[0].id
    next(b for b in at.button if b.label == "Mark reviewed today").click().run()
    assert at.success[0].value.startswith("Reviewed 'Drift': next review in")
    drift_id = risks.risks(session, "R02.1")[0].id
    at.text_input(key=f"accept:{drift_id}:reason").input("")
    next(b for b in at.button if b.label == "Accept risk").click().run()
    assert "reason" in at.error[0].value
    session.expire_all()
    assert risks.risks(session, "R02.1")[0].status == "open"
    at.text_input(key=f"accept:{drift_id}:reason").input("Vendor contract covers it")
    next(b for b in at.button if b.label == "Accept risk").click().run()
    assert at.success[0].value.startswith("Accepted 'Drift' until")
    session.expire_all()
    drift = risks.risks(session, "R02.1")[0]
    assert (drift.status, drift.accepted_by, drift.accepted_reason) == ("accepted", "alice", "Vendor contract covers it")
    assert "Accepted by **alice**" in " ".join(m.value for m in at.markdown)
    assert list(_history(at)["What"]) == ["accept", "review", "create"]


def test_trend_chart_marks_level_changes(open_page, session):
    _setup(session)
    at = open_page(PAGE, code="R02.1")
    spec = json.loads(at.get("plotly_chart")[1].proto.spec)
    names = [t.get("name") for t in spec["data"]]
    assert names[0] == "Total" and "Start" in names
    assert spec["data"][0]["y"][-1] == 4.0  # Drift 0.5 x 8 open; Old closed from the start
    at.segmented_control(key="trend_split").set_value("Per category").run()
    spec = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert [t["name"] for t in spec["data"] if t.get("mode") == "lines"] == ["data"]


# --- issue 14: hostile uploads are named refusals, never tracebacks ------------------------------

HOSTILE_UPLOADS = [
    ("requirements", b"number,statement,p_failure,value\n2,fine,0.1,inf\n", "row 2, value"),
    ("requirements", b"number,statement,p_failure,value\n2,fine,1e309,2\n", "row 2, p_failure"),
    ("requirements", b"number,statement,p_failure,value\n2,nul\x00byte,0.1,2\n", "row 2, statement"),
    ("risks", b"title,category,p_failure,value\nx,data,0.1,2\ny,data,0.1," + b"9" * 140_000 + b"\n",
     "row 3, (row): a cell is longer than 128 KB"),
    ("risks", b"title,title,category,p_failure,value\na,b,data,0.1,2\n", "'title' appear more than once"),
    ("risks", b"title,category,p_failure,value\n\xff\xfe,data,0.1,2\n", "not UTF-8"),
]


def _upload(at, kind: str, data: bytes) -> None:
    at.session_state["risk_tab"] = "Requirements" if kind == "requirements" else "Risks"
    at.run()
    at.get("file_uploader")[0].set_value((f"{kind}.csv", data, "text/csv")).run()
    next(b for b in at.button if b.label == f"Import {kind}").click().run()


@pytest.mark.parametrize(("kind", "data", "words"), HOSTILE_UPLOADS, ids=lambda v: str(v)[:30])
def test_hostile_uploads_are_refused_by_name_and_write_nothing(open_page, session, engine, kind, data, words):
    from tests.factories import everything

    _setup(session)
    before = everything(engine)
    at = open_page(PAGE, code="R02.1")
    _upload(at, kind, data)
    assert not at.exception
    assert words in at.error[0].value and f"{kind} file" in at.error[0].value
    assert everything(engine) == before


def test_an_upload_over_the_limit_is_refused_before_it_is_read(open_page, session, engine, monkeypatch):
    from mltrl.domain import csvcells
    from tests.factories import everything

    _setup(session)
    before = everything(engine)
    monkeypatch.setattr(csvcells, "FILE_MAX_BYTES", 1000)

    def read(*_args):
        raise AssertionError("the upload was read before its size was checked")

    monkeypatch.setattr(csvcells, "decode", read)
    at = open_page(PAGE, code="R02.1")
    _upload(at, "risks", b"title,category,p_failure,value\n" + b"x,data,0.1,2\n" * 100)
    assert not at.exception
    assert "risks file" in at.error[0].value and "at most 0 MB is read" in at.error[0].value
    assert everything(engine) == before


def test_a_mac_csv_upload_with_cr_line_ends_imports(open_page, session):
    _setup(session)
    at = open_page(PAGE, code="R02.1")
    _upload(at, "requirements", b"number,statement,p_failure,value\r2,Mac line ends,0.1,2\r3,Third,0.2,4\r")
    assert at.success[0].value == "Imported requirements into R02.1: 2 added, 0 updated."
    session.expire_all()
    assert [r.statement for r in risks.requirements(session, "R02.1")][1:] == ["Mac line ends", "Third"]


def test_a_downloaded_register_with_an_accepted_risk_uploads_again(open_page, session):
    from mltrl.domain import days

    _setup(session)
    at = open_page(PAGE, code="R02.1")
    at.session_state["risk_tab"] = "Risks"
    at.run()
    drift_id = risks.risks(session, "R02.1")[0].id
    at.text_input(key=f"accept:{drift_id}:reason").input("=vendor covers it")
    next(b for b in at.button if b.label == "Accept risk").click().run()
    session.expire_all()
    drift = risks.risks(session, "R02.1")[0]
    until = at.date_input(key=f"accept:{drift_id}:until").value
    assert days.as_utc(drift.accepted_until) == days.last_instant(until)  # the whole day, to its last instant
    exported = risks.export_risks(session, "R02.1")
    assert "'=vendor covers it" in exported and until.isoformat() in exported
    _upload(at, "risks", exported.encode())
    assert at.success[0].value == "Imported risks into R02.1: 0 added, 2 updated."
    session.expire_all()
    assert risks.export_risks(session, "R02.1") == exported


# --- two people at one register: the draft is kept, the panel says who changed what ------------------


def _page_text(at) -> str:
    return html.unescape("\n".join(e.value for e in [*at.error, *at.markdown, *at.caption]))


def _edit(at, prefix: str, edited: dict, deleted: list | None = None) -> None:
    grid = _editor(at, prefix)
    at.session_state[grid.key] = {"edited_rows": edited, "added_rows": [], "deleted_rows": deleted or []}
    at.run()


def _requirements(session):
    session.expire_all()
    return [(r.number, r.statement, r.p_failure, r.value, r.version) for r in risks.requirements(session, "R02.1")]


def _stale_requirements(open_page, session):
    """Alice opens the requirements; Bob changes requirement 1; Alice edits requirements 1 and 2
    and saves. Returns her page and the registers before her save."""
    _setup(session)
    risks.add_requirement(session=session, actor=ANA, code="R02.1", number="2", statement="Spare.", p_failure=0.1,
                          value=2)
    at = open_page(PAGE, code="R02.1")
    at.session_state["risk_tab"] = "Requirements"
    at.run()
    risks.update_requirement(session=session, actor=Actor("bob"), code="R02.1", number="1", expected_version=1,
                             changes={"statement": "Bobs statement", "p_failure": 0.4})
    _edit(at, "req_grid:R02.1", {0: {"statement": "Alices statement", "value": 7}, 1: {"value": 3}})
    before = _requirements(session)
    _save(at)
    assert not at.exception, at.exception
    return at, before


def test_a_stale_requirement_keeps_the_grid_draft_and_applies_it_on_top(open_page, session):
    at, before = _stale_requirements(open_page, session)
    assert _requirements(session) == before  # nothing written
    text = _page_text(at)
    assert ("Not saved, to protect someone else's change: since you opened this grid, requirement 1 was changed "
            "(version 1 → 2). Nothing was saved." in text)
    assert "**bob** saved version 2 on" in text
    assert "Statement: “It shall optimise.” → “Bobs statement” · your draft: “Alices statement”" in text
    assert "p(failure): “0.9” → “0.4”" in text
    # Every edit is kept, laid over the rows as they are now (Bob's p(failure) shows).
    shown = _editor(at, "req_grid:R02.1").value
    assert list(shown["statement"]) == ["Alices statement", "Spare."]
    assert list(shown["value"]) == [7, 3] and list(shown["p_failure"]) == [0.4, 0.1]
    assert "2 unsaved change(s)" in text
    assert next(b for b in at.button if b.label == "Save changes").disabled
    next(b for b in at.button if b.label == "Apply my draft on top of version 2").click().run()
    assert at.success[0].value == "Saved R02.1: 2 row(s) changed."
    assert _requirements(session) == [("1", "Alices statement", 0.4, 7, 3), ("2", "Spare.", 0.1, 3, 2)]
    assert not any(b.label.startswith("Apply my draft") for b in at.button)


def test_discarding_a_stale_row_loads_theirs_and_keeps_the_other_edits(open_page, session):
    at, before = _stale_requirements(open_page, session)
    next(b for b in at.button if b.label == "Discard my draft and load version 2").click().run()
    assert not at.error and _requirements(session) == before
    shown = _editor(at, "req_grid:R02.1").value
    assert list(shown["statement"]) == ["Bobs statement", "Spare."] and list(shown["value"]) == [10, 3]
    assert "1 unsaved change(s)" in _page_text(at)
    _save(at)
    assert at.success[0].value == "Saved R02.1: 1 row(s) changed."
    assert _requirements(session) == [("1", "Bobs statement", 0.4, 10, 2), ("2", "Spare.", 0.1, 3, 2)]


def test_a_requirement_renumbered_meanwhile_is_met_as_a_change(open_page, session):
    _setup(session)
    at = open_page(PAGE, code="R02.1")
    at.session_state["risk_tab"] = "Requirements"
    at.run()
    risks.update_requirement(session=session, actor=Actor("bob"), code="R02.1", number="1", expected_version=1,
                             changes={"number": "1.1"})
    _edit(at, "req_grid:R02.1", {0: {"value": 4}})
    _save(at)
    assert "Number: “1” → “1.1”" in _page_text(at)
    assert list(_editor(at, "req_grid:R02.1").value["number"]) == ["1.1"]
    next(b for b in at.button if b.label == "Apply my draft on top of version 2").click().run()
    assert _requirements(session) == [("1.1", "It shall optimise.", 0.9, 4, 3)]


def test_a_stale_risk_keeps_the_grid_draft_and_names_the_other_person(open_page, session):
    _setup(session)
    at = open_page(PAGE, code="R02.1")
    at.session_state["risk_tab"] = "Risks"
    at.run()
    drift = risks.risks(session, "R02.1")[0]
    risks.update_risk(session=session, actor=Actor("bob", via="token ci-bot"), code="R02.1", risk_id=drift.id,
                      expected_version=drift.version, changes={"owner": "bob", "mitigation": "Retrain weekly"})
    _edit(at, "risk_grid:R02.1", {0: {"p_failure": 0.7, "owner": "ana"}})
    session.expire_all()
    version = risks.risks(session, "R02.1")[0].version
    _save(at)
    text = _page_text(at)
    assert "since you opened this grid, risk “Drift” was changed (version 1 → 2)" in text
    assert "**bob** (token ci-bot) saved version 2 on" in text
    assert "Owner: (empty) → “bob” · your draft: “ana”" in text and "Mitigation: (empty) → “Retrain weekly”" in text
    session.expire_all()
    assert risks.risks(session, "R02.1")[0].version == version  # nothing written
    next(b for b in at.button if b.label == "Apply my draft on top of version 2").click().run()
    assert at.success[0].value == "Saved R02.1: 1 row(s) changed."
    session.expire_all()
    drift = risks.risks(session, "R02.1")[0]
    assert (drift.p_failure, drift.owner, drift.mitigation) == (0.7, "ana", "Retrain weekly")


def test_a_grid_shows_someone_elses_save_when_nothing_was_typed(open_page, session):
    _setup(session)
    at = open_page(PAGE, code="R02.1")
    at.session_state["risk_tab"] = "Requirements"
    at.run()
    risks.update_requirement(session=session, actor=Actor("bob"), code="R02.1", number="1", expected_version=1,
                             changes={"statement": "Bobs statement"})
    at.run()
    assert list(_editor(at, "req_grid:R02.1").value["statement"]) == ["Bobs statement"]


def test_an_acceptance_of_a_risk_changed_meanwhile_keeps_the_reason(open_page, session):
    _setup(session)
    at = open_page(PAGE, code="R02.1")
    at.session_state["risk_tab"] = "Risks"
    at.run()
    drift = risks.risks(session, "R02.1")[0]
    risks.update_risk(session=session, actor=Actor("bob"), code="R02.1", risk_id=drift.id, expected_version=1,
                      changes={"p_failure": 0.9})
    at.text_input(key=f"accept:{drift.id}:reason").input("Vendor contract covers it")
    next(b for b in at.button if b.label == "Accept risk").click().run()
    session.expire_all()
    assert risks.risks(session, "R02.1")[0].status == "open"  # nothing written
    assert "**bob** saved version 2 on" in _page_text(at) and "p(failure): “0.5” → “0.9”" in _page_text(at)
    assert at.text_input(key=f"accept:{drift.id}:reason").value == "Vendor contract covers it"
    next(b for b in at.button if b.label == "Apply my draft on top of version 2").click().run()
    assert at.success[0].value.startswith("Accepted 'Drift' until")
    session.expire_all()
    drift = risks.risks(session, "R02.1")[0]
    assert (drift.status, drift.p_failure, drift.accepted_reason) == ("accepted", 0.9, "Vendor contract covers it")
    # Marking it reviewed after someone else changed it is refused once, then goes through.
    risks.update_risk(session=session, actor=Actor("bob"), code="R02.1", risk_id=drift.id,
                      expected_version=drift.version, changes={"owner": "bob"})
    next(b for b in at.button if b.label == "Mark reviewed today").click().run()
    assert "changed since you opened it" in at.error[0].value
    next(b for b in at.button if b.label == "Mark reviewed today").click().run()
    assert at.success[0].value.startswith("Reviewed 'Drift'")
