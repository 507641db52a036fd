"""Running a use case from a page and telling the user what happened, in plain words.

``run_use_case`` calls a service; a refusal (``MltrlError``) becomes an ``st.error`` that names the
field or the rule, and nothing was written (the service rolled back). A success is kept as a flash
message across ``st.rerun()`` so the page redraws with the new data and still says what was done.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import streamlit as st

from mltrl.domain.errors import (
    Conflict,
    InvalidInput,
    MltrlError,
    PermissionDenied,
    RuleViolation,
)

T = TypeVar("T")
FLASH_KEY = "_flash"
RESET_KEY = "_reset_widgets"


def explain(exc: MltrlError) -> str:
    """The refusal as a sentence for a person (the rule's short name kept at the end)."""
    if isinstance(exc, RuleViolation):
        return f"Not allowed: {exc.message}"
    if isinstance(exc, InvalidInput):
        return f"Please check **{exc.field}**: {exc.message.split(': ', 1)[-1]}"
    if isinstance(exc, PermissionDenied):
        return f"Not permitted: {exc.message}"
    if isinstance(exc, Conflict):
        return f"Not saved, to protect someone else's change: {exc.message}"
    return exc.message


def run_use_case(
    call: Callable[[], T],
    *,
    success: str | Callable[[T], str],
    reset: Mapping[str, Any] | None = None,
    on_refusal: Callable[[MltrlError], None] | None = None,
) -> T | None:
    """Run ``call``; on success remember a flash message, reset the widgets named in ``reset``
    (key -> value) and rerun; on refusal show why (the widgets keep what the user typed) and hand
    the refusal to ``on_refusal`` when the page wants to do more (a conflict view, say)."""
    try:
        result = call()
    except MltrlError as exc:
        st.error(explain(exc), icon=":material/block:")
        if on_refusal is not None:
            on_refusal(exc)
        return None
    message = success(result) if callable(success) else success
    warnings = list(getattr(result, "warnings", ()) or ())
    st.session_state[FLASH_KEY] = (message, warnings)
    # A widget's value cannot be changed once it is drawn in this run, and merely deleting its
    # state leaves the browser showing the old text: set it at the top of the next run instead.
    st.session_state[RESET_KEY] = dict(reset or {})
    st.rerun()
    return result  # pragma: no cover  (st.rerun does not return)


def show_flash() -> None:
    """Show (once) what the last successful action did, with its warnings; call it at the top of
    a page, before any widget, so the widgets the action asked to reset start afresh."""
    for key, value in st.session_state.pop(RESET_KEY, {}).items():
        st.session_state[key] = value
    flash: Any = st.session_state.pop(FLASH_KEY, None)
    if not flash:
        return
    message, warnings = flash
    st.toast(message, icon=":material/check_circle:")
    st.success(message, icon=":material/check_circle:")
    for warning in warnings:
        st.warning(warning, icon=":material/warning:")
