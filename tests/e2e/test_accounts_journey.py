"""Browser journeys over accounts: set up the first admin, sign in as a viewer, restore a backup.

Each journey needs its own database (empty, demo plus CLI-made accounts, empty again for a
restore), so this module starts its own ``streamlit run`` servers with ``start_server`` below,
following ``conftest.app_server``'s recipe and reusing its helpers. Passwords are at least 8
characters (the services refuse shorter ones).

Local sign-in goes through the server's ``/sign-in`` form, which sets a session cookie: a
refresh, a new tab and a full navigation keep the person signed in; signing out ends the session on
the server, so the cookie, replayed, signs nobody in.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import (
    ARTIFACTS, BIN, ROOT, launch_server, open_app, shot, stop_server, wait_for_app,
)

pytestmark = pytest.mark.e2e

DEMO_SIZE = 25
ADA_PASSWORD = "ada-secret-1"
VIC_PASSWORD = "vic-secret-1"


# --- servers and databases ----------------------------------------------------------------------


def _env(db: Path) -> dict[str, str]:
    return {**os.environ, "MLTRL_DATABASE_URL": f"sqlite:///{db}", "MLTRL_USER": "e2e",
            "PYTHONUNBUFFERED": "1"}


def mltrl(db: Path, *args: str, stdin: str | None = None) -> str:
    """Run the ``mltrl`` CLI over ``db``; fail the test with its output if it fails."""
    done = subprocess.run([str(BIN / "mltrl"), *args], cwd=ROOT, env=_env(db), input=stdin,
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.fail(f"`mltrl {' '.join(args)}` failed ({done.returncode}):\n{done.stdout}\n{done.stderr}",
                    pytrace=False)
    return done.stdout


@pytest.fixture
def start_server(request: pytest.FixtureRequest) -> Iterator[Callable[[Path], str]]:
    """``start_server(db)`` starts ``streamlit run server.py`` over the SQLite file ``db`` (which may
    not exist yet: the app then runs over an empty database) and returns its base URL. Every
    server started is stopped when the test ends."""
    procs: list[subprocess.Popen] = []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def start(db: Path) -> str:
        proc, base_url = launch_server(_env(db), ARTIFACTS / f"server-{request.node.name}-{len(procs) + 1}.log")
        procs.append(proc)
        return base_url

    yield start
    for proc in procs:
        stop_server(proc)


# --- helpers ------------------------------------------------------------------------------------


def sidebar(page: Page) -> Locator:
    return page.get_by_test_id("stSidebar")


def nav_link(page: Page, title: str) -> Locator:
    """The sidebar navigation's link to the page titled ``title``."""
    return page.get_by_test_id("stSidebarNavLink").filter(has_text=re.compile(rf"^\W*\w*\W*{title}$"))


def button(page: Page, label: str) -> Locator:
    """Buttons (plain or form-submit) whose text ends with ``label`` (a Material icon renders as
    its ligature name, e.g. ``loginSign in``)."""
    return page.get_by_role("button").filter(has_text=re.compile(rf"{re.escape(label)}$"))


def text_input(page: Page, label: str) -> Locator:
    return page.get_by_label(label, exact=True)


def success(page: Page, pattern: str | re.Pattern[str]) -> Locator:
    """An ``st.success`` box in the main area whose text matches ``pattern``."""
    return page.get_by_test_id("stMain").get_by_test_id("stAlertContentSuccess").filter(has_text=pattern)


def sign_in(page: Page, name: str, password: str, *, lands_in_app: bool = True) -> None:
    """Fill the server's sign-in form (a plain HTML page, not a Streamlit one) and send it."""
    expect(page.get_by_role("heading", name="MLTRL Dashboard")).to_be_visible()
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    if lands_in_app:
        page.get_by_test_id("stAppViewContainer").wait_for(state="attached")
        wait_for_app(page)


def sign_in_error(page: Page) -> Locator:
    return page.get_by_role("alert")


def showing_caption(page: Page) -> Locator:
    return page.get_by_test_id("stCaptionContainer").filter(has_text=re.compile(r"Showing \d+ of \d+ technologies"))


# --- journeys -----------------------------------------------------------------------------------


def test_first_admin_setup(page: Page, start_server, tmp_path: Path) -> None:
    url = start_server(tmp_path / "empty.db")
    open_app(page, url)
    expect(sidebar(page).get_by_test_id("stPageLink").filter(has_text="Set up accounts")).to_be_visible()
    expect(sidebar(page).get_by_text("Sign out")).to_have_count(0)
    shot(page, "single-user")

    sidebar(page).get_by_test_id("stPageLink").filter(has_text="Set up accounts").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Admin")).to_be_visible()
    expect(page.get_by_text("Single-user mode: there are no accounts yet.")).to_be_visible()
    expect(page.get_by_text("Create the first admin.")).to_be_visible()
    shot(page, "admin-first-admin-form")

    form = page.get_by_test_id("stForm")
    text_input(form, "User name").fill("grace")
    text_input(form, "Full name").fill("Grace Hopper")
    text_input(form, "Password (8 characters or more)").fill("grace-secret-1")
    text_input(form, "Password again").fill("grace-secret-1")
    shot(page, "form-filled")
    button(page, "Create the first admin").click()
    wait_for_app(page)

    expect(success(page, "Welcome, Grace Hopper: you are the first admin. Sign in with your new account.")
           ).to_be_visible()
    page.get_by_role("link", name="Sign in").click()
    sign_in(page, "grace", "grace-secret-1")
    expect(sidebar(page).get_by_text("Grace Hopper · admin")).to_be_visible()
    expect(button(sidebar(page), "Sign out")).to_be_visible()
    expect(sidebar(page).get_by_test_id("stPageLink").filter(has_text="Set up accounts")).to_have_count(0)
    expect(nav_link(page, "Admin")).to_have_count(1)
    shot(page, "signed-in-as-first-admin")
    assert page.errors.unexpected() == []


def test_sign_in_and_viewer_is_read_only(page: Page, start_server, tmp_path: Path) -> None:
    db = tmp_path / "accounts.db"
    mltrl(db, "demo", "load")
    mltrl(db, "user", "add", "ada", "--role", "admin", stdin=f"{ADA_PASSWORD}\n{ADA_PASSWORD}\n")
    mltrl(db, "--as", "ada", "user", "add", "vic", "--role", "viewer", "--display-name", "Vic Viewer",
          stdin=f"{VIC_PASSWORD}\n{VIC_PASSWORD}\n")
    url = start_server(db)

    page.goto(url + "/timelines")  # any page of the app: the server sends the browser to sign in first
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Ftimelines$"))
    expect(page.get_by_label("User name")).to_be_visible()
    expect(page.get_by_text("Portfolio", exact=True)).to_have_count(0)
    shot(page, "sign-in-screen")

    sign_in(page, "vic", "not-the-password", lands_in_app=False)
    expect(sign_in_error(page)).to_have_text("Wrong user name or password, or the account is disabled.")
    shot(page, "wrong-password")

    sign_in(page, "vic", VIC_PASSWORD)
    expect(page).to_have_url(re.compile(r"/timelines(\?|$)"))  # back where the person was going
    nav_link(page, "Portfolio").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Portfolio")).to_be_visible()
    expect(showing_caption(page)).to_contain_text(f"Showing {DEMO_SIZE} of {DEMO_SIZE} technologies")
    expect(sidebar(page).get_by_text("Vic Viewer · viewer")).to_be_visible()
    expect(nav_link(page, "Portfolio")).to_have_count(1)
    expect(nav_link(page, "Admin")).to_have_count(0)
    shot(page, "viewer-portfolio")

    page.reload()  # a refresh keeps the person signed in
    page.get_by_test_id("stAppViewContainer").wait_for(state="attached")
    wait_for_app(page)
    expect(sidebar(page).get_by_text("Vic Viewer · viewer")).to_be_visible()
    other = page.context.new_page()  # so does a new tab, straight to a technology
    open_app(other, url + "/project?code=R10.1")
    expect(other.get_by_role("heading", name=re.compile("Etalumis"))).to_be_visible()
    expect(sidebar(other).get_by_text("Vic Viewer · viewer")).to_be_visible()
    other.close()

    page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("Open a technology", exact=True)).click()
    page.get_by_role("option", name=re.compile(r"^R10\.1 · ")).click()
    wait_for_app(page)
    page.get_by_role("link", name="Open R10.1").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name=re.compile("Etalumis"))).to_be_visible()
    expect(page.get_by_test_id("stCaptionContainer").filter(has_text="Read-only: as a viewer")).to_be_visible()
    for label in ("Graduate", "Switch back", "Save details"):
        expect(button(page, label)).to_have_count(0)
    expect(nav_link(page, "Admin")).to_have_count(0)
    shot(page, "viewer-project-read-only")

    button(sidebar(page), "Sign out").click()
    wait_for_app(page)
    expect(success(page, "You have signed out.")).to_be_visible()
    page.goto(url)  # the old cookie is still in the browser, but its session has ended
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2F$"))
    assert page.errors.unexpected() == []


def test_five_wrong_passwords_and_the_throttle_says_when_to_try_again(page: Page, start_server, tmp_path: Path) -> None:
    db = tmp_path / "throttle.db"
    mltrl(db, "user", "add", "ada", "--role", "admin", stdin=f"{ADA_PASSWORD}\n{ADA_PASSWORD}\n")
    url = start_server(db)
    page.goto(url)
    for attempt in range(5):
        sign_in(page, "ada", f"wrong-{attempt}", lands_in_app=False)
        expect(sign_in_error(page)).to_have_text("Wrong user name or password, or the account is disabled.")
    sign_in(page, "ada", ADA_PASSWORD, lands_in_app=False)  # even the right password waits now
    expect(sign_in_error(page)).to_have_text(
        re.compile(r"^Too many failed sign-ins for this account: try again in 1[45] minutes\.$"))
    shot(page, "throttled")
    with sqlite3.connect(db) as conn:  # each refusal is in the audit trail, under "anonymous"
        rows = conn.execute("SELECT actor, entity, entity_id, action FROM auditentry WHERE entity = 'sign-in' "
                            "ORDER BY id").fetchall()
    assert rows == [("anonymous", "sign-in", "ada", "failed")] * 5 + [("anonymous", "sign-in", "ada", "throttled")]
    assert page.errors.unexpected() == []


def test_admin_restores_a_backup(page: Page, start_server, tmp_path: Path) -> None:
    demo = tmp_path / "demo.db"
    mltrl(demo, "demo", "load")
    backup_file = tmp_path / "backup.json"
    mltrl(demo, "export", str(backup_file))
    assert backup_file.stat().st_size > 0
    url = start_server(tmp_path / "new.db")

    open_app(page, url)
    expect(page.get_by_text("No technologies yet.")).to_be_visible()
    expect(showing_caption(page)).to_have_count(0)
    shot(page, "empty-portfolio")

    nav_link(page, "Admin").click()
    wait_for_app(page)
    page.get_by_role("tab", name="Backup").click()
    wait_for_app(page)
    expect(button(page, "Download backup")).to_be_visible()
    shot(page, "backup-tab")

    page.get_by_test_id("stFileUploader").locator("input[type='file']").set_input_files(str(backup_file))
    wait_for_app(page)
    caption = page.get_by_test_id("stCaptionContainer").filter(
        has_text=re.compile(r"\d+ rows from .+, schema revision"))
    expect(caption).to_be_visible()
    expect(caption).to_contain_text(f"project {DEMO_SIZE},")
    shot(page, "backup-inspected")

    button(page, "Restore this backup").click()
    wait_for_app(page)
    expect(success(page, re.compile(r"Restored \d+ rows"))).to_be_visible()
    shot(page, "restored")

    # The backup holds no accounts: still single-user mode, so the portfolio shows at once.
    expect(sidebar(page).get_by_test_id("stPageLink").filter(has_text="Set up accounts")).to_be_visible()
    nav_link(page, "Portfolio").click()
    wait_for_app(page)
    expect(showing_caption(page)).to_contain_text(f"Showing {DEMO_SIZE} of {DEMO_SIZE} technologies")
    shot(page, "restored-portfolio")
    assert page.errors.unexpected() == []
