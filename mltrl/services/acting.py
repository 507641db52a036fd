"""Single-user mode's acting name, kept per browser.

With no accounts in the database nobody signs in, and every change is recorded under the name the
browser gave: the level history's and the audit trail's "who". The ``/acting-as`` route
(``mltrl.web.acting_as``) asks for it and keeps it in a cookie; the pages read it back
(``mltrl.ui.context.actor``). A name follows the rules of any actor's (``Actor``: one line, inner
white space folded, at most ``PERSON_MAX`` characters, no control characters); the cookie holds it
percent-encoded, so any letters survive the trip through the browser.

A browser that has not given a name acts as nobody: its writes are refused until it gives one.
The server's login name is never used for it (it names whoever started the process, not the person
at the browser). The CLI keeps its own default (``--as``, ``MLTRL_USER``, the login name).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

from mltrl.domain.errors import InvalidInput
from mltrl.domain.fields import one_line
from mltrl.models import PERSON_MAX

ACTING_AS_COOKIE = "mltrl_acting_as"
ACTING_AS_DAYS = 365  # how long a browser remembers the name (renewed each time it is given)
FIELD = "Your name"
NAME_MAX = PERSON_MAX


def check_name(value: Any) -> str:
    """The name as it will be recorded (trimmed, white space folded), or ``InvalidInput`` naming
    the field and what is allowed."""
    name = one_line(value, FIELD, PERSON_MAX)
    if not name:
        raise InvalidInput(FIELD, f"required: one line of up to {PERSON_MAX} characters, the name your changes "
                                  "are recorded under")
    return name


def valid_name(value: Any) -> str | None:
    """``check_name(value)``, or None when it refuses (no name, or one that is not valid)."""
    try:
        return check_name(value)
    except InvalidInput:
        return None


def cookie_value(name: str) -> str:
    """The cookie's value for ``name`` (checked, then percent-encoded: only ``A-Z a-z 0-9 _ . - ~ %``)."""
    return quote(check_name(name), safe="")


def name_from_cookie(raw: Any) -> str | None:
    """The name a cookie holds, or None when it holds none or one that is not a valid name (a
    cookie edited by hand is ignored, never trusted)."""
    if not isinstance(raw, str) or not raw or len(raw) > 12 * PERSON_MAX:
        return None
    try:
        return valid_name(unquote(raw, errors="strict"))
    except UnicodeDecodeError:
        return None
