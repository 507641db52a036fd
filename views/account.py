"""My account: who I am, my role, changing my password, and my API tokens.

A token's secret is shown once: ``create_token`` hands it back, the page keeps it in session state
across the rerun that follows the form and pops it as it draws it, so the next click or a refresh
never shows it again (only its SHA-256 is kept in the database).
"""

from datetime import datetime

import pandas as pd
import streamlit as st

from mltrl.domain import days
from mltrl.domain.permissions import ROLE_HELP, ROLE_ORDER, at_most
from mltrl.services import tokens, users
from mltrl.ui import access, context, feedback, tables

NEW_TOKEN_KEY = "_new_token"  # (name, secret) of the token just created, until it is drawn once

st.title("My account")
feedback.show_flash()

me = access.viewer()
if me.single_user:  # the page is not in the menu then, but a stale tab may still show it
    st.markdown("Single-user mode: there are no accounts yet" + (f"; changes are recorded as **{me.name}**."
                                                                   if me.name else "."))
else:
    st.markdown(f"**{me.display_name}** (`{me.name}`) · role **{me.role}**: {ROLE_HELP[me.role]}.")

if me.single_user:
    st.subheader("API tokens", anchor=False)
    st.info("API tokens need accounts: a token acts as an account, within its role, and single-user mode has "
            "none. Once accounts are set up (Admin page), sign in and create your tokens here.",
            icon=":material/info:")
    st.stop()

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


# --- API tokens -----------------------------------------------------------------------------------

def _day(when: datetime | None) -> str:
    return f"{when.day} {when:%b %Y}" if when else "never"


def _moment(when: datetime | None) -> str:
    return f"{_day(when)}, {when:%H:%M} UTC" if when else "never"


def _status(token: tokens.TokenInfo) -> str:
    if token.revoked_at is not None:
        return "revoked"
    return "active" if token.live else "expired"


def _label(token: tokens.TokenInfo) -> str:
    return f"{token.name} ({token.shown}, {token.role}, created {_day(token.created_at)})"


st.subheader("API tokens", anchor=False)

st.markdown(
    "A token lets a script, a CI job or a notebook act as you without your password: it calls the HTTP API "
    "at `/api/v1` with the header `Authorization: Bearer <token>`, or runs the `mltrl` command with "
    "`MLTRL_SERVER` set to this dashboard's address and `MLTRL_TOKEN` to the token. A token never does "
    f"more than your role (**{me.role}**), or the lower role you give it here, and it stops working when "
    "it expires, when you revoke it, or when your account is disabled. Everything it changes is recorded "
    "under your name, marked with the token's name."
)

fresh = st.session_state.pop(NEW_TOKEN_KEY, None)  # shown on this run only
if fresh:
    fresh_name, fresh_secret = fresh
    with st.container(border=True):
        st.markdown(f"**Your new token “{fresh_name}”**")
        st.code(fresh_secret, language=None)
        st.warning("Copy it now and keep it like a password: it will not be shown again, here or anywhere. "
                   "If you lose it, revoke it and create another.", icon=":material/warning:")

mine_roles = [r.value for r in ROLE_ORDER if at_most(r, me.role)]
with st.form("create_token", border=True):
    st.markdown("**Create a token**")
    c1, c2, c3 = st.columns([3, 2, 2])
    token_name = c1.text_input("Name", key="token_name", placeholder="ci, notebook, nightly-report…",
                               help="What will use it; unique among your active tokens.")
    token_role = c2.selectbox("Role", mine_roles, index=len(mine_roles) - 1, key="token_role",
                              help="What the token may do: at most your own role.")
    token_expires = c3.date_input("Expires (optional)", value=None, key="token_expires", format="YYYY-MM-DD",
                                  min_value=days.today(), max_value=days.LATEST.date(),
                                  help="The token works until the end of this day (UTC). Leave empty for a "
                                       "token that works until you revoke it.")
    if st.form_submit_button("Create token", icon=":material/key:", type="primary"):
        def _create() -> tokens.TokenInfo:
            with context.session() as s:
                secret, info = tokens.create_token(session=s, actor=context.actor(), name=token_name,
                                                   role=token_role, expires=token_expires)
            st.session_state[NEW_TOKEN_KEY] = (info.name, secret)
            return info

        feedback.run_use_case(
            _create,
            success=lambda info: f"Created the token “{info.name}” ({info.role}, "
                                 + (f"until {_day(info.expires_at)}" if info.expires_at else "until revoked") + ").",
            reset={"token_name": "", "token_expires": None},
        )

with context.session() as s:
    mine = tokens.list_tokens(s, me.name, include_ended=True)

st.markdown("**Your tokens**")
if not mine:
    st.caption("You have no API tokens yet.")
else:
    tables.show(
        pd.DataFrame({
            "Name": [t.name for t in mine],
            "Starts with": [t.shown for t in mine],
            "Role": [t.role.value for t in mine],
            "Created": [_day(t.created_at) for t in mine],
            "Expires": [_day(t.expires_at) for t in mine],
            "Last used": [_moment(t.last_used_at) for t in mine],
            "Status": [_status(t) for t in mine],
        }),
        key="tokens_table",
        column_config={
            "Starts with": st.column_config.TextColumn(help="The token's first characters, to tell it apart; "
                                                            "the rest is never shown again."),
            "Expires": st.column_config.TextColumn(help="It works until the end of this day (UTC)."),
        },
    )
    active = {t.id: t for t in mine if t.live}
    if active:
        with st.form("revoke_token", border=True):
            st.markdown("**Revoke a token**: it stops working at once, for whatever uses it.")
            r1, r2 = st.columns([4, 1], vertical_alignment="bottom")
            chosen = r1.selectbox("Token", list(active), index=None, format_func=lambda i: _label(active[i]),
                                  placeholder="Choose the token to revoke", key="revoke_token_id")
            if r2.form_submit_button("Revoke token", icon=":material/block:"):
                if chosen is None:
                    st.error("Please check **token**: choose the token to revoke.", icon=":material/block:")
                else:
                    def _revoke() -> tokens.TokenInfo:
                        with context.session() as s:
                            return tokens.revoke_token(session=s, actor=context.actor(), token_id=chosen)

                    feedback.run_use_case(
                        _revoke,
                        success=lambda info: f"Revoked the token “{info.name}” ({info.shown}): "
                                             "it no longer works.",
                        reset={"revoke_token_id": None})
