"""Evidence arriving from CI moves a gate: a script with a service account's token scores the hand
criteria of R02.1's level 4 checklist, opens the review, then posts a failing JUnit report and a
passing one through the HTTP API; a person signed in to the dashboard watches the criterion scored
from evidence go from "no evidence yet" to 0% to 100%, and the review's readiness from "not ready
yet" to "ready for review", without anyone editing the checklist. The Project page names the
evidence under what blocks the next level, and its timeline lists both reports.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import demo_server, open_app, shot
from tests.e2e.test_api_journey import ADA_PASSWORD, _mltrl, _ok, sign_in
from tests.e2e.test_review_journey import grid_cell, grid_with_column, readiness

pytestmark = pytest.mark.e2e

CODE, NAME = "R02.1", "Mixed-variable BO"
HAND_SCORED = ["real-data", "applications", "data-readiness", "security-privacy", "ethics", "go-decision"]
FROM_EVIDENCE = "applied-metrics"  # level 4's criterion scored from evidence in the built-in set


def junit(passed: int, failed: int) -> bytes:
    """A JUnit report as pytest writes it (``--junitxml``): ``passed`` good cases, ``failed`` failing ones."""
    cases = [f'<testcase classname="tests.test_bo" name="test_case_{i}" time="0.01"/>' for i in range(passed)]
    cases += [f'<testcase classname="tests.test_bo" name="test_regret_{i}" time="0.02">'
              f'<failure message="regret above 0.1">assert 0.14 &lt;= 0.1</failure></testcase>' for i in range(failed)]
    return (f'<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" '
            f'failures="{failed}" skipped="0" tests="{passed + failed}" time="1.2">{"".join(cases)}'
            f"</testsuite></testsuites>").encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, CI token) of a server over the demo plus an admin, a CI service account with a
    token, and R02.1 at level 4 with nothing scored."""
    seen: dict[str, str] = {}

    def seed(url: str) -> None:
        _ok(_mltrl(url, "user", "add", "ada", "--role", "admin", stdin=f"{ADA_PASSWORD}\n{ADA_PASSWORD}\n"))
        _ok(_mltrl(url, "--as", "ada", "user", "add", "ci-bot", "--role", "editor", "--service"))
        seen["token"] = _ok(_mltrl(url, "--as", "ada", "token", "create", "pipeline", "--owner", "ci-bot")).strip()
        _ok(_mltrl(url, "--as", "ada", "project", "add", CODE, NAME, "--owner", "Ada Byron"))
        _ok(_mltrl(url, "--as", "ada", "level", "start", CODE, "4", "--note", "proof of concept under way"))

    with demo_server(tmp_path_factory, "evidence", seed=seed) as base_url:
        yield base_url, seen["token"]


def api(base_url: str, token: str, method: str, path: str, *, body: dict | None = None, xml: bytes | None = None
        ) -> tuple[int, dict]:
    """One request as a CI script makes it: JSON in and out, or a JUnit report as the body."""
    data = xml if xml is not None else (json.dumps(body).encode() if body is not None else None)
    kind = "application/xml" if xml is not None else "application/json"
    request = urllib.request.Request(f"{base_url}/api/v1{path}", data=data, method=method,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": kind})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def post_report(base_url: str, token: str, report: bytes) -> dict:
    status, record = api(base_url, token, "POST",
                         f"/projects/{CODE}/evidence/junit?level=4&criterion={FROM_EVIDENCE}", xml=report)
    assert status == 201, record
    return record


def evidence_table(page: Page):
    """The review's "Scored from evidence" table (its column "Evidence says" is its own)."""
    return grid_with_column(page, "Evidence says")


def look_at_review(page: Page, base_url: str, number: int) -> None:
    open_app(page, f"{base_url}/reviews?code={CODE}&review={number}")
    expect(page.get_by_role("heading", name=re.compile(rf"^Review {number} · {re.escape(CODE)} "))).to_be_visible()


def test_a_failing_then_a_passing_report_from_ci_moves_the_criterion_and_the_gate(server, page: Page) -> None:
    base_url, token = server

    # The CI script scores the six criteria judged by hand at 80% and opens the review.
    for key in HAND_SCORED:
        status, checklist = api(base_url, token, "POST", f"/projects/{CODE}/checklist/4/{key}", body={"percent": 80})
        assert status == 200, checklist
    status, review = api(base_url, token, "POST", f"/projects/{CODE}/reviews", body={"panel": []})
    assert status == 201, review
    number = review["id"]

    sign_in(page, base_url, f"/reviews?code={CODE}&review={number}")
    expect(page.get_by_role("heading", name=re.compile(rf"^Review {number} · {re.escape(CODE)} "))).to_be_visible()
    # Nothing sent yet: the criterion is unscored (counted 0), so 480 / 7 = 69%.
    expect(readiness(page)).to_have_text("not ready yet Exit criteria average 69% (ready at 80%), 6 of 7 scored.")
    table = evidence_table(page)
    expect(grid_cell(table, 2, 0)).to_have_text("no evidence yet")
    shot(page, "evidence-none")

    # A failing report: the criterion is scored 0% from it; the review stays short of the threshold.
    # The fix lands; the next run's report passes: 100%, and the review is ready (580 / 7 = 83%).
    for failed, status, percent, ready in ((1, "fail", 0, "not ready yet Exit criteria average 69%"),
                                           (0, "pass", 100, "ready for review Exit criteria average 83%")):
        record = post_report(base_url, token, junit(passed=12 - failed, failed=failed))
        assert record["status"] == status and record["metrics"]["failures"] == failed
        look_at_review(page, base_url, number)
        expect(readiness(page)).to_have_text(f"{ready} (ready at 80%), 7 of 7 scored.")
        table = evidence_table(page)
        # The grid's accessible mirror holds the raw number; the "%" is drawn on the canvas only.
        expect(grid_cell(table, 1, 0)).to_have_text(str(percent))
        expect(grid_cell(table, 2, 0)).to_have_text(status)
        expect(grid_cell(table, 3, 0)).to_have_text(f"Tests: {12 - failed} passed, {failed} failed")
        shot(page, f"evidence-{'failing' if failed else 'passing'}")

    # The Project page lists both reports in its evidence timeline, sent by the CI's token.
    open_app(page, f"{base_url}/project?code={CODE}")
    timeline = grid_with_column(page, "Kind")
    expect(timeline.locator("td[role='gridcell']").filter(has_text=re.compile(r"^Tests: 1[12] passed, [01] failed$"))
           ).to_have_count(2)
    expect(timeline.locator("td[role='gridcell']").filter(has_text="ci-bot (token pipeline)")).to_have_count(2)
    shot(page, "evidence-timeline")
