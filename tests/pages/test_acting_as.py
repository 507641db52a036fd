"""Single-user mode's *Acting as* in the pages: the name this browser gave (the ``/acting-as``
cookie), never the server's login name; without one every write is refused and nothing is written.

AppTest cannot send cookies: most tests give the name through the session-state seam
(``context.ACTOR_KEY``, which no browser can set); one reads it from a stand-in cookie jar.
"""

from __future__ import annotations

import getpass
import re
from pathlib import Path

import pytest
import streamlit as st
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from mltrl.models import AuditEntry, LevelEvent
from mltrl.services import acting
from mltrl.ui import context
from tests.conftest import ROOT
from tests.factories import everything, make_project
from tests.pages.conftest import APP

PAGE = "views/project.py"
ASKED = "Give your name before you change anything"
ASKED_IN_SIDEBAR = ">Give your name</a> before you change anything"  # the words are the link


@pytest.fixture(autouse=True)
def _server_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server process has names of its own: the pages must never act under them."""
    monkeypatch.setenv("MLTRL_USER", "server-user")
    monkeypatch.setattr(getpass, "getuser", lambda: "root")


def _sidebar(at: AppTest) -> str:
    return " ".join(m.value for m in at.sidebar.markdown)


def _submit(at: AppTest, label: str) -> None:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception


def _last_audit(session) -> AuditEntry:
    session.expire_all()
    return session.exec(select(AuditEntry).order_by(AuditEntry.id.desc())).first()


def test_without_a_name_the_sidebar_asks_and_every_write_is_refused(open_page, session, engine):
    make_project(session, "R01.1", "Old name")
    at = open_page(PAGE, actor=None, code="R01.1")
    sidebar = _sidebar(at)
    assert ASKED_IN_SIDEBAR in sidebar and 'href="/acting-as?next=' in sidebar and 'target="_self"' in sidebar
    assert "root" not in sidebar and "server-user" not in sidebar
    before = everything(engine)

    at.text_input(key="details:R01.1:name").input("New name")
    _submit(at, "Save details")
    assert ASKED in at.error[0].value and "nothing was saved" in at.error[0].value
    at.selectbox(key="start_level").set_value(3)
    _submit(at, "Record start")
    assert ASKED in at.error[0].value
    assert everything(engine) == before  # nothing written, under any name


def test_the_card_page_refuses_a_save_without_a_name(open_page, session, engine):
    make_project(session, "R02.1", "Card")
    at = open_page("views/card.py", actor=None, code="R02.1", tab="edit")
    before = everything(engine)
    at.text_area(key="cf_R02.1_0_testing").input("Unit tests on the loop.").run()
    at.button(key="save_card").click().run()
    assert not at.exception, at.exception
    assert ASKED in at.error[0].value
    assert everything(engine) == before


def test_with_a_name_the_save_is_recorded_under_it(open_page, session):
    make_project(session, "R03.1", "Old name")
    at = open_page(PAGE, actor="  Zoë   Müller ", code="R03.1")
    sidebar = _sidebar(at)
    assert "Acting as **Zo\u00eb M\u00fcller**" in sidebar and ">change</a>" in sidebar and ASKED_IN_SIDEBAR not in sidebar

    at.text_input(key="details:R03.1:name").input("New name")
    _submit(at, "Save details")
    assert at.success[0].value == "Saved R03.1."
    last = _last_audit(session)
    assert (last.entity, last.action, last.actor) == ("project", "update", "Zoë Müller")

    at.selectbox(key="start_level").set_value(2)
    _submit(at, "Record start")
    session.expire_all()
    event = session.exec(select(LevelEvent)).one()
    assert event.recorded_by == "Zoë Müller"
    assert at.dataframe[0].value["Recorded by"].tolist() == ["Zoë Müller"]  # the page's level history
    actors = {a.actor for a in session.exec(select(AuditEntry)).all()}
    assert "root" not in actors and "server-user" not in actors


def test_the_name_comes_from_the_browsers_cookie(monkeypatch, db_url, session):
    """In a browser the name is the cookie the /acting-as route set (read with st.context.cookies)."""
    make_project(session, "R04.1", "Cookie")
    jar = {acting.ACTING_AS_COOKIE: acting.cookie_value("Ada *Lovelace* $x$ <b>")}
    monkeypatch.setattr(type(st.context), "cookies", property(lambda self: jar))
    at = AppTest.from_file(APP, default_timeout=60)
    at.context["url"] = "http://mltrl.test/project"
    at.query_params["code"] = "R04.1"
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    sidebar = _sidebar(at)
    # shown as typed: no markdown, math or HTML of the name takes effect
    assert "Acting as **Ada &#42;Lovelace&#42; &#36;x&#36; &#60;b&#62;**" in sidebar and "<b>" not in sidebar
    assert 'href="/acting-as?next=%2Fproject%3Fcode%3DR04.1"' in sidebar  # comes back to this page

    at.text_input(key="details:R04.1:name").input("Renamed")
    _submit(at, "Save details")
    assert _last_audit(session).actor == "Ada *Lovelace* $x$ <b>"


@pytest.mark.parametrize("cookie", ["", "%FF%FE", "a%07b", "x" * 101, "%20%20"])
def test_a_cookie_that_holds_no_valid_name_counts_as_none(monkeypatch, db_url, cookie):
    monkeypatch.setattr(type(st.context), "cookies", property(lambda self: {acting.ACTING_AS_COOKIE: cookie}))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    assert ASKED_IN_SIDEBAR in _sidebar(at)


def test_the_audit_trail_and_the_backup_ask_for_a_name_first(open_page):
    at = open_page("views/admin.py", actor=None)
    asked = [m.value for m in at.markdown if "Give your name first" in m.value]
    assert len(asked) == 2 and all('href="/acting-as?next=' in m for m in asked)
    assert not at.get("download_button")
    named = open_page("views/admin.py", actor="Grace")
    assert not [m for m in named.markdown if "Give your name first" in m.value]
    assert named.get("download_button")


def test_pages_build_no_actor_of_their_own():
    """Every page write gets its actor from context.actor(), which refuses a browser without a name:
    no page or ui helper makes an Actor (or reads the login name) itself."""
    sources = [*ROOT.joinpath("views").glob("*.py"), *ROOT.joinpath("mltrl", "ui").glob("*.py"), ROOT / "app.py"]
    for path in sources:
        text = Path(path).read_text()
        if path.name != "context.py":
            assert not re.search(r"\bActor\(", text), path
        assert not re.search(r"\bgetuser\(|[\"']MLTRL_USER[\"']", text), path  # no server-side name
    assert context.NAME_NEEDED.startswith(ASKED)
