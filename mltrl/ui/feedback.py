"""Running a use case from a page and telling the user what happened, in plain words.

``run_use_case`` calls a service; a refusal (``MltrlError``) becomes an ``st.error`` that names the
field or the rule, and nothing was written (the service rolled back). A success is kept as a flash
message across ``st.rerun()`` so the page redraws with the new data and still says what was done.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import streamlit as st

from mltrl.errors import Conflict, InvalidInput, MltrlError, RuleViolation

T = TypeVar("T")
FLASH_KEY = "_flash"


def explain(exc: MltrlError) -> str:
    """The refusal as a sentence for a person (the rule's short name kept at the end)."""
    if isinstance(exc, RuleViolation):
        return f"Not allowed: {exc.message}"
    if isinstance(exc, InvalidInput):
        return f"Please check **{exc.field}**: {exc.message.split(': ', 1)[-1]}"
    if isinstance(exc, Conflict):
        return f"Not saved, to protect someone else's change: {exc.message}"
    return exc.message


def run_use_case(
    call: Callable[[], T], *, success: str | Callable[[T], str], reset: Sequence[str] = ()
) -> T | None:
    """Run ``call``; on success remember a flash message, clear the ``reset`` widgets and rerun;
    on refusal show why (the widgets keep what the user typed)."""
    try:
        result = call()
    except MltrlError as exc:
        st.error(explain(exc), icon=":material/block:")
        return None
    message = success(result) if callable(success) else success
    warnings = list(getattr(result, "warnings", ()) or ())
    st.session_state[FLASH_KEY] = (message, warnings)
    for key in reset:
        st.session_state.pop(key, None)
    st.rerun()
    return result  # pragma: no cover  (st.rerun does not return)


def show_flash() -> None:
    """Show (once) what the last successful action did, with its warnings."""
    flash: Any = st.session_state.pop(FLASH_KEY, None)
    if not flash:
        return
    message, warnings = flash
    st.toast(message, icon=":material/check_circle:")
    st.success(message, icon=":material/check_circle:")
    for warning in warnings:
        st.warning(warning, icon=":material/warning:")
