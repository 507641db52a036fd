"""My account: role shown, password changed through the form."""

from mltrl.services import sessions, users
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
