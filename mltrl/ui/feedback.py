"""Running a use case from a page and telling the user what happened, in plain words.

``run_use_case`` calls a service; a refusal (``MltrlError``) becomes an ``st.error`` that names the
field or the rule, and nothing was written (the service rolled back). A success is kept as a flash
message across ``st.rerun()`` so the page redraws with the new data and still says what was done:
a toast, and the message itself at the top of the page (``show_flash``) or, when the action named a
``place``, where the person is looking: beside the button that did it (``flash_here(place)``, drawn
by the page next to that button; a long card saved at its bottom says so there, not out of sight).
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
PLACE_KEY = "_flash_place"  # where the next flash goes (beside its button), set with it
PLACED_KEY = "_flash_placed"  # this run's placed flash, waiting for its flash_here


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
    place: str | None = None,
) -> T | None:
    """Run ``call``; on success remember a flash message, reset the widgets named in ``reset``
    (key -> value) and rerun; on refusal show why (the widgets keep what the user typed) and hand
    the refusal to ``on_refusal`` when the page wants to do more (a conflict view, say).

    ``place`` names where the success is said after the rerun: the page calls
    ``flash_here(place)`` beside the button that ran the use case (a toast is shown too). Without
    it, the message goes at the top of the page."""
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
    st.session_state[PLACE_KEY] = place
    # A widget's value cannot be changed once it is drawn in this run, and merely deleting its
    # state leaves the browser showing the old text: set it at the top of the next run instead.
    st.session_state[RESET_KEY] = dict(reset or {})
    st.rerun()
    return result  # pragma: no cover  (st.rerun does not return)


def show_flash() -> None:
    """Show (once) what the last successful action did, with its warnings; call it at the top of
    a page, before any widget, so the widgets the action asked to reset start afresh. A flash with
    a place is only toasted here and kept for this run's ``flash_here(place)``."""
    for key, value in st.session_state.pop(RESET_KEY, {}).items():
        st.session_state[key] = value
    st.session_state.pop(PLACED_KEY, None)  # a placed flash lasts one run, drawn or not
    flash: Any = st.session_state.pop(FLASH_KEY, None)
    place = st.session_state.pop(PLACE_KEY, None)
    if not flash:
        return
    message, warnings = flash
    st.toast(message, icon=":material/check_circle:")
    if place:
        st.session_state[PLACED_KEY] = (place, message, warnings)
        return
    _say(message, warnings)


def flash_here(place: str) -> bool:
    """Say here what the action run with ``place`` did (its message and warnings), if it just ran;
    the page calls it beside that action's button. Whether anything was said."""
    placed: Any = st.session_state.get(PLACED_KEY)
    if not placed or placed[0] != place:
        return False
    del st.session_state[PLACED_KEY]
    _say(placed[1], placed[2])
    return True


def _say(message: str, warnings: list[str]) -> None:
    st.success(message, icon=":material/check_circle:")
    for warning in warnings:
        st.warning(warning, icon=":material/warning:")
