"""Browser journey: the current technology follows from page to page and stays in the URL.

Issue 16: from the TRL card of R17.1, the sidebar's *Requirements & risks* used to open P02.1 (the
first code, with no card and no register). Now the technology chosen on one page is the one the
next page opens on, the URL says which (``?code=``), a refresh keeps it, and a fresh visit opens on
the technology with the most to show (``services.portfolio.most_telling``), not on the first code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import new_page, open_app, shot, wait_for_app
from tests.e2e.test_accounts_journey import nav_link

pytestmark = pytest.mark.e2e

CODE, NAME = "R17.1", "Support ticket summariser (LLM)"
FIRST_CODE = "P02.1"  # the demo's first code: no card, no register


def url_code(page: Page) -> str | None:
    return (parse_qs(urlparse(page.url).query).get("code") or [None])[-1]


def picker(page: Page):
    """The page's *Technology* selectbox (its combobox holds the chosen option's label)."""
    return page.get_by_role("combobox", name="Technology", exact=True)


def expect_showing(page: Page, code: str) -> None:
    expect(picker(page)).to_have_value(re.compile(rf"^{re.escape(code)} · "))
    assert url_code(page) == code, page.url


URL_PATHS = {"Requirements & risks": "risks", "Project": "project", "TRL card": "card"}


def from_sidebar(page: Page, title: str) -> None:
    """Follow the sidebar's navigation link to the page titled ``title`` (a link with no query)."""
    nav_link(page, title).click()
    page.wait_for_url(re.compile(rf"/{URL_PATHS[title]}(\?|$)"))
    wait_for_app(page)


def test_the_chosen_technology_follows_from_the_card_to_the_registers_and_the_project(
        app_server: str, page: Page, browser: Browser) -> None:
    # A fresh visit opens on a technology with something to show, and says which in the URL.
    open_app(page, f"{app_server}/card")
    first = url_code(page)
    assert first and first != FIRST_CODE, page.url
    expect(page.get_by_text("no card yet")).to_have_count(0)
    shot(page, "card-fresh")

    # Choose R17.1 on the TRL card.
    picker(page).click()
    page.get_by_role("option", name=re.compile(rf"^{re.escape(CODE)} · ")).click()
    wait_for_app(page)
    expect_showing(page, CODE)
    expect(page.get_by_role("heading", name=re.compile(re.escape(f"({CODE})")))).to_be_visible()

    # The sidebar's "Requirements & risks" opens R17.1, and the URL says so.
    from_sidebar(page, "Requirements & risks")
    expect(page.get_by_role("heading", name="Requirements & risks", level=1)).to_be_visible()
    expect_showing(page, CODE)
    expect(page.get_by_text("Nothing to count yet")).to_have_count(0)
    shot(page, "risks-from-sidebar")

    # A refresh (a new Streamlit session: only the URL remembers) keeps R17.1.
    page.reload()
    page.get_by_test_id("stAppViewContainer").wait_for(state="attached")
    wait_for_app(page)
    expect_showing(page, CODE)

    # "Project" in the sidebar: R17.1 too.
    from_sidebar(page, "Project")
    expect(page.get_by_role("heading", name=f"{CODE} · {NAME}")).to_be_visible()
    expect_showing(page, CODE)
    shot(page, "project-from-sidebar")

    # A copied link opens on it in a new tab (another browser session).
    link = page.url
    other: Iterator[Page] = new_page(browser)
    tab = next(other)
    try:
        open_app(tab, link)
        expect_showing(tab, CODE)
        expect(tab.get_by_role("heading", name=f"{CODE} · {NAME}")).to_be_visible()
    finally:
        other.close()
    assert not page.errors.unexpected(), page.errors.unexpected()


def test_an_unknown_code_in_a_link_is_said_and_falls_back(app_server: str, page: Page) -> None:
    open_app(page, f"{app_server}/risks?code=X99.9")
    alert = page.get_by_test_id("stAlert").filter(has_text="No technology has the code")
    expect(alert).to_contain_text("X99.9")
    fallback = url_code(page)
    assert fallback and fallback != "X99.9"
    expect(alert).to_contain_text(f"showing {fallback} instead")
    expect_showing(page, fallback)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    shot(page, "unknown-code")
    assert not page.errors.unexpected(), page.errors.unexpected()
