"""Sign-in, the first admin, roles in the pages, presentation mode, identity-provider sign-in."""

from streamlit.testing.v1 import AppTest

from mltrl.services import users
import pytest

from tests.factories import make_history, make_project
from tests.pages.conftest import APP, PASSWORD, signed_in_secret


def _fresh(signed_in: str | None = None, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if signed_in:
        at.session_state["_session_secret"] = signed_in_secret(signed_in)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def _submit(at, label):
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception


def test_single_user_mode_needs_no_sign_in(db_url):
    at = _fresh()
    assert at.title[0].value == "Portfolio"
    # no name given in this browser: the sidebar asks for one (never the server's login name)
    asked = " ".join(m.value for m in at.sidebar.markdown)
    assert ">Give your name</a> before you change anything" in asked and 'href="/acting-as?next=' in asked
    assert "Set up accounts" in [link.label for link in at.sidebar.get("page_link")] or at.sidebar.get("page_link")


def test_first_admin_is_created_from_the_admin_page_then_signs_in(open_page, session):
    at = open_page("views/admin.py")
    assert "Single-user mode" in at.info[0].value
    at.text_input(key="first_admin_name").input("ada")
    at.text_input(key="first_admin_display").input("Ada Lovelace")
    at.text_input(key="first_admin_password").input(PASSWORD)
    at.text_input(key="first_admin_again").input(PASSWORD)
    _submit(at, "Create the first admin")
    assert at.success[0].value == "Welcome, Ada Lovelace: you are the first admin. Sign in with your new account."
    assert at.title[0].value == "MLTRL Dashboard"  # the sign-in screen: the cookie comes from /sign-in
    assert any('href="/sign-in?next=' in m.value for m in at.markdown)
    assert users.authenticate(session, "ada", PASSWORD).role == "admin"


def test_first_admin_form_refuses_mismatched_passwords(open_page, session):
    at = open_page("views/admin.py")
    at.text_input(key="first_admin_name").input("ada")
    at.text_input(key="first_admin_password").input(PASSWORD)
    at.text_input(key="first_admin_again").input("something else")
    _submit(at, "Create the first admin")
    assert "the two entries differ" in at.error[0].value
    assert not users.has_accounts(session)


def test_with_accounts_the_app_asks_to_sign_in_through_the_sign_in_route(db_url, team):
    at = _fresh()
    assert at.title[0].value == "MLTRL Dashboard"
    link = next(m.value for m in at.markdown if "/sign-in" in m.value)
    assert 'href="/sign-in?next=' in link and 'target="_self"' in link
    assert not at.button and not at.text_input  # no password is typed into the websocket page
    assert len(at.dataframe) == 0  # nothing of the portfolio leaks out


def test_a_live_session_signs_in_and_a_made_up_one_does_not(db_url, team):
    at = _fresh(signed_in="eve")
    assert at.title[0].value == "Portfolio"
    assert "**Eve Editor** · editor" in [m.value for m in at.sidebar.markdown]
    at = _fresh(_session_secret="made-up")
    assert at.title[0].value == "MLTRL Dashboard"
    assert "sign in again" in at.warning[0].value


def test_sign_out_ends_the_session_and_the_secret_replayed_signs_nobody_in(db_url, team):
    secret = signed_in_secret("eve")
    at = _fresh(_session_secret=secret)
    assert at.title[0].value == "Portfolio"
    at.sidebar.button(key="sign_out").click().run()
    assert at.title[0].value == "MLTRL Dashboard"
    assert at.success[0].value == "You have signed out."
    replayed = _fresh(_session_secret=secret)
    assert replayed.title[0].value == "MLTRL Dashboard"


def test_a_user_disabled_meanwhile_is_signed_out_on_the_next_click(db_url, session, team):
    at = _fresh(signed_in="eve")
    users.set_disabled(session=session, actor=users.Actor("ada"), name="eve")
    at.run()
    assert "your account was disabled" in at.warning[0].value
    assert at.title[0].value == "MLTRL Dashboard"


def test_viewer_sees_no_edit_controls(open_page, session, team):
    make_project(session, "R01.1", "Visible", actor=users.Actor("ada"))
    at = open_page("views/project.py", signed_in="vic", code="R01.1")
    assert at.header[0].value == "R01.1 · Visible"
    assert len(at.get("form")) == 0 and not [b for b in at.button if b.label in ("Graduate", "Save details")]
    assert any("Read-only: as a viewer" in c.value for c in at.caption)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/admin.py")  # not even registered for a viewer


def test_editor_sees_the_forms_but_not_the_admin_page(open_page, session, team):
    make_project(session, "R01.1", "Editable", actor=users.Actor("ada"))
    at = open_page("views/project.py", signed_in="eve", code="R01.1")
    assert any(b.label == "Save details" for b in at.button)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/admin.py")  # admin is not registered for an editor


def test_presentation_mode_is_read_only_with_larger_charts(open_page, session):
    make_project(session, "R01.1", "Shown")
    make_history(session, "R01.1", [("start", 3, None, "2026-01-05")])  # a history: a chart to show
    at = open_page("views/project.py", code="R01.1", present="1")
    assert at.session_state["presenting"] is True
    assert not [b for b in at.button if b.label in ("Graduate", "Save details", "Add technology")]
    assert not any("Acting as" in m.value for m in at.sidebar.markdown)  # the clean sidebar: no 'Acting as'
    spec = at.get("plotly_chart")[0].proto.spec
    assert '"height":522' in spec.replace(" ", "")
    at.query_params["present"] = "0"  # what the sidebar's "Leave presentation mode" link loads
    at.run()
    assert any(b.label == "Graduate" for b in at.button)


def test_presentation_mode_stays_for_the_session_once_the_address_drops_it(open_page, session):
    make_project(session, "R01.1", "Shown")
    at = open_page("views/project.py", code="R01.1", present="1")
    del at.query_params["present"]  # the app's own navigation drops the query
    at.run()
    assert at.session_state["presenting"] is True
    assert not [b for b in at.button if b.label == "Record start"]


def test_identity_provider_sign_in_matches_the_email(db_url, team):
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x",
                          "client_id": "id", "client_secret": "s", "server_metadata_url": "https://idp.example/.well-known"}
    at.user = {"is_logged_in": True, "email": "ADA@example.org", "name": "Ada"}
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Portfolio"
    assert "**Ada Admin** · admin" in [m.value for m in at.sidebar.markdown]


def test_identity_provider_user_without_an_account_is_told_so(db_url, team):
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x",
                          "client_id": "id", "client_secret": "s", "server_metadata_url": "https://idp.example/.well-known"}
    at.user = {"is_logged_in": True, "email": "stranger@example.org"}
    at.run()
    assert "no enabled account has that e-mail address" in at.error[0].value
    assert at.title[0].value == "No account for you yet"


def test_identity_provider_not_signed_in_shows_the_button(db_url, team):
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x",
                          "client_id": "id", "client_secret": "s", "server_metadata_url": "https://idp.example/.well-known"}
    at.user = {"is_logged_in": False}
    at.run()
    assert [b.label for b in at.button] == ["Sign in with your identity provider"]
