"""What the dashboard's own HTML forms share (``/sign-in``, ``/acting-as``): the templates, the
anti-forgery check, the ``next`` path and whether the browser came over HTTPS.

* **Anti-forgery** (double submit): the form carries a fresh random token that is also set as a
  ``SameSite=Strict``, ``HttpOnly`` cookie scoped to the form's own path; a post is accepted only
  when the two match (a cross-site post carries no such cookie) and an ``Origin`` header, when
  sent, names this host.
* ``safe_next``: only a path on this site is followed after a form, never another site.
* ``https``: directly, or behind a proxy that says ``X-Forwarded-Proto: https`` (cookies are then
  ``Secure``).
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

CSRF_COOKIE = "mltrl_csrf"
FORM_LIMIT = 16_384  # bytes of one of these forms: a few short fields, nothing more

TEMPLATES = Environment(loader=PackageLoader("mltrl", "templates"), autoescape=True, undefined=StrictUndefined)


def safe_next(value: str | None) -> str:
    """``value`` when it is a path on this site (``/portfolio?x=1``), else ``/``."""
    if not value or not isinstance(value, str) or len(value) > 2000:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if any(ord(ch) < 32 for ch in value):
        return "/"
    return value


def https(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:  # browsers send it on a cross-site post; its absence means a same-site form or a script
        return True
    host = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
    return urlsplit(origin).netloc == host


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def set_csrf_cookie(response: Response, request: Request, token: str, path: str) -> None:
    """The form's token as a cookie only the form's own path sees, for an hour."""
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=https(request),
                        path=path, max_age=3600)


def genuine(request: Request, form: FormData) -> bool:
    """Whether a posted form came from our own page: its token equals the cookie's, and the
    ``Origin``, when sent, is this host."""
    sent, kept = str(form.get("csrf") or ""), request.cookies.get(CSRF_COOKIE, "")
    return bool(sent and kept and hmac.compare_digest(sent, kept)) and same_origin(request)


async def read_form(request: Request, what: str, *, max_fields: int = 8) -> FormData | Response:
    """The posted form, or the answer refusing it (too large: 413; not a form: 400)."""
    if int(request.headers.get("content-length") or 0) > FORM_LIMIT:
        return Response(f"The {what} form is too large.", status_code=413)
    try:
        return await request.form(max_files=0, max_fields=max_fields)
    except Exception:  # a body that is not a form
        return Response(f"The {what} form could not be read.", status_code=400)
