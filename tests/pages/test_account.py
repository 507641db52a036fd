"""My account: role shown, password changed through the form, API tokens made, listed and revoked."""

from datetime import timedelta

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from mltrl.domain import days
from mltrl.domain.errors import Unauthenticated
from mltrl.models import ApiToken
from mltrl.services import Actor, sessions, tokens, users
from mltrl.ui.access import Viewer
from tests.conftest import ROOT
from tests.pages.conftest import PASSWORD, signed_in_secret


def _submit(at, label):
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception


def test_account_page_shows_the_role_and_changes_the_password(open_page, session, team):
    elsewhere = signed_in_secret("vic")  # vic's other browser
    at = open_page("views/account.py", signed_in="vic")
    assert at.title[0].value == "My account"
    assert "role **viewer**" in at.markdown[0].value
    at.text_input(key="pw_current").input(PASSWORD)
    at.text_input(key="pw_new").input("a brand new one")
    at.text_input(key="pw_again").input("a brand new one")
    _submit(at, "Change password")
    assert at.success[0].value == "Your password was changed; your other sign-ins have ended."
    assert users.authenticate(session, "vic", "a brand new one") is not None
    assert at.text_input(key="pw_current").value == ""
    assert sessions.current(session, elsewhere) is None  # the other browser is signed out
    assert sessions.current(session, at.session_state["_session_secret"]) is not None  # this one is not
    at.run()
    assert at.title[0].value == "My account"


def test_wrong_current_password_is_refused(open_page, session, team):
    at = open_page("views/account.py", signed_in="eve")
    at.text_input(key="pw_current").input("not it")
    at.text_input(key="pw_new").input("a brand new one")
    at.text_input(key="pw_again").input("a brand new one")
    _submit(at, "Change password")
    assert "current_password" in at.error[0].value
    assert users.authenticate(session, "eve", PASSWORD) is not None


def test_mismatched_new_passwords_are_refused(open_page, session, team):
    at = open_page("views/account.py", signed_in="eve")
    at.text_input(key="pw_current").input(PASSWORD)
    at.text_input(key="pw_new").input("a brand new one")
    at.text_input(key="pw_again").input("another one!")
    _submit(at, "Change password")
    assert "differ" in at.error[0].value
    assert users.authenticate(session, "eve", PASSWORD) is not None


# --- API tokens -----------------------------------------------------------------------------------


def _tokens_table(at):
    [table] = at.dataframe  # AppTest keeps no key on a dataframe; the page has this one
    frame = table.value
    assert list(frame.columns) == ["Name", "Starts with", "Role", "Created", "Expires", "Last used", "Status"]
    return frame.to_dict("records")


def _all_tokens(session):
    session.expire_all()
    return session.exec(select(ApiToken)).all()


def _day(when):
    return f"{when.day} {when:%b %Y}"


def test_a_new_token_is_shown_once_and_acts_as_its_owner(open_page, session, team):
    at = open_page("views/account.py", signed_in="eve")
    assert [s.value for s in at.subheader] == ["Change password", "API tokens"]
    assert "Authorization: Bearer <token>" in at.markdown[1].value
    assert "You have no API tokens yet." in [c.value for c in at.caption]
    role = at.selectbox(key="token_role")
    assert role.options == ["viewer", "editor"] and role.value == "editor"  # up to eve's role, hers by default

    until = days.today() + timedelta(days=30)
    at.text_input(key="token_name").input("ci")
    at.date_input(key="token_expires").set_value(until)
    _submit(at, "Create token")

    assert at.success[0].value == f"Created the token “ci” (editor, until {_day(until)})."
    assert len(at.code) == 1
    secret = at.code[0].value
    assert secret.startswith("mltrl_") and len(secret) > 40
    assert "will not be shown again" in at.warning[0].value
    assert at.text_input(key="token_name").value == ""  # the form starts afresh

    [row] = _tokens_table(at)
    assert row == {"Name": "ci", "Starts with": secret[:10] + "…", "Role": "editor",
                   "Created": _day(days.today()), "Expires": _day(until), "Last used": "never",
                   "Status": "active"}

    acting = tokens.actor_for(session, secret)  # the secret works, as eve
    assert (acting.name, acting.role_cap, acting.via) == ("eve", "editor", "token ci")
    [stored] = _all_tokens(session)
    assert secret not in (stored.token_hash, stored.prefix)  # only its digest is kept

    at.run()  # any later run: the secret is gone for good
    assert not at.exception, at.exception
    assert len(at.code) == 0
    assert not any("will not be shown again" in w.value for w in at.warning)
    assert secret not in str([m.value for m in at.markdown])
    [row] = _tokens_table(at)
    assert row["Last used"].startswith(_day(days.today()) + ", ") and row["Last used"].endswith(" UTC")


def test_revoking_a_token_from_the_page(open_page, session, team):
    secret, info = tokens.create_token(session=session, actor=Actor("vic"), name="notebook")
    tokens.create_token(session=session, actor=Actor("eve"), name="not vic's")
    at = open_page("views/account.py", signed_in="vic")
    [row] = _tokens_table(at)  # only vic's own tokens
    assert (row["Name"], row["Status"], row["Expires"], row["Last used"]) == ("notebook", "active", "never", "never")
    choice = at.selectbox(key="revoke_token_id")
    assert choice.value is None  # nothing is revoked by a stray click
    assert choice.options == [f"notebook ({info.shown}, viewer, created {_day(days.today())})"]
    _submit(at, "Revoke token")
    assert at.error[0].value == "Please check **token**: choose the token to revoke."
    assert tokens.actor_for(session, secret).name == "vic"

    at.selectbox(key="revoke_token_id").set_value(info.id)
    _submit(at, "Revoke token")
    assert at.success[0].value == f"Revoked the token “notebook” ({info.shown}): it no longer works."
    [row] = _tokens_table(at)
    assert row["Status"] == "revoked"
    with pytest.raises(Unauthenticated):
        tokens.actor_for(session, secret)
    assert "Revoke token" not in [b.label for b in at.button]  # nothing left to revoke


def test_ended_tokens_are_listed_but_not_offered_for_revoking(open_page, session, team):
    _, old = tokens.create_token(session=session, actor=Actor("eve"), name="last year", role="viewer",
                                 expires=days.today())
    _, live = tokens.create_token(session=session, actor=Actor("eve"), name="nightly")
    row = session.get(ApiToken, old.id)
    row.expires_at = days.last_instant(days.today() - timedelta(days=400))  # as if made long ago
    session.add(row)
    session.commit()
    at = open_page("views/account.py", signed_in="eve")
    rows = {r["Name"]: r for r in _tokens_table(at)}
    assert rows["last year"]["Status"] == "expired"
    assert rows["last year"]["Expires"] == _day(days.today() - timedelta(days=400))
    assert rows["nightly"]["Status"] == "active" and rows["nightly"]["Expires"] == "never"
    assert not any(v is None or v == "None" or "None" in str(v) for r in rows.values() for v in r.values())
    assert at.selectbox(key="revoke_token_id").options == [f"nightly ({live.shown}, editor, created "
                                                           f"{_day(days.today())})"]


def test_a_viewer_cannot_give_a_token_the_editor_role(open_page, session, team):
    at = open_page("views/account.py", signed_in="vic")
    role = at.selectbox(key="token_role")
    assert role.options == ["viewer"]  # nothing above vic's own role is offered
    # A tampered browser sends "editor" anyway: Streamlit drops a choice it did not offer, and
    # the token is made with vic's role at most.
    role.options.append("editor")
    role.set_value("editor")
    at.text_input(key="token_name").input("ci")
    _submit(at, "Create token")
    assert at.success[0].value == "Created the token “ci” (viewer, until revoked)."
    assert [t.role for t in _all_tokens(session)] == ["viewer"]
    assert tokens.actor_for(session, at.code[0].value).role_cap == "viewer"


@pytest.mark.parametrize("name, field_message", [
    ("   ", "a token needs a name"),
    ("x" * 81, "at most 80 characters (got 81)"),
    ("ci", "eve already has a token called 'ci'"),
])
def test_bad_token_input_is_refused_by_name_and_writes_nothing(open_page, session, team, name, field_message):
    tokens.create_token(session=session, actor=Actor("eve"), name="ci")
    at = open_page("views/account.py", signed_in="eve")
    at.text_input(key="token_name").input(name)
    _submit(at, "Create token")
    [error] = at.error
    assert error.value.startswith("Please check **name**: ") and field_message in error.value
    assert len(at.code) == 0 and not at.success
    assert len(_all_tokens(session)) == 1  # only the one made before
    assert at.text_input(key="token_name").value == name  # what was typed stays, to correct it


def test_single_user_mode_says_tokens_need_accounts(db_url):
    at = AppTest.from_file(str(ROOT / "views" / "account.py"), default_timeout=60)
    at.session_state["_viewer"] = Viewer("e2e", "e2e", None)  # what app.py's gate remembers without accounts
    at.run()
    assert not at.exception, at.exception
    assert at.markdown[0].value == "Single-user mode: there are no accounts yet; changes are recorded as **e2e**."
    assert "API tokens need accounts" in at.info[0].value
    assert not at.text_input and not at.dataframe
