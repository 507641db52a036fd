"""The Project page under AppTest: reading a technology, and every form with its refusals."""

import html
import json

from sqlmodel import func, select

from mltrl.models import AuditEntry, LevelEvent, Project
from mltrl.services import Actor, level_moves, projects
from tests.factories import make_history, make_project

PAGE = "views/project.py"


def _counts(session):
    session.expire_all()
    return tuple(
        session.exec(select(func.count()).select_from(model)).one()
        for model in (Project, LevelEvent, AuditEntry)
    )


def _submit(at, label):
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception


def test_empty_database_offers_the_add_form(open_page, session):
    at = open_page(PAGE)
    assert "No technologies yet" in at.info[0].value
    at.text_input(key="add_first_code").input("R01.1")
    at.text_input(key="add_first_name").input("Mixed-variable BO")
    at.text_input(key="add_first_owners").input("Ada, Grace")
    _submit(at, "Add technology")
    assert at.success[0].value == "Added R01.1 · Mixed-variable BO."
    session.expire_all()
    view = projects.view_project(session, "R01.1")
    assert view.owners == ["Ada", "Grace"]
    assert view.project.created_by == "alice"


def test_add_form_refuses_a_bad_code_and_writes_nothing(open_page, session):
    at = open_page(PAGE)
    before = _counts(session)
    at.text_input(key="add_first_code").input("bad code!")
    at.text_input(key="add_first_name").input("Whatever")
    _submit(at, "Add technology")
    assert "code" in at.error[0].value and "not a valid code" in at.error[0].value
    assert _counts(session) == before


def test_demo_project_shows_components_history_and_chart(open_page, demo_db):
    at = open_page(PAGE, code="P05.1")
    assert at.header[0].value == "P05.1 · Recycling sorter mobile app"
    badges = at.markdown[0].value
    assert "Level 9 · Deployment" in badges and "system level 5" in badges
    components = at.dataframe[0].value
    assert list(components["Code"]) == [f"project?code={c}" for c in ("P06.1", "P07.1", "P08.1", "P09.1")]
    history = at.dataframe[1].value
    assert history["Kind"].iloc[-1] == "start" and "embedded" in set(history["Kind"])
    assert history["From"].iloc[-1] == "—"
    assert list(history["Date"]) == sorted(history["Date"], reverse=True)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = {trace.get("name") for trace in spec["data"]}
    assert {"Graduation", "Switchback: embedded"} <= names
    step = spec["data"][0]
    assert step["line"]["shape"] == "hv"


def test_start_then_graduate_through_the_forms(open_page, session):
    make_project(session, "R05.1", "Speech model")
    at = open_page(PAGE, code="R05.1")
    assert ":gray-badge[no level yet]" in at.markdown[0].value
    at.selectbox(key="start_level").set_value(3)
    at.text_input(key="start_note").input("entered at system development")
    _submit(at, "Record start")
    assert at.success[0].value == "R05.1 starts at level 3."
    assert "Level 3 · System development" in at.markdown[0].value

    at.text_input(key="graduate_note").input("proof of concept agreed")
    _submit(at, "Graduate")
    assert at.success[0].value == "R05.1 graduated to level 4."
    assert "Level 4 · Proof of concept" in at.markdown[0].value
    assert [e.to_level for e in level_moves.history(session, "R05.1")] == [3, 4]
    assert at.dataframe[0].value["To"].tolist() == [4, 3]  # newest first
    assert at.text_input(key="graduate_note").value == ""  # cleared after the success


def test_switchback_without_kind_on_a_plain_pair_is_refused(open_page, session):
    make_project(session, "R06.1")
    make_history(session, "R06.1", [("start", 2, None, "2024-01-01"), ("graduation", None, None, "2024-02-01")])
    at = open_page(PAGE, code="R06.1")
    before = _counts(session)
    at.selectbox(key="switchback_level").set_value(1)
    _submit(at, "Switch back")
    message = at.error[0].value
    assert "discovery" in message and "review" in message and "switchback-kind-required" in message
    assert _counts(session) == before
    assert "Level 3 · System development" in at.markdown[0].value


def test_embedded_switchback_is_implied_and_a_never_held_level_warns(open_page, session):
    make_project(session, "R07.1")
    make_history(session, "R07.1", [("start", 4, None, "2024-01-01")])
    at = open_page(PAGE, code="R07.1")
    at.selectbox(key="switchback_level").set_value(2)
    at.text_input(key="switchback_note").input("real data broke the model")
    _submit(at, "Switch back")
    assert at.success[0].value == "R07.1 switched back to level 2 (embedded)."
    assert "never held level 2" in at.warning[0].value


def test_graduate_is_disabled_at_level_nine(open_page, session):
    make_project(session, "P01.1")
    make_history(session, "P01.1", [("start", 9, None, "2024-01-01")])
    at = open_page(PAGE, code="P01.1")
    graduate = next(b for b in at.button if b.label == "Graduate")
    assert graduate.disabled
    assert any("level 9 is the highest level" in m.value for m in at.markdown)


def _details(at, code, field):
    """A widget of the Edit details form: its key never changes with the version."""
    key = f"details:{code}:{field}"
    kind = {"name": at.text_input, "owners": at.text_input, "summary": at.text_area,
            "status": at.selectbox, "parent": at.selectbox}[field]
    return kind(key=key)


def _panel(at, code):
    """The page's text as a person reads it (markdown, captions and errors; character references
    decoded): the conflict panel is part of it."""
    return html.unescape("\n".join(e.value for e in [*at.error, *at.markdown, *at.caption]))


def _stale_form(open_page, session, code):
    """Alice opens the form; Bob saves a new name and summary behind her back; Alice types a new
    name and owners and saves. Returns her page and the row counts before her save."""
    make_project(session, code, "Original name", owners=["Ann"], summary="First summary")
    at = open_page(PAGE, code=code)
    projects.update_project(session=session, actor=Actor("bob"), code=code, expected_version=1,
                            name="Bobs name", summary="Bobs summary")
    _details(at, code, "name").input("Alices name")
    _details(at, code, "owners").input("Ann, Alice")
    before = _counts(session)
    _submit(at, "Save details")
    return at, before


def test_a_stale_save_keeps_the_draft_and_says_who_changed_what(open_page, session):
    at, before = _stale_form(open_page, session, "R08.1")
    assert "Not saved, to protect someone else's change: R08.1 changed since you opened it (version 1 → 2)" \
        in html.unescape(at.error[0].value)
    assert _counts(session) == before  # nothing written
    session.expire_all()
    assert projects.get_project(session, "R08.1").name == "Bobs name"
    # The typed values stay; the field Alice left alone shows Bob's summary.
    assert _details(at, "R08.1", "name").value == "Alices name"
    assert _details(at, "R08.1", "owners").value == "Ann, Alice"
    assert _details(at, "R08.1", "summary").value == "Bobs summary"
    text = _panel(at, "R08.1")
    assert "**bob** saved version 2 on" in text
    assert "Name: “Original name” → “Bobs name” · your draft: “Alices name”" in text
    assert "Summary: “First summary” → “Bobs summary”" in text
    assert "- Owners:" not in text  # Bob left the owners alone
    assert "your changes to Name, Owners over their version" in text
    save = next(b for b in at.button if b.label == "Save details")
    assert save.disabled  # the choice is in the panel
    _submit(at, "Apply my draft on top of version 2")
    assert at.success[0].value == "Saved R08.1."
    session.expire_all()
    view = projects.view_project(session, "R08.1")
    assert (view.project.name, view.owners, view.project.summary) == ("Alices name", ["Ann", "Alice"], "Bobs summary")
    assert view.project.version == 3
    # The form starts afresh on the saved version, without the panel.
    assert _details(at, "R08.1", "name").value == "Alices name"
    assert not any(b.label.startswith("Apply my draft") for b in at.button)


def test_discarding_the_draft_loads_the_other_persons_version(open_page, session):
    at, before = _stale_form(open_page, session, "R12.1")
    _submit(at, "Discard my draft and load version 2")
    assert not at.error
    assert _counts(session) == before
    assert _details(at, "R12.1", "name").value == "Bobs name"
    assert _details(at, "R12.1", "owners").value == "Ann"
    assert not any(b.label.startswith("Apply my draft") for b in at.button)
    # Saving from there builds on Bob's version.
    _details(at, "R12.1", "owners").input("Ann, Carl")
    _submit(at, "Save details")
    assert at.success[0].value == "Saved R12.1."
    session.expire_all()
    view = projects.view_project(session, "R12.1")
    assert (view.project.name, view.owners) == ("Bobs name", ["Ann", "Carl"])


def test_the_form_shows_a_newer_version_when_nothing_was_typed(open_page, session):
    make_project(session, "R13.1", "Before", owners=["Ann"])
    make_project(session, "R14.1", "System")
    at = open_page(PAGE, code="R13.1")
    projects.update_project(session=session, actor=Actor("bob"), code="R13.1", expected_version=1,
                            name="After", parent_code="R14.1")
    at.run()
    assert _details(at, "R13.1", "name").value == "After"
    assert _details(at, "R13.1", "parent").value == "R14.1"
    _details(at, "R13.1", "status").set_value("paused")
    _submit(at, "Save details")
    assert at.success[0].value == "Saved R13.1."
    session.expire_all()
    assert projects.get_project(session, "R13.1").status == "paused"


def test_a_conflict_with_a_level_move_names_the_level(open_page, session):
    make_project(session, "R15.1", "Mover")
    at = open_page(PAGE, code="R15.1")
    level_moves.record_start(session=session, actor=Actor("bob", via="token ci-bot"), code="R15.1", level=2)
    _details(at, "R15.1", "name").input("Renamed")
    _submit(at, "Save details")
    text = _panel(at, "R15.1")
    assert "**bob** (token ci-bot) moved its level (version 2) on" in text
    assert "Level: (empty) → “2”" in text
    assert _details(at, "R15.1", "name").value == "Renamed"
    _submit(at, "Apply my draft on top of version 2")
    session.expire_all()
    project = projects.get_project(session, "R15.1")
    assert (project.name, project.level) == ("Renamed", 2)


def test_another_refusal_keeps_the_draft_without_a_panel(open_page, session):
    make_project(session, "R16.1", "Kept")
    at = open_page(PAGE, code="R16.1")
    _details(at, "R16.1", "name").input("   ")
    _details(at, "R16.1", "owners").input("Zed")
    _submit(at, "Save details")
    assert "name" in at.error[0].value.lower()
    assert _details(at, "R16.1", "owners").value == "Zed"
    assert not any(b.label.startswith("Apply my draft") for b in at.button)


def test_edit_details_saves_and_records_the_actor(open_page, session):
    make_project(session, "R09.1", "Old", owners=["Ann"])
    make_project(session, "R10.1", "System")
    at = open_page(PAGE, code="R09.1", actor="carol")
    _details(at, "R09.1", "name").input("New name")
    _details(at, "R09.1", "parent").set_value("R10.1")
    _details(at, "R09.1", "status").set_value("paused")
    _submit(at, "Save details")
    assert at.success[0].value == "Saved R09.1."
    session.expire_all()
    view = projects.view_project(session, "R09.1")
    assert (view.project.name, view.parent_code, view.project.status) == ("New name", "R10.1", "paused")
    session.expire_all()
    last = session.exec(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (last.actor, last.action, last.before["name"], last.after["name"]) == ("carol", "update", "Old", "New name")


def test_graduating_from_a_stale_view_is_refused(open_page, session):
    make_project(session, "R11.1")
    make_history(session, "R11.1", [("start", 3, None, "2024-01-01")])
    at = open_page(PAGE, code="R11.1")
    assert "Level 3" in at.markdown[0].value
    # Bob graduates it while Alice looks at level 3.
    level_moves.graduate(session=session, actor=Actor("bob"), code="R11.1")
    before = _counts(session)
    _submit(at, "Graduate")
    assert "changed since you opened it" in at.error[0].value
    assert _counts(session) == before
    assert [e.to_level for e in level_moves.history(session, "R11.1")] == [3, 4]
    text = _panel(at, "R11.1")  # who moved it, beside the form
    assert "**bob** moved its level (version 3) on" in text and "Level: “3” → “4”" in text
    assert "If it still stands, press Graduate again" in text
    # Now that the page shows level 4, a graduation goes through, to 5.
    _submit(at, "Graduate")
    assert at.success[0].value == "R11.1 graduated to level 5."


def test_every_demo_project_renders(open_page, demo_db, session):
    """Each technology of the demo opens without an exception and shows its own header."""
    at = open_page(PAGE)
    for code in projects.project_codes(session):
        at.selectbox(key="project_code").set_value(code).run()
        assert not at.exception, (code, at.exception)
        assert at.header[0].value.startswith(f"{code} · ")


def test_project_page_shows_card_state_and_links_the_card(open_page, demo_db):
    at = open_page(PAGE, code="P03.1")
    badges = " ".join(m.value for m in at.markdown)
    assert "card stale: last saved" in badges
    link = at.get("page_link")[0]
    assert (link.proto.label, link.proto.page, link.proto.query_string) == ("Open the TRL card", "card", "code=P03.1")


def test_why_at_this_level_names_unmet_criteria_and_refusing_gates(open_page, session):
    from mltrl.services import reviews

    make_project(session, "R05.1", "At five")
    make_history(session, "R05.1", [("start", 5, None, "2026-01-05")])
    reviews.score_criterion(session=session, actor=Actor("ana"), code="R05.1", level=5,
                            key=reviews.standing(session, "R05.1").criteria[0].key, percent=100)
    at = open_page(PAGE, code="R05.1")
    text = " ".join(m.value for m in at.markdown)
    assert "Why level 5, and what blocks 6?" in [h.value for h in at.subheader]
    assert "gate blocked" in text and "register is empty" in text and "What to do:" in text
    assert "not ready yet" in text
    history = next(d.value for d in at.dataframe if "Review" in d.value)
    assert list(history["Review"]) == ["recorded without a review"]


def test_fork_and_deployed_change_from_the_project_page(open_page, session):
    make_project(session, "P09.1", "Deployed", owners=["Ana"])
    make_history(session, "P09.1", [("start", 9, None, "2026-01-05")])
    at = open_page(PAGE, code="P09.1")
    assert "review overdue since" in " ".join(m.value for m in at.markdown)
    at.text_input(key="fork_code").input("P09.2")
    at.text_input(key="fork_name").input("Regional variant")
    _submit(at, "Fork")
    assert at.success[0].value == "Forked P09.1 into P09.2 · Regional variant at level 9."
    session.expire_all()
    fork = projects.get_project(session, "P09.2")
    assert fork.level == 9 and fork.forked_from_id == projects.get_project(session, "P09.1").id
    at.text_input(key="deployed_change_note").input("New weights")
    _submit(at, "Record the change (9 → 7)")
    assert at.success[0].value == "P09.1 is back at level 7 for the change (embedded switchback)."
    session.expire_all()
    last = level_moves.history(session, "P09.1")[-1]
    assert (last.from_level, last.to_level, last.switchback_kind, last.note) == (9, 7, "embedded", "New weights")
    at = open_page(PAGE, code="P09.2")
    assert "Forked from:" in " ".join(m.value for m in at.markdown)


def test_the_panel_cuts_a_long_text_where_it_changed():
    from mltrl.ui.drafts import as_words, excerpts

    long = "Phone app that recognises and classifies household waste in real time. It chains several models " \
           "with user input and mixes real and synthetic images."
    was, now = (html.unescape(x) for x in excerpts(long, long + " Now also sorts glass."))
    assert (was, now) == ("“…real and synthetic images.”", "“…real and synthetic images. Now also sorts glass.”")
    was, now = (html.unescape(x) for x in excerpts(long, long.replace("household", "office")))
    assert "household waste" in was and "office waste" in now and was.startswith("“…") and was.endswith("…”")
    assert excerpts("short", "") == ("“short”", "(empty)")
    assert html.unescape(as_words(["Ann", "Bo"])) == "Ann, Bo" and as_words("2026-08-17T10:32:05+00:00") == \
        "2026-08-17 10:32 UTC"


def test_evidence_is_listed_and_named_beside_the_criterion_it_scores(open_page, session):
    from mltrl.services import reviews

    make_project(session, "R04.7", "At four")
    make_history(session, "R04.7", [("start", 4, None, "2026-01-05")])
    at = open_page(PAGE, code="R04.7")
    assert "No evidence for R04.7 yet." in " ".join(c.value for c in at.caption)
    reviews.add_evidence(session=session, actor=Actor("ci-bot", via="token pipeline"), code="R04.7", level=4,
                         criterion="applied-metrics", kind="test-report", status="fail", source="GitHub Actions",
                         title="Evaluation: 3 failed", metrics={"recall": 0.71}, url="https://ci.example.org/r/3")
    at = open_page(PAGE, code="R04.7")
    text = " ".join(m.value for m in at.markdown)
    assert "*Scored from evidence:* fail · Evaluation: 3 failed · " in text
    assert "Evidence" in [h.value for h in at.subheader]
    timeline = next(d.value for d in at.dataframe if "stale" in d.value.columns)  # the evidence timeline
    row = timeline.iloc[0]
    assert (row["for"], row["status"], row["kind"], row["metrics"], row["by"]) == (
        "applied-metrics", "fail", "Test report", "recall 0.71", "ci-bot (token pipeline)")
