"""MLTRL Dashboard: the Streamlit entry point (page config, sign-in, navigation by role)."""

import streamlit as st

from mltrl.domain.permissions import Permission
from mltrl.ui import access

st.set_page_config(
    page_title="MLTRL Dashboard", page_icon="📈", layout="wide",
    initial_sidebar_state="collapsed" if access.presenting() else "auto",
)

sections = {
    "Portfolio": [
        st.Page("views/portfolio.py", title="Portfolio", icon=":material/dashboard:", url_path="portfolio",
                default=True),
        st.Page("views/project.py", title="Project", icon=":material/timeline:", url_path="project"),
        st.Page("views/card.py", title="TRL card", icon=":material/description:", url_path="card"),
        st.Page("views/cards.py", title="Cards", icon=":material/library_books:", url_path="cards"),
    ],
    "Requirements and risks": [
        st.Page("views/risks.py", title="Requirements & risks", icon=":material/grid_on:", url_path="risks"),
        st.Page("views/risk_portfolio.py", title="Risk portfolio", icon=":material/crisis_alert:",
                url_path="risk-portfolio"),
    ],
    "Reviews and progress": [
        st.Page("views/reviews.py", title="Reviews", icon=":material/rate_review:", url_path="reviews"),
        st.Page("views/timelines.py", title="Timelines", icon=":material/stacked_line_chart:", url_path="timelines"),
        st.Page("views/analytics.py", title="Analytics", icon=":material/analytics:", url_path="analytics"),
        st.Page("views/quarterly.py", title="Quarterly review", icon=":material/flag:", url_path="quarterly"),
    ],
    "Reference": [
        st.Page("views/level_guide.py", title="Level guide", icon=":material/menu_book:", url_path="levels"),
    ],
}
pages = [page for group in sections.values() for page in group]
viewer = access.gate(pages)  # stops here with the sign-in screen when nobody is signed in

mine = []
if not viewer.single_user and not access.presenting():
    mine.append(st.Page("views/account.py", title="My account", icon=":material/person:", url_path="account"))
if access.can(Permission.ADMIN):
    mine.append(st.Page("views/admin.py", title="Admin", icon=":material/admin_panel_settings:", url_path="admin"))
if mine:
    sections["Settings"] = mine
# expanded: every page listed (Streamlit otherwise folds a long menu behind "View more").
navigation = st.navigation(sections, expanded=True)

with st.sidebar:
    if not access.presenting():
        if viewer.single_user:
            access.acting_as_sidebar()  # the name this browser gave (/acting-as), or a request for one
            st.page_link("views/admin.py", label="Set up accounts", icon=":material/group_add:")
        else:
            st.markdown(f"**{viewer.display_name}** · {viewer.role}")
            if viewer.via_identity_provider:
                st.button("Sign out", on_click=st.logout, key="sign_out", icon=":material/logout:")
            elif st.button("Sign out", key="sign_out", icon=":material/logout:"):
                access.sign_out()
                st.rerun()
    access.presentation_switch()  # a link that reloads the page in the other mode
    if not access.presenting():
        st.caption("MLTRL: Machine Learning Technology Readiness Levels, 0 (first principles) to 9 (deployment).")

access.apply_presentation_style()
navigation.run()
