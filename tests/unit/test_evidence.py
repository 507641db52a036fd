"""The evidence rules (``mltrl.domain.evidence``) and how evidence scores a criterion
(``mltrl.domain.gates.with_evidence``): kinds, statuses, links and metrics refused by name; JUnit
XML from pytest (written by a real pytest run), Maven Surefire and Jest; what is stale; what scores."""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mltrl.domain import evidence as rules
from mltrl.domain import gates
from mltrl.domain.errors import InvalidInput

JUNIT = Path(__file__).resolve().parents[1] / "fixtures" / "junit"
T0 = datetime(2026, 6, 1, tzinfo=UTC)


# --- fields -------------------------------------------------------------------------------------


def test_kinds_and_statuses_are_read_by_key_or_label_and_anything_else_is_refused_by_name():
    assert rules.kind_of("test-report") == rules.kind_of("Test report") == "test-report"
    assert rules.status_of(" PASSED ") == "pass" and rules.status_of("failure") == "fail"
    with pytest.raises(InvalidInput, match="not a kind of evidence: one of ci-run, test-report") as refused:
        rules.kind_of("screenshot")
    assert refused.value.field == "kind"
    with pytest.raises(InvalidInput, match="not a status: one of pass, fail, info") as refused:
        rules.status_of(True)
    assert refused.value.field == "status"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://x.org/r", "https://x.org/a b", "x" * 10])
def test_a_link_is_http_or_https_or_nothing(url):
    assert rules.url_of("") == rules.url_of(None) == ""
    assert rules.url_of(" https://ci.example.org/runs/1 ") == "https://ci.example.org/runs/1"
    with pytest.raises(InvalidInput, match="is not a link") as refused:
        rules.url_of(url)
    assert refused.value.field == "url"


def test_metrics_come_as_a_mapping_or_as_name_value_texts():
    assert rules.metrics_of({"accuracy": 0.93, "latency ms": "120"}) == {"accuracy": 0.93, "latency ms": 120.0}
    assert rules.metrics_of(["f1=0.8", "coverage=87%"]) == {"f1": 0.8, "coverage": 87.0}
    assert rules.metrics_of(None) == {}


@pytest.mark.parametrize("bad, reason", [
    (["accuracy"], "is not name=value"),
    (["=3"], "is not a metric name"),
    ({"acc": "high"}, "acc: 'high' is not a number"),
    ({"acc": math.nan}, "not a finite number"),
    ({"acc": "inf"}, "not a finite number"),
    ({"acc": True}, "is not a number"),
    (["a=1", "a=2"], "a is given twice"),
    ({f"m{n}": n for n in range(rules.METRICS_MAX + 1)}, f"at most {rules.METRICS_MAX} metrics"),
    ("acc=1", "expected name -> number pairs"),
    ({"<script>": 1}, "is not a metric name"),
])
def test_bad_metrics_are_refused_naming_the_field_and_the_metric(bad, reason):
    with pytest.raises(InvalidInput, match=reason) as refused:
        rules.metrics_of(bad)
    assert refused.value.field == "metrics"


@given(st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_.]{0,20}", fullmatch=True),
                       st.floats(allow_nan=False, allow_infinity=False), max_size=10))
def test_finite_metrics_with_good_names_are_kept_exactly(metrics):
    assert rules.metrics_of(metrics) == metrics
    assert rules.metrics_of([f"{k}={v!r}" for k, v in metrics.items()]) == metrics


# --- JUnit XML ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pytest_report(tmp_path_factory) -> bytes:
    """A JUnit file written by a real pytest run: two passing tests, one failing, one skipped."""
    folder = tmp_path_factory.mktemp("junit")
    (folder / "test_sample.py").write_text(
        "import pytest\n"
        "def test_one():\n    assert 1 + 1 == 2\n"
        "def test_two():\n    assert 'a' in 'abc'\n"
        "def test_three():\n    assert 0.31 <= 0.12, 'error rate too high'\n"
        "@pytest.mark.skip(reason='needs a GPU')\n"
        "def test_four():\n    pass\n")
    report = folder / "report.xml"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                    f"--junitxml={report}", str(folder / "test_sample.py")], cwd=folder, capture_output=True,
                   check=False, timeout=300)
    return report.read_bytes()


def test_a_pytest_report_is_counted_from_its_cases(pytest_report):
    summary = rules.read_junit(pytest_report)
    assert (summary.tests, summary.passed, summary.failures, summary.errors, summary.skipped) == (4, 2, 1, 0, 1)
    assert summary.status == "fail"
    assert summary.title() == "2 passed, 1 failed, 1 skipped"
    assert any("test_three" in case for case in summary.failed_cases)
    assert summary.produced_at is not None  # pytest stamps its suite
    assert summary.metrics()["tests"] == 4


def test_a_maven_surefire_report_counts_errors_and_not_a_flaky_pass():
    summary = rules.read_junit((JUNIT / "surefire-TEST-com.example.ScorerTest.xml").read_bytes())
    assert (summary.tests, summary.passed, summary.failures, summary.errors, summary.skipped) == (5, 2, 1, 1, 1)
    assert summary.status == "fail"
    assert summary.suites == ("com.example.ScorerTest",)
    assert summary.produced_at is None  # Surefire writes no timestamp: the record takes the time it arrives
    assert "com.example.ScorerTest › scoresUnknownMerchants" in summary.failed_cases


def test_a_jest_report_with_nested_suites_passes():
    summary = rules.read_junit((JUNIT / "jest-junit.xml").read_text(encoding="utf-8"))
    assert (summary.tests, summary.passed, summary.failures, summary.status) == (4, 4, 0, "pass")
    assert summary.suites == ("tokenizer", "summary API")
    assert summary.produced_at == datetime(2026, 11, 30, 14, 2, 11, tzinfo=UTC)
    assert summary.title() == "4 passed, 0 failed"


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<testsuite><testcase name="&lol2;"/></testsuite>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]><testsuite><testcase name="&x;"/></testsuite>"""


@pytest.mark.parametrize("data, reason", [
    (b"", "not well-formed XML"),
    (b"<testsuite><testcase>", "not well-formed XML"),
    (b"\xff\xfe<", "not well-formed XML"),
    (b"<html><body>502 Bad Gateway</body></html>", "root element is <html>"),
    (b"<testsuites/>", "holds no test cases"),
    (b"<testsuite name='empty' tests='0'></testsuite>", "holds no test cases"),
    (BOMB, "refused for safety"),
    (EXTERNAL, "refused for safety"),
    (b"<testsuite>" + b"<testcase name='x'/>" * 10 + b" " * rules.JUNIT_MAX_BYTES + b"</testsuite>", "at most 20 MB"),
])
def test_a_report_that_is_not_junit_is_refused_naming_the_report(data, reason):
    with pytest.raises(InvalidInput, match=reason) as refused:
        rules.read_junit(data)
    assert refused.value.field == "report"


@given(st.lists(st.sampled_from(["pass", "failure", "error", "skipped"]), min_size=1, max_size=30))
def test_counts_add_up_and_the_report_passes_exactly_when_nothing_failed_or_errored(outcomes):
    body = {"pass": "", "failure": "<failure message='x'/>", "error": "<error message='x'/>",
            "skipped": "<skipped/>"}
    xml = "<testsuites><testsuite name='s'>" + "".join(
        f"<testcase classname='c' name='t{n}'>{body[o]}</testcase>" for n, o in enumerate(outcomes)) + \
        "</testsuite></testsuites>"
    summary = rules.read_junit(xml)
    assert summary.tests == len(outcomes)
    assert summary.passed + summary.failures + summary.errors + summary.skipped == summary.tests
    assert summary.failures == outcomes.count("failure") and summary.errors == outcomes.count("error")
    assert (summary.status == "pass") == ("failure" not in outcomes and "error" not in outcomes)


# --- staleness and scoring --------------------------------------------------------------------------


@given(st.integers(0, 400), st.integers(1, 365), st.one_of(st.none(), st.integers(-50, 50)))
def test_a_record_is_stale_when_older_than_the_setting_or_from_before_the_level_change(age, max_days, since_offset):
    produced = T0
    now = T0 + timedelta(days=age)
    level_since = None if since_offset is None else T0 + timedelta(days=since_offset)
    reason = rules.stale_reason(produced, level=4, level_since=level_since, now=now, max_days=max_days)
    before_level = level_since is not None and produced < level_since
    assert (reason is not None) == (before_level or age > max_days)
    if before_level:
        assert reason.startswith("produced before the technology reached level 4")
    elif reason:
        assert f"{age} days old" in reason


def _proof(n: int, status: str, day: int) -> rules.Proof:
    return rules.Proof(n, status, f"report {n}", f"https://ci.example.org/{n}", "CI", T0 + timedelta(days=day))


def test_the_latest_pass_or_fail_record_scores_and_an_info_record_never_does():
    records = [_proof(1, "fail", 0), _proof(2, "pass", 3), _proof(3, "info", 9)]
    assert rules.latest_scoring(records).id == 2
    assert rules.score_from(rules.latest_scoring(records)) == 100
    assert rules.score_from(_proof(4, "fail", 1)) == 0
    assert rules.score_from(None) is None
    assert rules.latest_scoring([_proof(5, "info", 1)]) is None
    assert rules.latest_scoring([_proof(7, "pass", 2), _proof(6, "fail", 2)]).id == 7  # same day: the later id


CRITERIA = (gates.Criterion("a", "A", ""), gates.Criterion("b", "B", "", scored_by="evidence"),
            gates.Criterion("c", "C", "", scored_by="evidence"))


@given(st.dictionaries(st.sampled_from("abc"), st.integers(0, 100)),
       st.dictionaries(st.sampled_from("abc"), st.sampled_from(["pass", "fail"])))
def test_scores_from_evidence_replace_the_teams_own_only_where_the_criterion_says_so(own, evidence):
    scores = {k: gates.Score(k, p, comment=f"note {k}") for k, p in own.items()}
    proofs = {k: _proof(n, s, n) for n, (k, s) in enumerate(evidence.items(), start=1)}
    result = gates.with_evidence(CRITERIA, scores, proofs)
    if "a" in own:
        assert result["a"] == scores["a"]  # scored by hand: untouched, whatever evidence came
    for key in "bc":
        if key in evidence:
            assert result[key].percent == (100 if evidence[key] == "pass" else 0)
            assert result[key].source == "evidence" and result[key].proof == proofs[key]
            assert result[key].manual == own.get(key)  # the team's own, kept apart
        else:
            assert key not in result  # no evidence yet: unscored, however the team scored it


def test_a_criterion_keeps_how_it_is_scored_through_its_stored_form_and_a_decided_review():
    stored = gates.criteria_items(CRITERIA)
    assert stored == [["a", "A", ""], ["b", "B", "", "evidence"], ["c", "C", "", "evidence"]]
    assert gates.criteria_of(stored) == CRITERIA
    score = gates.with_evidence(CRITERIA, {"b": gates.Score("b", 40)}, {"b": _proof(9, "pass", 2)})["b"]
    kept = gates.decided_scores({"b": gates.score_record(score)})["b"]
    assert (kept.percent, kept.source, kept.manual, kept.proof.id, kept.proof.title) == (100, "evidence", 40, 9,
                                                                                          "report 9")
    assert gates.decided_scores({"a": {"percent": 70}})["a"].source == "hand"
