"""Browser journeys for issue 16's "no lost drafts": two people (two browser contexts, two
Streamlit sessions) edit the same record; the second save is refused, the second person's typing
stays, a panel beside the Save button says who changed what, and the draft is applied on top.

* The technology form (Project › Edit details): Bea saves a new summary; Al, who opened the form
  before, types a new name and owners and saves: refused; his name and owners stay, the summary
  becomes Bea's, the panel names Bea and the summary; "Apply my draft on top" saves both changes.
* The risks grid (Requirements & risks › Risks): Bea gives a risk an owner; Al, who opened the grid
  before, changes that risk's p(failure) and another risk's owner: refused, his edits kept over
  Bea's version; applied on top, the grid shows his p(failure) with her owner.

The module's server holds the demo plus E2E.D1, seeded through the services before it starts:
an owner, a summary and two risks (Sensor drift: p 0.5 x 8 = 4.0, listed first; Label noise: p 0.3
x 4 = 1.2).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import act_as, demo_server, new_page, open_app, shot, wait_for_app
from tests.e2e.test_card_journey import still_on_tab
from tests.e2e.test_review_journey import grid_cell, grid_with_column, select_cell, type_into_cells
from tests.e2e.test_risk_journey import number

pytestmark = pytest.mark.e2e

CODE, NAME = "E2E.D1", "Journey drafts"
SUMMARY = "Seeded by the drafts journey."
DRIFT, NOISE = "Sensor drift", "Label noise"
# The risks grid's columns, left to right (no row markers: its rows are fixed).
P_FAILURE, OWNER = 2, 7


def _seed(url: str) -> None:
    from mltrl.db import get_engine, session_scope
    from mltrl.services import Actor, level_moves, projects, risks

    actor = Actor("e2e")
    engine = get_engine(url)
    try:
        with session_scope(engine) as session:
            projects.add_project(session=session, actor=actor, code=CODE, name=NAME, summary=SUMMARY,
                                 owners=["Ann"])
            level_moves.record_start(session=session, actor=actor, code=CODE, level=4, note=SUMMARY)
            risks.add_risk(session=session, actor=actor, code=CODE, title=DRIFT, category="data", p_failure=0.5,
                           value=8)
            risks.add_risk(session=session, actor=actor, code=CODE, title=NOISE, category="data", p_failure=0.3,
                           value=4)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def drafts_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_server(tmp_path_factory, "test_drafts_journey", seed=_seed) as base_url:
        yield base_url


@pytest.fixture
def second_page(browser: Browser) -> Iterator[Page]:
    """Another browser context: a second person, with their own Streamlit session."""
    yield from new_page(browser)


# --- helpers ------------------------------------------------------------------------------------


def success(page: Page) -> Locator:
    return page.get_by_test_id("stAlertContentSuccess").get_by_test_id("stMarkdownContainer")


def refusal(page: Page) -> Locator:
    return page.get_by_test_id("stAlertContentError").get_by_test_id("stMarkdownContainer")


def details_form(page: Page) -> Locator:
    return page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name="Save details"))


def conflict_panel(page: Page) -> Locator:
    """The bordered panel beside the Save button that says who changed what."""
    return page.locator("[class*='st-key-'][class*='-conflict']")


def type_field(page: Page, form: Locator, label: str, text: str) -> None:
    field = form.get_by_label(label, exact=True)
    field.fill(text)
    field.press("Tab")  # inside a form nothing reruns until it is submitted


def click(page: Page, name: str) -> None:
    page.get_by_role("button", name=name).click()
    wait_for_app(page)


def open_details(page: Page, base_url: str, name: str) -> Locator:
    open_app(page, f"{base_url}/project?code={CODE}")
    act_as(page, name)
    page.get_by_role("tab", name="Edit details", exact=True).click()
    form = details_form(page)
    expect(form.get_by_label("Name", exact=True)).to_have_value(NAME)
    return form


# --- journeys -----------------------------------------------------------------------------------


def test_two_people_edit_a_technology(drafts_server: str, page: Page, second_page: Page) -> None:
    al, bea = page, second_page
    al_form = open_details(al, drafts_server, "Al")
    bea_form = open_details(bea, drafts_server, "Bea")

    # Bea saves a new summary.
    type_field(bea, bea_form, "Summary", "Bea's summary: runs on the line since May.")
    bea_form.get_by_role("button", name="Save details").click()
    wait_for_app(bea)
    expect(success(bea)).to_have_text(f"Saved {CODE}.")

    # Al, who opened the form before, types a new name and owners and saves: refused.
    type_field(al, al_form, "Name", "Al's drafts journey")
    type_field(al, al_form, "Owners", "Ann, Al")
    al_form.get_by_role("button", name="Save details").click()
    wait_for_app(al)
    expect(success(al)).to_have_count(0)
    panel = conflict_panel(al)
    expect(panel).to_be_visible()
    expect(refusal(al)).to_contain_text(f"Not saved, to protect someone else's change: {CODE} changed since you "
                                        "opened it (version 2 → 3). Nothing was overwritten.")
    expect(refusal(al)).to_be_in_viewport()  # beside the Save button he just clicked
    expect(panel).to_contain_text("What Bea changed:")
    expect(panel).to_contain_text(re.compile(r"Bea saved version 3 on \d{4}-\d\d-\d\d at \d\d:\d\d UTC"))
    expect(panel).to_contain_text(f"Summary: “{SUMMARY}” → “Bea's summary: runs on the line since May.”")
    expect(panel).to_contain_text("your changes to Name, Owners over their version")
    # His typing stays; the field he left alone shows Bea's summary.
    expect(al_form.get_by_label("Name", exact=True)).to_have_value("Al's drafts journey")
    expect(al_form.get_by_label("Owners", exact=True)).to_have_value("Ann, Al")
    expect(al_form.get_by_label("Summary", exact=True)).to_have_value("Bea's summary: runs on the line since May.")
    expect(al_form.get_by_role("button", name="Save details")).to_be_disabled()
    shot(al, "technology-conflict")

    click(al, "Apply my draft on top of version 3")
    expect(success(al)).to_have_text(f"Saved {CODE}.")
    expect(conflict_panel(al)).to_have_count(0)
    # The page shows the merged record: his name and owners, her summary.
    expect(al.get_by_role("heading", name=f"{CODE} · Al's drafts journey")).to_be_visible()
    expect(al.get_by_text("Owners: Ann, Al", exact=False)).to_be_visible()
    expect(al.get_by_role("paragraph").filter(has_text=re.compile(r"^Bea's summary: runs on the line since May\.$"))
           ).to_be_visible()
    shot(al, "technology-merged")

    # Bea, who typed nothing since, sees the merged record in her form once her page reruns.
    open_app(bea, f"{drafts_server}/project?code={CODE}")
    bea.get_by_role("tab", name="Edit details", exact=True).click()
    expect(details_form(bea).get_by_label("Owners", exact=True)).to_have_value("Ann, Al")
    for pg in (al, bea):
        assert pg.errors.unexpected() == []  # type: ignore[attr-defined]


def open_risks(page: Page, base_url: str, name: str) -> Locator:
    open_app(page, f"{base_url}/risks?code={CODE}&tab=Risks")
    act_as(page, name)
    still_on_tab(page, "Risks")
    table = grid_with_column(page, "Owner")
    expect(grid_cell(table, 0, 0)).to_have_text(DRIFT)
    return table


def test_two_people_edit_the_risks_grid(drafts_server: str, page: Page, second_page: Page) -> None:
    al, bea = page, second_page
    al_grid = open_risks(al, drafts_server, "Al")
    bea_grid = open_risks(bea, drafts_server, "Bea")

    # Bea gives Sensor drift an owner and saves.
    select_cell(bea, bea_grid, 0, OWNER)
    type_into_cells(bea, bea_grid, ["Bea Ops"])
    click(bea, "Save changes")
    expect(success(bea)).to_have_text(f"Saved {CODE}: 1 row(s) changed.")

    # Al, whose grid still shows it without one, raises its p(failure) and gives Label noise an owner.
    select_cell(al, al_grid, 0, P_FAILURE)
    type_into_cells(al, al_grid, ["0.7"])
    select_cell(al, al_grid, 1, OWNER)
    type_into_cells(al, al_grid, ["Al"])
    expect(al.get_by_text("2 unsaved change(s)", exact=False)).to_be_visible()
    click(al, "Save changes")
    expect(success(al)).to_have_count(0)
    panel = conflict_panel(al)
    expect(panel).to_be_visible()
    expect(refusal(al)).to_contain_text(f"since you opened this grid, risk “{DRIFT}” was changed (version 1 → 2). "
                                        "Nothing was saved.")
    expect(panel).to_contain_text(re.compile(r"Bea saved version 2 on \d{4}-\d\d-\d\d at \d\d:\d\d UTC"))
    expect(panel).to_contain_text("Owner: (empty) → “Bea Ops”")
    # Both of his edits are kept, over Bea's version of the row.
    table = grid_with_column(al, "Owner")
    expect(grid_cell(table, P_FAILURE, 0)).to_have_text(number("0.7"))
    expect(grid_cell(table, OWNER, 0)).to_have_text("Bea Ops")
    expect(grid_cell(table, OWNER, 1)).to_have_text("Al")
    shot(al, "grid-conflict")

    click(al, "Apply my draft on top of version 2")
    expect(success(al)).to_have_text(f"Saved {CODE}: 2 row(s) changed.")
    expect(conflict_panel(al)).to_have_count(0)
    table = grid_with_column(al, "Owner")
    expect(grid_cell(table, 0, 0)).to_have_text(DRIFT)
    expect(grid_cell(table, P_FAILURE, 0)).to_have_text(number("0.7"))
    expect(grid_cell(table, OWNER, 0)).to_have_text("Bea Ops")
    expect(grid_cell(table, OWNER, 1)).to_have_text("Al")
    shot(al, "grid-merged")
    for pg in (al, bea):
        assert pg.errors.unexpected() == []  # type: ignore[attr-defined]
