"""Grid edits of the registers, the portfolio's risk views (highest, overdue, grown since the last
level change) and the organisation settings they read, on SQLite and PostgreSQL. Overdue risks are
found in SQL and checked here against the pure rule applied row by row."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlmodel import select

from mltrl.domain import analytics
from mltrl.domain import risk as rules
from mltrl.domain.errors import InvalidInput, PermissionDenied, RowErrors
from mltrl.models import AuditEntry, Risk, RiskEvent, utcnow
from mltrl.domain.policy import Policy
from mltrl.services import Actor, risks, users
from mltrl.services import policy as org_policy
from mltrl.services.risks import RowEdit
from tests.factories import day, everything, make_history, make_project

ANA = Actor("ana")


@pytest.fixture
def r02(session) -> str:
    make_project(session, "R02.1", "Mixed-variable BO")
    make_history(session, "R02.1", [("start", 4, None, "2026-01-05")])
    return "R02.1"


def _req(session, number, **kw):
    return risks.add_requirement(session=session, actor=ANA, code="R02.1", number=number,
                                 statement=f"Requirement {number}.", p_failure=kw.pop("p", 0.3),
                                 value=kw.pop("value", 5), **kw)


def _risk(session, title, p=0.5, value=8, code="R02.1", **kw):
    return risks.add_risk(session=session, actor=kw.pop("actor", ANA), code=code, title=title, category=kw.pop("category", "data"),
                          p_failure=p, value=value, **kw)


# --- grid edits ---------------------------------------------------------------------------------


def test_requirement_grid_saves_all_rows_or_none(session, engine, r02):
    one, two, three = (_req(session, n) for n in ("1", "2", "3"))
    before = everything(engine)
    bad = [RowEdit("1", one.version, {"value": 4}), RowEdit("2", two.version, {"p_failure": "130%"}),
           RowEdit("3", three.version, {"number": "1"})]
    with pytest.raises(RowErrors) as refusal:
        risks.edit_requirements(session=session, actor=ANA, code=r02, edits=bad, deletions=[])
    assert [(r, f) for r, f, _ in refusal.value.errors] == [("requirement 2", "p_failure"), ("requirement 1", "number")]
    assert "nothing was saved" in refusal.value.message
    assert everything(engine) == before
    summary = risks.edit_requirements(session=session, actor=ANA, code=r02,
                                      edits=[RowEdit("1", one.version, {"value": 4, "verification_status": "passed"}),
                                             RowEdit("3", three.version, {"number": "2.1"})],
                                      deletions=[RowEdit("2", two.version, {})])
    assert (summary.updated, summary.deleted) == (2, 1)
    assert [(r.number, r.value, r.verification_status) for r in risks.requirements(session, r02)] == [
        ("1", 4, "passed"), ("2.1", 5, "not started")]


def test_requirement_grid_refuses_stale_rows_and_deleting_a_linked_requirement(session, engine, r02):
    one = _req(session, "1")
    _risk(session, "Tied", requirement="1")
    seen = one.version  # what a grid opened now holds; then someone else saves
    risks.update_requirement(session=session, actor=ANA, code=r02, number="1", expected_version=seen,
                             changes={"value": 9})
    before = everything(engine)
    with pytest.raises(RowErrors) as refusal:
        risks.edit_requirements(session=session, actor=ANA, code=r02, edits=[RowEdit("1", seen, {"value": 2})],
                                deletions=[])
    assert refusal.value.errors[0][1] == "version"
    fresh = risks.requirements(session, r02)[0]
    with pytest.raises(RowErrors) as refusal:
        risks.edit_requirements(session=session, actor=ANA, code=r02, edits=[],
                                deletions=[RowEdit("1", fresh.version, {})])
    assert "linked" in refusal.value.errors[0][2]
    assert everything(engine) == before


def test_risk_grid_keeps_history_and_refuses_acceptance(session, engine, r02):
    drift = _risk(session, "Drift")
    before = everything(engine)
    with pytest.raises(RowErrors) as refusal:
        risks.edit_risks(session=session, actor=ANA, code=r02,
                         edits=[RowEdit(str(drift.id), drift.version, {"status": "accepted"})])
    assert refusal.value.errors == [("risk 'Drift'", "status", refusal.value.errors[0][2])]
    assert everything(engine) == before
    risks.edit_risks(session=session, actor=ANA, code=r02,
                     edits=[RowEdit(str(drift.id), drift.version, {"p_failure": "90%", "mitigation": "Monitor"})])
    history = risks.risk_history(session, drift.id)
    assert [(e.action, e.p_failure) for e in history] == [("create", 0.5), ("update", 0.9)]


# --- the portfolio ------------------------------------------------------------------------------


def test_top_risks_rank_open_risks_across_technologies_with_filters(session, r02):
    make_project(session, "P01.1", "Product")
    make_history(session, "P01.1", [("start", 7, None, "2026-02-01")])
    _risk(session, "Small", p=0.1, value=2)
    _risk(session, "Big", p=0.9, value=10, category="ethics")
    _risk(session, "Gone", p=1.0, value=10, status="closed")
    _risk(session, "Mid", p=0.5, value=8, code="P01.1")
    policy = Policy()
    assert [r["title"] for r in risks.top_risks(session, policy)] == ["Big", "Mid", "Small"]
    assert [r["title"] for r in risks.top_risks(session, policy, limit=1)] == ["Big"]
    assert [r["title"] for r in risks.top_risks(session, policy, project_levels=risks.levels_of(["productization"]))
            ] == ["Mid"]
    assert [r["title"] for r in risks.top_risks(session, policy, categories=["ethics"])] == ["Big"]
    assert risks.levels_of() is None and risks.levels_of(["research"], [7]) == [0, 1, 2, 7]


def test_overdue_risks_in_sql_match_the_rule_row_by_row(session, r02):
    rng = random.Random(6)
    now = utcnow()
    for k in range(60):
        _risk(session, f"R{k}", p=round(rng.random(), 2), value=rng.randint(1, 10),
              status=rng.choice(["open", "open", "mitigating", "closed"]))
    rows = list(session.exec(select(Risk)))
    for row in rows:
        row.last_reviewed_at = now - timedelta(days=rng.randint(0, 120))
        session.add(row)
    accepted = rows[0]
    session.commit()
    risks.accept_risk(session=session, actor=ANA, code=r02, risk_id=accepted.id, expected_version=accepted.version,
                      reason="Known", until=now + timedelta(days=3))
    policy = Policy(risk_review_days={"low": 60, "moderate": 30, "high": 20, "critical": 7})
    later = now + timedelta(days=5)  # the acceptance has run out by then
    total, listed = risks.overdue_risks(session, policy, now=later, limit=1000)
    session.expire_all()
    expected = {r.title for r in session.exec(select(Risk))
                if r.status != "closed" and rules.overdue(r.last_reviewed_at, r.p_failure, r.value, later,
                                                          policy.risk_review_days, accepted_until=r.accepted_until)}
    assert accepted.title in expected and 0 < total < 60
    assert total == len(expected) and {r["title"] for r in listed} == expected
    scores = [rules.cell_score(rules.p_band(r["p_failure"]), rules.value_band(r["value"])) for r in listed]
    assert scores == sorted(scores, reverse=True)  # most serious first
    assert all(r["next_review"] < later for r in listed)


def test_changing_a_cadence_changes_what_is_overdue(session, engine, r02):
    users.create_first_admin(session=session, actor=Actor("x"), name="ada", password="correct horse")
    users.add_user(session=session, actor=Actor("ada"), name="eve", role="editor", password="correct horse")
    risk = _risk(session, "Drift", p=0.5, value=8, actor=Actor("eve"))  # cell 3 x 4 = 12: high
    risk.last_reviewed_at = utcnow() - timedelta(days=25)
    session.add(risk)
    session.commit()
    assert risks.overdue_risks(session, org_policy.current_policy(session))[0] == 0  # high: every 30 days
    before = everything(engine)
    with pytest.raises(PermissionDenied):
        org_policy.update_policy(session=session, actor=Actor("eve"), changes={"risk_review_days.high": 20})
    with pytest.raises(InvalidInput) as refusal:
        org_policy.update_policy(session=session, actor=Actor("ada"), changes={"risk_review_days.high": 90})
    assert refusal.value.field == "risk_review_days.high" and "longer than the moderate cadence" in refusal.value.message
    assert everything(engine) == before
    org_policy.update_policy(session=session, actor=Actor("ada"), changes={"risk_review_days.high": 20})
    assert org_policy.current_policy(session).risk_review_days["high"] == 20
    assert risks.overdue_risks(session, org_policy.current_policy(session))[0] == 1
    entry = session.exec(select(AuditEntry).where(AuditEntry.entity == "orgsetting")).one()
    assert (entry.actor, entry.entity_id, entry.before, entry.after) == ("ada", "risk_review_days.high",
                                                                          {"value": 30}, {"value": 20})


def test_risk_growth_since_the_last_level_change(session, r02):
    make_project(session, "P01.1", "Product")
    make_history(session, "P01.1", [("start", 6, None, "2026-02-01")])
    grew = _risk(session, "Grew", p=0.2, value=5)
    shrank = _risk(session, "Shrank", p=0.8, value=10, code="P01.1")
    for event in session.exec(select(RiskEvent)):  # both existed before their level change
        event.at = day("2025-12-01")
        session.add(event)
    session.commit()
    risks.update_risk(session=session, actor=ANA, code=r02, risk_id=grew.id, expected_version=grew.version,
                      changes={"p_failure": 0.6})
    risks.update_risk(session=session, actor=ANA, code="P01.1", risk_id=shrank.id, expected_version=shrank.version,
                      changes={"p_failure": 0.1})
    _risk(session, "New", p=0.5, value=2)
    grown = risks.risk_growth(session)
    assert [(g["code"], g["risk_then"], g["risk_now"], g["growth"]) for g in grown] == [("R02.1", 1.0, 4.0, 3.0)]
    assert risks.risk_growth(session, project_levels=[6]) == []


def test_risk_events_feed_the_trend(session, r02):
    drift = _risk(session, "Drift", p=0.5, value=8)
    _risk(session, "Ethics", p=0.2, value=5, category="ethics")
    risks.update_risk(session=session, actor=ANA, code=r02, risk_id=drift.id, expected_version=drift.version,
                      changes={"status": "closed"})
    trend = analytics.risk_trend(risks.risk_events(session, r02))
    assert list(trend["total"]) == [4.0, 5.0, 1.0]
    by_category = analytics.risk_trend(risks.risk_events(session, r02), by_category=True)
    assert by_category.groupby("category")["total"].last().to_dict() == {"data": 0.0, "ethics": 1.0}


def test_settings_defaults_and_refusals(session, engine, monkeypatch):
    monkeypatch.setenv("MLTRL_CARD_STALE_DAYS", "45")
    policy = org_policy.current_policy(session)
    assert policy.card_stale_days == 45 and policy.risk_review_days == {g.name: g.review_days for g in rules.GRADES}
    before = everything(engine)
    for changes, field in [({"card_stale_days": 0}, "card_stale_days"), ({"card_stale_days": "soon"}, "card_stale_days"),
                           ({"colour": 3}, "colour")]:
        with pytest.raises(InvalidInput) as refusal:
            org_policy.update_policy(session=session, actor=ANA, changes=changes)
        assert refusal.value.field == field
    assert everything(engine) == before
    assert org_policy.update_policy(session=session, actor=ANA, changes={"card_stale_days": "30"}).card_stale_days == 30
    assert org_policy.current_policy(session).card_stale_days == 30


def test_review_states_shown_agree_with_the_sql_at_an_acceptance_s_last_instant(session, r02):
    """One definition: the pages' review state (``review_states``, the rows of ``top_risks``) and
    the SQL of ``overdue_risks`` agree, also at the edge of 'accepted until D' (its last instant)."""
    from mltrl.domain import days

    rng = random.Random(9)
    now = utcnow()
    for k in range(40):
        _risk(session, f"R{k}", p=round(rng.random(), 2), value=rng.randint(1, 10),
              status=rng.choice(["open", "mitigating", "closed"]))
    rows = list(session.exec(select(Risk)))
    for row in rows:
        row.last_reviewed_at = now - timedelta(days=rng.randint(0, 120))
        session.add(row)
    session.commit()
    row = next(r for r in risks.risks(session, r02) if r.status != "closed")
    day = days.today() + timedelta(days=2)
    risks.accept_risk(session=session, actor=ANA, code=r02, risk_id=row.id, expected_version=row.version,
                      reason="Known", until=days.last_instant(day))
    policy = Policy()
    for at in (days.last_instant(day), days.day_end(day)):  # still accepted; then ended
        session.expire_all()
        states = risks.review_states(risks.risks(session, r02), policy, now=at)
        total, listed = risks.overdue_risks(session, policy, now=at, limit=1000)
        assert {r["id"] for r in listed} == {i for i, s in states.items() if s.overdue}
        assert total == len(listed) and all(r["overdue"] for r in listed)
        top = risks.top_risks(session, policy, limit=1000, now=at)
        assert {r["id"]: r["overdue"] for r in top} == {i: s.overdue for i, s in states.items()
                                                       if s.next_review is not None}
        accepted = session.get(Risk, row.id)
        cadence_due = days.as_utc(accepted.last_reviewed_at) + timedelta(days=states[row.id].cadence_days)
        assert states[row.id].overdue == (at == days.day_end(day) or cadence_due < at)
