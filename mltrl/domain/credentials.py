"""Rules of sign-in sessions, API tokens and the sign-in throttle. Pure: no database, no streamlit.

* A secret (a session cookie's token, an API token) is 32 random bytes, URL-safe; the database
  keeps only its SHA-256 (a fast hash is right for a random secret of this length: there is nothing
  to guess). API tokens start with ``mltrl_`` so secret scanners and people can tell them apart.
* A browser session ends at the first of: the absolute lifetime after sign-in, the idle timeout
  after its last use, a revocation.
* The throttle: after ``limit`` failed sign-ins within ``window`` for one account name (or, with a
  higher limit, from one address) further attempts are refused until the oldest of those failures
  leaves the window; the refusal says how long that is.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

SESSION_COOKIE = "mltrl_session"  # the browser's sign-in cookie (set by the /sign-in route, read by the pages)
TOKEN_PREFIX = "mltrl_"
TOKEN_SHOWN = 10  # characters of a token shown to tell tokens apart (its prefix and a little more)

# Failed sign-ins: 5 for one account name or 20 from one address in 15 minutes.
FAILURE_WINDOW = timedelta(minutes=15)
ACCOUNT_FAILURE_LIMIT = 5
ADDRESS_FAILURE_LIMIT = 20

# A session's last use is written at most this often (a page run reads it on every click).
TOUCH_EVERY = timedelta(minutes=1)


def new_secret() -> str:
    """A fresh random session secret (for a cookie)."""
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    """A fresh API token: ``mltrl_`` and 43 URL-safe characters."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What the database keeps of a secret: its SHA-256, hex."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def shown(token: str) -> str:
    """The part of a token safe to show again (to tell tokens apart)."""
    return token[:TOKEN_SHOWN]


def session_ends(created: datetime, last_seen: datetime, *, idle: timedelta, lifetime: timedelta) -> datetime:
    """When a session that began at ``created`` and was last used at ``last_seen`` ends."""
    return min(created + lifetime, last_seen + idle)


def session_live(created: datetime, last_seen: datetime, now: datetime, *, idle: timedelta,
                 lifetime: timedelta) -> bool:
    return now < session_ends(created, last_seen, idle=idle, lifetime=lifetime)


def throttle_wait(failures: Iterable[datetime], now: datetime, *, limit: int,
                  window: timedelta = FAILURE_WINDOW) -> timedelta | None:
    """How long until another attempt is allowed, or None when it is allowed now: with ``limit``
    or more ``failures`` inside the window ending at ``now``, until the one that makes the count
    reach the limit (the ``limit``-th most recent) is older than the window."""
    recent = sorted(at for at in failures if now - window < at <= now)
    if len(recent) < limit:
        return None
    return recent[-limit] + window - now


def minutes_word(wait: timedelta) -> str:
    """``wait`` in whole minutes, rounded up, in words ("1 minute", "12 minutes")."""
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return f"{minutes} minute" + ("" if minutes == 1 else "s")
