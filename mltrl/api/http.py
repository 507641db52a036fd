"""What every endpoint of ``/api/v1`` shares: the database session, the acting token, errors as
``application/problem+json`` (RFC 9457), entity tags and pages.

**Who acts.** Every endpoint needs an API token (``Authorization: Bearer <token>``), reads too,
and so does single-user mode: a network door without a name on it would let anyone write (tokens
belong to accounts, so a team that wants the API creates its first account). One exception:
MLflow's registry webhook (``mltrl.api.webhooks``), which cannot send a token and is taken only
when signed with a linked model's webhook secret. The token acts as its
owner, capped at its role (``services.tokens.actor_for``); the services then decide, as for a page
or the CLI.

**Refusals** are the services' own, mapped once (``problem``):

=====================  ======  ==============================================================
``InvalidInput``        422    ``field`` names the field; a batch (``RowErrors``) lists ``errors``
``RuleViolation``       422    ``rule`` names the level rule
``PermissionDenied``    403
``Unauthenticated``     401    with ``WWW-Authenticate: Bearer``
``NotFound``            404
``Conflict``            409    ``current_version``: the version (or card revision) stored now
``Busy``                503    with ``Retry-After``
``Throttled``           429    with ``Retry-After``
=====================  ======  ==============================================================

A body or a query parameter of the wrong shape is a 422 naming the field too; an unknown path a
404 and a wrong method a 405, all as problems. Anything else is a 500 problem with no traceback.

**Versions.** A versioned thing's representation carries ``version`` and the answer an ``ETag``
(``"<version>"``); a write on it takes ``If-Match`` (or ``version`` in the body). Without either
the write acts on whatever is stored now, as a script on the CLI does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict
from sqlmodel import Session
from starlette.exceptions import HTTPException

from mltrl import db
from mltrl.domain.errors import (
    Busy,
    Conflict,
    InvalidInput,
    MltrlError,
    NotFound,
    PermissionDenied,
    RowErrors,
    RuleViolation,
    Throttled,
    Unauthenticated,
)
from mltrl.services import Actor, tokens

PROBLEM = "application/problem+json"
PROBLEM_BASE = "https://mltrl.dev/problems/"
PAGE_MAX = 500

log = logging.getLogger("mltrl.api")

# --- problems ------------------------------------------------------------------------------------

_KINDS: list[tuple[type[MltrlError], int, str, str]] = [
    (Unauthenticated, 401, "unauthenticated", "No valid API token"),
    (PermissionDenied, 403, "forbidden", "Not allowed for this role"),
    (NotFound, 404, "not-found", "Not found"),
    (Conflict, 409, "conflict", "Changed since you read it"),
    (Throttled, 429, "throttled", "Too many attempts"),
    (RuleViolation, 422, "rule", "Refused by a level rule"),
    (InvalidInput, 422, "invalid-input", "Invalid input"),
    (Busy, 503, "busy", "The database is busy"),
]


def problem(status: int, kind: str, title: str, detail: str, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    body = {"type": PROBLEM_BASE + kind, "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def problem_for(exc: MltrlError) -> JSONResponse:
    status, kind, title = next(((status, kind, title) for cls, status, kind, title in _KINDS if isinstance(exc, cls)),
                               (422, "refused", "Refused"))  # a refusal of a kind not listed: still the input
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if isinstance(exc, InvalidInput):
        extra["field"] = exc.field
    if isinstance(exc, RowErrors):
        extra["errors"] = [{"row": row, "field": field, "reason": reason} for row, field, reason in exc.errors]
    if isinstance(exc, RuleViolation):
        extra["rule"] = exc.rule
    if isinstance(exc, Conflict):
        extra["current_version"] = exc.current_version
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="mltrl"'
    if isinstance(exc, Throttled):
        headers["Retry-After"] = str(exc.wait_seconds)
    if isinstance(exc, Busy):
        headers["Retry-After"] = "1"
    return problem(status, kind, title, str(exc), headers=headers or None, **extra)


def _field_of(loc: tuple | list) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(MltrlError)
    async def _refusal(request: Request, exc: MltrlError) -> JSONResponse:
        return problem_for(exc)

    @app.exception_handler(RequestValidationError)
    async def _shape(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "malformed request"}
        field = _field_of(first.get("loc", ()))
        detail = f"{field}: {first.get('msg', 'invalid')}"
        return problem(422, "invalid-input", "Invalid input", detail, field=field,
                       errors=[{"field": _field_of(e.get("loc", ())), "reason": e.get("msg", "")} for e in errors])

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        kinds = {404: ("not-found", "Not found"), 405: ("method-not-allowed", "Method not allowed"),
                 400: ("bad-request", "Bad request"), 412: ("precondition-failed", "Precondition failed")}
        kind, title = kinds.get(exc.status_code, ("http", "Error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"there is no {request.url.path} in the API: see /api/v1/docs"
        return problem(exc.status_code, kind, title, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return problem(500, "internal", "Internal error",
                       f"an internal error ({type(exc).__name__}) stopped this request; nothing was saved. "
                       "Please report it.")


class Body(BaseModel):
    """A request body: unknown fields are refused, naming them."""

    model_config = ConfigDict(extra="forbid")


# --- session and actor ---------------------------------------------------------------------------


def get_session() -> Iterator[Session]:
    with db.session_scope(db.get_engine()) as s:
        yield s


SessionDep = Annotated[Session, Depends(get_session)]


_BEARER = HTTPBearer(auto_error=False, scheme_name="API token",
                     description="An API token (mltrl_...) from My account or `mltrl token create`.")


def bearer(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]) -> str | None:
    """The token of ``Authorization: Bearer <token>`` (declared in the OpenAPI document, so the
    interactive docs offer *Authorize*); another scheme counts as none."""
    return credentials.credentials.strip() if credentials is not None else None


def get_actor(session: SessionDep, secret: Annotated[str | None, Depends(bearer)]) -> Actor:
    return tokens.actor_for(session, secret)


ActorDep = Annotated[Actor, Depends(get_actor)]

# --- versions and pages --------------------------------------------------------------------------


def etag(version: int) -> str:
    return f'"{int(version)}"'


def tagged(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def expected_version(if_match: str | None, body_version: int | None = None, *, field: str = "If-Match") -> int | None:
    """The version a write was made from: ``If-Match`` (``"3"`` or ``W/"3"``), else ``version`` in
    the body, else ``None`` (act on what is stored now). ``*`` means any version."""
    if if_match is None or not if_match.strip():
        return body_version
    value = if_match.strip()
    if value == "*":
        return body_version
    if "," in value:
        raise InvalidInput(field, "give one entity tag, the version you read (e.g. \"3\")")
    value = value.removeprefix("W/").strip('"')
    if not value.isdigit() or len(value) > 10:
        raise InvalidInput(field, f"{if_match!r} is not a version this API gave: send the ETag you read (e.g. \"3\")")
    if body_version is not None and body_version != int(value):
        raise InvalidInput("version", f"the body says version {body_version} and If-Match {value}: send one")
    return int(value)


IfMatch = Annotated[str | None, Header(alias="If-Match", description='The ETag read ("3"): refused with 409 if it changed.')]
Limit = Annotated[int, Query(ge=1, le=PAGE_MAX, description=f"At most this many items (1-{PAGE_MAX}).")]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1, description="Skip this many items first.")]


def page(request: Request, response: Response, items: list[Any], limit: int, offset: int) -> dict[str, Any]:
    """One page of ``items`` with the total and the links to the next and previous pages (also in
    a ``Link`` header)."""
    total = len(items)
    chunk = items[offset:offset + limit]
    links: dict[str, str] = {}
    if offset + limit < total:
        links["next"] = str(request.url.include_query_params(offset=offset + limit, limit=limit))
    if offset > 0:
        links["prev"] = str(request.url.include_query_params(offset=max(0, offset - limit), limit=limit))
    if links:
        response.headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items())
    return {"items": chunk, "total": total, "limit": limit, "offset": offset, **links}


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit % (1024 * 1024) == 0 else f"{limit // 1024} KB"


async def read_body(request: Request, *, field: str, limit: int) -> bytes:
    """A request body of at most ``limit`` bytes, refused naming ``field`` as soon as it grows
    past that (it is never read whole first), or at once when its declared length is larger."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise InvalidInput(field, f"the body is larger than {_size(limit)}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InvalidInput(field, f"the body is larger than {_size(limit)}")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_text(request: Request, *, field: str, limit: int) -> str:
    """A request body of text (a card, a CSV file): at most ``limit`` bytes of UTF-8, refused
    naming ``field`` otherwise."""
    try:
        text = (await read_body(request, field=field, limit=limit)).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(field, "the body is not UTF-8 text") from None
    if not text.strip():
        raise InvalidInput(field, "the body is empty: send the file's text")
    return text
