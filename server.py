"""MLTRL Dashboard served as one ASGI application: the Streamlit pages (``app.py``) and the HTTP
routes beside them (``mltrl.web``), in one process over the same services.

``make run`` serves it with ``streamlit run server.py`` (Streamlit finds ``app`` below); any ASGI
server can too: ``uvicorn server:app --host 0.0.0.0 --port 8501`` (one worker per process; run
several processes behind a proxy for more, see the README's "For a team").
"""

import streamlit as st

from mltrl.web import health_routes

app = st.App("app.py", routes=[*health_routes])
