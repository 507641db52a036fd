"""AppTest fixtures: the real app (app.py with st.navigation) over a fresh database."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import streamlit as st
from argon2 import PasswordHasher
from streamlit.testing.v1 import AppTest

from mltrl import db
from mltrl.services import Actor, demo, sessions, users
from tests.conftest import ROOT

APP = str(ROOT / "app.py")


@pytest.fixture(autouse=True)
def _fresh_caches():
    """st.cache_* are process-global: clear them so no test sees another's engine or data."""
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()
    db.dispose_engines()


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def demo_db(session) -> str:
    demo.load_demo(session=session, actor=Actor("demo"))
    return "demo"


@pytest.fixture
def open_page(db_url: str) -> Callable[..., AppTest]:
    """Run the app, then switch to ``page`` (relative to app.py), with optional query params."""

    def _open(page: str, actor: str = "alice", signed_in: str | None = None, **query: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["actor_name"] = actor
        if signed_in:
            at.session_state["_session_secret"] = signed_in_secret(signed_in)
        for key, value in query.items():
            at.query_params[key] = value
        at.run()
        assert not at.exception, at.exception
        at.switch_page(page).run()
        assert not at.exception, at.exception
        return at

    return _open


PASSWORD = "correct horse"


def signed_in_secret(name: str, password: str = PASSWORD) -> str:
    """A real session for ``name`` (through services.sessions, as the /sign-in route makes one);
    AppTest cannot send its cookie, so the tests put the secret in session state instead."""
    with db.session_scope(db.get_engine()) as s:
        secret, _ = sessions.sign_in(s, name, password)
    return secret


@pytest.fixture
def team(session) -> dict[str, str]:
    """An admin, an editor, a viewer and a disabled editor; returns role -> user name."""
    users.create_first_admin(session=session, actor=Actor("x"), name="ada", password=PASSWORD,
                             display_name="Ada Admin", email="ada@example.org")
    admin = Actor("ada")
    users.add_user(session=session, actor=admin, name="eve", role="editor", password=PASSWORD, display_name="Eve Editor")
    users.add_user(session=session, actor=admin, name="vic", role="viewer", password=PASSWORD, display_name="Vic Viewer")
    users.add_user(session=session, actor=admin, name="dan", role="editor", password=PASSWORD)
    users.set_disabled(session=session, actor=admin, name="dan")
    return {"admin": "ada", "editor": "eve", "viewer": "vic", "disabled": "dan"}
