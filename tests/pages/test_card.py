"""The TRL card page under AppTest: read, prior level cards, edit with preview, save, history,
diff, restore, the conflict of two editors, refusals, roles and presentation mode."""

from __future__ import annotations

import re
from dataclasses import replace

from sqlmodel import func, select

from mltrl.domain.cards import Card
from mltrl.models import AuditEntry, CardRevision
from mltrl.services import Actor, cards, level_moves, reviews
from tests import demo_files
from tests.factories import make_history, make_project

PAGE = "views/card.py"
CARD = Card(owners=("Ana Ruiz",), reviewers=("Tom Berg",), tldr="Optimises mixed variables.",
            requirements="1. It shall optimise.", testing="Unit tests on the loop.")


def html(at) -> str:
    return "\n".join(h.proto.body for h in at.html)


def counts(session) -> tuple[int, int]:
    session.expire_all()
    return tuple(session.exec(select(func.count()).select_from(m)).one() for m in (CardRevision, AuditEntry))


def field(at, code: str, name: str, round_: int = 0):
    return at.text_area(key=f"cf_{code}_{round_}_{name}")


def click(at, key: str):
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def test_read_view_renders_the_demo_card_like_a_document(open_page, demo_db):
    at = open_page(PAGE, code="P05.1")
    body = html(at)
    assert "Phone app that spots a household item" in body
    assert "<th>Tech name (project ID)</th><td>Recycling sorter mobile app (P05.1)</td>" in body
    assert "<h3>Top-level requirements</h3>" in body and "MLTRL stage debrief" in body
    assert '<a class="xref" href="project?code=P06.1"' in body or "P06.1" in body
    badges = " ".join(m.value for m in at.markdown)
    assert "Level 9" in badges and "card up to date" in badges
    assert [t.label for t in at.tabs] == ["Card", "History", "Brief", "Edit", "Import"]


def test_the_card_downloads_as_markdown_html_and_a_hugging_face_model_card(open_page, demo_db):
    at = open_page(PAGE, code="P05.1")
    buttons = {b.proto.label: b.proto for b in at.get("download_button")}
    assert {"Markdown", "HTML", "HF model card"} <= buttons.keys()
    assert "README.md in the model's Hub repository" in buttons["HF model card"].help
    # the file is written only when the button is clicked: the page carries a deferred file of its own
    assert buttons["HF model card"].deferred_file_id not in ("", buttons["Markdown"].deferred_file_id)


def test_without_the_hf_extra_the_card_offers_no_model_card(open_page, demo_db, monkeypatch):
    monkeypatch.setattr("mltrl.domain.cards.hf.available", lambda: False)
    at = open_page(PAGE, code="P05.1")
    assert [b.proto.label for b in at.get("download_button")] == ["Markdown", "HTML"]


def test_prior_level_cards_can_be_shown(open_page, demo_db):
    at = open_page(PAGE, code="P05.1")
    show = at.selectbox(key="card_show")
    left = [at for at, step in demo_files.events("P05.1") if step["to"] == 9][-1]  # it last left level 8
    assert show.options[1].startswith(f"Card of level 8, as it stood when it left on {left:%Y-%m-%d}")
    show.set_value(8).run()
    body = html(at)
    assert "Frozen card of level 8" in body and "| Current Level" not in body
    assert "<th>Current Level</th><td>8</td>" in body


def test_a_technology_without_a_card_invites_writing_one(open_page, session):
    make_project(session, "R01.1", "Fresh idea")
    at = open_page(PAGE, code="R01.1")
    assert "Nobody has written this card yet" in at.info[0].value
    assert any("no card yet" in m.value for m in at.markdown)


def test_edit_preview_and_save_make_a_revision(open_page, session):
    make_project(session, "R01.1", "Optimiser", owners=["Ana Ruiz"])
    cards.save_card(session=session, actor=Actor("ana"), code="R01.1", card=CARD, base_revision=0)
    at = open_page(PAGE, code="R01.1", actor="tom", tab="edit")
    field(at, "R01.1", "testing").input("**Property tests** for #R01.1 and #R99.9; ask @ana.").run()
    preview = html(at)
    assert "<strong>Property tests</strong>" in preview
    assert '<a class="xref" href="project?code=R01.1"' in preview and "#R99.9 (unknown code)" in preview
    at.text_input(key="cf_R01.1_0_summary").input("tests section").run()
    click(at, "save_card")
    assert at.success[0].value == "Saved the card of R01.1 as revision 2."
    session.expire_all()
    latest = cards.revisions(session, "R01.1")[0]
    assert (latest.number, latest.author, latest.summary) == (2, "tom", "tests section")
    assert Card.from_dict(latest.content).testing.startswith("**Property tests**")
    # the editor starts afresh from the new revision
    assert "Editing from revision 2" in " ".join(c.value for c in at.caption)


def test_bad_input_names_the_field_and_writes_nothing(open_page, session):
    make_project(session, "R01.1", "Optimiser")
    at = open_page(PAGE, code="R01.1", tab="edit")
    before = counts(session)
    at.text_input(key="cf_R01.1_0_project_url").input("javascript:alert(1)").run()
    click(at, "save_card")
    assert "Main project page" in at.error[0].value and "http" in at.error[0].value
    field(at, "R01.1", "model").input("x" * (100 * 1024 + 10)).run()
    at.text_input(key="cf_R01.1_0_project_url").input("https://wiki.example.org").run()
    click(at, "save_card")
    assert "Model / algorithm info" in at.error[0].value and "100 KB" in at.error[0].value
    assert counts(session) == before


def test_the_second_editor_is_refused_then_merges_by_hand(open_page, session):
    make_project(session, "R01.1", "Optimiser", owners=["Ana Ruiz"])
    cards.save_card(session=session, actor=Actor("ana"), code="R01.1", card=CARD, base_revision=0)
    first = open_page(PAGE, code="R01.1", actor="ana", tab="edit")
    second = open_page(PAGE, code="R01.1", actor="tom", tab="edit")
    field(first, "R01.1", "tldr").input("Ana's TL;DR.").run()
    click(first, "save_card")
    assert "revision 2" in first.success[0].value
    field(second, "R01.1", "caveats").input("Tom's caveat.").run()
    before = counts(session)
    click(second, "save_card")
    assert counts(session) == before
    assert "Not saved, to protect someone else's change" in second.error[0].value
    warning = second.warning[0].value
    assert "**ana** saved revision 2" in warning and "after you opened revision 1" in warning
    assert "Ana&#x27;s TL;DR." in html(second) or "Ana's TL;DR." in html(second)  # their change, as a diff
    assert field(second, "R01.1", "caveats").value == "Tom's caveat."  # the draft is kept
    field(second, "R01.1", "tldr").input("Ana's TL;DR.").run()  # merged by hand
    click(second, "merge_done")  # saves on top of Ana's revision
    assert "revision 3" in second.success[0].value
    session.expire_all()
    latest = Card.from_dict(cards.revisions(session, "R01.1")[0].content)
    assert (latest.tldr, latest.caveats) == ("Ana's TL;DR.", "Tom's caveat.")
    assert [r.author for r in cards.revisions(session, "R01.1")] == ["tom", "ana", "ana"]


def test_history_compares_and_restores(open_page, session):
    make_project(session, "R01.1", "Optimiser", owners=["Ana Ruiz"])
    ana = Actor("ana")
    cards.save_card(session=session, actor=ana, code="R01.1", card=CARD, base_revision=0, summary="first")
    cards.save_card(session=session, actor=ana, code="R01.1", card=replace(CARD, tldr="Rewritten."), base_revision=1)
    at = open_page(PAGE, code="R01.1", tab="history")
    rows = at.dataframe[0].value
    assert list(rows["Revision"]) == [2, 1] and list(rows["Summary"]) == ["", "first"]
    assert "<del>Optimises mixed variables.</del><ins>Rewritten.</ins>" in html(at)
    at.selectbox(key="restore_number_2").set_value(1).run()
    click(at, "restore")
    assert at.success[0].value == "Restored revision 1 of R01.1 as revision 3."
    session.expire_all()
    assert cards.current_card(session, "R01.1").card.tldr == CARD.tldr


def test_level_change_makes_the_card_stale_on_the_page(open_page, session):
    make_project(session, "R01.1", "Optimiser")
    make_history(session, "R01.1", [("start", 2, None, "2026-01-05")])
    cards.save_card(session=session, actor=Actor("ana"), code="R01.1", card=CARD, base_revision=0)
    level_moves.graduate(session=session, actor=Actor("ana"), code="R01.1")
    at = open_page(PAGE, code="R01.1")
    assert any("card stale: not saved since the level changed" in m.value for m in at.markdown)


def test_brief_shows_level_tldr_and_requirements(open_page, demo_db):
    at = open_page(PAGE, code="R10.1", tab="brief")
    body = html(at)
    assert '<div class="trl-card brief">' in body
    assert "<th>Level</th><td>Level 8" in body and "<th>Next review</th><td>none scheduled</td>" in body
    assert at.get("download_button")


def test_viewers_read_but_cannot_edit(open_page, session, team):
    make_project(session, "R01.1", "Optimiser", actor=Actor("eve"))
    cards.save_card(session=session, actor=Actor("eve"), code="R01.1", card=CARD, base_revision=0)
    at = open_page(PAGE, signed_in="vic", code="R01.1")
    assert [t.label for t in at.tabs] == ["Card", "History", "Brief"]
    assert "Optimises mixed variables." in html(at)
    assert not [b for b in at.button if b.key in ("save_card", "restore")]
    assert "Read-only" in " ".join(c.value for c in at.caption)


def test_presentation_mode_is_read_only(open_page, demo_db):
    at = open_page(PAGE, code="P05.1", present="1")
    assert [t.label for t in at.tabs] == ["Card", "History", "Brief"]
    assert not [b for b in at.get("download_button") if b.proto.label in ("Markdown", "HTML", "HF model card")]
    assert "Phone app that spots a household item" in html(at)


UPLOAD = b"""# Optimiser card

| Summary info | Content, links |
| --- | --- |
| Tech name (project ID) | New optimiser (R05.1) |
| Current Level | 3 |
| Owner(s) | Li Wei |

**TL;DR** - Imported through the page.

### Intended use

Benchmarks only.
"""


def test_import_tab_uploads_a_card_that_creates_its_technology(open_page, session):
    make_project(session, "R01.1", "Optimiser")
    at = open_page(PAGE, code="R01.1", tab="import")
    at.get("file_uploader")[0].set_value(("card.md", UPLOAD, "text/markdown")).run()
    click(at, "import_card")
    assert at.success[0].value == "Imported the card into R05.1 as revision 1 (new technology)."
    session.expire_all()
    state = cards.current_card(session, "R05.1")
    assert (state.level, state.card.owners, state.card.tldr) == (3, ("Li Wei",), "Imported through the page.")


def test_import_tab_takes_a_hugging_face_model_card_and_its_metrics(open_page, session):
    make_project(session, "R01.1", "Optimiser")
    at = open_page(PAGE, code="R01.1", tab="import")
    model_card = (b"---\nmodel-index:\n- name: x\n  results:\n  - task: {type: t}\n"
                  b"    dataset: {type: d, name: Field trial}\n"
                  b"    metrics: [{type: recall, value: 0.88}]\n---\n" + UPLOAD)
    at.get("file_uploader")[0].set_value(("README.md", model_card, "text/markdown")).run()
    click(at, "import_card")
    assert at.success[0].value == ("Imported the card into R05.1 as revision 1 (new technology). "
                                   "Recorded 1 evidence record from its model-index.")
    session.expire_all()
    assert [r.metrics for r in reviews.evidence_of(session, "R05.1")] == [{"recall": 0.88}]


def test_import_tab_refuses_a_card_without_an_id_and_writes_nothing(open_page, session):
    make_project(session, "R01.1", "Optimiser")
    at = open_page(PAGE, code="R01.1", tab="import")
    before = counts(session)
    at.get("file_uploader")[0].set_value(("card.md", b"# Just a title\n\nSome text.\n", "text/markdown")).run()
    click(at, "import_card")
    assert "Tech name (project ID)" in at.error[0].value and "names no project ID" in at.error[0].value
    at.get("file_uploader")[0].set_value(("card.md", b"\xff\xfe bad", "text/markdown")).run()
    click(at, "import_card")
    assert "not UTF-8 text" in at.error[0].value
    assert counts(session) == before
    # importing into the open technology whatever the file names
    at.get("file_uploader")[0].set_value(("card.md", UPLOAD, "text/markdown")).run()
    at.checkbox(key="import_here").check().run()
    click(at, "import_card")
    assert at.success[0].value == "Imported the card into R01.1 as revision 1."


def test_prior_level_links_open_that_levels_card(open_page, demo_db):
    at = open_page(PAGE, code="P05.1")
    assert re.search(r'\(prior level cards: <a href="card\?code=P05\.1&amp;level=8"[^>]*>8</a>\)', html(at))
    linked = open_page(PAGE, code="P05.1", level="8")
    assert linked.selectbox(key="card_show").value == 8
    assert "Frozen card of level 8" in html(linked)


def test_the_card_lists_the_registers_top_level_requirements(open_page, demo_db):
    at = open_page(PAGE, code="P03.1")
    body = html(at)
    assert "In the requirements register" in body
    assert "1. Flag slide regions that a neuropathologist should look at first" in body
    assert "Sensitivity on tumour regions" not in body  # 1.1 is not top level


def test_an_overridden_gate_shows_apart_on_the_card(open_page, session):
    from mltrl.services import reviews

    make_project(session, "P08.1", "Flight ready")
    make_history(session, "P08.1", [("start", 8, None, "2026-01-05")])
    reviews.override_gate(session=session, actor=Actor("ana"), code="P08.1", level=8, gate="validation",
                          justification="Field trial")
    at = open_page(PAGE, code="P08.1")
    assert "gate overridden: Every requirement has passed validation, by ana" in " ".join(m.value for m in at.markdown)


def test_the_card_shows_the_levels_latest_test_evidence_under_testing_status(open_page, session):
    from mltrl.services import reviews

    make_project(session, "R02.1", "Mixed-variable BO")
    make_history(session, "R02.1", [("start", 4, None, "2026-01-05")])
    cards.save_card(session=session, actor=Actor("ana"), code="R02.1", card=CARD, base_revision=0)
    reviews.add_evidence(session=session, actor=Actor("ana"), code="R02.1", level=4, kind="test-report",
                         status="pass", title="Unit tests: 40 passed", source="GitLab CI", criterion="applied-metrics")
    reviews.add_evidence(session=session, actor=Actor("ana"), code="R02.1", level=4, kind="document", status="info",
                         title="Not a test")
    body = html(open_page(PAGE, code="R02.1"))
    testing = body[body.index("<h3>Testing status</h3>"):body.index("<h3>Data considerations</h3>")]
    assert "Unit tests on the loop." in testing and "Evidence sent for this level" in testing
    assert "pass: Unit tests: 40 passed (GitLab CI, " in testing and "for applied-metrics" in testing
    assert "Not a test" not in testing
