"""Browser sign-ins that survive a refresh: sign in with a password, know the person again from
the cookie's secret, sign out, and the throttle on failed sign-ins.

The cookie holds a random secret; ``usersession`` keeps only its SHA-256 with the account, when it
began and was last used, when it ends, the browser's user agent and address
(``mltrl.domain.credentials`` has the rules). A session ends at its absolute lifetime, after the
idle timeout (both admin settings, ``mltrl.domain.policy``), or when revoked: sign-out, a password,
role or enabled change of its account (``users``), or an admin.

Signing in is open to anyone who can reach the sign-in form, so it is not a ``write_service`` (there
is no account acting yet): it commits its own rows. Every failure is recorded for the throttle and
in the audit trail (actor ``anonymous``, entity ``sign-in``, the name tried), every success and
sign-out in the audit trail under the person's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlmodel import Session, col

from mltrl.domain import credentials
from mltrl.domain.days import as_utc
from mltrl.domain.errors import NotFound, PermissionDenied, Throttled, Unauthenticated
from mltrl.domain.permissions import Permission, Role
from mltrl.models import ADDRESS_MAX, PERSON_MAX, USER_AGENT_MAX, SignInFailure, User, UserSession, utcnow
from mltrl.services import users
from mltrl.services._core import Actor, audit, write_service
from mltrl.services.policy import current_policy

ANONYMOUS = Actor("anonymous")
FAILED_MESSAGE = "Wrong user name or password, or the account is disabled."


@dataclass(frozen=True)
class SignedIn:
    """A live browser session: who, and the row's id (to keep it through a password change)."""

    account: users.Account
    session_id: int


@dataclass(frozen=True)
class LiveSession:
    id: int
    user: str
    created_at: datetime
    last_seen_at: datetime
    ends_at: datetime
    user_agent: str
    address: str


def _limits(session: Session) -> tuple[timedelta, timedelta]:
    policy = current_policy(session)
    return timedelta(hours=policy.session_idle_hours), timedelta(days=policy.session_lifetime_days)


def _clip(value: str | None, limit: int) -> str:
    """A request header kept for the record: one line, no control characters, at most ``limit``."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(value or ""))
    return text.strip()[:limit]


def _throttle(session: Session, name: str, address: str, now: datetime) -> None:
    since = now - credentials.FAILURE_WINDOW
    checks = [(SignInFailure.name == name, credentials.ACCOUNT_FAILURE_LIMIT, "for this account")]
    if address:
        checks.append((SignInFailure.address == address, credentials.ADDRESS_FAILURE_LIMIT, "from your address"))
    for where, limit, whose in checks:
        failures = session.execute(select(SignInFailure.at).where(where, SignInFailure.at > since)).scalars()
        wait = credentials.throttle_wait((as_utc(at) for at in failures), now, limit=limit)
        if wait is not None:
            raise Throttled(f"Too many failed sign-ins {whose}: try again in {credentials.minutes_word(wait)}.",
                            int(wait.total_seconds()) + 1)


def _fail(session: Session, name: str, address: str, now: datetime, reason: str) -> None:
    session.add(SignInFailure(at=now, name=name, address=address))
    audit(session, ANONYMOUS, entity="sign-in", entity_id=(name or "(none)")[:64], action="failed",
          before=None, after={"address": address, "reason": reason})
    # Failures older than a day no longer count for anything.
    session.execute(delete(SignInFailure).where(SignInFailure.at < now - timedelta(days=1)))
    session.commit()


def sign_in(session: Session, name: str, password: str, *, address: str = "", user_agent: str = "",
            now: datetime | None = None) -> tuple[str, users.Account]:
    """Check ``name`` and ``password`` and start a session: returns the secret for the cookie and
    the account. Refused with ``Throttled`` (nothing checked) or ``Unauthenticated`` (recorded)."""
    now = as_utc(now) if now is not None else utcnow()
    name = _clip(name, PERSON_MAX)
    address = _clip(address, ADDRESS_MAX)
    try:
        _throttle(session, name, address, now)
    except Throttled:
        audit(session, ANONYMOUS, entity="sign-in", entity_id=(name or "(none)")[:64], action="throttled",
              before=None, after={"address": address})
        session.commit()
        raise
    account = users.authenticate(session, name, password if isinstance(password, str) else "")
    if account is None:
        _fail(session, name, address, now, "wrong name or password, or disabled")
        raise Unauthenticated(FAILED_MESSAGE)
    user = users.get_user(session, account.name)
    idle, lifetime = _limits(session)
    secret = credentials.new_secret()
    row = UserSession(user_id=user.id, token_hash=credentials.digest(secret), created_at=now, last_seen_at=now,
                      expires_at=now + lifetime, user_agent=_clip(user_agent, USER_AGENT_MAX), address=address)
    session.add(row)
    session.flush()
    audit(session, account.actor, entity="usersession", entity_id=row.id, action="sign-in",
          before=None, after={"address": address, "user_agent": row.user_agent})
    session.commit()
    return secret, account


def _row(session: Session, secret: str | None) -> UserSession | None:
    if not secret or not isinstance(secret, str) or len(secret) > 200:
        return None
    return session.execute(
        select(UserSession).where(UserSession.token_hash == credentials.digest(secret))).scalar_one_or_none()


def current(session: Session, secret: str | None, *, now: datetime | None = None) -> SignedIn | None:
    """Who the cookie's ``secret`` signs in, or None (no such session, ended, revoked, or its account
    disabled). Notes the use at most once a minute."""
    row = _row(session, secret)
    if row is None or row.revoked_at is not None:
        return None
    now = as_utc(now) if now is not None else utcnow()
    idle, lifetime = _limits(session)
    created, last_seen = as_utc(row.created_at), as_utc(row.last_seen_at)
    if not credentials.session_live(created, last_seen, now, idle=idle, lifetime=lifetime):
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    if now - last_seen >= credentials.TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
        session.commit()
    return SignedIn(users.account_of(session, user.name), row.id)


def sign_out(session: Session, secret: str | None) -> bool:
    """End the session the cookie's ``secret`` names; True when there was a live one."""
    row = _row(session, secret)
    if row is None or row.revoked_at is not None:
        return False
    user = session.get(User, row.user_id)
    row.revoked_at, row.revoked_reason = utcnow(), "signed out"
    row.revoked_by = user.name if user else None
    session.add(row)
    if user is not None:
        audit(session, Actor(user.name), entity="usersession", entity_id=row.id, action="sign-out",
              before=None, after=None)
    session.commit()
    return True


def live_sessions(session: Session, user: str | None = None, *, now: datetime | None = None) -> list[LiveSession]:
    """Every live browser session (of ``user`` only, when given), most recently used first."""
    now = as_utc(now) if now is not None else utcnow()
    idle, lifetime = _limits(session)
    query = (select(UserSession, User.name).join(User, User.id == UserSession.user_id)
             .where(col(UserSession.revoked_at).is_(None), UserSession.expires_at > now,
                    UserSession.last_seen_at > now - idle)
             .order_by(col(UserSession.last_seen_at).desc(), col(UserSession.id).desc()))
    if user is not None:
        query = query.where(User.name == user)
    found = []
    for row, name in session.execute(query).all():
        created, seen = as_utc(row.created_at), as_utc(row.last_seen_at)
        found.append(LiveSession(row.id, name, created, seen,
                                 credentials.session_ends(created, seen, idle=idle, lifetime=lifetime),
                                 row.user_agent, row.address))
    return found


@write_service(Permission.SELF)
def revoke_session(*, session: Session, actor: Actor, session_id: int) -> None:
    """End one browser session: one's own, or anyone's for an admin."""
    row = session.get(UserSession, session_id) if isinstance(session_id, int) else None
    if row is None:
        raise NotFound(f"No session {session_id!r}.")
    owner = session.get(User, row.user_id)
    me = users.get_user(session, actor.name)
    if owner is None or (owner.id != me.id and me.role != Role.ADMIN.value):
        raise PermissionDenied("Only an admin ends someone else's sign-in.")
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by, row.revoked_reason = utcnow(), actor.name, "revoked"
        session.add(row)
        audit(session, actor, entity="usersession", entity_id=row.id, action="revoke",
              before=None, after={"user": owner.name})
