"""Browser journey: an editor makes a personal API token on My account, copies the secret shown
once, the token works (it acts as her), then she revokes it on the page and it no longer works.

The HTTP API (``/api/v1``) may not be served yet, so the secret is checked the way that API will
check it: ``services.tokens.actor_for`` over the server's own SQLite file.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

from mltrl import db
from mltrl.domain import days
from mltrl.domain.errors import Unauthenticated
from mltrl.services import Actor, tokens
from tests.e2e.conftest import BIN, ROOT, demo_server, shot, wait_for_app

pytestmark = pytest.mark.e2e

EVE_PASSWORD = "eve-secret-1"
OLD_TOKEN = "ci"


def _mltrl(url: str, *args: str, stdin: str | None = None) -> str:
    env = {**os.environ, "MLTRL_DATABASE_URL": url, "MLTRL_USER": "e2e"}
    done = subprocess.run([str(BIN / "mltrl"), *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _add_accounts(url: str) -> None:
    """An admin and Eve, an editor, through the CLI (as an operator would); Eve already has a
    viewer token for her CI job, made with the CLI and used once."""
    _mltrl(url, "user", "add", "ada", "--role", "admin", stdin="ada-secret-1\nada-secret-1\n")
    _mltrl(url, "--as", "ada", "user", "add", "eve", "--role", "editor", "--display-name", "Eve Editor",
           stdin=f"{EVE_PASSWORD}\n{EVE_PASSWORD}\n")
    ci_secret = _mltrl(url, "--as", "eve", "token", "create", OLD_TOKEN, "--role", "viewer").strip()
    assert acting_as(url, ci_secret).role_cap == "viewer"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, database URL) of a server over the demo plus two accounts."""
    seen: list[str] = []

    def seed(url: str) -> None:
        seen.append(url)
        _add_accounts(url)

    with demo_server(tmp_path_factory, "tokens", seed=seed) as base_url:
        yield base_url, seen[0]


def acting_as(database_url: str, secret: str) -> Actor:
    """What the HTTP API will do with ``Authorization: Bearer <secret>``."""
    engine = db.make_engine(database_url)
    try:
        with db.session_scope(engine) as s:
            return tokens.actor_for(s, secret)
    finally:
        engine.dispose()


def button(page: Page | Locator, label: str) -> Locator:
    """Buttons whose text ends with ``label`` (a Material icon renders as its ligature name first)."""
    return page.get_by_role("button").filter(has_text=re.compile(rf"{re.escape(label)}$"))


def said(page: Page, kind: str, text: str) -> Locator:
    """The ``st.success`` / ``st.warning`` ... box (``kind``) of the main area saying ``text`` (its
    Material icon renders as a ligature name before the text)."""
    return page.get_by_test_id("stMain").get_by_test_id(f"stAlertContent{kind}").filter(
        has_text=re.compile(rf"{re.escape(text)}\s*$"))


def open_list(box: Locator) -> None:
    """Open a selectbox's list as a person would: scrolled to it first (the list closes when the
    page scrolls, and Playwright scrolls as part of a click)."""
    box.scroll_into_view_if_needed()
    box.page.wait_for_timeout(300)
    box.click()


def token_rows(page: Page) -> Locator:
    return page.get_by_test_id("stDataFrame").locator("tr[role='row']").filter(
        has=page.locator("td[role='gridcell']"))


def test_create_use_and_revoke_a_token(page: Page, server: tuple[str, str]) -> None:
    base_url, database_url = server
    page.goto(base_url + "/account")  # the server sends the browser to sign in first, then back
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Faccount$"))
    page.get_by_label("User name").fill("eve")
    page.get_by_label("Password").fill(EVE_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    page.get_by_test_id("stAppViewContainer").wait_for(state="attached")
    wait_for_app(page)
    expect(page).to_have_url(re.compile(r"/account(\?|$)"))
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    expect(token_rows(page)).to_have_count(1)
    expect(token_rows(page).first.locator("td[role='gridcell']").first).to_have_text(OLD_TOKEN)

    form = page.get_by_test_id("stForm").filter(has_text="Create a token")
    form.get_by_label("Name", exact=True).fill("nightly-report")
    until = days.today() + timedelta(days=30)
    expires = form.get_by_role("group", name="Expires (optional)", exact=True)  # year, month, day fields
    expires.get_by_role("spinbutton").first.click()
    page.keyboard.type(f"{until:%Y%m%d}")  # each field moves on to the next once full
    expect(expires.get_by_role("spinbutton")).to_have_text([f"{until:%Y}", f"{until:%m}", f"{until:%d}"])
    shot(page, "create-form-filled")
    button(form, "Create token").click()
    wait_for_app(page)

    until_text = f"{until.day} {until:%b %Y}"
    expect(said(page, "Success", f"Created the token “nightly-report” (editor, until {until_text}).")).to_be_visible()
    expect(page.get_by_text("Your new token “nightly-report”")).to_be_visible()
    expect(page.get_by_test_id("stMain").get_by_test_id("stAlertContentWarning")).to_contain_text(
        "it will not be shown again")
    code = page.get_by_test_id("stCode")
    expect(code).to_have_count(1)
    secret = code.inner_text().strip()
    assert re.fullmatch(r"mltrl_[A-Za-z0-9_-]{43}", secret), secret
    expect(token_rows(page)).to_have_count(2)  # newest first
    expect(token_rows(page).first.locator("td[role='gridcell']")).to_have_text(
        ["nightly-report", secret[:10] + "…", "editor", f"{days.today().day} {days.today():%b %Y}", until_text,
         "never", "active"])
    shot(page, "token-created")

    acting = acting_as(database_url, secret)  # the token works, as Eve, at most an editor
    assert (acting.name, acting.role_cap, acting.via) == ("eve", "editor", "token nightly-report")

    page.reload()  # a refresh never shows the secret again
    page.get_by_test_id("stAppViewContainer").wait_for(state="attached")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    expect(token_rows(page)).to_have_count(2)
    expect(page.get_by_test_id("stCode")).to_have_count(0)
    expect(page.get_by_text(secret)).to_have_count(0)
    expect(token_rows(page).first).to_contain_text("UTC")  # last used: just now, by acting_as

    revoke = page.get_by_test_id("stForm").filter(has_text="Revoke a token")
    choice = revoke.get_by_role("combobox", name="Token")
    expect(choice).to_have_attribute("placeholder", "Choose the token to revoke")
    open_list(revoke.get_by_test_id("stSelectbox"))
    expect(page.get_by_role("option")).to_have_count(2)
    page.get_by_role("option", name=re.compile(rf"^nightly-report \({re.escape(secret[:10])}…, editor, created ")).click()
    expect(choice).to_have_value(re.compile(r"^nightly-report "))
    shot(page, "token-chosen-for-revoking")
    button(revoke, "Revoke token").click()
    wait_for_app(page)
    expect(said(page, "Success", f"Revoked the token “nightly-report” ({secret[:10]}…): it no longer works.")
           ).to_be_visible()
    expect(token_rows(page).first.locator("td[role='gridcell']").last).to_have_text("revoked")
    expect(token_rows(page).nth(1).locator("td[role='gridcell']").last).to_have_text("active")  # ci untouched
    open_list(revoke.get_by_test_id("stSelectbox"))  # only the CI token is left to revoke
    expect(page.get_by_role("option")).to_have_text([re.compile(rf"^{OLD_TOKEN} \(mltrl_")])
    page.keyboard.press("Escape")
    shot(page, "token-revoked")

    with pytest.raises(Unauthenticated):
        acting_as(database_url, secret)
    assert page.errors.unexpected() == []
