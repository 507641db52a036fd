"""The current technology: the one a person is looking at, followed from page to page.

Every page that shows one technology (Project, TRL card, Requirements & risks, the Reviews page's
checklist and *Open a review* tabs, the Timelines page's technology tab) gets it from
``technology_picker``, which looks, in order, at:

1. ``?code=`` in the URL: a link, a refresh or a new tab opens on it. A code no technology has is
   said so, and the page falls back to 2 or 3 (never a traceback);
2. the session's current code (``CURRENT_KEY``): the sidebar's links carry no query string
   (``st.Page`` takes none, and Streamlit drops the query string on a page switch), so a page
   opened from the sidebar finds the technology here;
3. the technology with the most to show (``services.portfolio.most_telling``), when nothing was
   chosen yet in this session.

Whichever it is becomes the session's current code and goes into the URL (``?code=``), so a refresh
or a copied link keeps it; picking another in the selectbox sets both (in its ``on_change``
callback, which runs before the rerun reads the URL). Each page keeps its own widget key (tests and
the benchmark address them), set from the current code before the widget is drawn.

Streamlit 1.67's ``bind="query-params"`` was not used: it drops the parameter when the value
equals the widget's default, ignores an unknown value silently, forbids ``st.query_params`` to set
it (links and callbacks here do), and binds the parameter to one page.
"""

from __future__ import annotations

import streamlit as st

from mltrl.domain.errors import InvalidInput
from mltrl.services import portfolio, projects
from mltrl.ui import context

CURRENT_KEY = "current_code"  # no widget has this key, so it survives page switches
QUERY = "code"


def _default(codes: list[str]) -> str:
    telling = context.cached_read(portfolio.most_telling)
    return telling if telling in codes else codes[0]


def _unknown_message(asked: str, shown: str) -> str:
    try:
        code = projects.clean_code(asked)
    except InvalidInput:  # not even shaped like a code: not echoed back
        return f"The link's code is not a technology code: showing **{shown}** instead."
    return f"No technology has the code `{code}`: showing **{shown}** instead."


def current_code(codes: list[str]) -> str:
    """The current technology among ``codes`` (not empty): the URL's ``?code=``, else the
    session's, else the most telling; remembered in the session and put in the URL. An unknown
    code in the URL is said so (an ``st.warning``) and replaced there."""
    asked = st.query_params.get(QUERY)
    if asked in codes:
        code = asked
    else:
        remembered = st.session_state.get(CURRENT_KEY)
        code = remembered if remembered in codes else _default(codes)
        if asked:
            st.warning(_unknown_message(asked, code), icon=":material/search_off:")
    choose(code)
    return code


def choose(code: str) -> None:
    """Make ``code`` the current technology: in the session and in the URL. Safe in a callback."""
    st.session_state[CURRENT_KEY] = code
    if st.query_params.get(QUERY) != code:
        st.query_params[QUERY] = code


def _picked(key: str) -> None:
    choose(st.session_state[key])


def technology_picker(codes: list[str], names: dict[str, str], *, key: str) -> str:
    """The page's technology: a selectbox on the current technology (see the module's doc) whose
    choice becomes the current technology everywhere. Returns its code."""
    code = current_code(codes)
    if st.session_state.get(key) != code:  # before the widget exists in this run: allowed
        st.session_state[key] = code
    st.selectbox("Technology", codes, key=key, format_func=lambda c: f"{c} · {names.get(c, '')}",
                 on_change=_picked, args=(key,))
    return code
