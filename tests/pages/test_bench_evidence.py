"""The benchmark's evidence-heavy technology (``bench/evidencegen.py``) on a small generated
portfolio (50 technologies, SQLite): the generated records are what ``add_evidence`` writes, the
benchmark's answers from the raw rows agree with the evidence services, and its checks of the
Project page and of the open review's checklist pass on the real pages (and fail on a wrong answer)."""

from __future__ import annotations

import copy
import sqlite3
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from bench import evidencegen, generate, reviewgen
from bench import reviews as bench_reviews
from mltrl import db
from tests.conftest import ROOT

N = 50  # enough for T00042 (the generator's review and register technology) and the first chunk's pick


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "portfolio.db"
    counts = generate.generate(f"sqlite:///{path}", N)
    assert counts["evidence"] == evidencegen.EVIDENCE_RECORDS and counts["evidence_code"]
    db.dispose_engines()
    return path


@pytest.fixture
def answers(portfolio: Path) -> dict:
    con = sqlite3.connect(portfolio)
    try:
        return {"review": bench_reviews.review_counts(con, N), "evidence": bench_reviews.evidence_counts(con)}
    finally:
        con.close()


def test_generated_evidence_is_what_the_service_writes(portfolio: Path) -> None:
    reviewgen.verify(str(portfolio))  # the open reviews' criteria carry the "evidence" marks
    counts = evidencegen.verify(str(portfolio))  # every record replayed through add_evidence
    assert counts["evidence"] == 500 and counts["evidence_levels"] >= 3


def test_raw_answers_agree_with_the_services(portfolio: Path, answers: dict) -> None:
    e = answers["evidence"]
    assert e["level"] in evidencegen.LEVELS_PREFERRED and e["review_id"] and e["records"] == 500
    assert any(c["from_evidence"] for c in e["criteria"])
    engine = db.make_engine(f"sqlite:///{portfolio}")
    checked: list[str] = []

    def timed(name, fn, check=None, before=None) -> None:  # bench/reviews.py's, checking without timing
        check(fn())
        checked.append(name)

    def read(fn, *args, **kwargs):
        def run():
            with db.session_scope(engine) as s:
                return fn(s, *args, **kwargs)
        return run

    try:
        bench_reviews._measure_evidence_ops(e, timed, read, engine)
    finally:
        engine.dispose()
    assert len(checked) == 5, checked


@pytest.mark.parametrize("which", ["project", "review"])
def test_page_checks_pass_and_catch_a_wrong_answer(portfolio: Path, answers: dict, which: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRL_DATABASE_URL", f"sqlite:///{portfolio}")
    spec = bench_reviews.EVIDENCE_PROJECT_PAGE if which == "project" else next(
        p for p in bench_reviews.REVIEW_PAGES if p.check is bench_reviews._check_reviews_evidence)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    for key, value in spec.query_params(N, answers).items():
        at.query_params[key] = value
    for key, value in {**spec.session_state, **spec.state(N, answers)}.items():
        at.session_state[key] = value
    at.switch_page(spec.path).run()
    assert not at.exception, at.exception
    spec.check(at, N, answers)
    wrong = copy.deepcopy(answers)  # one more record of a criterion than there is
    key = next(k for k, f in wrong["evidence"]["found"].items()
               if not any(c["key"] == k and c["from_evidence"] for c in wrong["evidence"]["criteria"]))
    wrong["evidence"]["found"][key]["count"] += 1
    if which == "project":
        wrong["evidence"]["titles"][0] += " (not this one)"
    with pytest.raises(AssertionError):
        spec.check(at, N, wrong)
