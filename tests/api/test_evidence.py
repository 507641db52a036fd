"""/api/v1/projects/{code}/evidence: what a CI job posts with its token. A failing then a passing
JUnit report moves a criterion scored from evidence from 0% to 100% on the checklist without
anyone editing a score; a record sent twice is kept once; refusals name the field and write
nothing; the list comes newest first, in pages, each record saying whether it is stale."""

from __future__ import annotations

import pytest

from mltrl.domain.evidence import JUNIT_MAX_BYTES
from mltrl.services import Actor, level_moves
from tests.api.conftest import auth, problem
from tests.factories import everything, make_project

ADMIN = Actor("ada")
FAILING = b"""<?xml version="1.0"?><testsuites><testsuite name="eval" timestamp="2026-01-05T10:00:00">
<testcase classname="eval" name="faithfulness"/><testcase classname="eval" name="invented_facts">
<failure message="0.06 &gt; 0.02">rate too high</failure></testcase></testsuite></testsuites>"""
PASSING = FAILING.replace(b'<failure message="0.06 &gt; 0.02">rate too high</failure>', b"")


@pytest.fixture
def r02(session, team) -> str:
    make_project(session, "R02.1", "Mixed-variable BO", actor=ADMIN)
    level_moves.record_start(session=session, actor=ADMIN, code="R02.1", level=4)
    return "R02.1"


def _applied_metrics(client) -> dict:
    checklist = client.get("/api/v1/projects/R02.1/checklist/4")
    assert checklist.status_code == 200, checklist.text
    return next(c for c in checklist.json()["criteria"] if c["key"] == "applied-metrics")


def _post_junit(client, report: bytes, **params):
    query = "&".join(f"{k}={v}" for k, v in ({"level": 4, "criterion": "applied-metrics"} | params).items())
    return client.post(f"/api/v1/projects/R02.1/evidence/junit?{query}", content=report,
                       headers={"Content-Type": "application/xml"})


def test_a_failing_then_a_passing_report_moves_the_criterion_from_0_to_100(client, r02):
    before = _applied_metrics(client)
    assert before["scored_by"] == "evidence" and before["percent"] is None and before["from_evidence"] is None

    failing = _post_junit(client, FAILING, url="https://ci.example.org/runs/1", source="GitHub Actions")
    assert failing.status_code == 201, failing.text
    record = failing.json()
    assert record["created"] and record["status"] == "fail" and record["kind"] == "test-report"
    assert record["metrics"] == {"tests": 2, "passed": 1, "failures": 1, "errors": 0, "skipped": 0, "duration_s": 0}
    assert record["recorded_by"] == "eve" and record["recorded_via"] == "token eve-script"
    assert failing.headers["location"] == f"/api/v1/projects/R02.1/evidence/{record['id']}"
    row = _applied_metrics(client)
    assert (row["percent"], row["source"]) == (0, "evidence")
    assert row["from_evidence"]["url"] == "https://ci.example.org/runs/1"

    passing = _post_junit(client, PASSING)
    assert passing.status_code == 201, passing.text
    row = _applied_metrics(client)
    assert (row["percent"], row["from_evidence"]["status"]) == (100, "pass")
    assert client.get(f"/api/v1/projects/R02.1/evidence/{record['id']}").json()["title"] == "Tests: 1 passed, 1 failed"


def test_a_record_sent_twice_is_kept_once_and_answers_200(client, session, r02, engine):
    body = {"level": 4, "kind": "ci-run", "status": "pass", "title": "Pipeline 88", "external_id": "gl:88",
            "metrics": {"coverage": 0.87}, "source": "GitLab CI", "url": "https://ci.example.org/p/88"}
    first = client.post("/api/v1/projects/R02.1/evidence", json=body)
    assert first.status_code == 201 and first.json()["created"]
    before = everything(engine)
    again = client.post("/api/v1/projects/R02.1/evidence", json=body | {"title": "Pipeline 88 (retried)"})
    assert again.status_code == 200 and not again.json()["created"] and again.json()["id"] == first.json()["id"]
    assert again.json()["title"] == "Pipeline 88"
    assert everything(engine) == before


@pytest.mark.parametrize("body, field", [
    ({"level": 4, "kind": "test-report", "status": "maybe", "title": "t"}, "status"),
    ({"level": 4, "kind": "test-report", "status": "pass", "title": "t", "criterion": "nope"}, "criterion"),
    ({"level": 4, "kind": "test-report", "status": "pass", "title": "t", "url": "javascript:x"}, "url"),
    ({"level": 4, "kind": "test-report", "status": "pass", "title": "t", "metrics": {"a": "b"}}, "metrics"),
    ({"level": 12, "kind": "test-report", "status": "pass", "title": "t"}, "level"),
    ({"level": 4, "kind": "test-report", "status": "pass"}, "title"),
    ({"level": 4, "kind": "test-report", "status": "pass", "title": "t", "colour": "red"}, "colour"),
])
def test_bad_records_are_422_naming_the_field_and_write_nothing(client, r02, engine, body, field):
    client.get("/api/v1/projects/R02.1/evidence")  # the token's first use of the minute, noted before the snapshot
    before = everything(engine)
    answer = client.post("/api/v1/projects/R02.1/evidence", json=body)
    assert answer.status_code == 422, answer.text
    assert problem(answer, 422)["field"] == field
    assert everything(engine) == before


@pytest.mark.parametrize("report, headers, reason", [
    (b"<html>502</html>", {"Content-Type": "application/xml"}, "root element is <html>"),
    (b"", {"Content-Type": "application/xml"}, "the body is empty"),
    (b"{}", {"Content-Type": "application/json"}, "send the JUnit report as application/xml"),
    (b"<testsuite/>", {"Content-Type": "text/xml"}, "holds no test cases"),
    pytest.param(b"<testsuites>" + b" " * JUNIT_MAX_BYTES + b"</testsuites>", {"Content-Type": "application/xml"},
                 "the body is larger than 20 MB", id="larger than the limit"),
])
def test_a_report_that_is_not_junit_is_refused_and_writes_nothing(client, r02, engine, report, headers, reason):
    client.get("/api/v1/projects/R02.1/evidence")
    before = everything(engine)
    answer = client.post("/api/v1/projects/R02.1/evidence/junit?level=4", content=report, headers=headers)
    assert answer.status_code == 422, answer.text
    assert problem(answer, 422)["field"] == "report" and reason in problem(answer, 422)["detail"]
    assert everything(engine) == before


def test_a_viewer_reads_evidence_but_cannot_send_it(bare_client, team, r02):
    sent = bare_client.post("/api/v1/projects/R02.1/evidence", headers=auth(team.viewer),
                            json={"level": 4, "kind": "document", "status": "info", "title": "Notes"})
    assert sent.status_code == 403
    listed = bare_client.get("/api/v1/projects/R02.1/evidence", headers=auth(team.viewer))
    assert listed.status_code == 200 and listed.json()["items"] == []
    assert bare_client.get("/api/v1/projects/R02.1/evidence").status_code == 401


def test_the_list_is_newest_first_in_pages_and_filtered(client, r02):
    for n in range(3):
        answer = client.post("/api/v1/projects/R02.1/evidence", json={
            "level": 3 + (n > 0), "kind": "document", "status": "info", "title": f"doc {n}",
            "produced_at": f"2026-01-0{n + 1}T12:00:00Z"})
        assert answer.status_code == 201, answer.text
    listed = client.get("/api/v1/projects/R02.1/evidence?limit=2").json()
    assert [r["title"] for r in listed["items"]] == ["doc 2", "doc 1"] and listed["total"] == 3 and "next" in listed
    assert [r["title"] for r in client.get("/api/v1/projects/R02.1/evidence?level=3").json()["items"]] == ["doc 0"]
    assert client.get("/api/v1/projects/R02.1/evidence?kind=nonsense").status_code == 422
    assert client.get("/api/v1/projects/NOPE/evidence").status_code == 404
    assert client.get("/api/v1/projects/R02.1/evidence/999999").status_code == 404


def test_a_report_streamed_without_a_length_is_refused_once_it_grows_past_the_limit(client, r02, engine):
    client.get("/api/v1/projects/R02.1/evidence")
    before = everything(engine)

    def chunks():  # no Content-Length: the body arrives chunked and is counted as it is read
        for _ in range(JUNIT_MAX_BYTES // (1024 * 1024) + 2):
            yield b" " * (1024 * 1024)

    answer = client.post("/api/v1/projects/R02.1/evidence/junit?level=4", content=chunks(),
                         headers={"Content-Type": "application/xml"})
    refusal = problem(answer, 422)
    assert refusal["field"] == "report" and "larger than 20 MB" in refusal["detail"]
    assert everything(engine) == before
