"""The dashboard's HTTP door beside the pages: routes served by the same process as the Streamlit
pages (``server.py`` builds the ``st.App``). Like the pages and the CLI, these routes go through
the services' public functions; they never import streamlit (only ``server.py`` does).

* ``health`` -- ``/healthz`` (the process answers) and ``/readyz`` (the database answers and its
  schema is at the code's head), for a load balancer.
"""

from mltrl.web.health import routes as health_routes

__all__ = ["health_routes"]
