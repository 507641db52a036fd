"""Browser journey: single-user mode remembers who is acting, per browser.

The server runs the demo with no accounts, started with ``MLTRL_USER=e2e`` and by this machine's
login name: neither may ever act for a browser. A browser that has given no name is asked for one
and its first write is refused with nothing written; it gives a name through the sidebar's link
(the ``/acting-as`` form sets a cookie), comes back to the page, keeps the name in a new tab and
after a refresh, and the switchback it records names that person in the page's level history and
in the database (the level event and the audit row, read with sqlite3 from the server's file).
"""

from __future__ import annotations

import getpass
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import demo_server, new_page, open_app, shot, wait_for_app
from tests.e2e.test_portfolio_journey import grid_cells, level_badge

pytestmark = pytest.mark.e2e

NAME = "Zoë Müller"
ASKED = "Give your name before you change anything"
CODE = "R18.1"  # Factory telemetry anomaly detector, at level 4 in the demo


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The demo, single-user; yields the base URL and the server's SQLite file."""
    urls: list[str] = []
    with demo_server(tmp_path_factory, "acting_as", seed=urls.append) as base_url:
        yield base_url, Path(urls[0].removeprefix("sqlite:///"))


@pytest.fixture
def nameless(browser: Browser) -> Iterator[Page]:
    """A browser that has not given a name yet."""
    yield from new_page(browser, acting_as=None)


def _rows(db: Path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def _switch_back(page: Page, kind: str, note: str) -> None:
    form = page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name="Switch back"))
    kind_box = form.get_by_role("combobox", name="Kind")
    kind_box.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    kind_box.click()
    page.get_by_role("option", name=kind, exact=True).click()
    form.get_by_label("Note (why?)", exact=True).fill(note)
    form.get_by_role("button", name="Switch back").click()
    wait_for_app(page)


def test_a_browser_gives_its_name_once_and_every_tab_acts_under_it(server, nameless: Page) -> None:
    base_url, db = server
    page = nameless
    server_names = {"e2e", "root", getpass.getuser()}
    last_audit = _rows(db, "SELECT max(id) FROM auditentry")[0][0]
    events = _rows(db, "SELECT count(*) FROM levelevent")[0][0]

    # 1. No name yet: the sidebar asks for one, and shows none of the server's names.
    open_app(page, f"{base_url}/project?code={CODE}")
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_contain_text(ASKED)
    assert not any(f"Acting as {n}" in sidebar.inner_text() for n in server_names)
    expect(level_badge(page)).to_have_text("Level 4 · Proof of concept")

    # 2. A write before the name is refused in plain words, and nothing is written.
    _switch_back(page, "discovery", "attempted before giving a name")
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text(ASKED)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_have_count(0)
    expect(level_badge(page)).to_have_text("Level 4 · Proof of concept")
    assert _rows(db, "SELECT max(id) FROM auditentry")[0][0] == last_audit
    assert _rows(db, "SELECT count(*) FROM levelevent")[0][0] == events
    shot(page, "refused-without-a-name")

    # 3. Give the name through the sidebar's link: the form, then back to the same page.
    sidebar.get_by_role("link", name="Give your name").click()
    page.wait_for_url(f"{base_url}/acting-as?next=%2Fproject%3Fcode%3D{CODE}")
    expect(page.get_by_role("heading", name="Who is acting?")).to_be_visible()
    expect(page.get_by_label("Your name")).to_have_value("")  # never pre-filled with a server name
    shot(page, "acting-as-form")
    page.get_by_label("Your name").fill(f"  {NAME} ")
    page.get_by_role("button", name="Give my name").click()
    page.wait_for_url(f"{base_url}/project?code={CODE}")
    page.get_by_test_id("stAppViewContainer").wait_for(state="attached")
    wait_for_app(page)
    expect(sidebar).to_contain_text(f"Acting as {NAME}")
    expect(sidebar).not_to_contain_text(ASKED)
    cookie = next(c for c in page.context.cookies() if c["name"] == "mltrl_acting_as")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"

    # 4. A new tab of the same browser knows the name, and writes under it.
    tab = page.context.new_page()
    open_app(tab, f"{base_url}/project?code={CODE}")
    expect(tab.get_by_test_id("stSidebar")).to_contain_text(f"Acting as {NAME}")
    _switch_back(tab, "discovery", "drift found in the new plant's data")
    expect(tab.get_by_test_id("stAlertContentSuccess")).to_contain_text(f"{CODE} switched back to level 3")
    expect(level_badge(tab)).to_have_text("Level 3 · System development")
    # the page's level history names the person (newest first, so in view)
    expect(grid_cells(tab).filter(has_text=NAME)).not_to_have_count(0)
    shot(tab, "switched-back-in-a-new-tab")

    # 5. And so does the server's database: the level event and every audit row since.
    assert _rows(db, "SELECT recorded_by, note FROM levelevent ORDER BY id DESC LIMIT 1") == [
        (NAME, "drift found in the new plant's data")]
    actors = {a for (a,) in _rows(db, "SELECT actor FROM auditentry WHERE id > ?", last_audit)}
    assert actors == {NAME}

    # 6. A refresh of the first tab keeps the name too.
    page.reload()
    page.get_by_test_id("stAppViewContainer").wait_for(state="attached")
    wait_for_app(page)
    expect(page.get_by_test_id("stSidebar")).to_contain_text(f"Acting as {NAME}")
    expect(level_badge(page)).to_have_text("Level 3 · System development")

    assert page.errors.unexpected() == []  # type: ignore[attr-defined]
