"""The Quarterly review page under AppTest: the roll-up and report card of a quarter judged as of a
past date (figures worked out by hand), key results with their statuses, a check-in and a note
recorded, an objective and a key result added (and bad input refused with nothing written), a copy
into the next quarter, and the three exports."""

from __future__ import annotations

import html
import json

import pytest
from sqlmodel import select

from mltrl.models import CheckIn, KeyResult, Objective
from mltrl.services import Actor, okrs
from tests.factories import everything, make_history, make_project

PAGE = "views/quarterly.py"
ANA = Actor("alice")


@pytest.fixture
def quarter(session) -> int:
    """2026-Q1: A reaches 5 on 02-10 (achieved); B reaches 5 on 01-15 and falls to 3 on 02-01 (achieved
    then lost); C sits at 4 (judged as of 2026-02-20)."""
    for code in "ABC":
        make_project(session, code, f"Technology {code}", owners=["ana"])
    make_history(session, "A", [("start", 3, None, "2025-10-01"), ("graduation", None, None, "2026-01-20"),
                                ("graduation", None, None, "2026-02-10")])
    make_history(session, "B", [("start", 4, None, "2025-10-01"), ("graduation", None, None, "2026-01-15"),
                                ("switchback", 3, "review", "2026-02-01")])
    make_history(session, "C", [("start", 4, None, "2025-12-01")])
    objective = okrs.add_objective(session=session, actor=ANA, quarter="2026-Q1", title="Ship the detectors",
                                   owner="ana")
    for code in "ABC":
        okrs.add_key_result(session=session, actor=ANA, objective_id=objective.id, code=code, target_level=5)
    return objective.id


def open_quarter(open_page, as_of="2026-02-20", **kw):
    at = open_page(PAGE, quarter="2026-Q1", **kw)
    at.date_input(key="qr_as_of").set_value(as_of).run()
    assert not at.exception, at.exception
    return at


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_roll_up_and_report_card_as_of_a_past_date(open_page, quarter):
    at = open_quarter(open_page)
    shown = metrics(at)
    assert shown["Achieved"] == "1" and shown["Achieved then lost"] == "1" and shown["Missed"] == "0"
    assert int(shown["On track"]) + int(shown["At risk"]) == 1  # C: depends on the forecast
    assert shown["Levels gained"] == "3" and shown["Levels given back"] == "2" and shown["Switchbacks"] == "1"
    assert "2026-Q1: 2026-01-01 to 2026-03-31 · as of 2026-02-20 23:59 UTC · 1 objective(s), 3 key result(s)." in [
        c.value for c in at.caption]
    burnup = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [t["name"] for t in burnup["data"]] == ["key results", "achieved"]
    # After the quarter, C has missed.
    at.date_input(key="qr_as_of").set_value("2026-04-10").run()
    assert metrics(at)["Missed"] == "1"


def test_key_results_take_a_check_in_and_a_note(open_page, session, quarter):
    at = open_quarter(open_page)
    at.session_state["qr_tab"] = "Key results"
    at.run()
    table = next(d.value for d in at.dataframe if "target" in d.value.columns)
    assert list(table["status"])[:2] == ["achieved", "achieved then lost"]
    assert list(table["target"])[:1] == ["≥ 5"] and str(table["due"].iloc[0])[:10] == "2026-03-31"
    kr = session.exec(select(KeyResult).order_by(KeyResult.id)).first()
    at.text_area(key=f"qr_ci_text_{kr.id}").input("Shipped to the line")
    at.slider(key=f"qr_ci_conf_{kr.id}").set_value(9)
    next(b for b in at.button if b.label == "Record check-in").click().run()
    assert at.success[0].value == "Check-in recorded on A reaches level ≥ 5 by 2026-03-31."
    check = session.exec(select(CheckIn)).one()
    assert (check.comment, check.confidence, check.author) == ("Shipped to the line", 9, "alice")
    # An empty check-in is refused, naming the field; nothing is written.
    at.session_state["qr_tab"] = "Key results"
    at.run()
    next(b for b in at.button if b.label == "Record check-in").click().run()
    assert "comment" in at.error[0].value
    session.expire_all()
    assert len(session.exec(select(CheckIn)).all()) == 1
    at.text_area(key=f"qr_kr:{kr.id}:note").input("Ahead of plan")
    at.text_input(key=f"qr_kr:{kr.id}:owner").input("bo")
    next(b for b in at.button if b.label == "Save key result").click().run()
    assert at.success[0].value == "Saved the key result A reaches level ≥ 5 by 2026-03-31."
    session.expire_all()
    assert (session.get(KeyResult, kr.id).note, session.get(KeyResult, kr.id).owner) == ("Ahead of plan", "bo")


def _text(at) -> str:
    return html.unescape("\n".join(e.value for e in [*at.error, *at.markdown, *at.caption]))


def _key_results_tab(open_page, session):
    at = open_quarter(open_page)
    at.session_state["qr_tab"] = "Key results"
    at.run()
    return at, session.exec(select(KeyResult).order_by(KeyResult.id)).first()


def test_a_key_result_changed_meanwhile_keeps_the_draft_and_applies_it_on_top(open_page, session, quarter):
    at, kr = _key_results_tab(open_page, session)
    okrs.edit_key_result(session=session, actor=Actor("bob"), key_result_id=kr.id, expected_version=1,
                         note="Bob's note", due="2026-03-15")
    at.text_area(key=f"qr_kr:{kr.id}:note").input("Alice's note")
    at.text_input(key=f"qr_kr:{kr.id}:owner").input("cy")
    before = everything(session.get_bind())
    next(b for b in at.button if b.label == "Save key result").click().run()
    assert not at.exception, at.exception
    assert everything(session.get_bind()) == before  # nothing written
    text = _text(at)
    assert "Not saved, to protect someone else's change: the key result A ≥ 5 changed since you opened it " \
           "(version 1 → 2)" in text
    assert "**bob** saved version 2 on" in text
    assert "By: “2026-03-31” → “2026-03-15”" in text
    assert "Review note: (empty) → “Bob's note” · your draft: “Alice's note”" in text
    assert at.text_area(key=f"qr_kr:{kr.id}:note").value == "Alice's note"
    assert at.text_input(key=f"qr_kr:{kr.id}:owner").value == "cy"
    assert str(at.date_input(key=f"qr_kr:{kr.id}:due").value) == "2026-03-15"  # Bob's date: Alice left it alone
    next(b for b in at.button if b.label == "Apply my draft on top of version 2").click().run()
    assert at.success[0].value == "Saved the key result A reaches level ≥ 5 by 2026-03-15."
    session.expire_all()
    saved = session.get(KeyResult, kr.id)
    assert (saved.note, saved.owner, str(saved.due), saved.version) == ("Alice's note", "cy", "2026-03-15", 3)


def test_discarding_a_key_result_draft_loads_theirs(open_page, session, quarter):
    at, kr = _key_results_tab(open_page, session)
    okrs.edit_key_result(session=session, actor=Actor("bob"), key_result_id=kr.id, expected_version=1,
                         note="Bob's note")
    at.text_area(key=f"qr_kr:{kr.id}:note").input("Alice's note")
    next(b for b in at.button if b.label == "Save key result").click().run()
    next(b for b in at.button if b.label == "Discard my draft and load version 2").click().run()
    assert at.text_area(key=f"qr_kr:{kr.id}:note").value == "Bob's note"
    session.expire_all()
    assert session.get(KeyResult, kr.id).note == "Bob's note"


def test_an_objective_renamed_meanwhile_keeps_the_draft(open_page, session, quarter):
    at = open_quarter(open_page)
    at.session_state["qr_tab"] = "Objectives"
    at.run()
    at.selectbox(key="qr_manage").set_value(quarter).run()
    assert at.text_input(key=f"qr_obj:{quarter}:title").value == "Ship the detectors"
    okrs.edit_objective(session=session, actor=Actor("bob"), objective_id=quarter, expected_version=1,
                        title="Ship all detectors")
    at.text_input(key=f"qr_obj:{quarter}:owner").input("cy")
    next(b for b in at.button if b.label == "Save objective").click().run()
    text = _text(at)
    assert "Objective: “Ship the detectors” → “Ship all detectors”" in text and "**bob**" in text
    assert at.text_input(key=f"qr_obj:{quarter}:owner").value == "cy"
    assert at.text_input(key=f"qr_obj:{quarter}:title").value == "Ship all detectors"
    session.expire_all()
    assert session.get(Objective, quarter).owner == "ana"  # nothing written
    next(b for b in at.button if b.label == "Apply my draft on top of version 2").click().run()
    assert at.success[0].value == "Saved the objective “Ship all detectors”."
    session.expire_all()
    assert (session.get(Objective, quarter).title, session.get(Objective, quarter).owner) == ("Ship all detectors", "cy")


def test_objectives_added_refused_and_copied(open_page, session, quarter):
    at = open_quarter(open_page)
    at.session_state["qr_tab"] = "Objectives"
    at.run()
    at.text_input(key="qr_obj_title").input("Grow the pipeline")
    at.text_input(key="qr_obj_owner").input("bo")
    next(b for b in at.button if b.label == "Add objective").click().run()
    assert at.success[0].value.endswith("added to 2026-Q1.")
    # A key result without a technology is refused; nothing is written.
    before = len(session.exec(select(KeyResult)).all())
    at.session_state["qr_tab"] = "Objectives"
    at.run()
    next(b for b in at.button if b.label == "Add key result").click().run()
    assert at.error and "code" in at.error[0].value.lower()
    session.expire_all()
    assert len(session.exec(select(KeyResult)).all()) == before
    at.selectbox(key="qr_kr_code").set_value("C")
    at.number_input(key="qr_kr_level").set_value(6)
    next(b for b in at.button if b.label == "Add key result").click().run()
    assert at.success[0].value.startswith("Key result")
    session.expire_all()
    assert len(session.exec(select(KeyResult)).all()) == before + 1
    at.session_state["qr_tab"] = "Objectives"
    at.run()
    assert at.selectbox(key="qr_manage").value is None  # nothing chosen: Copy and Delete wait
    assert at.button(key="qr_copy_none").disabled and at.button(key="qr_delete_none").disabled
    at.selectbox(key="qr_manage").set_value(quarter).run()
    next(b for b in at.button if b.key == f"qr_copy_{quarter}").click().run()
    assert at.success[0].value == "Copied “Ship the detectors” into 2026-Q2."
    session.expire_all()
    copy = session.exec(select(Objective).where(Objective.quarter == "2026-Q2")).one()
    assert copy.copied_from_id == quarter


def test_the_exports_and_a_viewer_cannot_edit(open_page, quarter):
    at = open_quarter(open_page)
    at.session_state["qr_tab"] = "Export"
    at.run()
    assert [b.label for b in at.get("download_button")] == ["Download HTML report", "Download Markdown",
                                                            "Download JSON"]
    assert any("# Quarterly readiness review 2026-Q1" in m.value or "Quarterly readiness review" in m.value
               for m in at.markdown)


def test_an_empty_quarter_says_what_to_do(open_page):
    at = open_page(PAGE, quarter="2026-Q1")
    assert "No key results in 2026-Q1 yet" in at.info[0].value


def test_as_of_a_day_counts_that_day_and_not_the_next(open_page, quarter):
    # A reaches 5 on 2026-02-10: as of 02-09 it has not, as of 02-10 it has.
    at = open_quarter(open_page, as_of="2026-02-09")
    assert metrics(at)["Achieved"] == "0"
    at.date_input(key="qr_as_of").set_value("2026-02-10").run()
    assert metrics(at)["Achieved"] == "1"


def _objectives_tab(at):
    at.session_state["qr_tab"] = "Objectives"
    at.run()
    assert not at.exception, at.exception
    return at


def _shown(at) -> str:
    """Every markdown text on the page, as a reader sees it (names are escaped as entities)."""
    return " ".join(html.unescape(m.value) for m in at.markdown)


def test_deleting_an_objective_asks_naming_what_goes_and_can_be_undone(open_page, session, engine, quarter):
    krs = session.exec(select(KeyResult).order_by(KeyResult.id)).all()
    for kr, comment in [(krs[0], "Shipped."), (krs[0], "Holding."), (krs[2], "Stuck on data.")]:
        okrs.check_in(session=session, actor=ANA, key_result_id=kr.id, comment=comment, confidence=6)
    okrs.add_objective(session=session, actor=ANA, quarter="2026-Q1", title="Main objective")
    before = {t: rows for t, rows in everything(engine).items() if t != "auditentry"}
    at = _objectives_tab(open_quarter(open_page))
    at.selectbox(key="qr_manage").set_value(quarter).run()
    at.button(key=f"qr_delete_{quarter}").click().run()
    question = "Delete the objective “Ship the detectors” with 3 key results and 3 check-ins?"
    assert question in _shown(at) and "Key results: A ≥ 5, B ≥ 5, C ≥ 5." in _shown(at)
    assert at.button(key="qr_confirm_yes").label == "Delete objective and 3 key results"
    # Cancel: nothing is deleted and the question goes
    at.button(key="qr_confirm_no").click().run()
    assert question not in _shown(at)
    session.expire_all()
    assert session.get(Objective, quarter) is not None

    at.button(key=f"qr_delete_{quarter}").click().run()
    at.button(key="qr_confirm_yes").click().run()
    assert not at.exception, at.exception
    session.expire_all()
    assert session.get(Objective, quarter) is None and session.exec(select(KeyResult)).all() == []
    assert at.selectbox(key="qr_manage").options == ["Main objective"]
    assert "Deleted objective “Ship the detectors” with 3 key results and 3 check-ins." in _shown(at)
    assert at.selectbox(key="qr_manage").value is None  # not one click from deleting another
    assert question not in _shown(at)

    at.button(key="undo_button").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value == "Restored objective “Ship the detectors” with 3 key results and 3 check-ins."
    assert {t: rows for t, rows in everything(engine).items() if t != "auditentry"} == before
    assert "Deleted objective" not in _shown(at)  # the offer is gone once used


def test_a_changed_objective_is_asked_about_again(open_page, session, quarter):
    at = _objectives_tab(open_quarter(open_page))
    at.selectbox(key="qr_manage").set_value(quarter).run()
    at.button(key=f"qr_delete_{quarter}").click().run()
    kr = session.exec(select(KeyResult)).first()
    okrs.check_in(session=session, actor=ANA, key_result_id=kr.id, comment="Meanwhile.", confidence=5)
    at.button(key="qr_confirm_yes").click().run()
    assert at.warning and "changed since you were asked" in at.warning[0].value
    session.expire_all()
    assert session.get(Objective, quarter) is not None
    assert "with 3 key results and 1 check-in?" in _shown(at)
