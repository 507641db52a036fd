"""Local sign-in through a server route, so a browser stays signed in across refreshes and tabs.

* ``GET /sign-in?next=/path`` shows the form (with a fresh anti-forgery token, also set as a
  ``SameSite=Strict`` cookie); ``POST /sign-in`` checks it: the token in the form must equal the
  cookie's (a cross-site post carries no such cookie) and an ``Origin`` header, when sent, must be
  this host. Then ``services.sessions.sign_in`` checks the password (throttled, audited) and the
  answer sets the session cookie: ``HttpOnly``, ``SameSite=Lax``, ``Secure`` when served over HTTPS
  (directly or behind a proxy that says ``X-Forwarded-Proto: https``), for the sign-in lifetime.
  Only a path on this site is followed as ``next``.
* ``GET /sign-out`` ends the session server-side and clears the cookie.
* ``SignInRequired``: a page load (an HTML document) without a live session, on a database with
  accounts, is sent to ``/sign-in?next=...`` before Streamlit serves it. Off when an identity
  provider signs people in (``st.login``).
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mltrl import db
from mltrl.domain import credentials
from mltrl.domain.errors import Throttled, Unauthenticated
from mltrl.services import sessions, users
from mltrl.services.policy import current_policy
from mltrl.web.forms import CSRF_COOKIE, TEMPLATES, genuine, https, new_csrf_token, read_form, safe_next, set_csrf_cookie

SESSION_COOKIE = credentials.SESSION_COOKIE
__all__ = ["CSRF_COOKIE", "SESSION_COOKIE", "SignInRequired", "routes", "safe_next"]


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


def _idle_hours() -> int:
    with db.session_scope(db.get_engine()) as s:
        return current_policy(s).session_idle_hours


def _form(request: Request, *, error: str = "", name: str = "", next_path: str = "/", status: int = 200,
          headers: dict[str, str] | None = None) -> HTMLResponse:
    token = new_csrf_token()
    page = TEMPLATES.get_template("sign_in.html").render(
        error=error, name=name[:100], next=next_path, csrf=token, action="/sign-in", idle_hours=_idle_hours())
    response = HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})
    set_csrf_cookie(response, request, token, "/sign-in")
    return response


def _has_accounts() -> bool:
    with db.session_scope(db.get_engine()) as s:
        return users.has_accounts(s)


async def sign_in_form(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    if not await run_in_threadpool(_has_accounts):
        return RedirectResponse(next_path, status_code=303)  # single-user mode: nobody signs in
    return await run_in_threadpool(_form, request, next_path=next_path)


def _sign_in(name: str, password: str, address: str, agent: str) -> tuple[str, int]:
    with db.session_scope(db.get_engine()) as s:
        secret, _ = sessions.sign_in(s, name, password, address=address, user_agent=agent)
        return secret, current_policy(s).session_lifetime_days


async def sign_in_post(request: Request) -> Response:
    form = await read_form(request, "sign-in")
    if isinstance(form, Response):
        return form
    name, password = str(form.get("name") or ""), str(form.get("password") or "")
    next_path = safe_next(str(form.get("next") or "/"))
    if not genuine(request, form):
        return await run_in_threadpool(
            _form, request, error="This sign-in form has expired or came from another site: please sign in again.",
            name=name, next_path=next_path, status=403)
    try:
        secret, lifetime_days = await run_in_threadpool(
            _sign_in, name, password, _address(request), request.headers.get("user-agent", ""))
    except Throttled as exc:
        return await run_in_threadpool(_form, request, error=exc.message, name=name, next_path=next_path,
                                       status=429, headers={"Retry-After": str(exc.wait_seconds)})
    except Unauthenticated as exc:
        # 200, as a form shown again with its error (401 would need a WWW-Authenticate scheme)
        return await run_in_threadpool(_form, request, error=exc.message, name=name, next_path=next_path)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(SESSION_COOKIE, secret, httponly=True, samesite="lax", secure=https(request), path="/",
                        max_age=lifetime_days * 86_400)
    response.delete_cookie(CSRF_COOKIE, path="/sign-in")
    return response


def _sign_out(secret: str | None) -> None:
    with db.session_scope(db.get_engine()) as s:
        sessions.sign_out(s, secret)


async def sign_out(request: Request) -> Response:
    await run_in_threadpool(_sign_out, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=https(request))
    return response


routes = [Route("/sign-in", sign_in_form, methods=["GET"]),
          Route("/sign-in", sign_in_post, methods=["POST"]),
          Route("/sign-out", sign_out, methods=["GET"])]


def _needs_sign_in(secret: str | None) -> bool:
    with db.session_scope(db.get_engine()) as s:
        return users.has_accounts(s) and sessions.current(s, secret) is None


class SignInRequired:
    """Send a browser loading a page without a live session to the sign-in form (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and is_page_load(scope):
            request = Request(scope)
            if await run_in_threadpool(_needs_sign_in, request.cookies.get(SESSION_COOKIE)):
                target = scope["path"] + (f"?{scope['query_string'].decode('latin-1')}" if scope["query_string"] else "")
                response = RedirectResponse(f"/sign-in?next={quote(safe_next(target), safe='')}", status_code=303)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


_NOT_PAGES = ("/_stcore", "/static", "/app/static", "/media", "/component", "/sign-in", "/sign-out", "/acting-as",
              "/healthz", "/readyz", "/api", "/auth", "/oauth2callback")


def is_page_load(scope: Scope) -> bool:
    path = scope["path"]
    if path.startswith(_NOT_PAGES) or "." in path.rsplit("/", 1)[-1]:
        return False
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    return "text/html" in headers.get("accept", "") and headers.get("sec-fetch-dest", "document") == "document"
