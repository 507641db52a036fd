"""``/api/v1``: a technology's link to a registered model in an MLflow tracking server.

* ``GET /projects/{code}/mlflow``: the link (the tracking server, the model, the deployed alias and
  version, the last sync, a pending proposal), with an ``ETag``; never the webhook secret, only
  ``has_webhook_secret``. 404 when the technology has no link.
* ``PUT /projects/{code}/mlflow``: create or change the link (``If-Match`` or ``version`` for an
  edit made from what was read). ``webhook_secret`` left out keeps the stored one; ``""`` removes it.
* ``DELETE /projects/{code}/mlflow``: remove the link (what the syncs recorded stays).
* ``POST /projects/{code}/mlflow/sync``: read the model from MLflow now (new versions become
  evidence, the card's table is updated); the answer says what was found and done. A server that
  cannot be reached or a model it does not have is a 422 naming it, with nothing written.

The webhook MLflow calls is ``mltrl.api.webhooks``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from pydantic import Field

from mltrl.api.http import ActorDep, Body, SessionDep, expected_version, tagged
from mltrl.domain.errors import NotFound
from mltrl.services import mlflow_sync

router = APIRouter(tags=["mlflow"])


class LinkBody(Body):
    tracking_uri: str = Field(description="The tracking server's http(s) address, e.g. http://mlflow:5000.")
    model_name: str = Field(description="The registered model's name.")
    deployed_alias: str = Field(default="champion", description="The alias the team sets on the deployed version.")
    webhook_secret: str | None = Field(default=None, description="The secret MLflow's webhook signs with (16-128 "
                                                                 "characters); left out: kept; \"\": removed.")
    version: int | None = Field(default=None, description="The link's version you read (or send If-Match).")


def _record(session, code: str, response: Response) -> dict[str, Any]:
    record = mlflow_sync.link_record(session, code)
    if record is None:
        raise NotFound(f"{code} is not linked to an MLflow model.")
    tagged(response, record["version"])
    return record


@router.get("/projects/{code}/mlflow", summary="A technology's MLflow link")
def get_link(code: str, response: Response, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    return _record(session, code, response)


@router.put("/projects/{code}/mlflow", summary="Link a technology to an MLflow registered model")
def put_link(code: str, body: LinkBody, response: Response, session: SessionDep, actor: ActorDep,
             if_match: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    values = body.model_dump(exclude={"version"}, exclude_unset=True)
    values.setdefault("deployed_alias", "champion")
    mlflow_sync.link_model(session=session, actor=actor, code=code,
                           expected_version=expected_version(if_match, body.version), **values)
    return _record(session, code, response)


@router.delete("/projects/{code}/mlflow", status_code=204, summary="Remove a technology's MLflow link")
def delete_link(code: str, session: SessionDep, actor: ActorDep,
                if_match: Annotated[str | None, Header()] = None) -> Response:
    mlflow_sync.unlink_model(session=session, actor=actor, code=code, expected_version=expected_version(if_match))
    return Response(status_code=204)


@router.post("/projects/{code}/mlflow/sync", summary="Read the linked model from MLflow now")
def sync(code: str, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    result = mlflow_sync.sync_model(session=session, actor=actor, code=code)
    return {"code": result.code, "model_name": result.model_name, "versions": list(result.versions),
            "new_evidence": list(result.new_evidence), "card_changed": result.card_changed,
            "deployed_version": result.deployed_version, "proposal": result.proposal}
