"""Browser journeys over the demo portfolio: find a technology, open it, graduate it, get refused.

Codes and levels come from ``data/demo_portfolio.json`` as loaded by ``mltrl demo load``:
R10.1 (Etalumis) sits at level 8, Flight-ready, with 12 events in its history; R18.1 (factory
telemetry anomaly detector) sits at level 4, Proof of concept (graduated there at a demo review). The demo has 25 technologies.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import open_app, shot, wait_for_app

pytestmark = pytest.mark.e2e

DEMO_SIZE = 25
SHOWING = re.compile(r"Showing (\d+) of (\d+) technologies")


def showing_caption(page: Page) -> Locator:
    """The portfolio's 'Showing N of M technologies' caption."""
    return page.get_by_test_id("stCaptionContainer").filter(has_text=SHOWING)


def showing_counts(page: Page) -> tuple[int, int]:
    match = SHOWING.search(showing_caption(page).inner_text())
    assert match, "no 'Showing N of M technologies' caption"
    return int(match.group(1)), int(match.group(2))


def grid_cells(page: Page, nth: int = 0) -> Locator:
    """The cells of the nth st.dataframe: glide-data-grid draws on a canvas and mirrors the
    visible rows into an accessible table inside it, which is what a screen reader reads."""
    return page.get_by_test_id("stDataFrame").nth(nth).locator("td[role='gridcell']")


def grid(page: Page, nth: int = 0) -> Locator:
    """The accessible table of the nth st.dataframe; its aria-rowcount counts the header row."""
    return page.get_by_test_id("stDataFrame").nth(nth).locator("table[role='grid']")


def grid_row_count(page: Page, nth: int = 0) -> int:
    """Rows in the nth st.dataframe (the grid's aria-rowcount, minus its header row)."""
    return int(grid(page, nth).get_attribute("aria-rowcount")) - 1


def level_badge(page: Page) -> Locator:
    """The project header's level badge, e.g. 'Level 8 · Flight-ready'."""
    return page.get_by_test_id("stMarkdownContainer").get_by_text(re.compile(r"^Level \d · "))


_LEVEL_LINE_JS = """() => {
    const gd = document.querySelector("[data-testid='stPlotlyChart'] .js-plotly-plot");
    const line = gd && gd.data && gd.data.find(t => t.name === 'Level');
    return line ? Array.from(line.y, Number) : null;
}"""


def level_chart_levels(page: Page, *, length: int | None = None) -> list[int]:
    """The y values of the level chart's step line: one per event, then today's level.

    With ``length``, first wait until the redrawn chart has that many points.
    """
    if length is not None:
        page.wait_for_function(f"() => {{ const ys = ({_LEVEL_LINE_JS})(); return ys && ys.length === {length}; }}")
    ys = page.evaluate(_LEVEL_LINE_JS)
    assert ys is not None, "no level chart with a 'Level' line on the page"
    return ys


def choose(page: Page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label``."""
    page.get_by_test_id("stSelectbox").filter(has=page.get_by_text(label, exact=True)).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app(page)


def test_find_open_and_graduate_a_technology(app_server: str, page: Page) -> None:
    """A user finds Etalumis in the portfolio, opens it and graduates it from level 8 to 9."""
    # 1. The portfolio lists the whole demo.
    open_app(page, f"{app_server}/")
    expect(page.get_by_role("heading", name="Portfolio", level=1)).to_be_visible()
    expect(showing_caption(page)).to_have_text(re.compile(rf"Showing {DEMO_SIZE} of {DEMO_SIZE} technologies"))
    expect(grid_cells(page).filter(has_text=re.compile(r"^CAMS meteor identification$"))).to_have_count(1)
    assert grid_row_count(page) == DEMO_SIZE
    shot(page, "portfolio")

    # 2. Searching narrows the table and the 'Open a technology' choices.
    search = page.get_by_role("textbox", name="Search", exact=True)
    search.fill("Etalumis")
    search.press("Enter")
    wait_for_app(page)
    expect(showing_caption(page)).not_to_have_text(re.compile(rf"Showing {DEMO_SIZE} of"))
    shown, total = showing_counts(page)
    assert total == DEMO_SIZE
    assert 1 <= shown < DEMO_SIZE
    expect(grid(page)).to_have_attribute("aria-rowcount", str(shown + 1))
    expect(grid_cells(page).filter(has_text="CAMS meteor identification")).to_have_count(0)
    expect(grid_cells(page).filter(has_text=re.compile(r"^Etalumis: inference"))).to_have_count(1)
    page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("Open a technology", exact=True)).click()
    options = page.get_by_role("option")
    expect(options).to_have_count(shown)
    assert all("Etalumis" in text for text in options.all_inner_texts())
    page.keyboard.press("Escape")
    shot(page, "search-etalumis")

    # 3. Open the project through the selectbox and its link.
    choose(page, "Open a technology", "R10.1 · Etalumis: inference for particle physics simulators")
    page.get_by_role("link", name="Open R10.1").click()
    wait_for_app(page)
    expect(page).to_have_url(re.compile(r"/project\?code=R10\.1$"))
    expect(page.get_by_role("heading", name="R10.1 · Etalumis: inference for particle physics simulators")).to_be_visible()
    expect(level_badge(page)).to_have_text("Level 8 · Flight-ready")
    chart = page.get_by_test_id("stPlotlyChart").locator(".js-plotly-plot")
    expect(chart).to_be_visible()
    before_levels = level_chart_levels(page)
    assert before_levels[-1] == 8
    before_rows = grid_row_count(page)
    assert before_rows == len(before_levels) - 1 == 12
    shot(page, "project-level-8")

    # 4. Graduate it with a note.
    graduate = page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name="Graduate"))
    expect(graduate).to_contain_text("Graduate from level 8 to 9 · Deployment")
    graduate.get_by_label("Note", exact=True).fill("Go/no-go review passed: ship to the collaboration.")
    graduate.get_by_role("button", name="Graduate").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("R10.1 graduated to level 9")
    expect(level_badge(page)).to_have_text("Level 9 · Deployment")
    expect(page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name="Graduate"))).to_contain_text(
        "level 9 is the highest level")
    after_levels = level_chart_levels(page, length=len(before_levels) + 1)
    assert after_levels[-1] == 9
    assert after_levels[:-1] == before_levels[:-1] + [9]
    expect(grid(page)).to_have_attribute("aria-rowcount", str(before_rows + 2))
    # The history lists the newest event first, so the new note is in view without scrolling.
    expect(grid_cells(page).filter(has_text="Go/no-go review passed: ship to the collaboration.")).to_have_count(1)
    # The note field is emptied after the success, so nobody resubmits it by accident.
    expect(graduate.get_by_label("Note", exact=True)).to_have_value("")
    shot(page, "graduated-level-9")

    assert page.errors.unexpected() == []  # type: ignore[attr-defined]


def test_refused_switchback_explains_the_rule(app_server: str, page: Page) -> None:
    """A switchback with no kind on a non-embedded pair is refused in plain words; nothing moves."""
    open_app(page, f"{app_server}/project?code=R18.1")
    expect(page.get_by_role("heading", name="R18.1 · Factory telemetry anomaly detector")).to_be_visible()
    expect(level_badge(page)).to_have_text("Level 4 · Proof of concept")
    before_levels = level_chart_levels(page)
    shot(page, "project-level-4")

    switchback = page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name="Switch back"))
    expect(switchback.get_by_role("combobox", name="To level")).to_have_value("3 · System development")
    expect(switchback.get_by_role("combobox", name="Kind")).to_have_value("")
    switchback.get_by_role("button", name="Switch back").click()
    wait_for_app(page)

    error = page.get_by_test_id("stAlertContentError")
    expect(error).to_be_visible()
    expect(error).to_contain_text("discovery")
    expect(error).to_contain_text("review")
    expect(error).to_contain_text("4->3")
    expect(page.get_by_test_id("stAlertContentSuccess")).to_have_count(0)
    expect(level_badge(page)).to_have_text("Level 4 · Proof of concept")
    assert level_chart_levels(page) == before_levels
    shot(page, "switchback-refused")

    assert page.errors.unexpected() == []  # type: ignore[attr-defined]
