"""Presentation mode remembered per browser (mltrl.web.presentation), through ASGI; and the words
that switch it (mltrl.domain.presentation), as a property."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from mltrl.domain import presentation
from mltrl.web import PresentationCookie

PAGE = {"accept": "text/html,application/xhtml+xml", "sec-fetch-dest": "document"}


async def _page(request):
    return PlainTextResponse("the app")


def _client(base_url: str = "http://mltrl.test") -> TestClient:
    app = Starlette(routes=[Route("/{path:path}", _page)], middleware=[Middleware(PresentationCookie)])
    return TestClient(app, base_url=base_url)


def test_a_page_load_with_present_1_sets_the_cookie_and_present_0_clears_it():
    client = _client()
    answer = client.get("/portfolio", params={"present": "1", "code": "R10.1"}, headers=PAGE)
    assert answer.text == "the app"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("mltrl_present=1;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/" in cookie and "Secure" not in cookie and "Max-Age" not in cookie  # gone with the browser
    assert client.cookies.get("mltrl_present") == "1"
    assert "set-cookie" not in client.get("/project", headers=PAGE).headers  # kept, not set again
    answer = client.get("/project", params={"present": "0"}, headers=PAGE)
    assert "Max-Age=0" in answer.headers["set-cookie"]
    assert client.cookies.get("mltrl_present") is None


def test_only_page_loads_set_it_and_https_makes_it_secure():
    client = _client()
    for path, headers in (("/portfolio", {"accept": "application/json"}), ("/_stcore/health", PAGE),
                          ("/static/app.js", PAGE), ("/portfolio", {**PAGE, "sec-fetch-dest": "iframe"})):
        assert "set-cookie" not in client.get(path, params={"present": "1"}, headers=headers).headers, path
    assert "set-cookie" not in client.get("/portfolio", params={"present": "maybe"}, headers=PAGE).headers
    assert "Secure" in _client("https://mltrl.test").get("/", params={"present": "1"}, headers=PAGE).headers["set-cookie"]
    behind_proxy = client.get("/", params={"present": "1"}, headers={**PAGE, "x-forwarded-proto": "https"})
    assert "Secure" in behind_proxy.headers["set-cookie"]


def test_the_words_that_switch_it():
    assert [presentation.wanted(w) for w in ("1", "TRUE", " yes ", "on")] == [True] * 4
    assert [presentation.wanted(w) for w in ("0", "False", "no", "OFF ")] == [False] * 4
    assert [presentation.wanted(w) for w in (None, "", "2", "maybe", "1.0", "y")] == [None] * 6


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=12))
def test_case_and_surrounding_spaces_never_change_the_answer(word):
    assert presentation.wanted(word) is presentation.wanted(f"  {word.upper()} \t")
