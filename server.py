"""MLTRL Dashboard served as one ASGI application: the Streamlit pages (``app.py``) and the HTTP
routes beside them (``mltrl.web``), in one process over the same services.

``make run`` serves it with ``streamlit run server.py`` (Streamlit finds ``app`` below); any ASGI
server can too: ``uvicorn server:app --host 0.0.0.0 --port 8501`` (one worker per process; run
several processes behind a proxy for more, see the README's "For a team").

With local accounts people sign in through ``/sign-in`` (a session cookie); when an identity
provider is configured (``[auth]`` in ``.streamlit/secrets.toml``) ``st.login`` signs them in and
the sign-in middleware stays out of the way. A page load with ``?present=1`` (or ``0``) sets (or
clears) the presentation-mode cookie (``mltrl.web.presentation``).

``/api/v1`` is the HTTP API (``mltrl.api``, a FastAPI application mounted here): JSON for scripts
and CI jobs, each request signed with an API token; its docs are at ``/api/v1/docs``.
"""

import streamlit as st
from starlette.middleware import Middleware
from starlette.routing import Mount

from mltrl import db
from mltrl.api import api
from mltrl.domain import days
from mltrl.web import PresentationCookie, SignInRequired, acting_as_routes, health_routes, sign_in_routes


def _identity_provider() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


days.freeze_today(db.settings().today)  # MLTRL_TODAY: a demo shown as on that day (else the clock)

app = st.App(
    "app.py",
    routes=[*health_routes, *sign_in_routes, *acting_as_routes, Mount("/api/v1", app=api)],
    middleware=[*([] if _identity_provider() else [Middleware(SignInRequired)]), Middleware(PresentationCookie)],
)
