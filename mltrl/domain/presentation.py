"""Presentation mode's switch: which words in a URL turn it on or off, and the cookie that keeps it.

A page load with ``?present=1`` (or ``0``) sets (or clears) the ``mltrl_present`` cookie on the
way out (``mltrl.web.presentation``), so every later page of that browser -- a refresh, the app's
own links, a link opened in a new tab -- keeps the mode until ``?present=0``. The pages read the
URL first and the cookie second (``mltrl.ui.access.presenting``).
"""

from __future__ import annotations

PRESENT_COOKIE = "mltrl_present"
PARAM = "present"
_ON = frozenset({"1", "true", "yes", "on"})
_OFF = frozenset({"0", "false", "no", "off"})


def wanted(value: str | None) -> bool | None:
    """True or False when ``value`` (a ``present`` query value or the cookie) says so, else None."""
    if value is None:
        return None
    word = value.strip().lower()
    if word in _ON:
        return True
    if word in _OFF:
        return False
    return None
