"""Presentation mode remembered per browser: a page load with ``?present=1`` or ``?present=0``
sets or clears the ``mltrl_present`` cookie (``domain.presentation``) on its answer.

A Streamlit page cannot set a cookie, and session state dies with the tab; links in cards and tables
open new tabs. So the switch is a URL, and this middleware makes the browser remember it: a
session cookie (gone when the browser closes), ``HttpOnly`` (the pages read it through
``st.context.cookies``), ``SameSite=Lax``, ``Secure`` over HTTPS, ``Path=/``. Being a display
preference, it needs no anti-forgery token: the worst a forged link can do is show a page read-only.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mltrl.domain import presentation
from mltrl.web.signin import is_page_load


def _cookie_header(on: bool, secure: bool) -> str:
    cookie: SimpleCookie = SimpleCookie()
    cookie[presentation.PRESENT_COOKIE] = "1" if on else ""
    morsel = cookie[presentation.PRESENT_COOKIE]
    morsel["path"] = "/"
    morsel["httponly"] = True
    morsel["samesite"] = "Lax"
    if secure:
        morsel["secure"] = True
    if not on:
        morsel["max-age"] = 0
    return morsel.OutputString()


def _secure(scope: Scope) -> bool:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    forwarded = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return scope.get("scheme") == "https" or forwarded == "https"


class PresentationCookie:
    """Remember ``?present=1`` / ``?present=0`` of a page load in the browser (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        on = None
        if scope["type"] == "http" and scope["method"] == "GET" and is_page_load(scope):
            values = parse_qs(scope["query_string"].decode("latin-1")).get(presentation.PARAM)
            on = presentation.wanted(values[-1]) if values else None
        if on is None:
            await self.app(scope, receive, send)
            return
        header = _cookie_header(on, _secure(scope))

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("set-cookie", header)
            await send(message)

        await self.app(scope, receive, send_with_cookie)
