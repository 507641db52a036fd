"""Deleting from a page: ask first, naming what goes, then offer an Undo to the person who deleted.

* ``confirm`` draws the question ("Delete objective “X” with 2 key results and 3 check-ins?")
  with a button that deletes and one that does not; the page decides when to ask.
* ``run_delete`` runs a delete use case (a refusal is shown like any other, ``ui.feedback``) and
  remembers its ``Deletion`` for this browser session and page; ``remember`` does the same for a
  use case that deletes among other things (a grid's save).
* ``offer`` shows "Deleted objective “X” with 2 key results and 3 check-ins. [Undo] [Dismiss]"
  on the page that deleted, until it is undone, dismissed or replaced by the next delete; Undo
  runs ``services.undo.restore_deleted`` on the delete's audit entries (an admin restores any
  delete from Admin › Audit trail).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from mltrl.domain.errors import MltrlError
from mltrl.services import undo
from mltrl.ui import access, context, feedback

OFFER_KEY = "_undo_offer"
CONFIRM_KEY = "_delete_confirm"


def remember(page: str, deletion: undo.Deletion | None) -> None:
    """Offer to undo ``deletion`` on ``page`` (None: nothing was deleted, nothing to offer)."""
    if deletion is not None and deletion.entries:
        st.session_state[OFFER_KEY] = {"page": page, "entries": list(deletion.entries), "what": deletion.what}


def ask(page: str, item: object) -> None:
    """Start asking whether to delete ``item`` (an id the page chose) on ``page``."""
    st.session_state[CONFIRM_KEY] = (page, item)


def asking(page: str, item: object) -> bool:
    return st.session_state.get(CONFIRM_KEY) == (page, item)


def stop_asking() -> None:
    st.session_state.pop(CONFIRM_KEY, None)


def confirm(page: str, item: object, question: str, *, button: str, detail: str = "",
            key: str) -> bool:
    """The question, bordered, with ``button`` (delete) and Cancel; True when ``button`` is pressed
    and the question is the one the previous run showed (what goes is what the person read: if
    someone changed it in between, they are asked again). ``question`` and ``detail`` are
    markdown (escape names with ``access.literal``)."""
    shown_key = f"{CONFIRM_KEY}_shown"
    shown = st.session_state.get(shown_key)
    st.session_state[shown_key] = question
    with st.container(border=True, key=f"{key}_box"):
        st.markdown(f":red[:material/warning:] **{question}**" + (f"\n\n{detail}" if detail else ""))
        yes, no, _ = st.columns([3, 1.3, 3], vertical_alignment="center")
        pressed = yes.button(button, key=f"{key}_yes", type="primary", icon=":material/delete_forever:",
                             width="stretch")
        if no.button("Cancel", key=f"{key}_no", width="stretch"):
            stop_asking()
            st.rerun()
        if pressed and shown != question:
            st.warning("What would be deleted changed since you were asked: read it again, then confirm.",
                       icon=":material/sync_problem:")
            return False
    return pressed


def run_delete(page: str, call: Callable[[], undo.Deletion], *, reset: Mapping[str, Any] | None = None) -> None:
    """Run a delete use case; on success offer its Undo, reset the widgets in ``reset`` and rerun;
    on refusal show why (nothing was deleted)."""
    try:
        deletion = call()
    except MltrlError as exc:
        st.error(feedback.explain(exc), icon=":material/block:")
        return
    stop_asking()
    remember(page, deletion)
    st.session_state[feedback.RESET_KEY] = dict(reset or {})
    st.toast(f"Deleted {deletion.what}.", icon=":material/delete:")
    st.rerun()


def offer(page: str) -> None:
    """The Undo of this browser's last delete on ``page``, if any (call it near the page's top)."""
    remembered = st.session_state.get(OFFER_KEY)
    if not remembered or remembered["page"] != page:
        return
    with st.container(border=True, key="undo_offer"):
        text, undo_col, dismiss_col = st.columns([6, 1.2, 1.2], vertical_alignment="center")
        text.markdown(f":material/delete: Deleted {access.literal(remembered['what'])}.")
        if dismiss_col.button("Dismiss", key="undo_dismiss", width="stretch"):
            st.session_state.pop(OFFER_KEY, None)
            st.rerun()
        if undo_col.button("Undo", key="undo_button", icon=":material/undo:", type="primary", width="stretch"):
            def restore() -> undo.Restored:
                with context.session() as s:
                    return undo.restore_deleted(session=s, actor=context.actor(), entry_ids=remembered["entries"])

            def restored(result: undo.Restored) -> str:
                st.session_state.pop(OFFER_KEY, None)
                return f"Restored {result.text}."

            feedback.run_use_case(restore, success=restored)
