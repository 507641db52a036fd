"""Browser journeys: a real ``streamlit run`` server and Debian's Chromium driven by Playwright.

Follows Streamlit's own e2e recipe (``e2e_playwright/conftest.py``): a module-scoped server on a
free port with the demo portfolio in a fresh SQLite file, a ``/_stcore/health`` poll, the server's
output written to a log file (a full pipe can hang the process), and helpers that wait for the
script run to finish before anything is asserted.

Artifacts (server logs, full-page screenshots) go to ``tests/e2e/artifacts/``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extra is missing
    pytest.fail("playwright is not installed: run `make dev`", pytrace=False)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
BIN = Path(sys.executable).parent  # the venv's bin/, where `mltrl` and `streamlit` live
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-extensions", "--no-first-run", "--disable-sync", "--disable-component-update",
]
VIEWPORT = {"width": 1400, "height": 1000}
HEALTH_TIMEOUT_S = 60
RUN_TIMEOUT_MS = 25_000
# What a journey expects to see comes after a script run; Playwright's 5 s default is short for a
# busy 2-core CI machine. A passing check still returns as soon as it holds.
EXPECT_TIMEOUT_MS = 15_000
expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_healthy(proc: subprocess.Popen, base_url: str, log: Path) -> None:
    """Poll ``/_stcore/health`` until it says ``ok``; fail fast if the server exits."""
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with code {proc.returncode} before it was healthy; "
                        f"log {log}:\n{_tail(log)}", pytrace=False)
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as resp:
                if resp.read().decode().strip() == "ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.2)
    pytest.fail(f"streamlit was not healthy after {HEALTH_TIMEOUT_S} s; log {log}:\n{_tail(log)}",
                pytrace=False)


@contextmanager
def demo_server(tmp_path_factory: pytest.TempPathFactory, name: str,
                seed: Callable[[str], None] | None = None, as_of: str | None = None) -> Iterator[str]:
    """A ``streamlit run server.py`` server on a free port over a fresh database holding the demo
    placed for ``as_of`` (an ISO day, which the server then takes for today; default today), then
    whatever ``seed(database_url)`` adds;
    yields the base URL (``http://127.0.0.1:PORT``) and stops the server afterwards. Its output goes
    to ``artifacts/server-NAME.log``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'e2e.db'}"
    env = {**os.environ, "MLTRL_DATABASE_URL": url, "MLTRL_USER": "e2e", "PYTHONUNBUFFERED": "1"}
    if as_of:  # the server lives on that day too (MLTRL_TODAY), as the demo was placed for it
        env["MLTRL_TODAY"] = as_of
    demo = subprocess.run([str(BIN / "mltrl"), "demo", "load", *(["--as-of", as_of] if as_of else [])], cwd=ROOT,
                          env=env,
                          capture_output=True, text=True, timeout=120)
    if demo.returncode != 0:
        pytest.fail(f"`mltrl demo load` failed ({demo.returncode}):\n{demo.stdout}\n{demo.stderr}",
                    pytrace=False)
    if seed is not None:
        seed(url)
    proc, base_url = launch_server(env, ARTIFACTS / f"server-{name}.log")
    try:
        yield base_url
    finally:
        stop_server(proc)


@pytest.fixture(scope="module")
def app_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo served for a module's journeys (see ``demo_server``)."""
    with demo_server(tmp_path_factory, request.module.__name__.rsplit(".", 1)[-1]) as base_url:
        yield base_url


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def launch_server(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    """Start ``streamlit run server.py`` (the pages and the HTTP routes, as ``make run``) on a free loopback port with ``env``, output to ``log``;
    returns the process and its base URL once it answers its health check."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    cmd = [
        str(BIN / "streamlit"), "run", "server.py",
        "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        "--global.developmentMode", "false",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    _wait_healthy(proc, base_url, log)
    return proc, base_url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless. A missing browser is a failure, not a skip."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run make browser / apt-get install chromium", pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class ConsoleLog:
    """Console errors and uncaught page errors seen while a test ran."""

    def __init__(self) -> None:
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []

    @property
    def all(self) -> list[str]:
        return self.console_errors + self.page_errors

    def unexpected(self) -> list[str]:
        """Page errors, and console errors not explained by ``KNOWN_CONSOLE_ERRORS``."""
        return self.page_errors + [
            e for e in self.console_errors if not any(re.search(known, e) for known in KNOWN_CONSOLE_ERRORS)
        ]


# Console errors that say nothing about the app's health; each with its reason.
KNOWN_CONSOLE_ERRORS = [
    # On a deep link (/project?code=...) Streamlit's frontend first probes /project/_stcore/...
    # to discover the base path, and gets a 404 before it finds the right one.
    r"status of 404 .* @ http://127\.0\.0\.1:\d+/[\w-]+/_stcore/(host-config|health)",
    # The sign-in form answers a throttled attempt with 429 Too Many Requests (and Retry-After):
    # Chromium logs the status of any page it loads with one.
    r"status of 429 \(Too Many Requests\) @ http://127\.0\.0\.1:\d+/sign-in$",
]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh 1400x1000 page; ``page.errors`` lists console errors and page errors."""
    yield from new_page(browser)


# The name a journey's browser has given in single-user mode (the cookie /acting-as sets): pages
# act under the name the browser gave, never the server's MLTRL_USER or login name.
E2E_NAME = "e2e"
ACTING_AS_COOKIE = "mltrl_acting_as"


def new_page(browser: Browser, acting_as: str | None = E2E_NAME) -> Iterator[Page]:
    """A page in a browser context of its own (its own Streamlit session: another person), with
    ``page.errors``; closed when the generator is. The browser has given the name ``acting_as``
    (None: no name yet), as the ``/acting-as`` form would have (cookies ignore the port, so this
    holds for every server on 127.0.0.1)."""
    context = browser.new_context(viewport=VIEWPORT)
    if acting_as is not None:
        context.add_cookies([{"name": ACTING_AS_COOKIE, "value": quote(acting_as, safe=""), "domain": "127.0.0.1",
                              "path": "/", "httpOnly": True, "sameSite": "Lax"}])
    pg = context.new_page()
    pg.set_default_timeout(RUN_TIMEOUT_MS)
    log = ConsoleLog()
    pg.on("console", lambda msg: log.console_errors.append(f"{msg.text} @ {msg.location.get('url', '')}")
          if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: log.page_errors.append(str(exc)))
    pg.errors = log  # type: ignore[attr-defined]
    yield pg
    context.close()


# --- helpers ------------------------------------------------------------------------------------


def wait_for_app(page: Page) -> None:
    """Wait until the script run triggered by the last interaction (or load) has finished.

    Streamlit's recipe: some widgets debounce ~200 ms, then the app is connected, the script is
    not running and no skeleton placeholder is left.
    """
    page.wait_for_timeout(210)
    page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']").wait_for(
        state="attached", timeout=RUN_TIMEOUT_MS)
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=RUN_TIMEOUT_MS)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=RUN_TIMEOUT_MS)


def act_as(page: Page, name: str) -> None:
    """Single-user mode: give who is acting through the sidebar's link to the /acting-as form,
    which brings the browser back to the page it came from."""
    page.get_by_test_id("stSidebar").locator('a[href^="/acting-as"]').click()
    page.wait_for_url(re.compile(r"/acting-as\?next="))
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name=re.compile("Give my name|Act under this name")).click()
    page.wait_for_url(lambda url: "/acting-as" not in url)
    page.get_by_test_id("stAppViewContainer").wait_for(state="attached", timeout=RUN_TIMEOUT_MS)
    wait_for_app(page)
    expect(page.get_by_test_id("stSidebar")).to_contain_text(f"Acting as {name}")


def open_app(page: Page, url: str) -> None:
    """Go to ``url`` and wait for the first script run to finish."""
    page.goto(url)
    page.get_by_test_id("stAppViewContainer").wait_for(state="attached", timeout=RUN_TIMEOUT_MS)
    wait_for_app(page)


_shot_counts: dict[str, int] = {}


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot to ``artifacts/<test>-<nn>-<name>.png`` and return its path.

    Streamlit scrolls inside its own container, so ``full_page=True`` alone captures one
    viewport. The viewport is stretched to the content's height for the shot, then restored.
    """
    test = os.environ.get("PYTEST_CURRENT_TEST", "test").split("::")[-1].split(" ")[0]
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", test)
    _shot_counts[test] = _shot_counts.get(test, 0) + 1
    path = ARTIFACTS / f"{test}-{_shot_counts[test]:02d}-{name}.png"
    size = page.viewport_size or VIEWPORT
    height = page.evaluate(
        """() => Math.max(...['stMain', 'stAppViewContainer', 'stAppScrollToBottomContainer']
              .map(id => document.querySelector(`[data-testid='${id}']`))
              .filter(Boolean).map(el => el.scrollHeight), document.body.scrollHeight)"""
    )
    page.set_viewport_size({"width": size["width"], "height": max(int(height), size["height"])})
    page.wait_for_timeout(400)  # let charts and grids re-layout to the new size
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    page.wait_for_timeout(100)
    return path
