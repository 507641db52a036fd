"""Browser journeys over TRL cards: read, edit with a live preview, history, conflicts, export.

Cards come from ``data/demo_cards/*.md`` as loaded by ``mltrl demo load``: each demo card has two
revisions (a thinner first draft, then the full card "Debrief and caveats after the last level
change"), so the next save is revision 3. The journeys use different technologies so that each
one starts from the demo card whatever ran before it: P05.1 (Recycling sorter mobile app) for
edit, history and restore; P13.1 (CAMS meteor identification) for two people editing at once;
P14.2 (Demand forecaster v2) for the HTML export.

Every edit types Markdown with bold text, a ``#CODE`` cross-link and hostile HTML (a ``<script>``
and an ``<img onerror>``): the live preview, the card, the diff and the exported file must show
the Markdown rendered and never run the script or keep the handler.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Locator, Page, expect

from tests.e2e.conftest import (
    ARTIFACTS,
    act_as,
    new_page,
    open_app,
    shot,
    wait_for_app,
)
from tests.e2e.test_portfolio_journey import grid_cells

pytestmark = pytest.mark.e2e

# The hostile part of every edit: it must neither run nor survive as an element with a handler.
HOSTILE = ("<script>window.__xss = 'script'; alert('xss script')</script>\n\n"
           "<img src=x onerror=\"window.__xss = 'img'; alert('xss img')\">")


def edit(bold: str, code: str, words: str) -> str:
    """A paragraph to append to a section: **bold**, a #CODE cross-link, then the hostile HTML."""
    return f"\n\n**{bold}** {words}, see #{code}.\n\n{HOSTILE}\n"


# --- helpers ------------------------------------------------------------------------------------


def watch_dialogs(page: Page) -> list[str]:
    """Record (and dismiss) every alert/confirm/prompt the page opens: a script that ran."""
    seen: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return seen


@pytest.fixture
def second_page(browser: Browser) -> Iterator[Page]:
    """Another browser context: a second person, with their own Streamlit session."""
    yield from new_page(browser)


def open_card(page: Page, base_url: str, code: str) -> None:
    open_app(page, f"{base_url}/card?code={code}")
    expect(page.get_by_role("heading", name="TRL card", level=1, exact=True)).to_be_visible()


def open_tab(page: Page, name: str) -> Locator:
    """Click the tab ``name``; returns its panel."""
    tab = page.get_by_role("tab", name=name, exact=True)
    tab.click()
    wait_for_app(page)
    expect(tab).to_have_attribute("aria-selected", "true")
    return page.get_by_role("tabpanel", name=name)


def section_field(page: Page, heading: str) -> Locator:
    """The text area of a card section (its label is collapsed and equals the heading)."""
    return page.get_by_role("textbox", name=heading, exact=True)


def section_preview(page: Page, heading: str) -> Locator:
    """The live preview beside a section's text area: the second column of its row."""
    row = page.get_by_test_id("stHorizontalBlock").filter(has=section_field(page, heading))
    return row.get_by_test_id("stColumn").nth(1)


def type_at_end(page: Page, field: Locator, text: str) -> None:
    """Type ``text`` after what the field holds, then leave it with Tab (which commits it)."""
    field.click()
    field.press("Control+End")
    page.keyboard.type(text)
    field.press("Tab")
    wait_for_app(page)


def fill_summary(page: Page, text: str) -> None:
    field = page.get_by_role("textbox", name="Change summary (optional)")
    field.fill(text)
    field.press("Tab")
    wait_for_app(page)


def save_card(page: Page) -> None:
    page.get_by_role("button", name="Save card").click()
    wait_for_app(page)


def success(page: Page) -> Locator:
    return page.get_by_test_id("stAlertContentSuccess")


def still_on_tab(page: Page, name: str) -> None:
    """The open tab survives the reruns of a save, a flash message and a picker."""
    expect(page.get_by_role("tab", name=name, exact=True)).to_have_attribute("aria-selected", "true")


def choose_matching(page: Page, label: str, option: str | re.Pattern[str], *, tab: str) -> None:
    """Pick the option matching ``option`` in the selectbox labelled ``label`` on tab ``tab``."""
    box = page.get_by_role("combobox", name=label, exact=True)
    # Scroll first: a selectbox clicked while Playwright is still scrolling it into view closes
    # its dropdown again before the options are drawn.
    box.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    box.click()
    page.get_by_role("option", name=option).click()
    wait_for_app(page)
    still_on_tab(page, tab)


def assert_nothing_ran(page: Page, dialogs: list[str]) -> None:
    """No script of a card ran and no element kept an event handler."""
    expect(page.locator("img[onerror]")).to_have_count(0)
    expect(page.locator("[onerror], [onload], [onclick]")).to_have_count(0)
    assert page.evaluate("() => window.__xss") is None
    assert dialogs == []


# --- journeys -----------------------------------------------------------------------------------


def test_edit_preview_save_history_and_restore(app_server: str, page: Page) -> None:
    """Read P05.1's card, edit a section with a live preview, save it, compare and restore."""
    dialogs = watch_dialogs(page)

    # 1. The card page shows the demo card as a document.
    open_card(page, app_server, "P05.1")
    card = open_tab(page, "Card")
    expect(card.get_by_role("heading", name="Recycling sorter mobile app (P05.1) — TRL card, level 9")).to_be_visible()
    expect(card.get_by_text("Phone app that spots a household item", exact=False)).to_be_visible()
    expect(card.get_by_role("heading", name="Testing status")).to_be_visible()
    expect(card.get_by_text("Device-matrix CI on 14 phones", exact=False)).to_be_visible()
    expect(page.get_by_test_id("stCaptionContainer").filter(has_text="Revision 2, saved by")).to_be_visible()
    shot(page, "card")

    # 2. Edit one section; the preview beside it renders the Markdown and drops the hostile HTML.
    open_tab(page, "Edit")
    expect(page.get_by_text("Editing from revision 2.", exact=False)).to_be_visible()
    field = section_field(page, "Testing status")
    expect(field).to_have_value(re.compile(r"Device-matrix CI on 14 phones"))
    type_at_end(page, field, edit("Field sign-off", "P06.1", "by both launch cities in January"))
    expect(field).to_have_value(re.compile(r"\*\*Field sign-off\*\* by both launch cities"))
    preview = section_preview(page, "Testing status")
    bold = preview.locator("strong", has_text="Field sign-off")
    expect(bold).to_be_visible()
    bold.scroll_into_view_if_needed()  # the preview box scrolls; the new paragraph is at its end
    link = preview.get_by_role("link", name="#P06.1")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", re.compile(r"project\?code=P06\.1$"))
    expect(preview.get_by_text("by both launch cities in January", exact=False)).to_be_visible()
    expect(preview.locator("script")).to_have_count(0)
    expect(preview).not_to_contain_text("xss")
    assert_nothing_ran(page, dialogs)
    shot(page, "edit-preview")

    # 3. Save it with a change summary.
    fill_summary(page, "Field sign-off from both cities")
    save_card(page)
    expect(success(page)).to_contain_text("Saved the card of P05.1 as revision 3")
    expect(page.get_by_test_id("stCaptionContainer").filter(has_text="Revision 3, saved by e2e")).to_be_visible()
    still_on_tab(page, "Edit")
    expect(page.get_by_text("Editing from revision 3.", exact=False)).to_be_visible()
    shot(page, "saved")

    # The card now reads with the new paragraph rendered.
    card = open_tab(page, "Card")
    expect(card.locator("strong", has_text="Field sign-off")).to_be_visible()
    expect(card.get_by_role("link", name="#P06.1")).to_be_visible()
    assert_nothing_ran(page, dialogs)

    # 4. The history lists revision 3 with its summary; the diff shows the inserted words.
    open_tab(page, "History")
    expect(grid_cells(page).filter(has_text=re.compile(r"^Field sign-off from both cities$"))).to_have_count(1)
    expect(grid_cells(page).filter(has_text=re.compile(r"^Debrief and caveats after the last level change$"))).to_have_count(1)
    # By default the newest change is compared: revision 2 -> 3.
    expect(page.get_by_test_id("stCaptionContainer").filter(
        has_text="1 part(s) changed from revision 2 to 3")).to_be_visible()
    diff = page.locator(".card-diff")
    expect(diff.locator(".section", has_text="Testing status")).to_be_visible()
    expect(diff.locator("ins", has_text="sign-off**")).to_be_visible()
    expect(diff.locator("ins", has_text="January,")).to_be_visible()

    # Compare against the first draft instead: more parts changed.
    choose_matching(page, "From", re.compile(r"^revision 1 · "), tab="History")
    expect(page.get_by_test_id("stCaptionContainer").filter(
        has_text=re.compile(r"\d+ part\(s\) changed from revision 1 to 3"))).to_be_visible()
    expect(diff.locator(".section", has_text="Caveats, known edge cases, recommendations")).to_be_visible()
    shot(page, "history-diff")

    # Restore the full demo card (revision 2) as a new revision.
    choose_matching(page, "Revision to restore", re.compile(r"^revision 2 · "), tab="History")
    page.get_by_role("button", name="Restore as a new revision").click()
    wait_for_app(page)
    expect(success(page)).to_contain_text("Restored revision 2 of P05.1 as revision 4")
    open_tab(page, "History")
    expect(grid_cells(page).filter(has_text=re.compile(r"^Restored revision 2$"))).to_have_count(1)
    expect(grid_cells(page).filter(has_text=re.compile(r"^restore of 2$"))).to_have_count(1)
    shot(page, "restored")

    card = open_tab(page, "Card")
    expect(card.get_by_text("Device-matrix CI on 14 phones", exact=False)).to_be_visible()
    expect(card.locator("strong", has_text="Field sign-off")).to_have_count(0)

    assert_nothing_ran(page, dialogs)
    assert page.errors.unexpected() == []  # type: ignore[attr-defined]


def test_two_people_edit_the_same_card(app_server: str, page: Page, second_page: Page) -> None:
    """Ana and Ben open P13.1's editor at revision 2; Ana saves first; Ben's save is refused with
    the conflict panel, he merges her change by hand and saves on top of her revision."""
    ana, ben = page, second_page
    for pg, name in ((ana, "Ana"), (ben, "Ben")):
        open_card(pg, app_server, "P13.1")
        act_as(pg, name)
        open_tab(pg, "Edit")
        expect(pg.get_by_text("Editing from revision 2.", exact=False)).to_be_visible()

    # Ana saves revision 3.
    type_at_end(ana, section_field(ana, "Testing status"), edit("Southern stations", "P13.1", "re-tested in May"))
    fill_summary(ana, "May re-test of southern stations")
    save_card(ana)
    expect(success(ana)).to_contain_text("Saved the card of P13.1 as revision 3")

    # Ben, still on revision 2, edits another section and saves: refused.
    ben_words = "Also used to brief the portal moderators"
    type_at_end(ben, section_field(ben, "Intended use"), f"\n\n{ben_words}.")
    fill_summary(ben, "Portal moderators")
    save_card(ben)
    expect(success(ben)).to_have_count(0)
    # The refusal is drawn next to the Save button Ben just clicked, where he is looking.
    refusal = ben.get_by_test_id("stAlertContentError")
    expect(refusal).to_contain_text("Not saved, to protect someone else's change")
    expect(refusal).to_be_in_viewport()
    warning = ben.get_by_test_id("stAlertContentWarning")
    expect(warning).to_contain_text("Ana saved revision 3 (May re-test of southern stations) after you opened revision 2")
    expect(warning).to_contain_text("Your draft is still above")
    still_on_tab(ben, "Edit")
    conflict_diff = ben.locator(".card-diff")
    expect(conflict_diff.locator(".section", has_text="Testing status")).to_be_visible()
    expect(conflict_diff.locator("ins", has_text="re-tested")).to_be_visible()
    expect(section_field(ben, "Intended use")).to_have_value(re.compile(ben_words))
    shot(ben, "conflict")

    # Ben copies Ana's paragraph into his draft, says he merged, and saves on top of revision 3.
    type_at_end(ben, section_field(ben, "Testing status"), edit("Southern stations", "P13.1", "re-tested in May"))
    ben.get_by_role("button", name="Save my merged draft on top of revision 3").click()
    wait_for_app(ben)
    expect(success(ben)).to_contain_text("Saved the card of P13.1 as revision 4")
    expect(ben.get_by_test_id("stAlertContentWarning")).to_have_count(0)
    expect(ben.get_by_text("Editing from revision 4.", exact=False)).to_be_visible()

    # Both revisions are in the history, and the card holds both changes.
    open_tab(ben, "History")
    cells = grid_cells(ben)
    expect(cells.filter(has_text=re.compile(r"^May re-test of southern stations$"))).to_have_count(1)
    expect(cells.filter(has_text=re.compile(r"^Portal moderators$"))).to_have_count(1)
    expect(cells.filter(has_text=re.compile(r"^Ana$"))).to_have_count(1)
    expect(cells.filter(has_text=re.compile(r"^Ben$"))).to_have_count(1)
    shot(ben, "history-both")
    card = open_tab(ben, "Card")
    expect(card.locator("strong", has_text="Southern stations")).to_have_count(1)
    expect(card.get_by_text(ben_words, exact=False)).to_be_visible()

    for pg in (ana, ben):
        assert pg.errors.unexpected() == []  # type: ignore[attr-defined]


def download(page: Page, button: str, file_name: str) -> Path:
    """Press the card's download ``button``; the file, offered as ``file_name``, saved to the artifacts."""
    with page.expect_download() as download_info:
        page.get_by_role("button", name=re.compile(rf"{re.escape(button)}$")).click()
    got = download_info.value
    assert got.suggested_filename == file_name
    saved = ARTIFACTS / file_name
    got.save_as(saved)
    return saved


def test_html_export_in_a_browser(app_server: str, page: Page) -> None:
    """Download P14.2's card as HTML and read the file in the browser: a styled, inert document."""
    dialogs = watch_dialogs(page)
    open_card(page, app_server, "P14.2")
    open_tab(page, "Edit")
    type_at_end(page, section_field(page, "Caveats, known edge cases, recommendations"),
                edit("Holiday freeze", "P14.1", "applies to the fallback too"))
    fill_summary(page, "Holiday freeze note")
    save_card(page)
    expect(success(page)).to_contain_text("Saved the card of P14.2 as revision 3")

    saved = download(page, "HTML", "P14.2-card.html")
    text = saved.read_text(encoding="utf-8")
    assert "<script" not in text.lower()
    assert "onerror" not in text.lower()

    page.goto(saved.resolve().as_uri())
    title = "Demand forecaster v2 (temporal deep model) (P14.2) — TRL card, level 9"
    expect(page).to_have_title(title)
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Revision 3, saved by e2e on "))).to_be_visible()
    summary = page.locator("table.summary")
    expect(summary.get_by_role("row", name=re.compile(r"^Owner\(s\)"))).to_contain_text("Tomás Ferreira, Elena Marchetti")
    expect(summary.get_by_role("row", name=re.compile(r"^Current Level"))).to_contain_text("9")
    expect(summary.get_by_role("link", name="https://git.example.org/ml/demand-forecaster-v2")).to_be_visible()
    expect(page.get_by_text("Weekly store-by-product demand forecasts", exact=False)).to_be_visible()
    for heading in ("Top-level requirements", "Model / algorithm info", "Intended use", "Testing status",
                    "Data considerations", "Caveats, known edge cases, recommendations", "MLTRL stage debrief"):
        expect(page.get_by_role("heading", name=heading, level=3)).to_be_visible()
    expect(page.locator("strong", has_text="Holiday freeze")).to_be_visible()
    # Without MLTRL_BASE_URL the cross-reference is marked, not linked: a relative link would
    # point nowhere once the file leaves the dashboard.
    expect(page.locator("span.xref", has_text="#P14.1")).to_be_visible()
    expect(page.get_by_role("link", name="#P14.1")).to_have_count(0)
    assert_nothing_ran(page, dialogs)
    shot(page, "exported-html")

    assert page.errors.unexpected() == []  # type: ignore[attr-defined]


def test_hugging_face_model_card_download_and_import_in_a_browser(app_server: str, page: Page) -> None:
    """Download R10.1's card as a Hugging Face model card: YAML front matter with its level and the
    metrics of its evidence, then the card; upload the same file on the Import tab: a new revision
    of the same card, and no evidence recorded twice."""
    open_card(page, app_server, "R10.1")
    saved = download(page, "HF model card", "R10.1-README.md")
    text = saved.read_text(encoding="utf-8")
    front, body = text.split("\n---\n", 1)
    assert front.startswith("---\n") and "- mltrl-level-8" in front and "model-index:" in front
    assert "| Tech name (project ID) |" in body and "(R10.1) |" in body and "### Testing status" in body
    wait_for_app(page)

    panel = open_tab(page, "Import")
    expect(panel.get_by_text("or a Hugging Face model card", exact=False)).to_be_visible()
    panel.locator("input[type='file']").set_input_files(str(saved))
    expect(panel.get_by_text("R10.1-README.md")).to_be_visible()
    panel.get_by_role("button", name="Import card").click()
    wait_for_app(page)
    done = page.get_by_test_id("stAlertContentSuccess")
    # the metrics came from R10.1's own evidence: nothing is recorded again
    expect(done).to_have_text(re.compile(r"Imported the card into R10\.1 as revision 3\.$"))
    shot(page, "hf-card-imported")
    tldr = next(line for line in body.splitlines() if line.startswith("**TL;DR**")).split(" — ", 1)[1]
    open_tab(page, "Card")
    expect(page.get_by_text(re.compile(r"^Revision 3, saved by e2e on "))).to_be_visible()
    expect(page.get_by_text(tldr, exact=False)).to_be_visible()
