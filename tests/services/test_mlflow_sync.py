"""The MLflow link and sync (``mltrl.services.mlflow_sync``), against a real tracking server.

The link's checks run on both backends; the tests that talk to the MLflow server run on SQLite
only (the server is the slow part, and the writes are the evidence and card services', tested on
both elsewhere)."""

from __future__ import annotations

import re
import sys

import pytest
from sqlmodel import select

from mltrl.domain import registry as rules
from mltrl.domain.cards import Card
from mltrl.domain.errors import Conflict, InvalidInput, NotFound
from mltrl.models import AuditEntry, Evidence, LevelEvent
from mltrl.services import Actor, cards, level_moves, mlflow_sync, projects
from tests.factories import everything, make_project
from tests.mlflow_server import closed_port_uri

ALICE = Actor("alice")
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _tech(session, code="R01.1", level=9):
    make_project(session, code)
    level_moves.record_start(session=session, actor=ALICE, code=code, level=level)


# --- the link --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fields, field, words", [
    ({"tracking_uri": "file:///tmp/mlruns"}, "tracking_uri", "http(s) address"),
    ({"tracking_uri": "sqlite:///mlflow.db"}, "tracking_uri", "http(s) address"),
    ({"tracking_uri": "http://bob:pw@mlflow:5000"}, "tracking_uri", "credentials"),
    ({"tracking_uri": "  "}, "tracking_uri", "required"),
    ({"tracking_uri": "http://mlflow:5000/?x=1"}, "tracking_uri", "without ?"),
    ({"model_name": ""}, "model_name", "required"),
    ({"deployed_alias": "has space"}, "deployed_alias", "letters, digits"),
    ({"deployed_alias": "latest"}, "deployed_alias", "reserved"),
    ({"webhook_secret": "short"}, "webhook_secret", "16-128"),
])
def test_a_bad_link_is_refused_by_name_and_nothing_is_written(session, engine, fields, field, words):
    _tech(session)
    before = everything(engine)
    values = {"tracking_uri": "http://mlflow.example:5000", "model_name": "churn"} | fields
    with pytest.raises(InvalidInput, match=re.escape(words)) as refused:
        mlflow_sync.link_model(session=session, actor=ALICE, code="R01.1", **values)
    assert refused.value.field == field
    assert everything(engine) == before


def test_link_edit_and_unlink_are_audited_without_the_secret(session, engine):
    _tech(session)
    link = mlflow_sync.link_model(session=session, actor=ALICE, code="R01.1", tracking_uri="https://mlflow.example/",
                                  model_name="churn", webhook_secret="s3cret-s3cret-s3cret")
    assert (link.tracking_uri, link.deployed_alias, link.version) == ("https://mlflow.example", "champion", 1)
    record = mlflow_sync.link_record(session, "R01.1")
    assert record["has_webhook_secret"] is True and "webhook_secret" not in record
    # an edit without the secret keeps it; a stale edit is refused
    mlflow_sync.link_model(session=session, actor=ALICE, code="R01.1", tracking_uri="https://mlflow.example",
                           model_name="churn", deployed_alias="prod", expected_version=1)
    assert mlflow_sync.model_link(session, "R01.1").webhook_secret == "s3cret-s3cret-s3cret"
    before = everything(engine)
    with pytest.raises(Conflict, match="version 1 -> 2"):
        mlflow_sync.link_model(session=session, actor=ALICE, code="R01.1", tracking_uri="https://mlflow.example",
                               model_name="other", expected_version=1)
    assert everything(engine) == before
    mlflow_sync.unlink_model(session=session, actor=ALICE, code="R01.1", expected_version=2)
    assert mlflow_sync.link_record(session, "R01.1") is None
    entries = session.exec(select(AuditEntry).where(AuditEntry.entity == "modellink")).all()
    assert [e.action for e in entries] == ["create", "update", "delete"]
    assert "s3cret" not in repr([(e.before, e.after) for e in entries])
    assert entries[0].after["webhook_secret"] == "(hidden)"


def test_a_technology_without_a_link_is_refused(session, engine):
    _tech(session)
    before = everything(engine)
    with pytest.raises(NotFound, match="R01.1 is not linked to an MLflow model"):
        mlflow_sync.sync_model(session=session, actor=ALICE, code="R01.1")
    with pytest.raises(NotFound):
        mlflow_sync.accept_proposal(session=session, actor=ALICE, code="R01.1")
    assert everything(engine) == before


# --- the sync, against the server ----------------------------------------------------------------


@pytest.fixture
def churn(mlflow_seed):
    """A model with two versions (their runs' metrics and params) and champion on version 1."""
    name = mlflow_seed.model()
    mlflow_seed.version(name, {"accuracy": 0.81, "f1": 0.7}, {"lr": "0.1"})
    mlflow_seed.version(name, {"accuracy": 0.9, "f1": 0.8}, {"lr": "0.05"})
    mlflow_seed.alias(name, "champion", "1")
    return name


def _link(session, uri, name, code="R01.1"):
    mlflow_sync.link_model(session=session, actor=ALICE, code=code, tracking_uri=uri, model_name=name)


def _evidence(session):
    return list(session.exec(select(Evidence).where(Evidence.kind == "model-version").order_by(Evidence.id)).all())


@sqlite_only
def test_sync_records_each_version_once_with_its_run(session, engine, mlflow_server, churn):
    _tech(session, level=4)
    _link(session, mlflow_server.uri, churn)
    result = mlflow_sync.sync_model(session=session, actor=ALICE, code="R01.1")
    assert (result.versions, result.new_evidence, result.card_changed) == (("1", "2"), ("1", "2"), True)
    assert result.deployed_version == "1" and result.proposal is None
    rows = _evidence(session)
    assert [r.external_id for r in rows] == [f"mlflow:{churn}:1", f"mlflow:{churn}:2"]
    first, second = rows
    assert first.metrics == {"accuracy": 0.81, "f1": 0.7} and second.metrics == {"accuracy": 0.9, "f1": 0.8}
    assert (first.level, first.status, first.recorded_via) == (4, "info", "mlflow sync")
    assert first.details["params"] == {"lr": "0.1"} and first.details["aliases"] == ["champion"]
    assert first.details["run_id"] and first.details["tags"] == {"stage": "test"}
    assert "champion" in first.title and churn in first.title
    assert first.url == f"{mlflow_server.uri}/#/models/{churn}/versions/1"

    again = mlflow_sync.sync_model(session=session, actor=ALICE, code="R01.1")
    assert (again.new_evidence, again.card_changed) == ((), False)
    assert len(_evidence(session)) == 2
    assert len(cards.revisions(session, "R01.1")) == 1


@sqlite_only
def test_the_card_block_is_written_once_and_the_teams_text_kept(session, mlflow_server, mlflow_seed, churn):
    _tech(session, level=4)
    cards.save_card(session=session, actor=ALICE, code="R01.1", base_revision=0,
                    card=Card(tldr="Churn scores", model="A gradient-boosted classifier."))
    _link(session, mlflow_server.uri, churn)
    mlflow_sync.sync_model(session=session, actor=ALICE, code="R01.1")
    model = cards.current_card(session, "R01.1").card.model
    assert model.startswith("A gradient-boosted classifier.")
    assert model.count(rules.BLOCK_START) == 1 and model.rstrip().endswith(rules.BLOCK_END)
    assert "| 2 | - |" in model and "| 1 | **champion** |" in model and "accuracy 0.81" in model
    # the team writes after the block; a new version rewrites the block only
    state = cards.current_card(session, "R01.1")
    cards.save_card(session=session, actor=ALICE, code="R01.1", base_revision=state.number,
                    card=Card(tldr="Churn scores", model=state.card.model + "\n\nRetrained monthly."))
    mlflow_seed.version(churn, {"accuracy": 0.93})
    result = mlflow_sync.sync_model(session=session, actor=ALICE, code="R01.1")
    assert result.new_evidence == ("3",) and result.card_changed
    model = cards.current_card(session, "R01.1").card.model
    assert model.startswith("A gradient-boosted classifier.") and model.endswith("Retrained monthly.")
    assert model.count(rules.BLOCK_START) == 1 and "| 3 | - |" in model
    assert len(cards.revisions(session, "R01.1")) == 4  # the team's two saves and the two syncs


@sqlite_only
def test_a_moved_deployed_alias_proposes_the_switchback_and_records_it_only_when_accepted(
        session, engine, mlflow_server, mlflow_seed, churn):
    _tech(session, level=9)
    _link(session, mlflow_server.uri, churn)
    assert mlflow_sync.sync_model(session=session, actor=ALICE, code="R01.1").proposal is None
    events = len(session.exec(select(LevelEvent)).all())
    mlflow_seed.alias(churn, "champion", "2")
    result = mlflow_sync.sync_model(session=session, actor=ALICE, code="R01.1")
    assert result.proposal["from"] == "1" and result.proposal["to"] == "2"
    assert len(session.exec(select(LevelEvent)).all()) == events  # nothing recorded yet
    session.expire_all()
    assert level_moves_level(session) == 9
    link = mlflow_sync.model_link(session, "R01.1")
    mlflow_sync.accept_proposal(session=session, actor=ALICE, code="R01.1", expected_version=link.version)
    session.expire_all()
    assert level_moves_level(session) == 7
    last = session.exec(select(LevelEvent).order_by(LevelEvent.id.desc())).first()
    assert last.switchback_kind == "embedded" and "version 1 to version 2" in last.note
    assert mlflow_sync.link_record(session, "R01.1")["proposal"] is None


def level_moves_level(session, code="R01.1"):
    return projects.get_project(session, code).level


@sqlite_only
def test_a_dismissed_proposal_leaves_the_level(session, mlflow_server, mlflow_seed, churn):
    _tech(session, level=9)
    _link(session, mlflow_server.uri, churn)
    mlflow_sync.sync_model(session=session, actor=ALICE, code="R01.1")
    mlflow_seed.alias(churn, "champion", "2")
    mlflow_sync.sync_model(session=session, actor=ALICE, code="R01.1")
    mlflow_sync.dismiss_proposal(session=session, actor=ALICE, code="R01.1")
    assert mlflow_sync.link_record(session, "R01.1")["proposal"] is None
    assert level_moves_level(session) == 9
    with pytest.raises(InvalidInput, match="no pending proposal"):
        mlflow_sync.accept_proposal(session=session, actor=ALICE, code="R01.1")


@sqlite_only
def test_an_unreachable_server_is_refused_by_its_address_and_nothing_written(session, engine):
    _tech(session)
    dead = closed_port_uri()
    _link(session, dead, "churn")
    before = everything(engine)
    with pytest.raises(InvalidInput, match=f"cannot reach the MLflow server at {dead}") as refused:
        mlflow_sync.sync_model(session=session, actor=ALICE, code="R01.1")
    assert refused.value.field == "tracking_uri"
    assert everything(engine) == before


@sqlite_only
def test_an_unknown_model_is_refused_by_name_and_nothing_written(session, engine, mlflow_server):
    _tech(session)
    _link(session, mlflow_server.uri, "no-such-model")
    before = everything(engine)
    with pytest.raises(InvalidInput, match="has no registered model 'no-such-model'") as refused:
        mlflow_sync.sync_model(session=session, actor=ALICE, code="R01.1")
    assert refused.value.field == "model_name"
    assert everything(engine) == before



def test_without_the_mlflow_client_the_sync_says_what_to_install(session, engine, monkeypatch):
    _tech(session)
    _link(session, "http://mlflow.example:5000", "churn")
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if mlflow-skinny were not installed
    before = everything(engine)
    with pytest.raises(InvalidInput, match=re.escape("pip install 'mltrl-dashboard[mlflow]'")):
        mlflow_sync.sync_model(session=session, actor=ALICE, code="R01.1")
    assert everything(engine) == before


def test_a_webhook_sync_that_lost_a_race_runs_once_more(session, monkeypatch):
    """Two deliveries at once (a version and its alias) race; the loser's second run finds the work
    done. Only that one retry: a second refusal is the answer."""
    calls = []

    def racing(**kwargs):
        calls.append(kwargs["code"])
        if len(calls) < 3:
            raise Conflict("somebody saved the card at the same moment")
        return "synced"

    monkeypatch.setattr(mlflow_sync, "sync_model", racing)
    with pytest.raises(Conflict):
        mlflow_sync._sync_racing(session, ALICE, "R01.1")
    assert mlflow_sync._sync_racing(session, ALICE, "R01.1") == "synced" and len(calls) == 3
