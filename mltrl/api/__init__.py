"""The HTTP API, ``/api/v1``: JSON over the same services as the pages and the CLI.

``server.py`` mounts ``api`` at ``/api/v1`` beside the Streamlit pages (one process, one
``st.App``). The OpenAPI document is ``/api/v1/openapi.json`` and the interactive docs
``/api/v1/docs`` (Swagger UI, served from the installed ``fastapi-offline``: no CDN). What every endpoint shares (the token, problems, versions, pages) is in
``mltrl.api.http``; one module per area holds its endpoints:

* ``projects``: technologies (list with filters and pages, one, add, edit), the level history and
  moves (start, graduate, switch back, deployed change, fork), the TRL card (JSON, Markdown, a
  prior level's, a revision; save with the revision it was based on).
* ``registers``: requirements and risks (list, add, edit, CSV import), risk matrix counts.
* ``reviews``: reviews (list, one), votes and decisions.
* ``evidence``: a technology's evidence (record one, a JUnit XML report, list): what CI jobs and
  syncs post, and what criteria scored from evidence are judged on.
* ``mlflow_links``: a technology's link to an MLflow registered model (read, set, remove) and a sync now.
* ``webhooks``: MLflow's registry webhooks (``/webhooks/mlflow``): the one endpoint without an API
  token, taken only when signed with a link's webhook secret.
* ``okrs``: objectives and key results of a quarter, check-ins, the quarterly report, time per level.

Like the pages and the CLI, this package calls the services' public functions only; it never
imports streamlit (only ``server.py`` does) nor the models to write them.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from mltrl.api import evidence, mlflow_links, okrs, projects, registers, reviews, webhooks
from mltrl.api.http import install_problem_handlers

DESCRIPTION = """The MLTRL Dashboard's HTTP API: read the portfolio and record level moves, cards,
requirements, risks, reviews, OKR check-ins and evidence (test reports, model versions) from a
script, a CI job or a notebook.

Every request but MLflow's signed webhook (`/webhooks/mlflow`) carries an API token: `Authorization: Bearer mltrl_...` (create one on *My account*
or with `mltrl token create NAME`). It acts as its owner, never above the token's role, and every
write is in the audit trail under the owner's name with the token's name.

Errors are `application/problem+json` (RFC 9457): `detail` says what was wrong, `field` or `rule`
names it. 401 no or a bad token, 403 the role does not allow it, 404 not found, 409 changed since
you read it (`current_version` in the body), 422 refused. Versioned things answer with an `ETag`;
send it back as `If-Match` on a write to be told when somebody else changed them in between.
"""


def create_api() -> FastAPI:
    # The interactive docs from files this package installs (fastapi-offline: Swagger UI 5, which
    # reads OpenAPI 3.1), not from a CDN: a dashboard on a closed network still shows them.
    app = FastAPIOffline(title="MLTRL Dashboard API", version="1", description=DESCRIPTION,
                         docs_url="/docs", redoc_url=None, openapi_url="/openapi.json", static_url="/docs-static")
    install_problem_handlers(app)
    for module in (projects, registers, reviews, evidence, mlflow_links, webhooks, okrs):
        app.include_router(module.router)
    return app


api = create_api()

__all__ = ["api", "create_api"]
