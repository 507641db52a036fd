"""Authorization lives in the services: every write use case refuses a viewer, whoever calls it,
and every write leaves an audit row behind."""

from __future__ import annotations

import pytest
from datetime import timedelta

from sqlalchemy import event
from sqlalchemy import inspect as sa_inspect
from sqlmodel import Session, select

from mltrl.domain.errors import PermissionDenied
from mltrl.models import AuditEntry, SQLModel, utcnow
from mltrl.domain.permissions import Permission
from mltrl.domain.cards import Card
from mltrl.services import (
    WRITE_SERVICES,
    Actor,
    cards,
    demo,
    level_moves,
    mlflow_sync,  # noqa: F401  (its link, sync and proposal use cases join the walk)
    okrs,
    policy,
    projects,
    reviews,
    risks,
    sessions,  # noqa: F401  (imported so WRITE_SERVICES holds its use cases)
    tokens,  # noqa: F401
    users,
)
from tests.factories import everything, make_project

ADMIN = Actor("ada")
PASSWORD = "correct horse"


@pytest.fixture
def team(session: Session) -> dict[str, Actor]:
    users.create_first_admin(session=session, actor=Actor("anyone"), name="ada", password=PASSWORD)
    for name, role in [("vic", "viewer"), ("eve", "editor"), ("rey", "reviewer"), ("dan", "editor")]:
        users.add_user(session=session, actor=ADMIN, name=name, role=role, password=PASSWORD)
    users.set_disabled(session=session, actor=ADMIN, name="dan")
    return {"viewer": Actor("vic"), "editor": Actor("eve"), "reviewer": Actor("rey"), "disabled": Actor("dan")}


def _refusing(permission_filter):
    return [f for f in WRITE_SERVICES if permission_filter(f.permission)]


@pytest.mark.parametrize("use_case", _refusing(lambda p: p not in (Permission.SELF,)), ids=lambda f: f.__name__)
def test_every_write_service_refuses_a_viewer(use_case, session, engine, team):
    """Walks WRITE_SERVICES, so a use case added later without a fitting check fails here."""
    before = everything(engine)
    with pytest.raises(PermissionDenied):
        use_case(session=session, actor=team["viewer"])
    assert everything(engine) == before


@pytest.mark.parametrize("use_case", WRITE_SERVICES, ids=lambda f: f.__name__)
def test_every_write_service_refuses_disabled_and_unknown_users(use_case, session, engine, team):
    before = everything(engine)
    for actor in (team["disabled"], Actor("stranger")):
        with pytest.raises(PermissionDenied):
            use_case(session=session, actor=actor)
    assert everything(engine) == before


@pytest.mark.parametrize("use_case", _refusing(lambda p: p is Permission.ADMIN), ids=lambda f: f.__name__)
def test_admin_services_refuse_editors_and_reviewers(use_case, session, team):
    for role in ("editor", "reviewer"):
        with pytest.raises(PermissionDenied, match=f"is a {role}; this needs the admin role"):
            use_case(session=session, actor=team[role])


def test_editor_edits_and_viewer_reads(session, team):
    project = make_project(session, "R01.1", actor=team["editor"])
    level_moves.record_start(session=session, actor=team["editor"], code="R01.1", level=2)
    with pytest.raises(PermissionDenied, match="vic is a viewer; this needs the editor role"):
        projects.update_project(session=session, actor=team["viewer"], code="R01.1",
                                expected_version=project.version + 1, name="x")
    assert projects.view_project(session, "R01.1").project.level == 2


def test_single_user_mode_lets_anyone_act_until_the_first_account(session):
    make_project(session, "R01.1", actor=Actor("whoever"))
    users.create_first_admin(session=session, actor=Actor("whoever"), name="ada", password=PASSWORD)
    with pytest.raises(PermissionDenied, match="'whoever' has no account here"):
        make_project(session, "R02.1", actor=Actor("whoever"))
    with pytest.raises(PermissionDenied, match="Accounts already exist"):
        users.create_first_admin(session=session, actor=Actor("x"), name="bob", password=PASSWORD)


def test_every_write_in_a_scenario_has_an_audit_row(session, engine):
    """Collect every row the ORM writes while a scenario runs through the services, and find an
    audit entry for each (owners are audited in their project's snapshot)."""
    written: set[tuple[str, str]] = set()

    def collect(sess, _flush_context):
        for obj in list(sess.new) + list(sess.dirty) + list(sess.deleted):
            if isinstance(obj, AuditEntry) or not isinstance(obj, SQLModel):
                continue
            parent = getattr(type(obj), "__audit_parent__", None)
            if parent:
                written.add((parent[0], str(getattr(obj, parent[1]))))
            else:
                written.add((obj.__tablename__, str(sa_inspect(obj).mapper.primary_key_from_instance(obj)[0])))

    event.listen(Session, "after_flush", collect)
    try:
        demo.load_demo(session=session, actor=Actor("demo"))
        users.create_first_admin(session=session, actor=Actor("x"), name="ada", password=PASSWORD)
        users.add_user(session=session, actor=ADMIN, name="eve", role="editor", password=PASSWORD)
        users.set_role(session=session, actor=ADMIN, name="eve", role="reviewer")
        users.change_password(session=session, actor=Actor("eve"), current_password=PASSWORD,
                              new_password="another secret")
        eve = Actor("eve")
        p = make_project(session, "X1", actor=eve, owners=["A", "B"])
        projects.update_project(session=session, actor=eve, code="X1", expected_version=p.version,
                                owners=["C"], summary="new")
        level_moves.record_start(session=session, actor=eve, code="X1", level=3)
        level_moves.graduate(session=session, actor=eve, code="X1")
        level_moves.switch_back(session=session, actor=eve, code="X1", level=2, kind="discovery")
        rev = cards.save_card(session=session, actor=eve, code="X1", card=Card(tldr="t", owners=("D",)),
                              base_revision=0)
        cards.restore_revision(session=session, actor=eve, code="X1", number=rev.number, base_revision=rev.number)
        cards.import_card(session=session, actor=eve, text="| Tech name (project ID) | New (N9.1) |\n|---|---|\n| Current Level | 2 |\n")
        risks.add_requirement(session=session, actor=eve, code="X1", number="1", statement="s", p_failure=0.2,
                              value=3)
        req = risks.update_requirement(session=session, actor=eve, code="X1", number="1", expected_version=1,
                                       changes={"value": 4})
        risk = risks.add_risk(session=session, actor=eve, code="X1", title="r", category="data", p_failure=0.5,
                              value=5, requirement="1")
        risks.update_risk(session=session, actor=eve, code="X1", risk_id=risk.id, expected_version=risk.version,
                          changes={"p_failure": 0.6})
        risks.review_risk(session=session, actor=eve, code="X1", risk_id=risk.id, expected_version=risk.version)
        risks.accept_risk(session=session, actor=eve, code="X1", risk_id=risk.id, expected_version=risk.version,
                          reason="why", until=utcnow() + timedelta(days=5))
        risks.import_risks(session=session, actor=eve, code="X1", text="title,category,p_failure,value\nq,data,0.1,2\n")
        risks.edit_requirements(session=session, actor=eve, code="X1", deletions=[],
                                edits=[risks.RowEdit("1", req.version, {"value": 5})])
        policy.update_policy(session=session, actor=ADMIN, changes={"card_stale_days": 30})
        reviews.score_criterion(session=session, actor=eve, code="X1", level=2, key="research-requirements",
                                percent=80)
        review = reviews.open_review(session=session, actor=eve, code="X1", panel=["eve"])
        reviews.cast_vote(session=session, actor=eve, review_id=review.id, vote="graduate")
        reviews.answer_ethics(session=session, actor=eve, review_id=review.id,
                              answers={reviews.ethics_keys(review.ethics)[0]: "We own it."})
        reviews.decide(session=session, actor=eve, review_id=review.id, expected_version=review.version,
                       decision="graduate")
        reviews.override_gate(session=session, actor=ADMIN, code="X1", level=5, gate="research-vv",
                              justification="because")
        reviews.update_criteria(session=session, actor=ADMIN, level=3, criteria=[["a", "A.", "g"]])
        reviews.fork(session=session, actor=eve, code="X1", new_code="X2", name="Fork")
        objective = okrs.add_objective(session=session, actor=eve, quarter="2027-Q1", title="Ship X1")
        okrs.edit_objective(session=session, actor=eve, objective_id=objective.id,
                            expected_version=objective.version, owner="eve")
        kr = okrs.add_key_result(session=session, actor=eve, objective_id=objective.id, code="X1", target_level=4)
        okrs.edit_key_result(session=session, actor=eve, key_result_id=kr.id, expected_version=kr.version,
                             note="on track")
        okrs.check_in(session=session, actor=eve, key_result_id=kr.id, comment="Going well.", confidence=7)
        copy = okrs.copy_objective(session=session, actor=eve, objective_id=objective.id)
        okrs.check_in(session=session, actor=eve, key_result_id=kr.id, comment="Still well.", confidence=8)
        extra = okrs.add_key_result(session=session, actor=eve, objective_id=copy.id, code="X2", target_level=5)
        okrs.delete_key_result(session=session, actor=eve, key_result_id=extra.id, expected_version=extra.version)
        okrs.delete_objective(session=session, actor=eve, objective_id=objective.id,
                              expected_version=objective.version)
        users.set_disabled(session=session, actor=ADMIN, name="eve")
    finally:
        event.remove(Session, "after_flush", collect)

    audited = {(a.entity, a.entity_id) for a in session.exec(select(AuditEntry)).all()}
    tables_written = {entity for entity, _ in written}
    assert {"project", "levelevent", "appuser", "cardrevision", "requirement", "risk", "orgsetting",
            "criterionscore", "review", "gateoverride", "criteriaset", "objective", "keyresult"} <= tables_written
    assert written - audited == set()


def test_audit_never_holds_a_password_or_its_hash(session):
    users.create_first_admin(session=session, actor=Actor("x"), name="ada", password=PASSWORD)
    users.add_user(session=session, actor=ADMIN, name="eve", role="editor", password="s3cret-pass")
    users.reset_password(session=session, actor=ADMIN, name="eve", new_password="other-s3cret")
    text = " ".join(str(a.before) + str(a.after) for a in session.exec(select(AuditEntry)).all())
    assert "argon2" not in text and "s3cret" not in text and PASSWORD not in text
    assert "(hidden)" in text
