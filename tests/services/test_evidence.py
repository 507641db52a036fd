"""Evidence against a real database (SQLite and PostgreSQL): records checked and audited, sent
twice and kept once, criteria scored from the latest pass or fail record with the team's own score
kept apart, a review decided on evidence keeping where its scores came from, stale records marked,
JUnit reports recorded, and every refusal writing nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from mltrl.domain.errors import InvalidInput, NotFound
from mltrl.domain.policy import Policy
from mltrl.models import AuditEntry, utcnow
from mltrl.services import Actor, projects, reviews, risks
from tests.factories import day, everything, make_history, make_project

ANA = Actor("ana")
BOT = Actor("ana", via="token ci-bot")
JUNIT = Path(__file__).resolve().parents[1] / "fixtures" / "junit"
FAILING = b"""<testsuite name="eval"><testcase classname="eval" name="faithfulness"/>
<testcase classname="eval" name="invented_facts"><failure message="0.06 > 0.02"/></testcase></testsuite>"""
PASSING = b"""<testsuite name="eval"><testcase classname="eval" name="faithfulness"/>
<testcase classname="eval" name="invented_facts"/></testsuite>"""


@pytest.fixture
def at4(session) -> str:
    make_project(session, "R02.1", "Mixed-variable BO")
    make_history(session, "R02.1", [("start", 3, None, "2025-06-02"), ("graduation", None, None, "2025-09-01")])
    return "R02.1"


def _score(session, code: str = "R02.1", key: str = "applied-metrics") -> int | None:
    state = reviews.standing(session, code)
    return state.scores[key].percent if key in state.scores else None


def test_a_record_is_checked_audited_and_names_who_sent_it_and_how(session, at4):
    added = reviews.add_evidence(session=session, actor=BOT, code=at4, level=4, kind="Test report", status="passed",
                                 title="  Unit tests: 12 passed  ", url="https://ci.example.org/runs/7",
                                 criterion="applied-metrics", metrics=["tests=12", "coverage=87%"],
                                 source="GitHub Actions", details={"run": 7})
    record = added.record
    assert added.created
    assert (record.kind, record.status, record.title, record.criterion_key) == (
        "test-report", "pass", "Unit tests: 12 passed", "applied-metrics")
    assert record.metrics == {"tests": 12.0, "coverage": 87.0} and record.details == {"run": 7}
    assert (record.recorded_by, record.recorded_via) == ("ana", "token ci-bot")
    entry = session.exec(select(AuditEntry).where(AuditEntry.entity == "evidence")).one()
    assert entry.action == "create" and entry.after["code"] == at4 and entry.via == "token ci-bot"


def test_a_record_sent_twice_with_the_same_external_id_is_kept_once(session, engine, at4):
    first = reviews.add_evidence(session=session, actor=ANA, code=at4, level=4, kind="ci-run", status="pass",
                                 title="Run 41", external_id="gha:41")
    before = everything(engine)
    again = reviews.add_evidence(session=session, actor=ANA, code=at4, level=4, kind="ci-run", status="fail",
                                 title="Run 41 retried", external_id="gha:41")
    assert not again.created and again.record.id == first.record.id and again.record.status == "pass"
    assert everything(engine) == before


@pytest.mark.parametrize("changes, field, reason", [
    ({"level": 10}, "level", "not a level"),
    ({"level": "4"}, "level", "not a level"),
    ({"criterion": "tests"}, "criterion", "not an exit criterion of level 4"),
    ({"requirement": "9.9"}, "requirement", "R02.1 has no requirement '9.9'"),
    ({"kind": "rumour"}, "kind", "not a kind of evidence"),
    ({"status": "green"}, "status", "not a status"),
    ({"title": "   "}, "title", "required"),
    ({"url": "file:///etc/passwd"}, "url", "not a link"),
    ({"metrics": {"acc": "high"}}, "metrics", "not a number"),
    ({"details": ["x"]}, "details", "expected an object"),
    ({"details": {"x": float("nan")}}, "details", "only text, numbers"),
    ({"produced_at": "2150-01-01"}, "produced_at", "in the future"),
    ({"produced_at": "yesterday"}, "produced_at", "not an ISO 8601 date"),
])
def test_bad_records_are_refused_by_field_and_write_nothing(session, engine, at4, changes, field, reason):
    before = everything(engine)
    with pytest.raises(InvalidInput, match=reason) as refused:
        reviews.add_evidence(session=session, actor=ANA, code=at4, **({
            "level": 4, "kind": "test-report", "status": "pass", "title": "t"} | changes))
    assert refused.value.field == field
    assert everything(engine) == before


def test_a_record_for_a_requirement_names_it_by_number_and_outlives_it(session, at4):
    requirement = risks.add_requirement(session=session, actor=ANA, code=at4, number="2.1", statement="Recall.",
                                        p_failure=0.2, value=5, kind="research")
    added = reviews.add_evidence(session=session, actor=ANA, code=at4, level=4, requirement="2.1",
                                 kind="document", status="info", title="Recall study")
    assert added.record.requirement == "2.1"
    risks.delete_requirement(session=session, actor=ANA, code=at4, number=requirement.number,
                             expected_version=requirement.version)
    assert reviews.evidence_of(session, at4)[0].requirement == "2.1"


def test_a_criterion_scored_from_evidence_follows_the_latest_pass_or_fail_record(session, at4):
    """The gate moves without anyone editing a score: unscored, then 0% on a failing report, 100%
    on a passing one; an info record changes nothing; the team's own score stays apart."""
    reviews.score_criterion(session=session, actor=ANA, code=at4, level=4, key="applied-metrics", percent=60)
    assert _score(session) is None  # no evidence yet: the team's 60% does not count
    reviews.add_junit_report(session=session, actor=BOT, code=at4, report=FAILING, level=4,
                             criterion="applied-metrics", url="https://ci.example.org/runs/1")
    state = reviews.standing(session, at4)
    score = state.scores["applied-metrics"]
    assert (score.percent, score.source, score.manual) == (0, "evidence", 60)
    assert score.proof.title == "Tests: 1 passed, 1 failed" and score.proof.url == "https://ci.example.org/runs/1"
    reviews.add_junit_report(session=session, actor=BOT, code=at4, report=PASSING, level=4,
                             criterion="applied-metrics")
    assert _score(session) == 100
    reviews.add_evidence(session=session, actor=ANA, code=at4, level=4, criterion="applied-metrics", kind="document",
                         status="info", title="Notes on the metrics")
    assert _score(session) == 100
    found = reviews.standing(session, at4).evidence["applied-metrics"]
    assert found.count == 3 and found.latest.status == "info" and found.scoring.status == "pass"
    record = reviews.checklist_record(session, at4, 4)
    row = next(c for c in record["criteria"] if c["key"] == "applied-metrics")
    assert (row["scored_by"], row["source"], row["percent"], row["manual_percent"]) == ("evidence", "evidence", 100, 60)
    assert row["from_evidence"]["title"] == "Tests: 2 passed, 0 failed"


def test_an_older_report_sent_late_does_not_overrule_a_newer_one(session, at4):
    now = utcnow()
    reviews.add_evidence(session=session, actor=ANA, code=at4, level=4, criterion="applied-metrics",
                         kind="test-report", status="pass", title="Tuesday's run", produced_at=now - timedelta(days=1))
    reviews.add_evidence(session=session, actor=ANA, code=at4, level=4, criterion="applied-metrics",
                         kind="test-report", status="fail", title="Monday's run, sent late",
                         produced_at=now - timedelta(days=2))
    assert _score(session) == 100


def test_a_review_decided_on_evidence_keeps_where_its_scores_came_from(session, at4):
    review = reviews.open_review(session=session, actor=ANA, code=at4, panel=["ana"])
    assert ["applied-metrics", "Results are reported with applied metrics: model quality across data splits, "
            "compute cost, and at least one measure that matters to the end user."] == review.criteria[1][:2]
    assert review.criteria[1][3] == "evidence"  # the review copied how it is scored
    reviews.add_junit_report(session=session, actor=BOT, code=at4, report=PASSING, level=4, criterion="applied-metrics",
                             source="GitLab CI")
    decided = reviews.decide(session=session, actor=ANA, review_id=review.id, expected_version=review.version,
                             decision="hold", tasks=[{"task": "More data", "owner": "ana"}]).review
    kept = decided.scores["applied-metrics"]
    assert (kept["percent"], kept["source"], kept["evidence_source"]) == (100, "evidence", "GitLab CI")
    # a later failing report changes the standing, never the decided review
    reviews.add_junit_report(session=session, actor=BOT, code=at4, report=FAILING, level=4, criterion="applied-metrics")
    assert _score(session) == 0
    record = reviews.review_record(session, review.id)
    row = next(c for c in record["criteria"] if c["key"] == "applied-metrics")
    assert (row["percent"], row["from_evidence"]["source"]) == (100, "GitLab CI")


def test_an_admin_sets_which_criteria_are_scored_from_evidence(session, engine, at4):
    version = reviews.update_criteria(session=session, actor=ANA, level=4, criteria=[
        ["real-data", "Real data.", "How.", "evidence"], ["go-decision", "Go.", "How.", "hand"], ["x", "X.", "H."]])
    _, criteria = reviews.level_criteria(session, 4, version)
    assert [c.scored_by for c in criteria] == ["evidence", "hand", "hand"]
    assert reviews.criteria_set(session, version)[1]["4"][0] == ["real-data", "Real data.", "How.", "evidence"]
    before = everything(engine)
    with pytest.raises(InvalidInput, match="scored by 'robot': one of hand, evidence") as refused:
        reviews.update_criteria(session=session, actor=ANA, level=4, criteria=[["k", "t", "g", "robot"]])
    assert refused.value.field == "criteria of level 4"
    assert everything(engine) == before


def test_stale_records_are_marked_and_say_why(session, at4):
    old = reviews.add_evidence(session=session, actor=ANA, code=at4, level=4, kind="test-report", status="pass",
                               title="Before level 4", produced_at=day("2025-08-01")).record
    project = projects.get_project(session, at4)
    now = utcnow()
    assert reviews.stale_reason(old, project, Policy(), now).startswith("produced before the technology reached level 4")
    recent = reviews.add_evidence(session=session, actor=ANA, code=at4, level=4, kind="test-report", status="pass",
                                  title="Recent", produced_at=now - timedelta(days=10)).record
    assert reviews.stale_reason(recent, project, Policy(evidence_stale_days=30), now) is None
    assert reviews.stale_reason(recent, project, Policy(evidence_stale_days=5), now) == \
        "10 days old (evidence is stale after 5 days)"
    earlier_level = reviews.add_evidence(session=session, actor=ANA, code=at4, level=3, kind="test-report",
                                         status="pass", title="Level 3 tests", produced_at=now - timedelta(days=3)).record
    assert reviews.stale_reason(earlier_level, project, Policy(), now) is None  # the level change speaks of level 4's


def test_junit_reports_from_other_runners_are_recorded_and_bad_ones_write_nothing(session, engine, at4):
    surefire = reviews.add_junit_report(session=session, actor=BOT, code=at4, level=4, source="Maven",
                                        report=(JUNIT / "surefire-TEST-com.example.ScorerTest.xml").read_bytes()).record
    assert surefire.status == "fail" and surefire.metrics["errors"] == 1 and surefire.metrics["skipped"] == 1
    assert surefire.details["failed"][0] == "com.example.ScorerTest › scoresUnknownMerchants"
    jest = reviews.add_junit_report(session=session, actor=BOT, code=at4, level=4,
                                    report=(JUNIT / "jest-junit.xml").read_bytes()).record
    assert jest.status == "pass" and jest.produced_at.date().isoformat() == "2026-11-30"
    before = everything(engine)
    for report, field in [(b"<html/>", "report"), (b"not xml", "report"), (PASSING, "criterion")]:
        with pytest.raises(InvalidInput) as refused:
            reviews.add_junit_report(session=session, actor=BOT, code=at4, report=report, level=4,
                                     criterion="no-such-criterion")
        assert refused.value.field == field
    assert everything(engine) == before
    with pytest.raises(NotFound):
        reviews.add_junit_report(session=session, actor=BOT, code="NOPE", report=PASSING, level=4)


def test_evidence_is_listed_newest_first_and_filtered(session, at4):
    for n, (level, kind) in enumerate([(3, "ci-run"), (4, "test-report"), (4, "document")]):
        reviews.add_evidence(session=session, actor=ANA, code=at4, level=level, kind=kind, status="info",
                             title=f"record {n}", produced_at=day(f"2025-10-0{n + 1}"))
    assert [e.title for e in reviews.evidence_of(session, at4)] == ["record 2", "record 1", "record 0"]
    assert [e.title for e in reviews.evidence_of(session, at4, level=4, kind="Document")] == ["record 2"]
    assert reviews.count_evidence(session, at4) == 3 and reviews.count_evidence(session, at4, level=3) == 1
    one = reviews.evidence_of(session, at4)[0]
    assert reviews.evidence_by_id(session, at4, one.id).title == "record 2"
    with pytest.raises(NotFound):
        reviews.evidence_by_id(session, at4, 10**12)
    make_project(session, "R09.1", "Other")
    with pytest.raises(NotFound):
        reviews.evidence_by_id(session, "R09.1", one.id)  # another technology's record is not its own
