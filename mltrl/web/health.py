"""``/healthz`` and ``/readyz`` for a load balancer or an orchestrator.

* ``/healthz``: the process is up and serving (no database call): 200 ``{"status": "ok"}``.
* ``/readyz``: the configured database answers and its schema is at the code's Alembic head:
  200 ``{"status": "ready", "schema": [...]}``, else 503 with what is wrong (``database`` when it
  does not answer, ``schema`` when a migration is missing: run ``mltrl db upgrade``). The
  database URL is never shown (it may hold a password).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mltrl import db


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


def _readiness() -> tuple[int, dict]:
    url = db.database_url()
    try:
        engine = db.make_engine(url)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                current, heads = db.schema_heads(conn)
        finally:
            engine.dispose()
    except SQLAlchemyError as exc:
        return 503, {"status": "not ready", "problem": "database",
                     "detail": f"the database does not answer ({type(exc).__name__})"}
    if current != heads:
        return 503, {"status": "not ready", "problem": "schema",
                     "detail": f"the schema is at {sorted(current) or 'no revision'}, the code needs "
                               f"{sorted(heads)}: run `mltrl db upgrade`"}
    return 200, {"status": "ready", "schema": sorted(heads)}


async def readyz(request: Request) -> JSONResponse:
    status, body = await run_in_threadpool(_readiness)
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


routes = [Route("/healthz", healthz, methods=["GET", "HEAD"]),
          Route("/readyz", readyz, methods=["GET", "HEAD"])]
