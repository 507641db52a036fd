"""The Project page's MLflow part under AppTest (``mltrl.ui.mlflow_panel``): the link's form and
its refusals, Sync from MLflow against a real server, an unreachable server said clearly, and a
proposed 9 -> 7 accepted with a button."""

from __future__ import annotations

import pytest

from mltrl.services import Actor, level_moves, mlflow_sync, projects
from tests.factories import everything, make_project
from tests.mlflow_server import closed_port_uri

PAGE = "views/project.py"
ALICE = Actor("alice")
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _tech(session, level=9):
    make_project(session, "R01.1", actor=ALICE)
    level_moves.record_start(session=session, actor=ALICE, code="R01.1", level=level)


def _press(at, label):
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception


def test_an_editor_links_the_technology_and_a_bad_address_is_refused(open_page, session, engine):
    _tech(session)
    at = open_page(PAGE, code="R01.1")
    assert any("not linked to a model in an MLflow registry" in c.value for c in at.caption)
    at.text_input(key="mlflow:R01.1:tracking_uri").input("file:///srv/mlruns")
    at.text_input(key="mlflow:R01.1:model_name").input("churn")
    before = everything(engine)
    _press(at, "Save the link")
    assert any("tracking_uri" in e.value and "http(s) address" in e.value for e in at.error)
    assert everything(engine) == before
    at.text_input(key="mlflow:R01.1:tracking_uri").input("http://mlflow.example:5000")
    at.text_input(key="mlflow_secret:R01.1").input("a-secret-of-twenty-chars")
    _press(at, "Save the link")
    assert any(s.value == "Saved the MLflow link of R01.1." for s in at.success)
    session.expire_all()
    record = mlflow_sync.link_record(session, "R01.1")
    assert (record["tracking_uri"], record["model_name"], record["has_webhook_secret"]) == (
        "http://mlflow.example:5000", "churn", True)
    assert any("Registered model **churn**" in m.value for m in at.markdown)


@sqlite_only
def test_an_unreachable_server_is_said_and_nothing_written(open_page, session, engine):
    _tech(session)
    dead = closed_port_uri()
    mlflow_sync.link_model(session=session, actor=ALICE, code="R01.1", tracking_uri=dead, model_name="churn")
    at = open_page(PAGE, code="R01.1")
    before = everything(engine)
    _press(at, "Sync from MLflow")
    assert any(f"cannot reach the MLflow server at {dead}" in e.value for e in at.error)
    assert everything(engine) == before


@sqlite_only
def test_sync_then_accept_the_proposed_switchback(open_page, session, mlflow_server, mlflow_seed):
    _tech(session)
    name = mlflow_seed.model()
    mlflow_seed.version(name, {"accuracy": 0.8})
    mlflow_seed.version(name, {"accuracy": 0.9})
    mlflow_seed.alias(name, "champion", "1")
    mlflow_sync.link_model(session=session, actor=ALICE, code="R01.1", tracking_uri=mlflow_server.uri,
                           model_name=name)
    at = open_page(PAGE, code="R01.1")
    _press(at, "Sync from MLflow")
    assert any(f"2 version(s) of {name} in MLflow, 2 new (1, 2)" in s.value for s in at.success)
    mlflow_seed.alias(name, "champion", "2")
    _press(at, "Sync from MLflow")
    assert any("moved from version 1 to version 2" in m.value for m in at.markdown)
    session.expire_all()
    assert projects.get_project(session, "R01.1").level == 9  # proposed only
    _press(at, "Accept: back to level 7")
    assert any("R01.1 is back at level 7" in s.value for s in at.success)
    session.expire_all()
    assert projects.get_project(session, "R01.1").level == 7
    assert not any("moved from version 1 to version 2" in m.value for m in at.markdown)


def test_a_link_changed_meanwhile_keeps_the_draft(open_page, session):
    _tech(session)
    mlflow_sync.link_model(session=session, actor=ALICE, code="R01.1", tracking_uri="http://old.example:5000",
                           model_name="churn")
    at = open_page(PAGE, code="R01.1")
    mlflow_sync.link_model(session=session, actor=Actor("bob"), code="R01.1", tracking_uri="http://old.example:5000",
                           model_name="churn", deployed_alias="prod")  # somebody else saves meanwhile
    at.text_input(key="mlflow:R01.1:tracking_uri").input("http://new.example:5000")
    _press(at, "Save the link")
    assert any("Not saved" in e.value for e in at.error)
    assert at.text_input(key="mlflow:R01.1:tracking_uri").value == "http://new.example:5000"  # the draft is kept
    assert at.text_input(key="mlflow:R01.1:deployed_alias").value == "prod"  # their change taken in
    apply = next(b for b in at.button if b.label.startswith("Apply my draft"))
    apply.click().run()
    session.expire_all()
    record = mlflow_sync.link_record(session, "R01.1")
    assert (record["tracking_uri"], record["deployed_alias"]) == ("http://new.example:5000", "prod")
