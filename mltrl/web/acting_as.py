"""Single-user mode's *Acting as* name, kept per browser in a cookie set through a route.

With no accounts nobody signs in, and every change is recorded under the name the browser gave
(``services.acting``). A Streamlit page cannot set a cookie (and session state dies with the tab),
so the name is given here:

* ``GET /acting-as?next=/path`` shows the form "Who is acting?" (the name this browser gave, if
  any, filled in; never the server's login name), with a fresh anti-forgery token
  (``mltrl.web.forms``: a ``SameSite=Strict`` cookie scoped to ``/acting-as``).
* ``POST /acting-as`` checks the token and the ``Origin`` (a cross-site post is refused: 403), then
  the name by the rules of any actor (one line, at most ``PERSON_MAX`` characters, no control
  characters; a bad one shows the form again naming the field and what is allowed: 422, no cookie
  set). A good name sets ``mltrl_acting_as``: percent-encoded, ``HttpOnly`` (only the server reads
  it, through ``st.context.cookies``), ``SameSite=Lax``, ``Secure`` over HTTPS, ``Path=/``, for a
  year; then the browser goes back to ``next`` (a path on this site only). ``action=forget`` clears
  the cookie instead.

Nothing is written to the database: the name is recorded with each change the browser makes. Once
accounts exist the name means nothing (people sign in): both methods send the browser to
``/sign-in`` (or straight back to ``next`` when it is signed in already) and never set the cookie.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from mltrl import db
from mltrl.domain import credentials
from mltrl.domain.errors import InvalidInput
from mltrl.services import acting, sessions, users
from mltrl.web.forms import CSRF_COOKIE, TEMPLATES, genuine, https, new_csrf_token, read_form, safe_next, set_csrf_cookie

ACTING_AS_COOKIE = acting.ACTING_AS_COOKIE
PATH = "/acting-as"


def _form(request: Request, *, error: str = "", name: str | None = None, next_path: str = "/",
          status: int = 200) -> HTMLResponse:
    current = acting.name_from_cookie(request.cookies.get(ACTING_AS_COOKIE))
    token = new_csrf_token()
    page = TEMPLATES.get_template("acting_as.html").render(
        error=error, name=(current or "") if name is None else name[:acting.NAME_MAX * 2], current=current or "",
        next=next_path, csrf=token, action=PATH, name_max=acting.NAME_MAX)
    response = HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})
    set_csrf_cookie(response, request, token, PATH)
    return response


def _elsewhere(secret: str | None, next_path: str) -> str | None:
    """Where to send a browser when the database has accounts (None in single-user mode)."""
    with db.session_scope(db.get_engine()) as s:
        if not users.has_accounts(s):
            return None
        if sessions.current(s, secret) is not None:
            return next_path
    return f"/sign-in?next={quote(next_path, safe='')}"


async def acting_as_form(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    elsewhere = await run_in_threadpool(_elsewhere, request.cookies.get(credentials.SESSION_COOKIE), next_path)
    if elsewhere is not None:
        return RedirectResponse(elsewhere, status_code=303)
    return _form(request, next_path=next_path)


async def acting_as_post(request: Request) -> Response:
    form = await read_form(request, "acting-as")
    if isinstance(form, Response):
        return form
    typed, next_path = str(form.get("name") or ""), safe_next(str(form.get("next") or "/"))
    elsewhere = await run_in_threadpool(_elsewhere, request.cookies.get(credentials.SESSION_COOKIE), next_path)
    if elsewhere is not None:
        return RedirectResponse(elsewhere, status_code=303)
    if not genuine(request, form):
        return _form(request, error="This form has expired or came from another site: please give your name again.",
                     name=typed, next_path=next_path, status=403)
    response = RedirectResponse(next_path, status_code=303)
    if form.get("action") == "forget":
        response.delete_cookie(ACTING_AS_COOKIE, path="/", httponly=True, samesite="lax", secure=https(request))
    else:
        try:
            value = acting.cookie_value(typed)
        except InvalidInput as exc:
            reason = exc.message.split(": ", 1)[-1]
            return _form(request, error=f"Please check “{exc.field}”: {reason}.", name=typed, next_path=next_path,
                         status=422)
        response.set_cookie(ACTING_AS_COOKIE, value, httponly=True, samesite="lax", secure=https(request), path="/",
                            max_age=acting.ACTING_AS_DAYS * 86_400)
    response.delete_cookie(CSRF_COOKIE, path=PATH)
    return response


routes = [Route(PATH, acting_as_form, methods=["GET"]),
          Route(PATH, acting_as_post, methods=["POST"])]
