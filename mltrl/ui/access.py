"""Who is looking at the app, what they may do, and presentation mode.

* **Single-user mode** (no accounts in the database): no sign-in; the name this browser gave acts
  and has every right. The name is asked for by the ``/acting-as`` route (``mltrl.web.acting_as``)
  and kept in a cookie, so a refresh or a new tab keeps it; until it is given, the sidebar asks for
  it and every write is refused (``context.actor``). The Admin page offers to create the first admin.
* **Local accounts**: the ``/sign-in`` route (``mltrl.web.signin``) checks the password and sets a
  session cookie; every run reads it (``st.context.cookies``) and asks ``services.sessions`` who it
  is, so a refresh, a new tab and the app's own links keep the person signed in until they sign
  out, the session ends or is revoked. A page load without a live session is sent to ``/sign-in``
  by the server; a tab whose session ended meanwhile shows a link to sign in again.
* **Identity provider** (``[auth]`` in ``.streamlit/secrets.toml``): ``st.login`` signs in, and
  the account whose e-mail matches ``st.user.email`` decides the role. Streamlit keeps the identity
  in a signed cookie, so a refresh keeps the user signed in (until ``st.logout`` or expiry).

The account is re-read from the database on every run, so a role change or a disabled account
takes effect on the user's next click. Pages hide what the role may not do (``can``); the services
refuse it anyway.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import quote, urlencode, urlsplit

import streamlit as st

from mltrl.domain import credentials, presentation
from mltrl.domain.errors import MltrlError
from mltrl.domain.permissions import Permission, Role, allows
from mltrl.services import sessions, users
from mltrl.ui import context

T = TypeVar("T")
SIGNED_IN_KEY = "signed_in"
VIEWER_KEY = "_viewer"
# The session secret when no cookie carries it: AppTest cannot send cookies, so page tests sign in
# through services.sessions and put the secret here (a browser cannot set session state).
SECRET_KEY = "_session_secret"
SIGNED_OUT_KEY = "_signed_out"
PRESENT_KEY = "presenting"


@dataclass(frozen=True)
class Viewer:
    """The person using this browser session."""

    name: str
    display_name: str
    role: Role | None  # None in single-user mode, where every right is held
    via_identity_provider: bool = False

    @property
    def single_user(self) -> bool:
        return self.role is None


def identity_provider_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all
        return False


def presenting() -> bool:
    """Presentation mode: read-only, larger type and charts, a clean sidebar.

    Switched by a URL (``?present=1`` / ``?present=0``), which the server also remembers in a
    cookie for this browser (``mltrl.web.presentation``): the URL of this session first, then the
    cookie, so a link opened in a new tab presents too. Switching is always a page load, never an
    in-page toggle: the grids size their type once per page load, so only a load gives the same
    look whichever way the mode was entered."""
    said = presentation.wanted(st.query_params.get(presentation.PARAM))
    if said is not None:
        st.session_state[PRESENT_KEY] = said
    elif PRESENT_KEY not in st.session_state:
        st.session_state[PRESENT_KEY] = bool(presentation.wanted(st.context.cookies.get(presentation.PRESENT_COOKIE)))
    return bool(st.session_state[PRESENT_KEY])


def unless_presenting(default: T, draw: Callable[[], T]) -> T:
    """``draw()`` (an input widget) normally; ``default`` in presentation mode, where a projector
    offers nothing to type or press but navigation and the choice of what to look at."""
    return default if presenting() else draw()


def presentation_switch() -> None:
    """The sidebar's way in or out of presentation mode: a link that reloads this page (with its
    technology) in the other mode. A link, not a widget, so presentation mode has nothing to press
    but navigation."""
    on = presenting()
    params = {k: v for k, v in st.query_params.to_dict().items() if k != presentation.PARAM}
    params[presentation.PARAM] = "0" if on else "1"
    label = "Leave presentation mode" if on else "Presentation mode"
    hint = ("Back to the working view." if on else
            "Read-only, larger type and charts, a clean sidebar: for stakeholder demos. Share a page with "
            "?present=1 added to its address.")
    st.html(f'<a class="mltrl-present" href="?{html.escape(urlencode(params))}" title="{html.escape(hint)}" '
            f'style="{PRESENT_LINK_STYLE}">{"✕" if on else "▶"}&nbsp; {label}</a>')


def viewer() -> Viewer | None:
    return st.session_state.get(VIEWER_KEY)


def can(permission: Permission) -> bool:
    """Whether the page should offer an action needing ``permission`` (never while presenting)."""
    if presenting():
        return False
    current = viewer()
    if current is None:
        return False
    if current.single_user:
        return True
    return allows(current.role, permission)


def _remember(v: Viewer) -> Viewer:
    st.session_state[VIEWER_KEY] = v
    if not v.single_user:
        st.session_state[SIGNED_IN_KEY] = v.name
    return v


def session_secret() -> str | None:
    """This browser's session secret: the cookie the /sign-in route set (or, in AppTest, ``SECRET_KEY``)."""
    try:
        secret = st.context.cookies.get(credentials.SESSION_COOKIE)
    except Exception:  # no request context (a bare script run)
        secret = None
    if not isinstance(secret, str):  # AppTest answers with a stand-in object, not a cookie
        secret = None
    return secret or st.session_state.get(SECRET_KEY)


def sign_out() -> None:
    """End this browser's session server-side (the cookie, replayed, signs nobody in)."""
    with context.session() as s:
        sessions.sign_out(s, session_secret())
    for key in (SIGNED_IN_KEY, VIEWER_KEY, SECRET_KEY):
        st.session_state.pop(key, None)
    st.session_state[SIGNED_OUT_KEY] = True


def _stop(pages: list) -> None:
    """End the run on the sign-in screen, keeping the requested page (and its query) in the URL
    so the user lands there once signed in."""
    if pages:
        st.navigation(pages, position="hidden")
    st.stop()


def gate(pages: list | None = None) -> Viewer:
    """The current viewer; draws the sign-in screen and stops the run when nobody is signed in.
    ``pages`` are the app's common pages, registered hidden meanwhile (see ``_stop``)."""
    pages = pages or []
    with context.session() as s:
        if not users.has_accounts(s):
            st.session_state.pop(SIGNED_IN_KEY, None)
            name = context.acting_name() or ""
            return _remember(Viewer(name, name, None))

        if identity_provider_configured():
            if not st.user.is_logged_in:
                _sign_in_screen_oidc()
                _stop(pages)
            account = users.account_for_email(s, st.user.get("email"))
            if account is None:
                st.title("No account for you yet")
                st.error(
                    f"You are signed in as {st.user.get('email')!s}, but no enabled account has that "
                    "e-mail address. Ask an admin to add you.",
                    icon=":material/person_off:",
                )
                st.button("Sign out", on_click=st.logout, key="oidc_sign_out")
                _stop(pages)
            return _remember(Viewer(account.name, account.display_name, account.role, True))

        secret = session_secret()
        signed = sessions.current(s, secret) if secret else None
        if signed is not None:
            st.session_state.pop(SIGNED_OUT_KEY, None)
            account = signed.account
            return _remember(Viewer(account.name, account.display_name, account.role))
        was = st.session_state.pop(SIGNED_IN_KEY, None)
        st.session_state.pop(VIEWER_KEY, None)
        if st.session_state.get(SIGNED_OUT_KEY):
            st.success("You have signed out.", icon=":material/logout:")
        elif was or secret:  # signed in, but the session ended or the account was disabled since
            st.warning("Your sign-in has ended (signed out elsewhere, idle too long, your password or role "
                       "changed, or your account was disabled); sign in again.", icon=":material/logout:")
        _sign_in_screen_local()
        _stop(pages)


def _sign_in_screen_oidc() -> None:
    st.title("MLTRL Dashboard")
    st.write("Sign in to see the portfolio.")
    st.button("Sign in with your identity provider", on_click=st.login, key="oidc_sign_in",
              icon=":material/login:", type="primary")


def _sign_in_screen_local() -> None:
    from mltrl.ui.feedback import show_flash

    st.title("MLTRL Dashboard")
    show_flash()
    here = current_path()
    st.markdown(f'<a href="/sign-in?next={quote(here, safe="")}" target="_self" '
                'style="font-size:1.15rem">Sign in</a> to see the portfolio.', unsafe_allow_html=True)
    st.caption("You stay signed in on this browser, across tabs and refreshes, until you sign out.")


def current_path() -> str:
    """The path and query of this page, to come back to after signing in or giving a name
    (``st.context.url`` carries the page's path but not its query: that comes from ``st.query_params``)."""
    try:
        url = urlsplit(st.context.url or "")
        query = url.query or urlencode(st.query_params.to_dict())
    except Exception:
        return "/"
    return (url.path or "/") + (f"?{query}" if query else "")


ACTING_AS_HELP = ("Single-user mode (no accounts yet): every change you make is recorded under this name in the "
                  "level history and the audit trail. This browser remembers it, across tabs and refreshes.")


def acting_as_link() -> str:
    """The ``/acting-as`` form, coming back to this page."""
    return f"/acting-as?next={quote(current_path(), safe='')}"


def literal(text: str) -> str:
    """``text`` shown as typed inside st.markdown: every character but letters, digits and spaces
    as an HTML character reference, so no markdown, math or HTML in a name takes effect."""
    return "".join(ch if ch.isalnum() or ch == " " else f"&#{ord(ch)};" for ch in text)


def ask_for_name(reason: str) -> None:
    """Single-user mode, no name given yet: say why one is needed here, with the link to give it."""
    st.markdown(f':orange[:material/person_alert:] **Give your name first:** {reason} '
                f'<a href="{acting_as_link()}" target="_self">Give your name</a>', unsafe_allow_html=True)


def acting_as_sidebar() -> None:
    """Single-user mode's *Acting as* line (a link to change it), or the request for a name."""
    name = context.acting_name()
    link = acting_as_link()
    if name:
        st.markdown(f'Acting as **{literal(name)}** · <a href="{link}" target="_self">change</a>',
                    unsafe_allow_html=True, help=ACTING_AS_HELP)
    else:
        st.markdown(f':orange[:material/person_alert:] **<a href="{link}" target="_self">Give your name</a> '
                    'before you change anything.**', unsafe_allow_html=True, help=ACTING_AS_HELP)


def create_first_admin_form() -> None:
    """Offered on a database with no accounts; the new admin is signed in at once."""
    with st.form("first_admin", border=True):
        st.markdown(
            "**Create the first admin.** Until then the dashboard runs in single-user mode and "
            "anyone who can reach it may change anything. Once this account exists, everyone signs "
            "in and roles apply everywhere (pages, CLI and services)."
        )
        c1, c2 = st.columns(2)
        name = c1.text_input("User name", key="first_admin_name")
        display = c2.text_input("Full name", key="first_admin_display")
        email = st.text_input("E-mail (optional; for identity-provider sign-in)", key="first_admin_email")
        p1, p2 = st.columns(2)
        password = p1.text_input("Password (8 characters or more)", type="password", key="first_admin_password")
        again = p2.text_input("Password again", type="password", key="first_admin_again")
        if st.form_submit_button("Create the first admin", type="primary", icon=":material/shield_person:"):
            if password != again:
                st.error("Please check **password**: the two entries differ.", icon=":material/block:")
                return
            try:
                with context.session() as s:
                    account = users.create_first_admin(
                        session=s, actor=context.actor(), name=name, password=password,
                        display_name=display, email=email or None)
            except MltrlError as exc:
                from mltrl.ui.feedback import explain

                st.error(explain(exc), icon=":material/block:")
                return
            st.session_state["_flash"] = (f"Welcome, {account.display_name}: you are the first admin. "
                                          "Sign in with your new account.", [])
            st.rerun()


PRESENT_LINK_STYLE = ("display:inline-block; padding:0.3rem 0.75rem; border:1px solid rgba(49,51,63,0.25); "
                      "border-radius:0.5rem; text-decoration:none; color:inherit; font-size:0.9rem;")

PRESENTATION_CSS = """
<style>
  html { font-size: 19px; }
  [data-testid="stMainBlockContainer"] { max-width: 1500px; padding-top: 2rem; }
  [data-testid="stSidebarUserContent"] [data-testid="stCaptionContainer"] { display: none; }
</style>
"""


def apply_presentation_style() -> None:
    if presenting():
        st.html(PRESENTATION_CSS)


def chart_height(base: int) -> int:
    """Charts grow in presentation mode, for a projector."""
    return int(base * 1.45) if presenting() else base
