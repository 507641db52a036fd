"""/api/v1/projects/{code}/mlflow (the link, a sync now) and /api/v1/webhooks/mlflow (MLflow's
signed registry webhooks). The link's requests run on both backends; those that reach the MLflow
server on SQLite only."""

from __future__ import annotations

import json
import logging
import time
import uuid

import pytest
from sqlmodel import select

from mltrl.models import Evidence
from mltrl.services import Actor, level_moves, mlflow_sync
from tests.api.conftest import auth, problem
from tests.factories import everything, make_project
from tests.mlflow_server import closed_port_uri
from tests.services.test_cli_remote import server  # noqa: F401  (the API on a loopback port)

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
SECRET = "whsec-0123456789abcdef"
LINK = {"tracking_uri": "http://mlflow.example:5000", "model_name": "churn"}


EVE = Actor("eve")


def _tech(session, code="R01.1", level=4, actor=EVE):
    make_project(session, code, actor=actor)
    level_moves.record_start(session=session, actor=actor, code=code, level=level)


def _rows(engine):
    """Every committed row but the tokens' (a token's first use is noted on it)."""
    return {table: rows for table, rows in everything(engine).items() if table != "apitoken"}


def test_put_get_and_delete_a_link_without_ever_showing_the_secret(client, session, engine, team):
    _tech(session)
    assert problem(client.get("/api/v1/projects/R01.1/mlflow"), 404)["detail"].startswith("R01.1 is not linked")
    put = client.put("/api/v1/projects/R01.1/mlflow", json=LINK | {"webhook_secret": SECRET})
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["has_webhook_secret"] is True and SECRET not in put.text
    assert (body["deployed_alias"], body["version"], put.headers["etag"]) == ("champion", 1, '"1"')
    got = client.get("/api/v1/projects/R01.1/mlflow")
    assert got.json() == body and SECRET not in got.text
    # an edit without the secret keeps it; one from a stale version is a 409
    edited = client.put("/api/v1/projects/R01.1/mlflow", json=LINK | {"deployed_alias": "prod"},
                        headers={"If-Match": '"1"'})
    assert edited.json()["has_webhook_secret"] and edited.json()["deployed_alias"] == "prod"
    before = _rows(engine)
    stale = client.put("/api/v1/projects/R01.1/mlflow", json=LINK, headers={"If-Match": '"1"'})
    assert problem(stale, 409)["current_version"] == 2
    bad = client.put("/api/v1/projects/R01.1/mlflow", json=LINK | {"tracking_uri": "sqlite:///x.db"})
    assert problem(bad, 422)["field"] == "tracking_uri"
    viewer = client.put("/api/v1/projects/R01.1/mlflow", json=LINK, headers=auth(team.viewer))
    problem(viewer, 403)
    assert _rows(engine) == before
    assert client.delete("/api/v1/projects/R01.1/mlflow").status_code == 204
    problem(client.get("/api/v1/projects/R01.1/mlflow"), 404)


@sqlite_only
def test_sync_through_the_api(client, session, team, mlflow_server, mlflow_seed):
    _tech(session)
    name = mlflow_seed.model()
    mlflow_seed.version(name, {"accuracy": 0.8})
    client.put("/api/v1/projects/R01.1/mlflow", json={"tracking_uri": mlflow_server.uri, "model_name": name})
    synced = client.post("/api/v1/projects/R01.1/mlflow/sync")
    assert synced.status_code == 200, synced.text
    assert synced.json()["versions"] == ["1"] and synced.json()["new_evidence"] == ["1"]
    assert client.get("/api/v1/projects/R01.1/mlflow").json()["last_synced_at"]


@sqlite_only
def test_an_unreachable_server_is_a_422_naming_it(client, session, engine, team):
    _tech(session)
    dead = closed_port_uri()
    client.put("/api/v1/projects/R01.1/mlflow", json={"tracking_uri": dead, "model_name": "churn"})
    before = everything(engine)
    body = problem(client.post("/api/v1/projects/R01.1/mlflow/sync"), 422)
    assert dead in body["detail"] and body["field"] == "tracking_uri"
    assert everything(engine) == before


# --- the webhook -----------------------------------------------------------------------------------


def delivery(name: str, *, secret: str | None = SECRET, entity: str = "model_version", action: str = "created",
             age_s: int = 0, version: str = "1") -> tuple[bytes, dict[str, str]]:
    """A delivery as MLflow sends it (``mlflow/webhooks/delivery.py``), signed with MLflow's own
    helper."""
    from mlflow.webhooks.delivery import _generate_hmac_signature

    payload = json.dumps({"entity": entity, "action": action, "timestamp": "2026-01-01T00:00:00+00:00",
                          "data": {"name": name, "version": version, "source": "runs:/x/model", "run_id": "x",
                                   "tags": {}, "description": None}})
    delivery_id, stamp = str(uuid.uuid4()), str(int(time.time()) - age_s)
    headers = {"Content-Type": "application/json", "X-MLflow-Delivery-Id": delivery_id, "X-MLflow-Timestamp": stamp}
    if secret is not None:
        headers["X-MLflow-Signature"] = _generate_hmac_signature(secret, delivery_id, stamp, payload)
    return payload.encode(), headers


@pytest.fixture
def linked(session, mlflow_server, mlflow_seed):
    """R01.1 linked, with a webhook secret, to a model with one version (nothing synced yet)."""
    _tech(session, actor=Actor("alice"))
    name = mlflow_seed.model()
    mlflow_seed.version(name, {"accuracy": 0.8})
    mlflow_sync.link_model(session=session, actor=Actor("alice"), code="R01.1", tracking_uri=mlflow_server.uri,
                           model_name=name, webhook_secret=SECRET)
    return name


@sqlite_only
def test_a_signed_delivery_syncs_the_linked_technology(bare_client, session, linked):
    body, headers = delivery(linked)
    answer = bare_client.post("/api/v1/webhooks/mlflow", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["synced"] == ["R01.1"] and answer.json()["event"] == "model_version.created"
    rows = session.exec(select(Evidence).where(Evidence.kind == "model-version")).all()
    assert [(r.external_id, r.recorded_by, r.recorded_via) for r in rows] == [
        (f"mlflow:{linked}:1", "alice", "mlflow webhook")]
    # an event the sync does not follow is acknowledged and ignored
    body, headers = delivery(linked, entity="model_version_tag", action="set")
    assert bare_client.post("/api/v1/webhooks/mlflow", content=body, headers=headers).json()["ignored"] is True


@sqlite_only
@pytest.mark.parametrize("case, status", [("unsigned", 401), ("wrong secret", 403), ("stale", 403),
                                          ("tampered", 403), ("other model", 403), ("oversized", 422)])
def test_a_bad_delivery_is_refused_logged_and_writes_nothing(bare_client, engine, linked, caplog, case, status):
    body, headers = delivery(
        "someone-else" if case == "other model" else linked, secret=None if case == "unsigned" else
        "not-the-secret-at-all" if case == "wrong secret" else SECRET, age_s=3600 if case == "stale" else 0)
    if case == "tampered":
        body = body.replace(b'"version": "1"', b'"version": "2"')
    if case == "oversized":  # refused while it is read, before any signature is checked
        body += b" " * mlflow_sync.WEBHOOK_BODY_MAX
    before = everything(engine)
    with caplog.at_level(logging.WARNING, logger="mltrl.mlflow"):
        answer = bare_client.post("/api/v1/webhooks/mlflow", content=body, headers=headers)
    refusal = problem(answer, status)
    if case == "oversized":
        assert refusal["field"] == "body" and "larger than 1 MB" in refusal["detail"]
    assert everything(engine) == before
    logged = [r.getMessage() for r in caplog.records if r.name == "mltrl.mlflow"]
    assert logged and "MLflow webhook refused" in logged[0] and headers["X-MLflow-Delivery-Id"] in logged[0]
    assert SECRET not in " ".join(logged)


@sqlite_only
def test_a_refused_webhook_sync_is_kept_on_the_link(bare_client, session):
    _tech(session, actor=Actor("alice"))
    mlflow_sync.link_model(session=session, actor=Actor("alice"), code="R01.1", tracking_uri=closed_port_uri(),
                           model_name="churn", webhook_secret=SECRET)
    body, headers = delivery("churn", entity="model_version_alias", action="created")
    answer = bare_client.post("/api/v1/webhooks/mlflow", content=body, headers=headers)
    assert answer.status_code == 200 and answer.json()["refused"][0]["code"] == "R01.1"
    session.expire_all()
    assert "cannot reach the MLflow server" in mlflow_sync.link_record(session, "R01.1")["last_sync_error"]


@sqlite_only
def test_the_mlflow_server_itself_delivers_a_webhook_that_syncs(server, session, mlflow_seed):  # noqa: F811
    """End to end: MLflow's own delivery code signs and posts to the dashboard's API on loopback
    (the test server lets MLflow deliver to a private http address), and the new version arrives
    as evidence. The wait for the delivery (MLflow sends it from a thread pool) is bounded, never
    timed."""
    _tech(session, actor=Actor("alice"))
    name = mlflow_seed.model()
    mlflow_sync.link_model(session=session, actor=Actor("alice"), code="R01.1", tracking_uri=mlflow_seed.uri,
                           model_name=name, webhook_secret=SECRET)
    mlflow_seed.client.create_webhook(name=f"mltrl-{name}", url=f"{server}/api/v1/webhooks/mlflow",
                                      events=["model_version.created"], secret=SECRET)
    time.sleep(2)  # past the test server's one-second cache of the webhook list
    mlflow_seed.version(name, {"accuracy": 0.8})
    deadline = time.monotonic() + 240
    found = []
    while not found and time.monotonic() < deadline:
        session.expire_all()
        found = session.exec(select(Evidence).where(Evidence.external_id == f"mlflow:{name}:1")).all()
        time.sleep(0.5)
    assert found, "MLflow's webhook delivery did not arrive"
    assert (found[0].recorded_by, found[0].recorded_via) == ("alice", "mlflow webhook")


def test_the_openapi_document_lists_the_mlflow_endpoints_and_the_webhook_needs_no_token(bare_client):
    paths = bare_client.get("/api/v1/openapi.json").json()["paths"]
    assert set(paths["/projects/{code}/mlflow"]) == {"get", "put", "delete"}
    assert paths["/projects/{code}/mlflow"]["get"]["security"] == [{"API token": []}]
    assert paths["/projects/{code}/mlflow/sync"]["post"]["security"] == [{"API token": []}]
    assert paths["/webhooks/mlflow"]["post"].get("security", []) == []
