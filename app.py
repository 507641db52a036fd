"""MLTRL Dashboard: the Streamlit entry point (page config, the acting user, navigation)."""

import streamlit as st

from mltrl.ui import context

st.set_page_config(page_title="MLTRL Dashboard", page_icon="📈", layout="wide")

PAGES = [
    st.Page("views/portfolio.py", title="Portfolio", icon=":material/dashboard:", url_path="portfolio", default=True),
    st.Page("views/project.py", title="Project", icon=":material/timeline:", url_path="project"),
    st.Page("views/level_guide.py", title="Level guide", icon=":material/menu_book:", url_path="levels"),
]

navigation = st.navigation(PAGES)

with st.sidebar:
    context.actor()  # make sure a name is set before the widget reads it
    st.text_input(
        "Acting as", key=context.ACTOR_KEY,
        help="Single-user mode: every change is recorded under this name in the level history "
             "and the audit trail.",
    )
    st.caption("MLTRL: Machine Learning Technology Readiness Levels, 0 (first principles) to 9 (deployment).")

navigation.run()
