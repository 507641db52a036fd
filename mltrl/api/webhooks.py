"""``POST /api/v1/webhooks/mlflow``: the receiver of MLflow's model registry webhooks.

This is the one endpoint of the API that takes **no API token**: MLflow cannot send one. A call is
taken only when MLflow signed it with the secret of a link to the model it names (the link's
``webhook_secret``, given to MLflow when the webhook is created): the headers
``X-MLflow-Delivery-Id``, ``X-MLflow-Timestamp`` and ``X-MLflow-Signature`` (``v1,`` + base64 of
HMAC-SHA256 over ``"{delivery id}.{timestamp}.{body}"``, compared in constant time), and a timestamp
within five minutes of now, so a recorded delivery cannot be replayed later. Unsigned: 401; a wrong
signature, a stale timestamp, or a model no link with a secret follows: 403 (one answer for the
three, so a caller learns nothing about the links). Every refusal is logged (logger
``mltrl.mlflow``, warning) with the caller's address and the delivery id, never the secret.

A valid ``model_version.created``, ``model_version_alias.created`` or
``model_version_alias.deleted`` syncs each technology linked to that model
(``services.mlflow_sync.receive_webhook``), acting as the link's creator via "mlflow webhook";
other events are acknowledged and ignored. A sync refused there (MLflow unreachable from the
dashboard, say) is kept on the link (``last_sync_error``, shown on the Project page) and the
delivery still answers 200: MLflow sending it again would not help.

Set it up in MLflow (3.3 or later) with the dashboard's address::

    client.create_webhook(name="mltrl", url="https://dashboard.example/api/v1/webhooks/mlflow",
                          events=["model_version.created", "model_version_alias.created",
                                  "model_version_alias.deleted"], secret="<the link's webhook secret>")
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from mltrl.api.http import SessionDep, read_body
from mltrl.domain import registry as rules
from mltrl.domain.errors import MltrlError
from mltrl.services import mlflow_sync

router = APIRouter(tags=["webhooks"])
log = logging.getLogger("mltrl.mlflow")


@router.post("/webhooks/mlflow", summary="MLflow model registry webhook (signed; no API token)",
             openapi_extra={"security": []})
async def mlflow_webhook(request: Request, session: SessionDep) -> dict[str, Any]:
    headers = request.headers
    delivery = headers.get(rules.DELIVERY_HEADER)
    where = request.client.host if request.client else "?"
    try:
        body = await read_body(request, field="body", limit=mlflow_sync.WEBHOOK_BODY_MAX)
        # the sync talks to MLflow and the database: off the event loop
        outcome = await run_in_threadpool(
            mlflow_sync.receive_webhook, session, delivery_id=delivery, timestamp=headers.get(rules.TIMESTAMP_HEADER),
            signature=headers.get(rules.SIGNATURE_HEADER), body=body)
    except MltrlError as exc:
        log.warning("MLflow webhook refused (from %s, delivery %s): %s", where, (delivery or "-")[:80], exc)
        raise
    return {"event": outcome.event, "model_name": outcome.model_name, "ignored": outcome.ignored,
            "synced": list(outcome.synced), "refused": [{"code": c, "reason": r} for c, r in outcome.refused]}
