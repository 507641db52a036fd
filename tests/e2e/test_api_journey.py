"""Journeys over the HTTP API on a running server (``streamlit run server.py``, as ``make run``):

* a CI-like script with a service account's token records a level move (``mltrl --server``, the
  CLI as a client) and saves a card (a plain HTTP PUT); a person signed in to the dashboard sees
  both, and the audit trail names the token's owner and the token; a viewer's token is refused
  with 403 and nothing is written;
* a bounded load test on loopback: processes mixing API writes and reads with browser sessions
  for a minute; nothing lost, no 5xx, no "database is locked" in the server's log.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ARTIFACTS, BIN, ROOT, demo_server, new_page, open_app, shot, wait_for_app

pytestmark = pytest.mark.e2e

ADA_PASSWORD = "ada-secret-1"
LOAD_SECONDS = 60
LOAD_WRITERS = 3


def _mltrl(url: str, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, "MLTRL_DATABASE_URL": url, "MLTRL_USER": "e2e", **(env or {})}
    return subprocess.run([str(BIN / "mltrl"), *args], cwd=ROOT, env=full, input=stdin,
                          capture_output=True, text=True, timeout=120)


def _ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """(base URL, database file, token secrets) of a server over the demo, an admin, a CI job's
    service account with a token, and a viewer with a token."""
    seen: dict[str, object] = {}

    def seed(url: str) -> None:
        _ok(_mltrl(url, "user", "add", "ada", "--role", "admin", stdin=f"{ADA_PASSWORD}\n{ADA_PASSWORD}\n"))
        _ok(_mltrl(url, "--as", "ada", "user", "add", "ci-bot", "--role", "editor", "--service"))
        _ok(_mltrl(url, "--as", "ada", "user", "add", "vic", "--role", "viewer", stdin="vic-secret-1\nvic-secret-1\n"))
        seen["secrets"] = {
            "ci": _ok(_mltrl(url, "--as", "ada", "token", "create", "pipeline", "--owner", "ci-bot")).strip(),
            "viewer": _ok(_mltrl(url, "--as", "vic", "token", "create", "dashboards")).strip(),
            "admin": _ok(_mltrl(url, "--as", "ada", "token", "create", "load")).strip(),
        }
        seen["db"] = Path(url.removeprefix("sqlite:///"))

    with demo_server(tmp_path_factory, "api", seed=seed) as base_url:
        yield base_url, seen["db"], seen["secrets"]  # type: ignore[misc]


def call(base_url: str, token: str, method: str, path: str, body: dict | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict, dict]:
    """One API request as a script makes it: (status, JSON body, headers)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base_url + "/api/v1" + path, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read() or b"null"), {k.lower(): v for k, v in answer.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null"), {k.lower(): v for k, v in exc.headers.items()}


def level_of(db: Path, code: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT level FROM project WHERE code = ?", (code,)).fetchone()[0]


def sign_in(page: Page, base_url: str, next_path: str) -> None:
    page.goto(base_url + next_path)
    expect(page.get_by_role("heading", name="MLTRL Dashboard")).to_be_visible()
    page.get_by_label("User name").fill("ada")
    page.get_by_label("Password").fill(ADA_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("stAppViewContainer").wait_for(state="attached")
    wait_for_app(page)


def test_a_ci_script_with_a_token_moves_a_level_and_saves_a_card(server, page: Page) -> None:
    base_url, db, secrets = server
    code = "R17.1"
    before = level_of(db, code)

    # The viewer's token is refused, with the reason, and nothing is written.
    status, problem, headers = call(base_url, secrets["viewer"], "POST", f"/projects/{code}/level/graduate", {})
    assert status == 403 and headers["content-type"].startswith("application/problem+json")
    assert problem["detail"] == "vic is a viewer; this needs the editor role or higher."
    denied = _mltrl("unused", "--server", base_url, "level", "graduate", code,
                    env={"MLTRL_TOKEN": secrets["viewer"]})
    assert denied.returncode == 1 and "vic is a viewer" in denied.stderr
    assert level_of(db, code) == before

    # The CI job: `mltrl --server ... level graduate`, then a card saved with a plain PUT.
    moved = _ok(_mltrl("unused", "level", "graduate", code, "--note", "nightly suite green",
                       env={"MLTRL_SERVER": base_url, "MLTRL_TOKEN": secrets["ci"]}))
    assert f"{code}: graduation {before} -> {before + 1}" in moved
    status, card, headers = call(base_url, secrets["ci"], "GET", f"/projects/{code}/card")
    assert status == 200
    status, saved, _ = call(base_url, secrets["ci"], "PUT", f"/projects/{code}/card",
                            {"card": {**card["card"], "testing": "Nightly suite: 412 passed, 0 failed."},
                             "summary": "Test results from CI"}, headers={"If-Match": headers["etag"]})
    assert status == 200, saved
    assert level_of(db, code) == before + 1

    # The interactive docs render in the browser from the server's own files (no CDN here).
    page.goto(base_url + "/api/v1/docs")
    expect(page.get_by_role("heading", name=re.compile("MLTRL Dashboard API"))).to_be_visible()
    expect(page.get_by_text("/projects/{code}/level/graduate", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Authorize"))).to_be_visible()
    shot(page, "api-docs")

    # A person sees it in the dashboard.
    sign_in(page, base_url, f"/project?code={code}")
    main = page.get_by_test_id("stMain")
    expect(main).to_contain_text(f"Level {before + 1}")
    open_app(page, f"{base_url}/card?code={code}")
    expect(page.get_by_test_id("stMain")).to_contain_text("Nightly suite: 412 passed, 0 failed.")
    expect(page.get_by_test_id("stMain")).to_contain_text("ci-bot")
    # The card's own links open in a new tab, still signed in (the cookie, not the Streamlit session).
    open_app(page, f"{base_url}/card?code=R10.1")
    with page.expect_popup() as opened:
        page.get_by_test_id("stMain").get_by_role("link", name="#R11.1").first.click()
    tab = opened.value
    tab.get_by_test_id("stAppViewContainer").wait_for(state="attached")
    wait_for_app(tab)
    expect(tab).to_have_url(re.compile(r"/project\?code=R11\.1$"))
    expect(tab.get_by_test_id("stSidebar")).to_contain_text("ada · admin")
    expect(tab.get_by_role("heading", name=re.compile(r"^R11\.1 · "))).to_be_visible()
    tab.close()

    open_app(page, f"{base_url}/admin")
    page.get_by_role("tab", name="Audit trail").click()
    wait_for_app(page)
    page.get_by_role("combobox", name="Person").fill("ci-bot")  # the table is a canvas: filter, read the detail
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    wait_for_app(page)
    detail = page.get_by_test_id("stMain").get_by_text(re.compile(r"by ci-bot \(token pipeline\) at"))
    expect(detail).to_be_visible()
    expect(detail).to_contain_text("cardrevision")  # the newest: the card saved after the level move
    shot(page, "audit-trail-token")

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT actor, via, entity FROM auditentry WHERE actor = 'ci-bot'").fetchall()
    assert {(a, v) for a, v, _ in rows} == {("ci-bot", "token pipeline")}
    assert {"levelevent", "cardrevision"} <= {e for _, _, e in rows}


# --- load ------------------------------------------------------------------------------------------

WRITER = r"""
import json, sys, time, urllib.request, urllib.error
base, token, codes, seconds = sys.argv[1], sys.argv[2], sys.argv[3].split(","), float(sys.argv[4])

def call(method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + "/api/v1" + path, data=data, method=method, headers={
        "Authorization": "Bearer " + token, "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null"), {k.lower(): v for k, v in r.headers.items()}
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null"), {k.lower(): v for k, v in e.headers.items()}

stats = {"moves": {c: 0 for c in codes}, "saves": {c: 0 for c in codes}, "reads": 0, "statuses": {}}
end = time.monotonic() + seconds
i = 0
while time.monotonic() < end:
    code = codes[i % len(codes)]
    step = i % 4
    if step == 0:
        s, body, _ = call("GET", "/projects?limit=50")
        stats["reads"] += s == 200
    elif step == 1:
        level = call("GET", "/projects/" + code)[1]["level"]
        s, body, _ = (call("POST", "/projects/" + code + "/level/graduate", {"note": "load"}) if level < 4 else
                      call("POST", "/projects/" + code + "/level/switchback", {"level": 1, "kind": "discovery"}))
        stats["moves"][code] += s == 200
    elif step == 2:
        s, card, h = call("GET", "/projects/" + code + "/card")
        s, body, _ = call("PUT", "/projects/" + code + "/card", {"card": {**card["card"], "notes": "load %d" % i}},
                          {"If-Match": h["etag"]})
        stats["saves"][code] += s == 200
    else:
        s, body, _ = call("GET", "/projects/" + code + "/history")
        stats["reads"] += s == 200
    stats["statuses"][str(s)] = stats["statuses"].get(str(s), 0) + 1
    if s >= 300:
        stats.setdefault("problems", []).append(body)
    i += 1
print(json.dumps(stats))
"""


def _counts(db: Path, codes: list[str]) -> dict[str, tuple[int, int]]:
    with sqlite3.connect(db) as conn:
        return {c: (conn.execute("SELECT count(*) FROM levelevent e JOIN project p ON p.id = e.project_id "
                                 "WHERE p.code = ?", (c,)).fetchone()[0],
                    conn.execute("SELECT count(*) FROM cardrevision r JOIN project p ON p.id = r.project_id "
                                 "WHERE p.code = ?", (c,)).fetchone()[0]) for c in codes}


def test_a_minute_of_api_writers_and_readers_beside_browser_sessions(server, browser: Browser) -> None:
    base_url, db, secrets = server
    groups = [["R01.1", "R04.1"], ["R20.1", "R23.1"], ["R24.1", "R18.1"]][:LOAD_WRITERS]
    codes = [c for g in groups for c in g]
    before = _counts(db, codes)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, base_url, secrets["admin"], ",".join(g),
                                 str(LOAD_SECONDS)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for g in groups]

    # Two people keep the dashboard open meanwhile: the Portfolio and a Project page, refreshed.
    browsed = 0
    opened = contextmanager(new_page)
    with opened(browser, acting_as=None) as one, opened(browser, acting_as=None) as two:
        for page in (one, two):
            sign_in(page, base_url, "/")
        end = time.monotonic() + LOAD_SECONDS
        while time.monotonic() < end:
            open_app(one, base_url + "/")
            expect(one.get_by_test_id("stMain")).to_contain_text("Portfolio")
            open_app(two, f"{base_url}/project?code={codes[browsed % len(codes)]}")
            expect(two.get_by_test_id("stMain")).to_contain_text(codes[browsed % len(codes)])
            browsed += 1
        assert not one.errors.unexpected() and not two.errors.unexpected()  # type: ignore[attr-defined]

    results = []
    for proc in writers:
        out, err = proc.communicate(timeout=LOAD_SECONDS + 120)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    statuses: dict[str, int] = {}
    for r in results:
        for status, n in r["statuses"].items():
            statuses[status] = statuses.get(status, 0) + n
    (ARTIFACTS / "load-test.json").write_text(json.dumps({"statuses": statuses, "browsed": browsed,
                                                          "writers": results}, indent=2))
    assert set(statuses) == {"200"}, [r.get("problems") for r in results]

    # Nothing lost: every acknowledged level move and card save is in the database.
    after = _counts(db, codes)
    for r in results:
        for code in r["moves"]:
            assert after[code][0] - before[code][0] == r["moves"][code], code
            assert after[code][1] - before[code][1] == r["saves"][code], code
    assert sum(sum(r["moves"].values()) for r in results) > 0 and browsed > 2
    log = (ARTIFACTS / "server-api.log").read_text(errors="replace")
    assert "database is locked" not in log and "Traceback" not in log
