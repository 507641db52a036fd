"""The /acting-as route (mltrl.web.acting_as), through ASGI: single-user mode's name, kept per
browser in a cookie; refused cross-site, refused when bad (naming the field), never with accounts."""

from __future__ import annotations

import getpass
import re

import pytest
from argon2 import PasswordHasher
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from mltrl.services import Actor, acting, users
from mltrl.web import ACTING_AS_COOKIE, SESSION_COOKIE, SignInRequired, acting_as_routes, sign_in_routes
from mltrl.web.forms import CSRF_COOKIE
from tests.factories import everything

PASSWORD = "correct horse"


async def _page(request):
    return PlainTextResponse("the app")


@pytest.fixture(autouse=True)
def _server_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server process has names of its own: the form must never offer them."""
    monkeypatch.setenv("MLTRL_USER", "server-user")
    monkeypatch.setattr(getpass, "getuser", lambda: "root")
    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def client(db_url) -> TestClient:
    app = Starlette(routes=[*sign_in_routes, *acting_as_routes, Route("/{path:path}", _page)],
                    middleware=[Middleware(SignInRequired)])
    return TestClient(app, base_url="http://mltrl.test", follow_redirects=False)


def _token(client: TestClient, next_path: str = "/") -> str:
    page = client.get("/acting-as", params={"next": next_path})
    assert page.status_code == 200, page.status_code
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def _post(client: TestClient, name: str = "Zoë Müller", next_path: str = "/", **extra):
    token = _token(client, next_path)
    data = {"name": name, "next": next_path, "csrf": extra.pop("csrf", token), **extra.pop("data", {})}
    return client.post("/acting-as", data=data, **extra)


def test_the_form_asks_who_is_acting_and_never_offers_the_servers_name(client):
    page = client.get("/acting-as", params={"next": "/project?code=R01.1"})
    assert page.status_code == 200 and "Who is acting?" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert 'name="name"' in page.text and 'value=""' in page.text  # empty: nobody has said yet
    assert "root" not in page.text and "server-user" not in page.text
    assert 'name="next" value="/project?code=R01.1"' in page.text
    csrf = page.headers["set-cookie"]
    assert csrf.startswith(f"{CSRF_COOKIE}=") and "Path=/acting-as" in csrf and "SameSite=strict" in csrf
    assert "Forget my name" not in page.text  # nothing to forget yet


def test_a_name_sets_the_cookie_and_goes_back_to_the_page(client, engine):
    before = everything(engine)
    answer = _post(client, name="  Zoë   Müller ", next_path="/project?code=R01.1")
    assert answer.status_code == 303 and answer.headers["location"] == "/project?code=R01.1"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(f"{ACTING_AS_COOKIE}="))
    assert cookie.startswith(f"{ACTING_AS_COOKIE}=Zo%C3%AB%20M%C3%BCller;")  # folded, then percent-encoded
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/;" in cookie
    assert "Max-Age=31536000" in cookie and "Secure" not in cookie  # a year; plain HTTP here
    assert acting.name_from_cookie(client.cookies[ACTING_AS_COOKIE]) == "Zoë Müller"
    assert everything(engine) == before  # nothing in the database: the name goes with each change
    # the form, shown again, knows the name (a refresh or a new tab sends the same cookie)
    again = client.get("/acting-as")
    assert 'value="Zoë Müller"' in again.text and "Acting now as <strong>Zoë Müller</strong>" in again.text
    assert ">Forget my name</button>" in again.text


def test_over_https_behind_a_proxy_the_cookie_is_secure(client):
    answer = _post(client, headers={"x-forwarded-proto": "https"})
    assert any(c.startswith(f"{ACTING_AS_COOKIE}=") and "Secure" in c for c in answer.headers.get_list("set-cookie"))


def test_forget_clears_the_cookie(client):
    _post(client)
    assert ACTING_AS_COOKIE in client.cookies
    answer = _post(client, name="", next_path="/cards", data={"action": "forget"})
    assert answer.status_code == 303 and answer.headers["location"] == "/cards"
    assert ACTING_AS_COOKIE not in client.cookies


def test_a_cross_site_post_or_a_missing_token_is_refused_and_no_cookie_set(client, engine):
    before = everything(engine)
    forged = _post(client, csrf="forged")
    assert forged.status_code == 403 and "came from another site" in forged.text
    cross = _post(client, headers={"origin": "https://evil.example"})
    assert cross.status_code == 403
    client.cookies.delete(CSRF_COOKIE, path="/acting-as")
    no_cookie = client.post("/acting-as", data={"name": "Mallory", "next": "/", "csrf": "x"})
    assert no_cookie.status_code == 403
    assert ACTING_AS_COOKIE not in client.cookies and everything(engine) == before
    same_site = _post(client, headers={"origin": "http://mltrl.test"})
    assert same_site.status_code == 303 and ACTING_AS_COOKIE in client.cookies


@pytest.mark.parametrize(("typed", "reason"), [
    ("", "required: one line of up to 100 characters"),
    ("   ", "required: one line of up to 100 characters"),
    ("x" * 101, "at most 100 characters (got 101)"),
    ("Zoë\x07", "must not contain control characters (found U+0007)"),
])
def test_a_bad_name_shows_the_form_again_naming_the_field_and_sets_no_cookie(client, typed, reason):
    answer = _post(client, name=typed, next_path="/risks")
    assert answer.status_code == 422
    assert "Please check “Your name”: " + reason in answer.text
    assert 'name="next" value="/risks"' in answer.text
    assert not any(c.startswith(f"{ACTING_AS_COOKIE}=") for c in answer.headers.get_list("set-cookie"))
    assert ACTING_AS_COOKIE not in client.cookies


def test_what_the_form_shows_again_is_escaped(client):
    answer = _post(client, name="<script>alert(1)</script>" * 5)
    assert answer.status_code == 422 and "<script>alert(1)" not in answer.text and "&lt;script&gt;" in answer.text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:x"])
def test_only_a_path_on_this_site_is_followed(client, target):
    page = client.get("/acting-as", params={"next": target})
    assert 'name="next" value="/"' in page.text
    answer = _post(client, next_path=target)
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_with_accounts_there_is_no_acting_name_people_sign_in(client, session, engine):
    token = _token(client)  # a form fetched in single-user mode, posted after accounts exist
    users.create_first_admin(session=session, actor=Actor("x"), name="ada", password=PASSWORD)
    before = everything(engine)
    form = client.get("/acting-as", params={"next": "/project?code=R01.1"}, headers={"accept": "text/html"})
    assert form.status_code == 303 and form.headers["location"] == "/sign-in?next=%2Fproject%3Fcode%3DR01.1"
    posted = client.post("/acting-as", data={"name": "Mallory", "next": "/cards", "csrf": token})
    assert posted.status_code == 303 and posted.headers["location"] == "/sign-in?next=%2Fcards"
    assert ACTING_AS_COOKIE not in client.cookies and everything(engine) == before
    # signed in already: straight back to the page, still no acting name
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/sign-in").text).group(1)
    client.post("/sign-in", data={"name": "ada", "password": PASSWORD, "next": "/", "csrf": token})
    assert SESSION_COOKIE in client.cookies
    back = client.get("/acting-as", params={"next": "/cards"})
    assert back.status_code == 303 and back.headers["location"] == "/cards"
    again = client.post("/acting-as", data={"name": "Mallory", "next": "/cards", "csrf": token})
    assert again.status_code == 303 and ACTING_AS_COOKIE not in client.cookies


@pytest.mark.parametrize("raw", [None, "", "%FF", "a%07b", "%20", "x" * 1201, 42])
def test_a_cookie_holding_no_valid_name_is_ignored(raw):
    assert acting.name_from_cookie(raw) is None


def test_any_valid_name_survives_the_cookie():
    for name in ["Ada Lovelace", "O'Brien, Seán", "李小龙", "a;b=c \"d\" %41", "x" * 100]:
        value = acting.cookie_value(name)
        assert re.fullmatch(r"[A-Za-z0-9_.~%-]+", value)
        assert acting.name_from_cookie(value) == name
