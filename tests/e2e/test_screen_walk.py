"""A walk through every page, as a stakeholder and a lead see them at 1440x900: in the working view
and in presentation mode, on the demo placed for a fixed day (the server living on that day) and
for today.

On every page: no error box, no console error, no "None" / "nan" / "NaT" in the page's text, and in
presentation mode no input widget at all (selectors, tabs and links only). The grids draw their
cells on a canvas, and a missing value is painted "None" where the browser's text cannot see it:
``tests/pages/test_presentation.py`` checks every table's cells instead, page by page and tab by tab. The Portfolio's columns fit without scrolling
sideways, and the Quarterly review shows a key result on track with its probability.

``MLTRL_SCREENSHOTS=docs/screenshots`` also writes the README's screenshots (fixed day only, so
they are the same on every run but for the time of day).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ROOT, demo_server, new_page, open_app, shot, wait_for_app

pytestmark = pytest.mark.e2e

FIXED_DAY = "2026-05-20"
WALK_VIEWPORT = {"width": 1440, "height": 900}
# (title, path, query) of every page; Admin has no presentation view (it is not offered there).
PAGES = [
    ("Portfolio", "", ""),  # the default page: its address is the site's root
    ("Project", "project", "code=R10.1"),
    ("TRL card", "card", "code=R10.1"),
    ("Cards", "cards", ""),
    ("Requirements & risks", "risks", "code=R10.1"),
    ("Risk portfolio", "risk-portfolio", ""),
    ("Reviews", "reviews", ""),
    ("Timelines", "timelines", "code=R10.1"),
    ("Analytics", "analytics", ""),
    ("Quarterly review", "quarterly", ""),
    ("Level guide", "levels", ""),
    ("Admin", "admin", ""),
]
INPUTS = ["stButton", "stDownloadButton", "stFormSubmitButton", "stTextInput", "stTextArea", "stNumberInput",
          "stDateInput", "stTimeInput", "stCheckbox", "stSlider", "stFileUploader", "stChatInput", "stForm",
          "stColorPicker", "stCameraInput", "stAudioInput"]
NONE_WORDS = re.compile(r"\b(None|nan|NaN|NaT)\b")
SCREENSHOTS = os.environ.get("MLTRL_SCREENSHOTS")


@pytest.fixture(scope="module", params=["fixed-day", "today"])
def walk_server(request, tmp_path_factory):
    """The demo placed for FIXED_DAY (the server living on it) or for today."""
    as_of = FIXED_DAY if request.param == "fixed-day" else None
    with demo_server(tmp_path_factory, f"walk-{request.param}", as_of=as_of) as base_url:
        yield request.param, base_url


@pytest.fixture
def walker(browser):
    pages = new_page(browser)
    pg = next(pages)
    pg.set_viewport_size(WALK_VIEWPORT)
    yield pg
    pages.close()


def _visit(page: Page, base_url: str, path: str, query: str, present: bool) -> None:
    # Each visit names the mode: ?present= also sets or clears the browser's cookie.
    open_app(page, f"{base_url}/{path}?{query + '&' if query else ''}present={1 if present else 0}")


def _inputs(page: Page) -> list[str]:
    found = []
    for area in ("stMain", "stSidebarUserContent"):
        for test_id in INPUTS:
            count = page.get_by_test_id(area).get_by_test_id(test_id).count()
            if count:
                found.append(f"{area}: {count} x {test_id}")
    return found


def _page_text(page: Page) -> str:
    return page.get_by_test_id("stMain").inner_text()


def _problems(page: Page, title: str) -> list[str]:
    problems = []
    if page.get_by_test_id("stException").count():
        problems.append(f"{title}: an exception: {page.get_by_test_id('stException').first.inner_text()[:300]}")
    errors = page.get_by_test_id("stAlertContentError")
    if errors.count():
        problems.append(f"{title}: an error box: {errors.first.inner_text()[:300]}")
    text = _page_text(page)
    for match in NONE_WORDS.finditer(text):
        problems.append(f"{title}: {match.group(0)!r} in …{text[max(0, match.start() - 80):match.end() + 40]!r}…")
    return problems


def _save_screenshot(page: Page, day: str, path: str, present: bool) -> None:
    path = path or "portfolio"
    shot(page, f"{day}-{path}-{'present' if present else 'normal'}")
    if SCREENSHOTS and day == "fixed-day" and path in ("portfolio", "project", "card", "reviews", "timelines",
                                                       "analytics", "quarterly", "risks"):
        target = (ROOT / SCREENSHOTS) if not Path(SCREENSHOTS).is_absolute() else Path(SCREENSHOTS)
        target.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target / f"{path}{'-presentation' if present else ''}.png"))


@pytest.mark.parametrize("present", [False, True], ids=["working-view", "presentation"])
def test_every_page_reads_cleanly(walk_server, walker, present):
    day, base_url = walk_server
    problems = []
    for title, path, query in PAGES:
        if present and path == "admin":
            continue
        _visit(walker, base_url, path, query, present)
        expect(walker.get_by_role("heading", name=title, exact=True).first).to_be_visible()
        problems += _problems(walker, title)
        problems += [f"{title}: console: {e}" for e in walker.errors.unexpected()]
        walker.errors.console_errors.clear()
        walker.errors.page_errors.clear()
        if present:
            problems += [f"{title}: {found}" for found in _inputs(walker)]
            expect(walker.get_by_test_id("stSidebarUserContent").get_by_role(
                "link", name=re.compile("Leave presentation mode"))).to_have_count(1)
        _save_screenshot(walker, day, path, present)
    assert problems == []


@pytest.mark.parametrize("present", [False, True], ids=["working-view", "presentation"])
def test_the_portfolios_flags_are_in_view_without_scrolling_sideways(walk_server, walker, present):
    """The grid draws only the columns in view; its accessible table lists the same ones."""
    _, base_url = walk_server
    _visit(walker, base_url, "", "", present)
    grid = walker.get_by_test_id("stDataFrame").first
    expect(grid).to_be_visible()
    headers = grid.locator("table th[role='columnheader']")
    expect(headers.first).to_be_attached()
    shown = {h.strip() for h in headers.all_inner_texts()}
    assert {"Code", "Technology", "Level", "Days at level", "Card", "Reviews"} <= shown, shown
    scrolled = grid.locator(".dvn-scroller").first.evaluate("e => e.scrollLeft")
    assert scrolled == 0


def test_the_quarterly_review_shows_a_key_result_on_track_with_its_probability(walk_server, walker):
    _, base_url = walk_server
    _visit(walker, base_url, "quarterly", "", present=True)
    counted = walker.get_by_test_id("stMetric").filter(has_text="On track")
    expect(counted).to_have_count(1)
    assert int(counted.get_by_test_id("stMetricValue").inner_text()) >= 1
    walker.get_by_role("tab", name="Key results").click()
    wait_for_app(walker)
    table = walker.get_by_test_id("stDataFrame").first.locator("table")
    expect(table.locator("tr").nth(1)).to_be_attached()
    headers = [h.strip() for h in table.locator("th[role='columnheader']").all_inner_texts()]
    rows = [row.locator("td").all_inner_texts() for row in table.locator("tr").all()]
    rows = [dict(zip(headers, cells)) for cells in rows if cells]
    on_track = [row for row in rows if row.get("Status", "").strip() == "on track"]
    assert on_track, rows
    # the grid's accessible text of the bar: the share in percent, a whole number from 0 to 100
    assert all(re.fullmatch(r"\d{1,3}", row.get("P(by date)", "").strip()) for row in on_track), on_track
