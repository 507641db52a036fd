"""Gated reviews against a real database (SQLite and PostgreSQL): the self-assessment, versioned
criteria, votes, ethics answers, each decision, gates with their overrides, level 9 and forks."""

from __future__ import annotations

import importlib
import itertools
import pkgutil
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from mltrl.domain.cards import Card
from mltrl.domain.errors import Conflict, InvalidInput, MltrlError, PermissionDenied, RuleViolation
from mltrl.models import GateOverride, LevelEvent, utcnow
from mltrl.domain.policy import Policy
from mltrl.services import WRITE_SERVICES, Actor, cards, level_moves, projects, reviews, risks, users
from tests.factories import day, everything, make_history, make_project

ANA = Actor("ana")


@pytest.fixture
def at4(session) -> str:
    make_project(session, "R02.1", "Mixed-variable BO", owners=["Ana Ruiz"])
    make_history(session, "R02.1", [("start", 3, None, "2025-06-02"), ("graduation", None, None, "2025-09-01")])
    return "R02.1"


def _open(session, code="R02.1", panel=("ana",)):
    return reviews.open_review(session=session, actor=ANA, code=code, panel=list(panel))


def _decide(session, review, decision, **kw):
    return reviews.decide(session=session, actor=kw.pop("actor", ANA), review_id=review.id,
                          expected_version=review.version, decision=decision, **kw)


def _req(session, number, kind, vs="passed", va="passed", code="R02.1"):
    return risks.add_requirement(session=session, actor=ANA, code=code, number=number, statement=f"R{number}.",
                                 p_failure=0.2, value=5, kind=kind, verification_status=vs, validation_status=va)


# --- self-assessment ----------------------------------------------------------------------------


def test_scores_make_the_readiness_and_bad_scores_are_refused_by_field(session, engine, at4):
    state = reviews.standing(session, at4)
    keys = [c.key for c in state.criteria]
    assert state.level == 4 and state.criteria_version == 1 and len(keys) >= 4
    assert state.readiness.average == 0 and not state.readiness.ready
    for key in keys:
        reviews.score_criterion(session=session, actor=ANA, code=at4, level=4, key=key, percent="90%",
                                evidence="https://wiki.example.org/evidence", comment="done mostly")
    by_evidence = [c.key for c in state.criteria if c.from_evidence]
    assert by_evidence == ["applied-metrics"]  # the built-in set scores it from evidence, not by hand
    state = reviews.standing(session, at4)
    assert state.readiness.average == round(90 * (len(keys) - 1) / len(keys), 1) and not state.readiness.ready
    reviews.add_evidence(session=session, actor=ANA, code=at4, level=4, criterion="applied-metrics",
                         kind="test-report", status="pass", title="Evaluation on real data")
    state = reviews.standing(session, at4)
    assert state.readiness.average == round((90 * (len(keys) - 1) + 100) / len(keys), 1) and state.readiness.ready
    assert len(state.readiness.unmet) == len(keys) - 1
    before = everything(engine)
    for kwargs, field in [({"percent": 101}, "percent"), ({"percent": "lots"}, "percent"),
                          ({"percent": 50, "evidence": "javascript:alert(1)"}, "evidence"),
                          ({"percent": 50, "key": "no-such-criterion"}, "key")]:
        kwargs = {"key": keys[0]} | kwargs
        with pytest.raises(InvalidInput) as refusal:
            reviews.score_criterion(session=session, actor=ANA, code=at4, level=4, **kwargs)
        assert refusal.value.field == field
    assert everything(engine) == before
    assert reviews.standing(session, at4, policy=Policy(review_ready_threshold=95)).readiness.ready is False


def test_a_review_keeps_the_criteria_and_template_it_opened_with(session, at4):
    review = _open(session)
    assert review.criteria_version == 1 and review.ethics_version == 1
    version = reviews.update_criteria(session=session, actor=ANA, level=4, criteria=[["only-one", "One thing.", "How."]],
                                      note="trimmed")
    assert version == 2
    assert [c[0] for c in reviews.review_view(session, review.id).review.criteria] != ["only-one"]
    assert [c.key for c in reviews.standing(session, at4).criteria] == [c[0] for c in review.criteria]  # open review's
    _decide(session, review, "hold", tasks=[{"task": "More data", "owner": "ana"}])
    assert [c.key for c in reviews.standing(session, at4).criteria] == ["only-one"]
    assert reviews.open_review(session=session, actor=ANA, code=at4).criteria == [["only-one", "One thing.", "How."]]
    with pytest.raises(InvalidInput, match="used twice"):
        reviews.update_criteria(session=session, actor=ANA, level=4, criteria=[["a", "A.", ""], ["a", "B.", ""]])


def test_one_open_review_per_technology_and_none_without_a_level(session, at4):
    _open(session)
    with pytest.raises(InvalidInput, match="already has an open review"):
        _open(session)
    make_project(session, "R09.1", "No level")
    with pytest.raises(InvalidInput, match="no level yet"):
        _open(session, "R09.1")


# --- votes and ethics ---------------------------------------------------------------------------


def test_votes_are_kept_when_changed_and_only_the_panel_votes(session, engine, at4):
    review = _open(session, panel=["ana", "Tom Berg"])
    reviews.cast_vote(session=session, actor=ANA, review_id=review.id, vote="not yet", comment="needs data")
    reviews.cast_vote(session=session, actor=ANA, review_id=review.id, vote="Graduate", comment="data came")
    view = reviews.review_view(session, review.id)
    assert [(v.voter, v.vote) for v in view.votes] == [("ana", "not yet"), ("ana", "graduate")]
    assert view.latest_votes["ana"].comment == "data came"
    before = everything(engine)
    with pytest.raises(InvalidInput) as refusal:
        reviews.cast_vote(session=session, actor=Actor("eve"), review_id=review.id, vote="graduate")
    assert refusal.value.field == "voter" and "not on the panel" in refusal.value.message
    with pytest.raises(InvalidInput) as refusal:
        reviews.cast_vote(session=session, actor=ANA, review_id=review.id, vote="maybe")
    assert refusal.value.field == "vote"
    assert everything(engine) == before


def test_votes_and_decisions_need_the_reviewer_role(session, at4):
    users.create_first_admin(session=session, actor=Actor("x"), name="ada", password="correct horse")
    for name, role in [("eve", "editor"), ("rey", "reviewer")]:
        users.add_user(session=session, actor=Actor("ada"), name=name, role=role, password="correct horse")
    review = reviews.open_review(session=session, actor=Actor("eve"), code=at4, panel=["eve", "rey"])
    with pytest.raises(PermissionDenied, match="needs the reviewer role"):
        reviews.cast_vote(session=session, actor=Actor("eve"), review_id=review.id, vote="graduate")
    with pytest.raises(PermissionDenied, match="needs the reviewer role"):
        _decide(session, review, "graduate", actor=Actor("eve"))
    reviews.cast_vote(session=session, actor=Actor("rey"), review_id=review.id, vote="graduate")
    assert _decide(session, review, "graduate", actor=Actor("rey")).event.to_level == 5
    with pytest.raises(PermissionDenied, match="needs the admin role"):
        reviews.override_gate(session=session, actor=Actor("rey"), code=at4, level=5, gate="research-vv",
                              justification="x")


def test_ethics_answers_show_what_changed_since_the_previous_review(session, at4):
    first = _open(session)
    keys = reviews.ethics_keys(first.ethics)
    assert keys[0].startswith("before:") and any(k.startswith("after:") for k in keys)
    reviews.answer_ethics(session=session, actor=ANA, review_id=first.id, answers={keys[0]: "Ours.", keys[1]: "Kept."})
    _decide(session, first, "hold", tasks=[{"task": "t", "owner": "ana"}])
    second = _open(session)
    changed = reviews.answer_ethics(session=session, actor=ANA, review_id=second.id,
                                    answers={keys[0]: "Ours.", keys[1]: "Now shared with a partner.", keys[2]: ""})
    assert changed == 2  # two answers in this review; an empty answer writes nothing
    view = reviews.review_view(session, second.id)
    assert view.changed_answers == {keys[1]}
    with pytest.raises(InvalidInput, match="not a question"):
        reviews.answer_ethics(session=session, actor=ANA, review_id=second.id, answers={"before:nope": "x"})


# --- decisions ----------------------------------------------------------------------------------


def test_graduation_links_the_event_freezes_the_card_and_asks_for_the_debrief(session, at4):
    cards.save_card(session=session, actor=ANA, code=at4, card=Card(tldr="At four."), base_revision=0)
    review = _open(session)
    outcome = _decide(session, review, "graduate", note="Panel agreed")
    assert outcome.debrief and outcome.event.to_level == 5 and outcome.event.review_id == review.id
    assert projects.get_project(session, at4).level == 5
    frozen = [lc for lc in cards.level_cards(session, at4) if lc.level == 4]
    assert frozen[-1].number == 1 and frozen[-1].move == "graduation"
    view = reviews.review_view(session, review.id)
    assert view.review.status == "decided" and view.event.id == outcome.event.id
    assert view.review.scores == {} and view.review.gates == []  # level 4 has no gates
    with pytest.raises(InvalidInput, match="decided"):
        reviews.cast_vote(session=session, actor=ANA, review_id=review.id, vote="graduate")


def test_a_review_of_a_level_left_meanwhile_is_a_conflict(session, at4):
    review = _open(session)
    level_moves.graduate(session=session, actor=ANA, code=at4)
    with pytest.raises(Conflict, match="no longer at level 4"):
        _decide(session, review, "graduate")
    reviews.cancel_review(session=session, actor=ANA, review_id=review.id, reason="Graduated outside the review")
    assert reviews.review_view(session, review.id).review.status == "cancelled"


def test_hold_needs_tasks_with_owners(session, engine, at4):
    review = _open(session)
    before = everything(engine)
    for tasks, field in [([], "tasks"), ([{"task": "More data"}], "task 1 owner"), ([{"owner": "ana"}], "task 1")]:
        with pytest.raises(InvalidInput) as refusal:
            _decide(session, review, "hold", tasks=tasks)
        assert refusal.value.field == field
    assert everything(engine) == before
    outcome = _decide(session, review, "hold", tasks=[{"task": "Collect field data", "owner": "ana", "due": "2026-12-01"},
                                                      {"task": "", "owner": ""}])
    assert outcome.event is None and outcome.review.tasks == [
        {"number": 1, "task": "Collect field data", "owner": "ana", "due": "2026-12-01"}]


def test_switchbacks_decided_at_review_are_review_or_embedded(session, at4):
    outcome = _decide(session, _open(session), "switch back", target_level=2)
    assert (outcome.event.switchback_kind, outcome.review.switchback_kind) == ("embedded", "embedded")  # 4 -> 2
    make_project(session, "P07.1", "Other")
    make_history(session, "P07.1", [("start", 6, None, "2025-01-06")])
    outcome = _decide(session, _open(session, "P07.1"), "switch back", target_level=3, note="Business case moved")
    assert outcome.event.switchback_kind == "review" and outcome.event.review_id == outcome.review.id
    with pytest.raises(InvalidInput, match="target_level"):
        _decide(session, _open(session, "P07.1"), "switch back")


def test_pause_sets_the_status(session, at4):
    outcome = _decide(session, _open(session), "pause", note="No budget this year")
    assert outcome.event is None and projects.get_project(session, at4).status == "paused"


# --- gates --------------------------------------------------------------------------------------


def test_level_5_gate_refuses_until_research_vv_is_done_and_product_requirements_exist(session, engine, at4):
    level_moves.graduate(session=session, actor=ANA, code=at4)  # at 5 now
    review = _open(session)
    standing = reviews.standing(session, at4)
    assert [g.key for g in standing.refusing_gates] == ["research-vv", "product-requirements"]
    assert "register is empty" in standing.refusing_gates[0].blockers[0]
    before = everything(engine)
    with pytest.raises(RuleViolation) as refusal:
        _decide(session, review, "graduate")
    assert refusal.value.rule == "gate" and "register is empty" in refusal.value.message
    assert everything(engine) == before
    _req(session, "1", "research", va="in progress")
    with pytest.raises(RuleViolation, match="research requirement 1: verification passed, validation in progress"):
        _decide(session, review, "graduate")
    risks.update_requirement(session=session, actor=ANA, code=at4, number="1", expected_version=1,
                             changes={"validation_status": "passed"})
    assert [g.key for g in reviews.standing(session, at4).refusing_gates] == ["product-requirements"]
    _req(session, "2", "product", vs="not started", va="not started")
    assert reviews.standing(session, at4).refusing_gates == ()
    outcome = _decide(session, review, "graduate")
    assert outcome.event.to_level == 6
    assert [(g["key"], g["state"]) for g in outcome.review.gates] == [("research-vv", "passed"),
                                                                        ("product-requirements", "passed")]


def test_an_admin_override_lets_a_graduation_through_until_it_expires(session, engine, at4):
    make_project(session, "P08.1", "Flight ready")
    make_history(session, "P08.1", [("start", 8, None, "2025-01-06")])
    _req(session, "1", "product", va="in progress", code="P08.1")
    before = everything(engine)
    for kwargs, field in [({"gate": "validation", "justification": ""}, "justification"),
                          ({"gate": "research-vv", "justification": "x"}, "gate"),
                          ({"gate": "validation", "justification": "x", "expires_at": utcnow() - timedelta(days=1)},
                           "expires_at")]:
        with pytest.raises(InvalidInput) as refusal:
            reviews.override_gate(session=session, actor=ANA, code="P08.1", level=8, **kwargs)
        assert refusal.value.field == field
    assert everything(engine) == before
    reviews.override_gate(session=session, actor=ANA, code="P08.1", level=8, gate="validation",
                          justification="Validated in the field study; the record follows",
                          expires_at=utcnow() + timedelta(days=30))
    gate = reviews.standing(session, "P08.1").gates[0]
    assert gate.state.value == "overridden" and not gate.refuses and gate.override.by == "ana"
    row = session.exec(select(GateOverride)).one()
    row.expires_at = utcnow() - timedelta(minutes=1)
    session.add(row)
    session.commit()
    gate = reviews.standing(session, "P08.1").gates[0]
    assert gate.state.value == "override expired" and gate.refuses
    with pytest.raises(RuleViolation, match="override expired"):
        _decide(session, _open(session, "P08.1"), "graduate")


# --- level 9 and forks --------------------------------------------------------------------------


def test_deployed_reviews_fall_due_and_a_change_goes_back_to_7(session, at4):
    make_project(session, "P09.1", "Deployed")
    make_history(session, "P09.1", [("start", 9, None, "2026-01-05")])
    now = day("2026-05-01")
    due = reviews.deployed_reviews(session, Policy(deployed_review_days=90), now=now)
    assert [(d.code, d.due.date().isoformat(), d.overdue) for d in due] == [("P09.1", "2026-04-05", True)]
    review = _open(session, "P09.1")
    _decide(session, review, "hold", note="Keep running")  # level 9: kept running, no tasks needed
    fresh = reviews.deployed_reviews(session, Policy(deployed_review_days=90))
    assert not fresh[0].overdue and fresh[0].last_review > day("2026-05-01")
    with pytest.raises(RuleViolation, match="Level 9 is the top"):
        _decide(session, _open(session, "P09.1"), "graduate")
    outcome = reviews.change_deployed_version(session=session, actor=ANA, code="P09.1", note="New model weights")
    assert (outcome.event.from_level, outcome.event.to_level, outcome.event.switchback_kind) == (9, 7, "embedded")
    with pytest.raises(InvalidInput, match="not deployed"):
        reviews.change_deployed_version(session=session, actor=ANA, code=at4)


def test_a_fork_goes_on_from_its_parent(session, at4):
    cards.save_card(session=session, actor=ANA, code=at4, card=Card(tldr="Parent card.", owners=("Ana Ruiz",)),
                    base_revision=0)
    child = reviews.fork(session=session, actor=ANA, code=at4, new_code="R02.2", name="Applied branch",
                         at=day("2025-10-01"))
    assert child.forked_from_id == projects.get_project(session, at4).id and child.level == 4
    assert projects.owners_of(session, child.id) == ["Ana Ruiz"]
    assert cards.current_card(session, "R02.2").card.tldr == "Parent card."
    past, own = reviews.lineage_events(session, "R02.2")
    assert [e.to_level for e in past] == [3, 4] and [(e.kind, e.to_level) for e in own] == [("start", 4)]
    level_moves.graduate(session=session, actor=ANA, code=at4)  # both go on independently
    assert projects.get_project(session, "R02.2").level == 4
    with pytest.raises(InvalidInput, match="already taken"):
        reviews.fork(session=session, actor=ANA, code=at4, new_code="R02.2", name="Again")
    assert session.exec(select(LevelEvent).where(LevelEvent.review_id.is_not(None))).all() == []


def test_a_fork_dated_in_the_past_starts_at_the_level_held_then(session, at4):
    child = reviews.fork(session=session, actor=ANA, code=at4, new_code="R02.3", name="Early branch",
                         at=day("2025-07-01"))  # R02.1 was at 3 then, at 4 since 2025-09-01
    assert child.level == 3
    with pytest.raises(InvalidInput, match="no level on that date"):
        reviews.fork(session=session, actor=ANA, code=at4, new_code="R02.4", name="Too early", at=day("2025-01-01"))


# --- the package: one module per use case, every writer registered ------------------------------


def test_every_module_of_the_reviews_package_is_reached_through_it_and_its_writers_are_registered():
    """``mltrl.services.reviews`` is a package of use-case modules: each module's public names are
    the package's own (``reviews.X``), so importing the package registers every write service."""
    modules = [m.name for m in pkgutil.iter_modules(reviews.__path__) if not m.name.startswith("_")]
    assert {"checklists", "gates", "decisions", "reading", "deployed", "forks"} <= set(modules)
    writers = 0
    for name in modules:
        module = importlib.import_module(f"{reviews.__name__}.{name}")
        own = {n: v for n, v in vars(module).items()
               if not n.startswith("_") and getattr(v, "__module__", None) == module.__name__}
        assert own, name
        assert [n for n, v in own.items() if getattr(reviews, n, None) is not v] == [], name
        for fn in own.values():
            if getattr(fn, "is_write_service", False):
                writers += 1
                assert fn in WRITE_SERVICES, fn.__name__
    assert writers == 15  # every write use case of reviews (add_evidence, add_junit_report), none lost in the split


# --- hostile values at every argument: success or a named refusal, the database unchanged -------

NASTY = ["x\x00y", "bell\x07", "", "   ", "x" * 20_000, "https://example.org/\x00", "nan", "-1", "10**30",
         float("nan"), float("inf"), -1, 0, 10**30, True, None, b"bytes", ["a"], {"a": 1}, object(),
         datetime(1, 1, 1), datetime(9999, 12, 31), date(1066, 10, 14)]
HOSTILE = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=30),
    st.integers(-2**70, 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.datetimes(),
    st.lists(st.one_of(st.text(max_size=5), st.integers(), st.none()), max_size=3),
    st.dictionaries(st.text(max_size=5), st.one_of(st.text(max_size=5), st.integers(), st.none()), max_size=2),
)
_serial = itertools.count(1)


def _fresh(session, level: int = 8, *, review: bool = True) -> tuple[str, object]:
    """A technology at ``level`` of its own (and its open review): each example acts on new rows."""
    code = f"H{next(_serial)}.{level}"
    make_project(session, code, "Hostile")
    level_moves.record_start(session=session, actor=ANA, code=code, level=level, at=day("2025-06-02"))
    return code, (_open(session, code) if review else None)


def _key(review) -> str:
    return review.criteria[0][0]


def _question(review) -> str:
    return reviews.ethics_keys(review.ethics)[0]


def _evidence_call(name: str):
    def call(s, c, r, h):
        return reviews.add_evidence(session=s, actor=ANA, code=c, **(
            {"level": 8, "kind": "test-report", "status": "pass", "title": "t"} | {name: h}))
    return call


JUNIT = b'<testsuite name="s"><testcase classname="c" name="t"/></testsuite>'


def _junit_call(name: str):
    def call(s, c, r, h):
        return reviews.add_junit_report(session=s, actor=ANA, code=c, **({"report": JUNIT, "level": 8} | {name: h}))
    return call


# (what is hostile, level of the technology, whether it has an open review, the call)
HOSTILE_CALLS = {
    "update_criteria level": (8, False, lambda s, c, r, h: reviews.update_criteria(
        session=s, actor=ANA, level=h, criteria=[["k", "t", "g"]])),
    "update_criteria criteria": (8, False, lambda s, c, r, h: reviews.update_criteria(
        session=s, actor=ANA, level=3, criteria=h)),
    "update_criteria item": (8, False, lambda s, c, r, h: reviews.update_criteria(
        session=s, actor=ANA, level=3, criteria=[h])),
    "update_criteria part": (8, False, lambda s, c, r, h: reviews.update_criteria(
        session=s, actor=ANA, level=3, criteria=[["k", h, "g"]])),
    "update_criteria key": (8, False, lambda s, c, r, h: reviews.update_criteria(
        session=s, actor=ANA, level=3, criteria=[[h, "t", "g"]])),
    "update_criteria note": (8, False, lambda s, c, r, h: reviews.update_criteria(
        session=s, actor=ANA, level=3, criteria=[["k", "t", "g"]], note=h)),
    "update_ethics_template before": (8, False, lambda s, c, r, h: reviews.update_ethics_template(
        session=s, actor=ANA, before=h, after=[["k", "t", "g"]], positions=[["p", "t"]])),
    "update_ethics_template part": (8, False, lambda s, c, r, h: reviews.update_ethics_template(
        session=s, actor=ANA, before=[["k", "t", "g"]], after=[["k", "t", h]], positions=[["p", "t"]])),
    "update_ethics_template positions": (8, False, lambda s, c, r, h: reviews.update_ethics_template(
        session=s, actor=ANA, before=[["k", "t", "g"]], after=[["k", "t", "g"]], positions=[h])),
    "score_criterion level": (8, True, lambda s, c, r, h: reviews.score_criterion(
        session=s, actor=ANA, code=c, level=h, key=_key(r), percent=50)),
    "score_criterion key": (8, True, lambda s, c, r, h: reviews.score_criterion(
        session=s, actor=ANA, code=c, level=8, key=h, percent=50)),
    "score_criterion percent": (8, True, lambda s, c, r, h: reviews.score_criterion(
        session=s, actor=ANA, code=c, level=8, key=_key(r), percent=h)),
    "score_criterion evidence": (8, True, lambda s, c, r, h: reviews.score_criterion(
        session=s, actor=ANA, code=c, level=8, key=_key(r), percent=50, evidence=h)),
    "score_criterion comment": (8, True, lambda s, c, r, h: reviews.score_criterion(
        session=s, actor=ANA, code=c, level=8, key=_key(r), percent=50, comment=h)),
    "score_criteria scores": (8, True, lambda s, c, r, h: reviews.score_criteria(
        session=s, actor=ANA, code=c, level=8, scores=h)),
    "score_criteria values": (8, True, lambda s, c, r, h: reviews.score_criteria(
        session=s, actor=ANA, code=c, level=8, scores={_key(r): h})),
    "score_criteria link": (8, True, lambda s, c, r, h: reviews.score_criteria(
        session=s, actor=ANA, code=c, level=8, scores={_key(r): {"percent": 5, "evidence": f"https://x.org/{h}"}})),
    **{f"add_evidence {name}": (8, True, _evidence_call(name)) for name in (
        "level", "kind", "status", "title", "url", "criterion", "requirement", "metrics", "details", "source",
        "produced_at", "external_id")},
    **{f"add_junit_report {name}": (8, True, _junit_call(name)) for name in (
        "report", "level", "criterion", "url", "title", "source", "produced_at")},
    "add_evidence metric": (8, True, lambda s, c, r, h: reviews.add_evidence(
        session=s, actor=ANA, code=c, level=8, kind="ci-run", status="fail", title="t", metrics={"accuracy": h})),
    "override_gate level": (8, True, lambda s, c, r, h: reviews.override_gate(
        session=s, actor=ANA, code=c, level=h, gate="validation", justification="j")),
    "override_gate gate": (8, True, lambda s, c, r, h: reviews.override_gate(
        session=s, actor=ANA, code=c, level=8, gate=h, justification="j")),
    "override_gate justification": (8, True, lambda s, c, r, h: reviews.override_gate(
        session=s, actor=ANA, code=c, level=8, gate="validation", justification=h)),
    "override_gate expires_at": (8, True, lambda s, c, r, h: reviews.override_gate(
        session=s, actor=ANA, code=c, level=8, gate="validation", justification="j", expires_at=h)),
    "open_review panel": (8, False, lambda s, c, r, h: reviews.open_review(session=s, actor=ANA, code=c, panel=h)),
    "open_review name": (8, False, lambda s, c, r, h: reviews.open_review(session=s, actor=ANA, code=c, panel=[h])),
    "set_panel review_id": (8, True, lambda s, c, r, h: reviews.set_panel(
        session=s, actor=ANA, review_id=h, expected_version=r.version, panel=["ana"])),
    "set_panel expected_version": (8, True, lambda s, c, r, h: reviews.set_panel(
        session=s, actor=ANA, review_id=r.id, expected_version=h, panel=["ana"])),
    "set_panel panel": (8, True, lambda s, c, r, h: reviews.set_panel(
        session=s, actor=ANA, review_id=r.id, expected_version=r.version, panel=h)),
    "cast_vote review_id": (8, True, lambda s, c, r, h: reviews.cast_vote(
        session=s, actor=ANA, review_id=h, vote="graduate")),
    "cast_vote vote": (8, True, lambda s, c, r, h: reviews.cast_vote(session=s, actor=ANA, review_id=r.id, vote=h)),
    "cast_vote comment": (8, True, lambda s, c, r, h: reviews.cast_vote(
        session=s, actor=ANA, review_id=r.id, vote="graduate", comment=h)),
    "answer_ethics answers": (8, True, lambda s, c, r, h: reviews.answer_ethics(
        session=s, actor=ANA, review_id=r.id, answers=h)),
    "answer_ethics answer": (8, True, lambda s, c, r, h: reviews.answer_ethics(
        session=s, actor=ANA, review_id=r.id, answers={_question(r): h})),
    "decide review_id": (8, True, lambda s, c, r, h: reviews.decide(
        session=s, actor=ANA, review_id=h, expected_version=1, decision="pause")),
    "decide expected_version": (8, True, lambda s, c, r, h: reviews.decide(
        session=s, actor=ANA, review_id=r.id, expected_version=h, decision="pause")),
    "decide decision": (8, True, lambda s, c, r, h: reviews.decide(
        session=s, actor=ANA, review_id=r.id, expected_version=r.version, decision=h)),
    "decide note": (8, True, lambda s, c, r, h: reviews.decide(
        session=s, actor=ANA, review_id=r.id, expected_version=r.version, decision="pause", note=h)),
    "decide target_level": (8, True, lambda s, c, r, h: reviews.decide(
        session=s, actor=ANA, review_id=r.id, expected_version=r.version, decision="switch back", target_level=h)),
    "decide at": (8, True, lambda s, c, r, h: reviews.decide(
        session=s, actor=ANA, review_id=r.id, expected_version=r.version, decision="switch back", target_level=7,
        at=h)),
    "decide tasks": (8, True, lambda s, c, r, h: reviews.decide(
        session=s, actor=ANA, review_id=r.id, expected_version=r.version, decision="hold", tasks=h)),
    "decide task": (8, True, lambda s, c, r, h: reviews.decide(
        session=s, actor=ANA, review_id=r.id, expected_version=r.version, decision="hold", tasks=[h])),
    "decide task text": (8, True, lambda s, c, r, h: reviews.decide(
        session=s, actor=ANA, review_id=r.id, expected_version=r.version, decision="hold",
        tasks=[{"task": h, "owner": "ana"}])),
    "decide task owner": (8, True, lambda s, c, r, h: reviews.decide(
        session=s, actor=ANA, review_id=r.id, expected_version=r.version, decision="hold",
        tasks=[{"task": "t", "owner": h}])),
    "decide task due": (8, True, lambda s, c, r, h: reviews.decide(
        session=s, actor=ANA, review_id=r.id, expected_version=r.version, decision="hold",
        tasks=[{"task": "t", "owner": "ana", "due": h}])),
    "cancel_review review_id": (8, True, lambda s, c, r, h: reviews.cancel_review(
        session=s, actor=ANA, review_id=h, reason="r")),
    "cancel_review reason": (8, True, lambda s, c, r, h: reviews.cancel_review(
        session=s, actor=ANA, review_id=r.id, reason=h)),
    "change_deployed_version note": (9, False, lambda s, c, r, h: reviews.change_deployed_version(
        session=s, actor=ANA, code=c, note=h)),
    "change_deployed_version at": (9, False, lambda s, c, r, h: reviews.change_deployed_version(
        session=s, actor=ANA, code=c, at=h)),
    "fork note": (8, False, lambda s, c, r, h: reviews.fork(
        session=s, actor=ANA, code=c, new_code=f"{c}-fork", name="Fork", note=h)),
    "fork at": (8, False, lambda s, c, r, h: reviews.fork(
        session=s, actor=ANA, code=c, new_code=f"{c}-fork", name="Fork", at=h)),
}


def test_every_review_writer_has_hostile_calls():
    """The table below covers every write service of the package (a new one must be added)."""
    writers = {fn.__name__ for fn in WRITE_SERVICES if fn.__module__.startswith(reviews.__name__)}
    assert writers == {name.split()[0] for name in HOSTILE_CALLS}


@pytest.mark.parametrize("call", list(HOSTILE_CALLS), ids=lambda c: c.replace(" ", "-"))
@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=HOSTILE)
def test_hostile_values_are_accepted_or_refused_by_name_and_a_refusal_changes_nothing(session, engine, call, value):
    level, with_review, act = HOSTILE_CALLS[call]
    code, review = _fresh(session, level, review=with_review)
    before = everything(engine)
    try:
        act(session, code, review, value)
    except MltrlError as refusal:
        assert str(refusal)
        assert everything(engine) == before, f"{call}: a refusal wrote something"
    session.rollback()  # nothing pending into the next example


@given(st.one_of(st.text(max_size=25), st.integers(-2**70, 2**70), st.sampled_from(
    ["12", " 12 ", "007", "²", "١٢", "-1", "0", "2147483647", "2147483648", "9" * 19, "9" * 5000, "1e3", "0x10", "+5"]),
    st.none(), st.booleans()))
def test_a_review_number_is_ascii_digits_within_64_bits_or_none(text):
    number = reviews.review_number(text)
    if number is None:
        return
    assert isinstance(number, int) and not isinstance(number, bool) and 0 < number <= 2**31 - 1  # PostgreSQL's INTEGER
    if isinstance(text, str):
        assert text.strip().isascii() and text.strip().isdigit() and int(text.strip()) == number
    else:
        assert text == number


def test_reviews_by_id_skips_what_is_not_a_review_number(session, at4):
    review = _open(session)
    hostile = [10**30, -1, 0, "²", "x", None, 2**31, 2**63, True, review.id]
    assert [r.id for r, _ in reviews.reviews_by_id(session, hostile)] == [review.id]
    assert reviews.reviews_by_id(session, [10**30, "9" * 5000, "2147483648"]) == []
    assert reviews.review_number("2147483647") == 2**31 - 1
