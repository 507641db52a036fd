"""My account: who I am, my role, and changing my password."""

import streamlit as st

from mltrl.domain.permissions import ROLE_HELP
from mltrl.services import users
from mltrl.ui import access, context, feedback

st.title("My account")
feedback.show_flash()

me = access.viewer()
st.markdown(f"**{me.display_name}** (`{me.name}`) · role **{me.role}**: {ROLE_HELP[me.role]}.")

if me.via_identity_provider:
    st.info("You sign in through your organisation's identity provider; your password is managed there.",
            icon=":material/info:")
else:
    with st.form("change_password", border=True):
        st.subheader("Change password", anchor=False)
        current = st.text_input("Current password", type="password", key="pw_current")
        new = st.text_input("New password (8 characters or more)", type="password", key="pw_new")
        again = st.text_input("New password again", type="password", key="pw_again")
        if st.form_submit_button("Change password", icon=":material/key:"):
            if new != again:
                st.error("Please check **new_password**: the two entries differ.", icon=":material/block:")
            else:
                with context.session() as s:
                    feedback.run_use_case(
                        lambda: users.change_password(session=s, actor=context.actor(),
                                                      current_password=current, new_password=new,
                                                      keep_session=access.session_secret()),
                        success="Your password was changed; your other sign-ins have ended.",
                        reset={"pw_current": "", "pw_new": "", "pw_again": ""},
                    )
