"""The Project page's MLflow part: the technology's link to a registered model, its last sync, a
button to sync now, and a pending proposal of the embedded 9 -> 7 (Accept records it, Dismiss
drops it). Editors get the link's form (a draft kept through somebody else's save, ``ui.drafts``);
every refusal reads as anywhere else (``ui.feedback``)."""

from __future__ import annotations

from typing import Any

import streamlit as st
from sqlmodel import Session

from mltrl.domain.permissions import Permission
from mltrl.services import mlflow_sync
from mltrl.ui import access, context, drafts, feedback

FIELDS = [drafts.Field("tracking_uri", "Tracking server"), drafts.Field("model_name", "Registered model"),
          drafts.Field("deployed_alias", "Deployed alias")]


def _seen(code: str, current: int) -> int:
    """The link's version the person was looking at when they pressed a button (the previous
    run's), as ``context.version_seen`` does for a technology."""
    key = f"_mlflow_seen_{code}"
    seen = st.session_state.get(key, current)
    st.session_state[key] = current
    return seen


def _day(text: str | None) -> str:
    return text[:16].replace("T", " ") + " UTC" if text else "never"


def mlflow_panel(s: Session, code: str) -> None:
    """Draw the MLflow part of ``code``'s Project page (the session is the page's)."""
    link = mlflow_sync.link_record(s, code)
    editable = access.can(Permission.EDIT)
    seen = _seen(code, link["version"] if link else 0)
    if link is None:
        st.caption(f"{code} is not linked to a model in an MLflow registry."
                   + (" Link it below to record its versions as evidence." if editable else ""))
    else:
        _status(link)
        if link["proposal"]:
            _proposal(s, code, link, seen, editable)
        feedback.flash_here(f"mlflow_proposal:{code}")  # after Accept or Dismiss the proposal is gone: said here
        if editable:
            row = st.container(horizontal=True, vertical_alignment="center")
            if row.button("Sync from MLflow", key=f"mlflow_sync:{code}", icon=":material/sync:"):
                with st.spinner(f"Reading {link['model_name']} from {link['tracking_uri']}..."):
                    feedback.run_use_case(
                        lambda: mlflow_sync.sync_model(session=s, actor=context.actor(), code=code),
                        success=lambda r: r.summary(), place=f"mlflow_sync:{code}")
            with row:
                feedback.flash_here(f"mlflow_sync:{code}")
    if editable:
        with st.expander("Change the MLflow link" if link else "Link to an MLflow model", expanded=False):
            _link_form(s, code, link)


def _status(link: dict[str, Any]) -> None:
    deployed = link["deployed_version"] or "-"
    st.markdown(f"Registered model **{link['model_name']}** at {link['tracking_uri']}  \n"
                f"Deployed version (alias `{link['deployed_alias']}`): **{deployed}**")
    secret = "set" if link["has_webhook_secret"] else "not set (syncs run by hand only)"
    st.caption(f"Last sync: {_day(link['last_synced_at'])} · webhook secret {secret}")
    if link["last_sync_error"]:
        st.warning(f"The last sync MLflow's webhook asked for was refused: {link['last_sync_error']}",
                   icon=":material/sync_problem:")


def _proposal(s: Session, code: str, link: dict[str, Any], seen: int, editable: bool) -> None:
    p = link["proposal"]
    with st.container(border=True):
        st.markdown(f"**The deployed version changed in MLflow**: the `{link['deployed_alias']}` alias moved from "
                    f"version {p['from']} to version {p['to']} (seen {_day(p.get('seen_at'))}). A change to a "
                    "deployed technology goes back through integration: record the embedded switchback to "
                    "level 7?")
        if not editable:
            return
        row = st.container(horizontal=True)
        if row.button("Accept: back to level 7", key=f"mlflow_accept:{code}", type="primary",
                      icon=":material/arrow_downward:"):
            feedback.run_use_case(
                lambda: mlflow_sync.accept_proposal(session=s, actor=context.actor(), code=code,
                                                    expected_version=seen),
                success=lambda o: f"{code} is back at level {o.event.to_level}: the new deployed version is recorded.",
                place=f"mlflow_proposal:{code}")
        if row.button("Dismiss", key=f"mlflow_dismiss:{code}", icon=":material/close:"):
            feedback.run_use_case(
                lambda: mlflow_sync.dismiss_proposal(session=s, actor=context.actor(), code=code,
                                                     expected_version=seen),
                success=f"Dismissed: {code} stays at its level.", place=f"mlflow_proposal:{code}")


def _link_form(s: Session, code: str, link: dict[str, Any] | None) -> None:
    values = {"tracking_uri": link["tracking_uri"] if link else "", "model_name": link["model_name"] if link else "",
              "deployed_alias": link["deployed_alias"] if link else "champion"}
    link_id = mlflow_sync.model_link(s, code).id if link else 0
    draft = drafts.Draft(f"mlflow:{code}", entity="modellink", entity_id=link_id, version=link["version"] if link else 0,
                         values=values, fields=FIELDS, what=f"the MLflow link of {code}")
    with st.form(f"mlflow_link_form:{code}", border=False):
        uri = st.text_input("Tracking server", key=draft.key("tracking_uri"), placeholder="http://mlflow:5000",
                            help="The MLflow tracking server's http(s) address, as the dashboard's server reaches it.")
        c1, c2 = st.columns(2)
        name = c1.text_input("Registered model", key=draft.key("model_name"))
        alias = c2.text_input("Deployed alias", key=draft.key("deployed_alias"),
                              help="The alias your team sets on the version in production.")
        secret = st.text_input("Webhook secret", type="password", key=f"mlflow_secret:{code}",
                               help="The secret given to MLflow's webhook (16-128 characters). Leave empty to keep "
                                    "the current one.")
        remove = bool(link and link["has_webhook_secret"]) and st.checkbox(
            "Remove the webhook secret", key=f"mlflow_secret_remove:{code}")

        def save(version: int):
            extra: dict[str, Any] = {}
            if remove:
                extra["webhook_secret"] = ""
            elif secret:
                extra["webhook_secret"] = secret
            return mlflow_sync.link_model(session=s, actor=context.actor(), code=code, tracking_uri=uri,
                                          model_name=name, deployed_alias=alias, expected_version=version, **extra)

        draft.submit("Save the link", save, success=f"Saved the MLflow link of {code}.")
