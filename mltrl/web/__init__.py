"""The dashboard's HTTP door beside the pages: routes served by the same process as the Streamlit
pages (``server.py`` builds the ``st.App``). Like the pages and the CLI, these routes go through
the services' public functions; they never import streamlit (only ``server.py`` does).

* ``health`` -- ``/healthz`` (the process answers) and ``/readyz`` (the database answers and its
  schema is at the code's head), for a load balancer.
* ``signin`` -- ``/sign-in`` and ``/sign-out``: the session cookie of local accounts, and the
  middleware sending a page load without a live session to the sign-in form.
* ``acting_as`` -- ``/acting-as``: in single-user mode (no accounts), the name this browser acts
  under, kept in a cookie so a refresh or a new tab keeps it.
* ``presentation`` -- a page load with ``?present=1`` or ``0`` sets or clears the cookie that keeps
  presentation mode for this browser.
* ``forms`` -- what these HTML forms share: templates, the anti-forgery check, safe ``next`` paths.
"""

from mltrl.web.acting_as import ACTING_AS_COOKIE
from mltrl.web.acting_as import routes as acting_as_routes
from mltrl.web.health import routes as health_routes
from mltrl.web.presentation import PresentationCookie
from mltrl.web.signin import SESSION_COOKIE, SignInRequired
from mltrl.web.signin import routes as sign_in_routes

__all__ = ["ACTING_AS_COOKIE", "SESSION_COOKIE", "PresentationCookie", "SignInRequired", "acting_as_routes", "health_routes",
           "sign_in_routes"]
