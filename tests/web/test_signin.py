"""The /sign-in and /sign-out routes and the sign-in middleware (mltrl.web.signin), through ASGI."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from mltrl.domain import credentials
from mltrl.models import UserSession
from mltrl.services import Actor, sessions, users
from mltrl.web import SESSION_COOKIE, SignInRequired, sign_in_routes
from mltrl.web.signin import CSRF_COOKIE, safe_next
from tests.factories import everything

PASSWORD = "correct horse"


async def _page(request):
    return PlainTextResponse("the app")


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def client(db_url) -> TestClient:
    app = Starlette(routes=[*sign_in_routes, Route("/{path:path}", _page)], middleware=[Middleware(SignInRequired)])
    return TestClient(app, base_url="http://mltrl.test", follow_redirects=False)


@pytest.fixture
def team(session) -> None:
    users.create_first_admin(session=session, actor=Actor("x"), name="ada", password=PASSWORD)
    users.add_user(session=session, actor=Actor("ada"), name="eve", role="editor", password=PASSWORD)


def _form(client: TestClient, next_path: str = "/") -> str:
    page = client.get("/sign-in", params={"next": next_path})
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def _post(client: TestClient, name="eve", password=PASSWORD, next_path="/", **extra):
    token = _form(client, next_path)
    return client.post("/sign-in", data={"name": name, "password": password, "next": next_path,
                                         "csrf": extra.pop("csrf", token)}, **extra)


def test_a_page_load_without_a_session_goes_to_sign_in_and_comes_back(client, team, session):
    html = {"accept": "text/html"}
    first = client.get("/project?code=R01.1", headers=html)
    assert first.status_code == 303 and first.headers["location"] == "/sign-in?next=%2Fproject%3Fcode%3DR01.1"
    answer = _post(client, next_path="/project?code=R01.1")
    assert answer.status_code == 303 and answer.headers["location"] == "/project?code=R01.1"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie and "Max-Age=1209600" in cookie  # 14 days, the default lifetime
    secret = client.cookies[SESSION_COOKIE]
    row = session.execute(select(UserSession)).scalar_one()
    assert row.token_hash == credentials.digest(secret)
    again = client.get("/project?code=R01.1", headers=html)
    assert again.status_code == 200 and again.text == "the app"
    # Streamlit's own requests and non-page resources are never redirected
    client.cookies.clear()
    for path in ("/_stcore/health", "/static/js/main.js", "/healthz", "/favicon.png"):
        assert client.get(path, headers=html).status_code == 200


def test_over_https_behind_a_proxy_the_cookie_is_secure(client, team):
    answer = _post(client, headers={"x-forwarded-proto": "https"})
    assert "Secure" in answer.headers["set-cookie"]


def test_sign_out_ends_the_session_and_the_replayed_cookie_is_sent_to_sign_in(client, team, session):
    _post(client)
    secret = client.cookies[SESSION_COOKIE]
    out = client.get("/sign-out")
    assert out.status_code == 303 and out.headers["location"] == "/sign-in"
    assert sessions.current(session, secret) is None
    client.cookies.set(SESSION_COOKIE, secret)  # replayed
    assert client.get("/portfolio", headers={"accept": "text/html"}).status_code == 303


def test_a_cross_site_post_or_a_missing_token_is_refused_and_nothing_written(client, team, engine):
    before = everything(engine)
    forged = _post(client, csrf="forged")
    assert forged.status_code == 403 and "came from another site" in forged.text
    cross = _post(client, headers={"origin": "https://evil.example"})
    assert cross.status_code == 403
    client.cookies.delete(CSRF_COOKIE, path="/sign-in")
    no_cookie = client.post("/sign-in", data={"name": "eve", "password": PASSWORD, "csrf": "x"})
    assert no_cookie.status_code == 403
    assert everything(engine) == before and SESSION_COOKIE not in client.cookies


def test_a_wrong_password_shows_the_form_again_and_five_are_throttled(client, team):
    wrong = _post(client, password="nope")
    assert wrong.status_code == 200 and "Wrong user name or password, or the account is disabled." in wrong.text
    assert 'value="eve"' in wrong.text and SESSION_COOKIE not in client.cookies
    for _ in range(4):
        _post(client, password="nope")
    throttled = _post(client)
    assert throttled.status_code == 429 and "try again in 15 minutes" in throttled.text
    assert 850 <= int(throttled.headers["retry-after"]) <= 901


def test_the_form_escapes_what_it_shows_again(client, team):
    answer = _post(client, name='<script>alert(1)</script>', password="nope")
    assert "<script>alert(1)" not in answer.text and "&lt;script&gt;" in answer.text


def test_in_single_user_mode_nobody_is_sent_to_sign_in(client):
    assert client.get("/portfolio", headers={"accept": "text/html"}).status_code == 200
    assert client.get("/sign-in", params={"next": "/risks"}).headers["location"] == "/risks"


def test_an_oversized_or_unreadable_form_is_refused(client, team, engine):
    before = everything(engine)
    huge = client.post("/sign-in", content=b"name=" + b"x" * 20_000,
                       headers={"content-type": "application/x-www-form-urlencoded"})
    assert huge.status_code == 413
    assert everything(engine) == before


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:x",
                                    "portfolio", "/ok\r\nSet-Cookie: x=1", ""])
def test_only_a_path_on_this_site_is_followed_after_sign_in(target):
    assert safe_next(target) == "/"


@given(st.text(max_size=60))
def test_safe_next_is_always_a_local_path(text):
    path = safe_next(text)
    assert path.startswith("/") and not path.startswith("//") and "\\" not in path
    assert path == "/" or path == text
