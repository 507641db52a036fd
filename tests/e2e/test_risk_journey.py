"""Browser journey over a technology's registers: add a requirement and a risk, find them in the
5x5 matrix by clicking its cell, and see the risk in the portfolio's highest risks.

The module starts its own ``streamlit run`` server (``conftest.launch_server``) over a fresh
SQLite file holding the demo portfolio plus one new technology, E2E.R1, seeded through the
services before the server starts: registered and started at level 4, with empty registers.

The numbers, by ``mltrl.domain.risk``'s bands: requirement 1 (p 30 %, value 8) falls in p band 2 / value
band 4; the risk (p 0.5, value 8) in p band 3 / value band 4, score 4.0.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.conftest import (
    demo_server,
    open_app,
    shot,
    wait_for_app,
)
from tests.e2e.test_card_journey import open_tab, still_on_tab
from tests.e2e.test_portfolio_journey import grid, grid_cells, grid_row_count

pytestmark = pytest.mark.e2e

CODE = "E2E.R1"
NAME = "Journey risk register"
STATEMENT = "The detector shall flag 95% of faults within a minute."
RISK_TITLE = "Sensor drift after the winter recalibration"


# --- server -------------------------------------------------------------------------------------


def _seed(url: str) -> None:
    """Register E2E.R1 at level 4 through the services, on the database the server will open."""
    from mltrl.db import get_engine, session_scope
    from mltrl.services import Actor, level_moves, projects

    actor = Actor("e2e")
    engine = get_engine(url)
    try:
        with session_scope(engine) as session:
            projects.add_project(session=session, actor=actor, code=CODE, name=NAME,
                                 summary="Seeded by the risk journey.")
            level_moves.record_start(session=session, actor=actor, code=CODE, level=4,
                                     note="Seeded by the risk journey.")
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def risk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``streamlit run app.py`` over a fresh database: the demo, then E2E.R1. Yields the base URL."""
    with demo_server(tmp_path_factory, "test_risk_journey", seed=_seed) as base_url:
        yield base_url


# --- helpers ------------------------------------------------------------------------------------


def success(page: Page) -> Locator:
    return page.get_by_test_id("stAlertContentSuccess")


def error(page: Page) -> Locator:
    return page.get_by_test_id("stAlertContentError")


def form(page: Page, button: str) -> Locator:
    """The form whose submit button is labelled ``button``."""
    return page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name=button))


def fill(box: Locator, label: str, text: str) -> None:
    box.get_by_label(label, exact=True).fill(text)


def pick(page: Page, box: Locator, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label`` inside ``box``."""
    combo = box.get_by_role("combobox", name=label, exact=True)
    combo.scroll_into_view_if_needed()
    combo.click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(combo).to_have_value(option)


def submit(page: Page, box: Locator, button: str) -> None:
    box.get_by_role("button", name=button).click()
    wait_for_app(page)


_MATRIX = "() => document.querySelectorAll(\"[data-testid='stPlotlyChart'] .js-plotly-plot\")[0]"

_CELLS_JS = f"""() => {{
    const gd = ({_MATRIX})();
    return gd && gd.data && gd.data[0] ? gd.data[0].text.map(row => Array.from(row, String)) : null;
}}"""


def matrix_cells(page: Page, *, total: int | None = None) -> list[list[str]]:
    """The matrix's cell texts, rows by p(failure) band (1 first), columns by value band.

    With ``total``, first wait until the drawn chart counts that many items.
    """
    if total is not None:
        page.wait_for_function(
            f"() => {{ const t = ({_CELLS_JS})(); return t && t.flat().reduce((a, n) => a + Number(n), 0) === {total}; }}")
    cells = page.evaluate(_CELLS_JS)
    assert cells is not None, "no risk matrix on the page"
    return cells


def matrix_total(cells: list[list[str]]) -> int:
    return sum(int(n) for row in cells for n in row)


def drawn_cell_texts(page: Page) -> list[str]:
    """The numbers plotly drew over the heatmap (what a user reads), in drawing order."""
    return page.evaluate(f"""() => Array.from(({_MATRIX})().querySelectorAll('.heatmaplayer text'),
                                              t => t.textContent)""")


def click_matrix_cell(page: Page, p_band: int, value_band: int) -> None:
    """Click the matrix cell (p band, value band) where it is drawn: plotly's own axis maps
    data to pixels, the plot's box places them on the page. The cell's invisible marker sits
    there, and a real click on it is what makes Streamlit report a selection."""
    chart = page.get_by_test_id("stPlotlyChart").first
    chart.scroll_into_view_if_needed()
    # Wait until plotly has laid the chart out at its drawn size (Streamlit sizes it to its
    # column after the first draw) and nothing (a toast, say) covers the cell's centre.
    where = f"""([vb, pb]) => {{
        const gd = ({_MATRIX})();
        if (!gd || !gd._fullLayout || !gd._fullLayout.xaxis) return null;
        const box = gd.getBoundingClientRect();
        if (Math.abs(box.width - gd._fullLayout.width) > 1) return null;
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        const x = box.left + xa._offset + xa.l2p(vb), y = box.top + ya._offset + ya.l2p(pb);
        const hit = document.elementFromPoint(x, y);
        return hit && gd.contains(hit) ? [x, y] : null;
    }}"""
    page.wait_for_function(where, arg=[value_band, p_band])
    x, y = page.evaluate(where, [value_band, p_band])
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    wait_for_app(page)


def cell_listing(page: Page) -> Locator:
    """The line under the matrix that names the selected cell and counts its items."""
    return page.get_by_test_id("stMarkdownContainer").filter(has_text=re.compile(r"^Cell p\(failure\) "))


def scroll_grid_to_end(page: Page, nth: int = 0) -> None:
    """Scroll the nth grid all the way right, as a user does to read its last columns: the grid
    mirrors only the columns in view into its accessible table."""
    page.get_by_test_id("stDataFrame").nth(nth).locator(".dvn-scroller").evaluate(
        "el => { el.scrollLeft = el.scrollWidth; }")


def number(text: str) -> re.Pattern[str]:
    """A grid cell holding the number ``text``: the accessible mirror holds the raw value (0.3)
    where the canvas draws the column's format (0.30)."""
    whole, _, decimals = text.partition(".")
    decimals = decimals.rstrip("0")
    return re.compile(rf"^{whole}\.{decimals}0*$" if decimals else rf"^{whole}(\.0+)?$")


def scroll_grid_to_row(page: Page, text: str, nth: int = 0) -> None:
    """Scroll the nth grid down, half a view at a time, until a cell reads ``text``: the grid
    mirrors only the rows in view into its accessible table. Fails at the bottom without it."""
    table = page.get_by_test_id("stDataFrame").nth(nth)
    cell = table.locator("td[role='gridcell']").filter(has_text=re.compile(rf"^{re.escape(text)}$"))
    first_row = "el => el.querySelector(\"tbody tr[role='row']\")?.getAttribute('aria-rowindex')"
    while not cell.count():
        before = table.evaluate(first_row)
        moved = table.locator(".dvn-scroller").evaluate(
            "s => { const top = s.scrollTop; s.scrollTop = top + Math.max(s.clientHeight / 2, 1); return s.scrollTop > top; }")
        assert moved, f"no row of the grid reads {text!r}"
        # The mirror follows the scroll a few frames later (a last step shorter than a row may
        # leave its first row as it was: then look again and find the bottom).
        try:
            page.wait_for_function(
                "([el, before]) => el.querySelector(\"tbody tr[role='row']\")?.getAttribute('aria-rowindex') !== before",
                arg=[table.element_handle(), before], timeout=3_000)
        except PlaywrightTimeoutError:
            pass


def count_control(page: Page) -> Locator:
    """The matrix's 'Count' segmented control (Risks / Requirements / Both): a radio group."""
    return page.get_by_role("radiogroup", name="Count")


# --- journey ------------------------------------------------------------------------------------


def test_requirement_and_risk_reach_the_matrix_and_the_portfolio(risk_server: str, page: Page) -> None:
    # 1. The registers page opens on the seeded technology, with nothing counted yet.
    open_app(page, f"{risk_server}/risks?code={CODE}")
    expect(page.get_by_role("heading", name="Requirements & risks", level=1)).to_be_visible()
    expect(page.get_by_role("combobox", name="Technology")).to_have_value(f"{CODE} · {NAME}")
    still_on_tab(page, "Matrix")
    expect(page.get_by_test_id("stPlotlyChart")).to_have_count(0)  # no empty matrix drawn: a sentence says why
    expect(page.get_by_text("Nothing to count yet", exact=False)).to_be_visible()

    # 2. Requirements: add requirement 1, then get a p(failure) of 130 % refused.
    open_tab(page, "Requirements")
    expect(page.get_by_text("No requirements yet.")).to_be_visible()
    add = form(page, "Add requirement")
    expect(add).to_contain_text("Add a requirement")
    fill(add, "Number", "1")
    fill(add, "p(failure)", "30%")
    fill(add, "Value (1-10)", "8")
    fill(add, "Statement", STATEMENT)
    submit(page, add, "Add requirement")
    expect(success(page)).to_contain_text(f"Added requirement 1 to {CODE}.")
    still_on_tab(page, "Requirements")
    expect(grid(page)).to_have_attribute("aria-rowcount", "2")  # the header row and requirement 1
    expect(grid_cells(page).filter(has_text=re.compile(rf"^{re.escape(STATEMENT)}$"))).to_have_count(1)
    expect(grid_cells(page).filter(has_text=re.compile(r"^1$"))).to_have_count(1)
    # p(failure), value and risk are the grid's last columns, out of view to the right.
    scroll_grid_to_end(page)
    expect(grid_cells(page).filter(has_text=number("0.30"))).to_have_count(1)
    expect(grid_cells(page).filter(has_text=number("2.40"))).to_have_count(1)  # 0.3 x 8
    # The form is emptied for the next requirement.
    expect(add.get_by_label("Number", exact=True)).to_have_value("")
    expect(add.get_by_label("p(failure)", exact=True)).to_have_value("")

    fill(add, "Number", "2")
    fill(add, "p(failure)", "130%")
    fill(add, "Statement", "A requirement nobody can fail more than always.")
    submit(page, add, "Add requirement")
    expect(error(page)).to_be_visible()
    expect(error(page)).to_contain_text("Please check p_failure")
    expect(success(page)).to_have_count(0)
    still_on_tab(page, "Requirements")
    expect(grid(page)).to_have_attribute("aria-rowcount", "2")  # nothing was added
    expect(add.get_by_label("p(failure)", exact=True)).to_have_value("130%")  # kept to correct it
    shot(page, "requirement-refused")

    # 3. Risks: add one in p band 3 / value band 4.
    open_tab(page, "Risks")
    expect(page.get_by_text("No risks yet.")).to_be_visible()
    add = form(page, "Add risk")
    expect(add).to_contain_text("Add a risk")
    fill(add, "Title", RISK_TITLE)
    pick(page, add, "Category", "data")
    fill(add, "p(failure)", "0.5")
    fill(add, "Value (1-10)", "8")
    fill(add, "Mitigation", "Recalibrate every sensor after the winter shutdown.")
    submit(page, add, "Add risk")
    expect(success(page)).to_contain_text(f"Added risk '{RISK_TITLE}' to {CODE}.")
    still_on_tab(page, "Risks")
    risks_grid = grid_cells(page, 0)
    expect(risks_grid.filter(has_text=re.compile(rf"^{re.escape(RISK_TITLE)}$"))).to_have_count(1)
    expect(risks_grid.filter(has_text=number("4.00"))).to_have_count(1)  # 0.5 x 8
    expect(risks_grid.filter(has_text=re.compile(r"^data$"))).to_have_count(1)

    # 4. Matrix: the risk is the one item, in p band 3 / value band 4.
    open_tab(page, "Matrix")
    expect(page.get_by_test_id("stPlotlyChart").first.locator(".js-plotly-plot")).to_be_visible()
    cells = matrix_cells(page, total=1)
    assert cells[2][3] == "1", cells
    assert drawn_cell_texts(page).count("1") == 1
    expect(page.get_by_text("Nothing to count yet", exact=False)).to_have_count(0)
    expect(count_control(page).get_by_role("radio", name="Risks")).to_be_checked()

    # Click that cell: its items are listed under the matrix.
    click_matrix_cell(page, 3, 4)
    expect(cell_listing(page)).to_have_text("Cell p(failure) 0.4-0.6, value 7-8: 1 item(s)")
    listed = grid_cells(page, 0)
    expect(listed.filter(has_text=re.compile(rf"^{re.escape(RISK_TITLE)}$"))).to_have_count(1)
    expect(listed.filter(has_text=re.compile(r"^risk$"))).to_have_count(1)
    still_on_tab(page, "Matrix")
    page.mouse.move(0, 0)  # no hover label in the shot: what stays on screen once selected
    matrix_shot = shot(page, "matrix-cell-selected")

    # Count both registers: requirement 1 joins in p band 2 / value band 4.
    count_control(page).get_by_role("radio", name="Both").click()
    wait_for_app(page)
    expect(count_control(page).get_by_role("radio", name="Both")).to_be_checked()
    cells = matrix_cells(page, total=2)
    assert cells[2][3] == "1" and cells[1][3] == "1", cells
    assert drawn_cell_texts(page).count("1") == 2
    still_on_tab(page, "Matrix")
    # The requirement's cell lists it.
    click_matrix_cell(page, 2, 4)
    expect(cell_listing(page)).to_have_text("Cell p(failure) 0.2-0.4, value 7-8: 1 item(s)")
    listed = grid_cells(page, 0)
    expect(listed.filter(has_text=re.compile(r"^requirement$"))).to_have_count(1)
    expect(listed.filter(has_text=re.compile(rf"^1 · {re.escape(STATEMENT)}$"))).to_have_count(1)
    page.mouse.move(0, 0)
    shot(page, "matrix-both")

    # 5. The portfolio's highest risks list it among the demo's, linked to its technology's registers.
    open_app(page, f"{risk_server}/risk-portfolio")
    expect(page.get_by_role("heading", name="Risk portfolio", level=1)).to_be_visible()
    open_tab(page, "Highest risks")
    expect(grid_cells(page, 0).first).to_be_attached()
    assert grid_row_count(page) > 1  # the demo's risks are listed too
    scroll_grid_to_row(page, RISK_TITLE)
    row = page.get_by_test_id("stDataFrame").first.locator("tr[role='row']").filter(has_text=RISK_TITLE)
    expect(row).to_have_count(1)
    cells = row.locator("td[role='gridcell']")
    # The canvas draws the link as the code; the accessible mirror holds its target.
    expect(cells.nth(0)).to_have_text(f"/risks?code={CODE}&tab=Risks")
    # Technology, Risk, Score, Grade, Overdue, Review due, Last review, Status, Category, Owner
    expect(cells.nth(2)).to_have_text(number("4.00"))
    expect(cells.nth(3)).to_have_text("high")  # its cell, p band 3 x value band 4 = 12
    expect(cells.nth(7)).to_have_text("open")
    expect(cells.nth(8)).to_have_text("data")
    expect(page.get_by_text(re.compile(r"The \d+ highest risks \(p\(failure\) x value\) that are not closed"))
           ).to_be_visible()
    portfolio_shot = shot(page, "portfolio-highest-risks")

    assert matrix_shot.exists() and portfolio_shot.exists()
    assert page.errors.unexpected() == []  # type: ignore[attr-defined]
