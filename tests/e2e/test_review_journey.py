"""Browser journeys through gated reviews (issue 7's proof): fill the checklist, open a review,
vote and graduate; a graduation refused at the level 5 gate, then let through by an admin's
override; a switchback decided at a review.

The module starts its own ``streamlit run`` server (``conftest.launch_server``) over a fresh SQLite
file holding the demo portfolio plus three technologies seeded through the services before the
server starts (single-user mode, so the acting user ``e2e`` holds every right, admin included):

* E2E.V1 at level 4 (Proof of concept) with a saved TRL card (revision 1), nothing scored;
* E2E.V2 at level 5 (ML capability) with an empty requirements register, so both level 5 gates
  block ("Every research requirement has passed verification and validation" and "Product
  requirements are drafted");
* E2E.V3 at level 6 (Application development), reached from level 3 by past graduations recorded
  without a review.

Level 4's exit checklist has seven criteria: six scored by hand, and the applied metrics scored from
evidence (a passing test report seeded for E2E.V1 counts 100%). Five scored 100% by hand, one 60%
and the evidence's 100% average 94%, over the 80% readiness threshold.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import (
    demo_server,
    open_app,
    shot,
    wait_for_app,
)
from tests.e2e.test_card_journey import open_tab, still_on_tab
from tests.e2e.test_portfolio_journey import grid, level_badge

pytestmark = pytest.mark.e2e

GRADUATE, GRADUATE_NAME = "E2E.V1", "Journey review graduation"
GATED, GATED_NAME = "E2E.V2", "Journey review blocked gate"
SWITCH, SWITCH_NAME = "E2E.V3", "Journey review switchback"
CARD_TLDR = "A proof of concept on real plant data, written before its level 4 review."
DEBRIEF = "The proof of concept ran on three plants' real data; the team wrote the applied metrics."
PANEL_GUEST = "Ana Ruiz"  # a panel member typed in (single-user mode has no accounts to pick from)
GATE_RESEARCH = "Every research requirement has passed verification and validation"
GATE_PRODUCT = "Product requirements are drafted"
LEVEL_4_SCORES = [100, 100, 100, 100, 100, 60]  # the six scored by hand; with the evidence's 100, average 94.3
EVIDENCE = "https://example.org/poc/results-table"


# --- server -------------------------------------------------------------------------------------


def _seed(url: str) -> None:
    """Register the three technologies through the services, on the database the server will open."""
    from mltrl.domain.cards import Card
    from mltrl.db import get_engine, session_scope
    from mltrl.services import Actor, cards, level_moves, projects, reviews

    actor = Actor("e2e")
    engine = get_engine(url)
    seeded = "Seeded by the review journey."
    try:
        with session_scope(engine) as session:
            projects.add_project(session=session, actor=actor, code=GRADUATE, name=GRADUATE_NAME, summary=seeded)
            level_moves.record_start(session=session, actor=actor, code=GRADUATE, level=4, note=seeded)
            cards.save_card(session=session, actor=actor, code=GRADUATE, card=Card(tldr=CARD_TLDR),
                            base_revision=0, summary="Before the level 4 review")
            reviews.add_evidence(session=session, actor=Actor("e2e", via="token ci"), code=GRADUATE, level=4,
                                 criterion="applied-metrics", kind="test-report", status="pass",
                                 title="Evaluation on three plants' data: 24 passed, 0 failed", source="GitLab CI")

            projects.add_project(session=session, actor=actor, code=GATED, name=GATED_NAME, summary=seeded)
            level_moves.record_start(session=session, actor=actor, code=GATED, level=5, note=seeded)

            projects.add_project(session=session, actor=actor, code=SWITCH, name=SWITCH_NAME, summary=seeded)
            level_moves.record_start(session=session, actor=actor, code=SWITCH, level=3, note=seeded,
                                     at=datetime(2024, 1, 10, tzinfo=UTC))
            for day in (datetime(2024, 5, 2, tzinfo=UTC), datetime(2024, 11, 20, tzinfo=UTC),
                        datetime(2025, 4, 8, tzinfo=UTC)):
                level_moves.graduate(session=session, actor=actor, code=SWITCH, at=day, note=seeded)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def review_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``streamlit run app.py`` over a fresh database: the demo, then the three technologies."""
    with demo_server(tmp_path_factory, "test_review_journey", seed=_seed) as base_url:
        yield base_url


# --- helpers ------------------------------------------------------------------------------------


def success(page: Page) -> Locator:
    """The text of the success message (its icon's ligature left out)."""
    return page.get_by_test_id("stAlertContentSuccess").get_by_test_id("stMarkdownContainer")


def error(page: Page) -> Locator:
    """The texts of the error messages (their icons' ligatures left out)."""
    return page.get_by_test_id("stAlertContentError").get_by_test_id("stMarkdownContainer")


def gate_box(page: Page, title: str) -> Locator:
    """The bordered box of the gate titled ``title`` on a review (its title is in bold)."""
    return page.get_by_test_id("stLayoutWrapper").filter(
        has=page.locator("strong", has_text=re.compile(rf"^{re.escape(title)}$"))).last


def markdown(page: Page, text: str | re.Pattern[str]) -> Locator:
    return page.get_by_test_id("stMarkdownContainer").filter(has_text=text)


def caption(page: Page, text: str | re.Pattern[str]) -> Locator:
    return page.get_by_test_id("stCaptionContainer").filter(has_text=text)


def readiness(page: Page) -> Locator:
    """The readiness line over the exit checklist: a badge, then the average against the threshold."""
    return markdown(page, "Exit criteria average")


def grid_with_column(page: Page, header: str) -> Locator:
    """The st.dataframe / st.data_editor with a column headed ``header`` (in its accessible mirror,
    which is hidden from the accessibility tree's visible part, hence the CSS locator)."""
    return page.get_by_test_id("stDataFrame").filter(
        has=page.locator("th[role='columnheader']", has_text=re.compile(rf"^{re.escape(header)}$")))


def checklist_grid(page: Page) -> Locator:
    """The hand-scored checklist: the grid showing each criterion's latest evidence (the scores
    from evidence, below it, have a Done % column too)."""
    return grid_with_column(page, "Latest evidence sent")


def grid_cell(table: Locator, column: int, row: int) -> Locator:
    """A cell of the grid's accessible mirror, by its column and row (0-based, no header)."""
    return table.get_by_test_id(f"glide-cell-{column}-{row}")


def after_run(page: Page, action: Callable[[], object]) -> None:
    """Do ``action``, which reruns the script, and wait for that run to finish (``wait_for_app``)."""
    action()
    wait_for_app(page)


def page_drawn(page: Page, last: Locator) -> None:
    """After going to another page: wait until its script drew ``last`` (an element near its end),
    then for the run to finish, so that nothing is clicked on a page still being drawn."""
    expect(last).to_be_visible()
    wait_for_app(page)


def select_cell(page: Page, table: Locator, row: int, right: int) -> None:
    """Click the first column of ``row`` on the grid's canvas, then move ``right`` columns with the
    arrow key, as a keyboard user does. Rows are 35 px, under a 35 px header (Streamlit's sizes)."""
    table.scroll_into_view_if_needed()
    box = table.locator("canvas").first.bounding_box()
    assert box is not None, "the grid has no canvas"
    page.mouse.click(box["x"] + 20, box["y"] + 35 * (row + 1) + 17)
    expect(grid_cell(table, 0, row)).to_have_attribute("aria-selected", "true")
    for _ in range(right):
        page.keyboard.press("ArrowRight")
    expect(grid_cell(table, right, row)).to_have_attribute("aria-selected", "true")


def type_into_cells(page: Page, table: Locator, values: list[str]) -> None:
    """From the selected cell down: Enter opens the cell's editor, the value is typed, Enter
    commits it and moves one row down. Every commit reruns the script."""
    editor = page.locator("input.gdg-input, textarea.gdg-input")
    for value in values:
        page.keyboard.press("Enter")
        expect(editor).to_be_visible()
        editor.fill(value)
        after_run(page, lambda: editor.press("Enter"))
        expect(editor).to_have_count(0)


def pick_options(page: Page, label: str, options: list[str], *, new: list[str] = ()) -> None:
    """Pick ``options`` in the multiselect ``label``, then type each of ``new`` (not offered yet)."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.scroll_into_view_if_needed()
    for option in options:
        box.click()
        page.get_by_role("option", name=option, exact=True).click()
    for name in new:
        box.click()
        box.fill(name)
        page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    for name in [*options, *new]:
        expect(page.get_by_test_id("stMultiSelect").filter(has=box).get_by_text(name, exact=True)).to_be_visible()


def choose_radio(page: Page, group: str, option: str, *, in_form: bool = False) -> None:
    """Choose ``option`` in the radio group ``group``; outside a form that reruns the script."""
    options = page.get_by_role("radiogroup", name=group)
    radio = options.get_by_role("radio", name=option, exact=True)
    # Streamlit's radio input is visually hidden behind its label: click the label's text.
    label = options.get_by_text(option, exact=True)
    if in_form or radio.is_checked():
        label.click()
    else:
        after_run(page, label.click)
    expect(radio).to_be_checked()


def click(page: Page, name: str) -> None:
    """Press the button ``name`` (a click scrolls it into view) and wait for the run it starts."""
    after_run(page, page.get_by_role("button", name=name, exact=True).click)


def open_review(page: Page, base_url: str, code: str, *, panel: list[str], new: list[str] = ()) -> int:
    """Open a review of ``code`` on the 'Open a review' tab; returns its number. The page goes on
    to the Review tab, showing the new review."""
    open_app(page, f"{base_url}/reviews?code={code}")
    expect(page.get_by_role("heading", name="Reviews", level=1)).to_be_visible()
    open_tab(page, "Open a review")
    expect(page.get_by_role("combobox", name="Technology")).to_have_value(re.compile(rf"^{re.escape(code)} · "))
    pick_options(page, "Panel members", panel, new=new)
    click(page, "Open review")
    message = success(page)
    expect(message).to_contain_text(re.compile(rf"Opened review \d+ of {re.escape(code)} at level \d\."))
    number = int(re.search(r"Opened review (\d+)", message.inner_text()).group(1))
    page_drawn(page, page.get_by_role("button", name="Decide"))
    still_on_tab(page, "Review")
    expect(page.get_by_role("combobox", name="Review", exact=True)).to_have_value(
        re.compile(rf"^#{number} · {re.escape(code)} at level \d$"))
    expect(page.get_by_role("heading", name=re.compile(rf"^Review {number} · {re.escape(code)} "))).to_be_visible()
    assert f"review={number}" in page.url
    return number


def decide(page: Page, note: str) -> None:
    """Write the decision's note and press Decide (the decision is already chosen)."""
    note_box = page.get_by_role("textbox", name="Note", exact=True)
    note_box.fill(note)
    after_run(page, lambda: note_box.press("Tab"))  # leaving the field commits it: a run
    click(page, "Decide")


def history_row(page: Page, review_cell: str) -> Locator:
    """The level history's row whose Review column reads ``review_cell`` (the grid lists newest first)."""
    table = grid_with_column(page, "Recorded by")
    return table.locator("tr[role='row']").filter(
        has=page.locator("td[role='gridcell']", has_text=re.compile(rf"^{re.escape(review_cell)}$")))


DAY = re.compile(r"^\d{4}-\d\d-\d\d$")
ANY = re.compile(r".*")


def expect_history_row(page: Page, review_cell: str, cells: list[str | re.Pattern[str]]) -> None:
    """The level history has one row whose Review column reads ``review_cell``, and its cells read
    ``cells``: From, To, Kind, Note (after its Date; the Review and Recorded by columns follow)."""
    row = history_row(page, review_cell)
    expect(row).to_have_count(1)
    expect(row.locator("td[role='gridcell']")).to_have_text([DAY, *cells, review_cell, "e2e"])


def open_project(page: Page, base_url: str, code: str) -> None:
    open_app(page, f"{base_url}/project?code={code}")
    page_drawn(page, page.get_by_role("button", name="Switch back"))
    expect(page.get_by_role("heading", name=re.compile(rf"^{re.escape(code)} · "), level=2)).to_be_visible()


def blocks_heading(page: Page, level: int) -> Locator:
    return page.get_by_role("heading", name=f"Why level {level}, and what blocks {level + 1}?")


# --- journeys -----------------------------------------------------------------------------------


def test_fill_the_checklist_open_a_review_vote_and_graduate(review_server: str, page: Page) -> None:
    # 1. The self-assessment: level 4's exit checklist, nothing scored yet.
    open_app(page, f"{review_server}/reviews?tab=checklist&code={GRADUATE}")
    expect(page.get_by_role("heading", name="Reviews", level=1)).to_be_visible()
    still_on_tab(page, "Checklist")
    expect(page.get_by_role("combobox", name="Technology")).to_have_value(f"{GRADUATE} · {GRADUATE_NAME}")
    expect(readiness(page)).to_have_text("not ready yet Exit criteria average 14% (ready at 80%), 1 of 7 scored.")
    table = checklist_grid(page)
    expect(grid(page, 0)).to_have_attribute("aria-rowcount", "7")  # the header and the six scored by hand
    expect(page.get_by_role("button", name="Save checklist")).to_be_disabled()

    # Score the seven criteria in the grid (column 1, Done %), and give the first its evidence
    # (column 2): the edits stay in the grid until saved.
    select_cell(page, table, 0, 1)
    type_into_cells(page, table, [str(p) for p in LEVEL_4_SCORES])
    select_cell(page, table, 0, 2)
    type_into_cells(page, table, [EVIDENCE])
    still_on_tab(page, "Checklist")
    for row, percent in enumerate(LEVEL_4_SCORES):
        expect(grid_cell(table, 1, row)).to_have_text(str(percent))
    expect(grid_cell(table, 2, 0)).to_have_text(EVIDENCE)
    expect(readiness(page)).to_contain_text("1 of 7 scored.")  # not saved yet: only the evidence's
    shot(page, "checklist-edited")

    click(page, "Save checklist")
    expect(success(page)).to_have_text(f"Saved 6 score(s) of level 4's checklist for {GRADUATE}.")
    still_on_tab(page, "Checklist")
    expect(readiness(page)).to_have_text("ready for review Exit criteria average 94% (ready at 80%), 7 of 7 scored.")
    table = checklist_grid(page)
    expect(grid_cell(table, 1, 5)).to_have_text("60")  # the saved scores, drawn again
    expect(grid_cell(table, 2, 0)).to_have_text(EVIDENCE)
    expect(page.get_by_role("button", name="Save checklist")).to_be_disabled()
    expect(page.get_by_text("Leaving level 4 has no gate beyond the review itself", exact=False)).to_be_visible()
    shot(page, "checklist-saved")

    # 2. Open a review with the acting user and a guest on the panel.
    number = open_review(page, review_server, GRADUATE, panel=["e2e"], new=[PANEL_GUEST])
    expect(readiness(page)).to_have_text("ready for review Exit criteria average 94% (ready at 80%), 7 of 7 scored.")
    expect(markdown(page, re.compile(r"^level 4 · Proof of concept open Opened by e2e on "))).to_be_visible()
    expect(page.get_by_text("No votes yet.")).to_be_visible()

    # 3. Vote.
    choose_radio(page, "Your vote", "graduate", in_form=True)
    comment = page.get_by_role("textbox", name="Comment", exact=True)
    comment.fill("Real data, applied metrics, a go decision: ready for application work.")
    comment.press("Tab")
    click(page, "Cast vote")
    expect(success(page)).to_have_text("Vote recorded: e2e votes graduate.")
    still_on_tab(page, "Review")
    votes = grid_with_column(page, "Panel member")
    expect(votes.locator("td[role='gridcell']").filter(has_text=re.compile(r"^e2e$"))).to_have_count(1)
    expect(votes.locator("td[role='gridcell']").filter(has_text=re.compile(r"^graduate$"))).to_have_count(1)
    expect(comment).to_have_value("")  # emptied for the next vote

    # 4. Decide: graduate.
    choose_radio(page, "Decision", "graduate")
    expect(page.get_by_text("Graduation is blocked by", exact=False)).to_have_count(0)
    shot(page, "review-before-decision")
    decide(page, "Graduated at the level 4 review.")
    expect(success(page)).to_have_text(
        f"Review {number} decided: graduate (level 4 → 5). Now write the stage debrief on the TRL card.")
    expect(markdown(page, re.compile(r"^Decided: graduate by e2e on \d{4}-\d\d-\d\d\. Graduated at the level 4 review\.$"))
           ).to_be_visible()
    expect(markdown(page, re.compile(r"^Level event: 4 → 5 \(graduation\) on \d{4}-\d\d-\d\d\.$"))).to_be_visible()
    debrief_link = page.get_by_role("link", name="Write the stage debrief of level 4 on the TRL card")
    expect(debrief_link).to_be_visible()
    expect(page.get_by_role("button", name="Decide")).to_have_count(0)
    shot(page, "review-graduated")

    # 5. The link opens the card's Edit tab: write the debrief of level 4 and save it.
    after_run(page, debrief_link.click)
    page_drawn(page, page.get_by_role("button", name="Save card"))
    expect(page.get_by_role("heading", name="TRL card", level=1, exact=True)).to_be_visible()
    still_on_tab(page, "Edit")
    expect(page.get_by_role("combobox", name="Technology")).to_have_value(f"{GRADUATE} · {GRADUATE_NAME}")
    expect(page.get_by_text("Editing from revision 1.", exact=False)).to_be_visible()
    accomplished = page.get_by_role("textbox", name="What was accomplished, and by whom?")
    expect(accomplished).to_be_visible()
    accomplished.fill(DEBRIEF)
    after_run(page, lambda: accomplished.press("Tab"))
    click(page, "Save card")
    expect(success(page)).to_have_text(f"Saved the card of {GRADUATE} as revision 2.")
    still_on_tab(page, "Edit")

    # 6. The card of level 4 is kept as it stood at the graduation (revision 1, without the debrief).
    open_tab(page, "Card")
    show = page.get_by_role("combobox", name="Show", exact=True)
    expect(show).to_have_value("Current card (level 5)")
    expect(page.get_by_text(DEBRIEF)).to_be_visible()
    show.scroll_into_view_if_needed()
    show.click()
    after_run(page, page.get_by_role(
        "option", name=re.compile(r"^Card of level 4, as it stood when it left on .* \(graduation to 5\)$")).click)
    expect(page.get_by_text("Frozen card of level 4: revision 1", exact=False)).to_be_visible()
    expect(page.get_by_text(CARD_TLDR)).to_be_visible()
    expect(page.get_by_text(DEBRIEF)).to_have_count(0)
    shot(page, "card-of-level-4")

    # 7. The Project page: level 5, and the graduation in the history names the review.
    open_project(page, review_server, GRADUATE)
    expect(level_badge(page)).to_have_text("Level 5 · ML capability")
    expect(blocks_heading(page, 5)).to_be_visible()
    expect_history_row(page, f"review {number}", ["4", "5", "graduation", "Graduated at the level 4 review."])
    # The seeded start, and only it, was recorded without a review.
    expect_history_row(page, "recorded without a review", ["—", "4", "start", ANY])
    shot(page, "project-history")
    assert page.errors.unexpected() == []  # type: ignore[attr-defined]


def test_a_blocked_gate_refuses_until_an_admin_overrides_it(review_server: str, page: Page) -> None:
    # 1. A review of a level 5 technology whose requirements register is empty: both gates block.
    number = open_review(page, review_server, GATED, panel=["e2e"])
    gates = [gate_box(page, title) for title in (GATE_RESEARCH, GATE_PRODUCT)]
    for gate in gates:
        expect(gate).to_contain_text("blocked")
        expect(gate).to_contain_text("the requirements register is empty")
        expect(gate).to_contain_text("What to do:")

    # 2. Choosing graduate says at once what blocks it.
    choose_radio(page, "Decision", "graduate")
    blocked = error(page).filter(has_text="Graduation is blocked by")
    expect(blocked).to_have_text(f"Graduation is blocked by gates: “{GATE_RESEARCH}” is not met (blocked); "
                                 f"“{GATE_PRODUCT}” is not met (blocked). See the gates above.")
    shot(page, "graduate-blocked")

    # 3. Deciding anyway is refused, naming the gates; nothing is recorded.
    decide(page, "Trying to graduate without the register.")
    refusal = error(page).filter(has_text="Not allowed")
    expect(refusal).to_contain_text("Not allowed: the gate(s) refuse this graduation:")
    expect(refusal).to_contain_text(GATE_RESEARCH)
    expect(refusal).to_contain_text("ask an admin to override with a justification")
    expect(success(page)).to_have_count(0)
    expect(page.get_by_role("button", name="Decide")).to_be_visible()  # still open
    shot(page, "graduate-refused")

    # 4. The Project page: still level 5, and what blocks 6 names the gates with what to do.
    open_project(page, review_server, GATED)
    expect(level_badge(page)).to_have_text("Level 5 · ML capability")
    expect(blocks_heading(page, 5)).to_be_visible()
    for title in (GATE_RESEARCH, GATE_PRODUCT):
        expect(markdown(page, re.compile(rf"^gate blocked {re.escape(title)}: the requirements register is empty"))
               ).to_be_visible()
    expect(page.get_by_role("link", name=f"Open review {number}")).to_be_visible()
    expect_history_row(page, "recorded without a review", ["—", "5", "start", ANY])
    expect(grid_with_column(page, "Recorded by").locator("table[role='grid']")).to_have_attribute(
        "aria-rowcount", "2")  # the header and the start: the refused graduation recorded nothing
    shot(page, "project-blocked")

    # 5. An admin overrides both gates, each with a justification (single-user mode: every right).
    after_run(page, page.get_by_role("link", name=f"Open review {number}").click)
    page_drawn(page, page.get_by_role("button", name="Decide"))
    still_on_tab(page, "Review")
    for title, why in ((GATE_RESEARCH, "Research V&V signed off on paper; the register is being migrated."),
                       (GATE_PRODUCT, "Product requirements live in the product team's tracker until Q3.")):
        gate = gate_box(page, title)
        gate.get_by_text("Override this gate (admin)").click()
        box = gate.get_by_role("textbox", name="Justification")
        expect(box).to_be_visible()
        box.fill(why)
        box.press("Tab")  # leave the field, as a person does, before pressing the form's button
        after_run(page, gate.get_by_role("button", name="Override", exact=True).click)
        expect(success(page)).to_have_text(f"Gate overridden: {title}.")
        gate = gate_box(page, title)
        expect(gate).to_contain_text("overridden")
        expect(gate).to_contain_text(re.compile(rf"Overridden by e2e on \d{{4}}-\d\d-\d\d: {re.escape(why)}"))
        expect(gate.get_by_text("Override this gate (admin)")).to_have_count(0)
    still_on_tab(page, "Review")

    # 6. Now graduate goes through.
    choose_radio(page, "Decision", "graduate")
    expect(error(page).filter(has_text="Graduation is blocked by")).to_have_count(0)
    shot(page, "gates-overridden")
    decide(page, "Graduated on the admin's overrides.")
    expect(success(page)).to_have_text(
        f"Review {number} decided: graduate (level 5 → 6). Now write the stage debrief on the TRL card.")
    # The decided review keeps the gates as they stood: overridden, not passed.
    for title in (GATE_RESEARCH, GATE_PRODUCT):
        expect(markdown(page, re.compile(rf"^overridden {re.escape(title)}$"))).to_be_visible()
    expect(caption(page, re.compile(rf"^Gates at the decision: {re.escape(GATE_RESEARCH)}: overridden; "
                                    rf"{re.escape(GATE_PRODUCT)}: overridden$"))).to_be_visible()
    shot(page, "graduated-on-override")

    open_project(page, review_server, GATED)
    expect(level_badge(page)).to_have_text("Level 6 · Application development")
    expect_history_row(page, f"review {number}", ["5", "6", "graduation", "Graduated on the admin's overrides."])
    assert page.errors.unexpected() == []  # type: ignore[attr-defined]


def test_a_switchback_decided_at_review(review_server: str, page: Page) -> None:
    number = open_review(page, review_server, SWITCH, panel=["e2e"])
    expect(page.get_by_text("Leaving level 6 has no gate beyond the review itself", exact=False)).to_be_visible()

    # A panel member votes to switch back.
    choose_radio(page, "Your vote", "switch back", in_form=True)
    comment = page.get_by_role("textbox", name="Comment", exact=True)
    comment.fill("The robustness tests failed on the new plant.")
    comment.press("Tab")
    click(page, "Cast vote")
    expect(success(page)).to_have_text("Vote recorded: e2e votes switch back.")

    # Decide: switch back to level 3, recorded as a review switchback.
    choose_radio(page, "Decision", "switch back")
    target = page.get_by_role("combobox", name="Switch back to level", exact=True)
    expect(target).to_have_value("5 · ML capability")  # the level just below, by default
    target.scroll_into_view_if_needed()
    target.click()
    after_run(page, page.get_by_role("option", name="3 · System development", exact=True).click)
    expect(target).to_have_value("3 · System development")
    expect(page.get_by_text("Recorded as a review switchback.")).to_be_visible()
    shot(page, "switchback-chosen")
    note = "Back to system development: the pipeline must be rebuilt for shifted data."
    decide(page, note)
    expect(success(page)).to_have_text(f"Review {number} decided: switch back (level 6 → 3).")
    expect(markdown(page, re.compile(rf"^Decided: switch back by e2e on \d{{4}}-\d\d-\d\d\. {re.escape(note)}$"))
           ).to_be_visible()
    expect(markdown(page, re.compile(r"^Level event: 6 → 3 \(switchback: review\) on \d{4}-\d\d-\d\d\.$"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Write the stage debrief"))).to_have_count(0)
    shot(page, "switchback-decided")

    # The Project page: level 3, the switchback of kind review linked to the review.
    open_project(page, review_server, SWITCH)
    expect(level_badge(page)).to_have_text("Level 3 · System development")
    expect_history_row(page, f"review {number}", ["6", "3", "review", note])
    # The seeded past: a start and three graduations, each recorded without a review.
    expect(history_row(page, "recorded without a review")).to_have_count(4)
    shot(page, "project-switchback")
    assert page.errors.unexpected() == []  # type: ignore[attr-defined]
