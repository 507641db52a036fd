"""Accounts: the first admin, users and roles, passwords, sign-in.

Passwords are hashed with argon2 (argon2-cffi) and never logged, shown or audited (the audit
snapshot masks the hash). The last enabled admin can be neither disabled nor demoted, so a team
never locks itself out.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlmodel import Session, col

from mltrl.domain import credentials, fields
from mltrl.domain.errors import InvalidInput, NotFound
from mltrl.models import EMAIL_MAX, NAME_MAX, PERSON_MAX, User, UserSession, utcnow
from mltrl.domain.permissions import Permission, Role, parse_role
from mltrl.services._core import Actor, account_count, audit, snapshot, write_service

PASSWORD_MIN = 8
PASSWORD_MAX = 1024
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Account:
    """What the app needs to know of a signed-in person (never the hash)."""

    name: str
    display_name: str
    role: Role
    email: str | None

    @property
    def actor(self) -> Actor:
        return Actor(self.name)


def _account(user: User) -> Account:
    return Account(user.name, user.display_name or user.name, Role(user.role), user.email)


def has_accounts(session: Session) -> bool:
    """False while the database runs in single-user mode."""
    return account_count(session) > 0


def clean_username(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("name", "a user name is required")
    if len(name) > PERSON_MAX or not USERNAME_PATTERN.match(name):
        raise InvalidInput(
            "name",
            f"{name!r} is not a valid user name: up to {PERSON_MAX} letters, digits, '.', '_', "
            "'@' or '-', starting with a letter or digit",
        )
    return name


def _clean_role(role: str | Role) -> Role:
    try:
        return parse_role(role)
    except ValueError as exc:
        raise InvalidInput("role", str(exc)) from None


def _clean_email(email: str | None) -> str | None:
    email = (email or "").strip().lower()
    if not email:
        return None
    if len(email) > EMAIL_MAX or not EMAIL_PATTERN.match(email):
        raise InvalidInput("email", f"{email!r} is not an e-mail address")
    return email


def _clean_display(display_name: str | None, name: str) -> str:
    return fields.one_line(display_name, "display_name", NAME_MAX) or name


def _hash(password: str | None, *, field: str = "password") -> str:
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        raise InvalidInput(field, f"at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise InvalidInput(field, f"at most {PASSWORD_MAX} characters")
    return _hasher.hash(password)


def get_user(session: Session, name: str) -> User:
    user = session.execute(select(User).where(User.name == (name or "").strip())).scalar_one_or_none()
    if user is None:
        raise NotFound(f"No user named {name!r}.")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.execute(select(User).order_by(col(User.name))).scalars().all())


def account_of(session: Session, name: str) -> Account | None:
    """The enabled account called ``name``, if any."""
    user = session.execute(select(User).where(User.name == (name or "").strip())).scalar_one_or_none()
    return None if user is None or user.disabled else _account(user)


def account_for_email(session: Session, email: str | None) -> Account | None:
    """The enabled account whose e-mail is ``email`` (identity-provider sign-in)."""
    if not email:
        return None
    user = session.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
    return None if user is None or user.disabled else _account(user)


def authenticate(session: Session, name: str, password: str) -> Account | None:
    """The account if ``name`` and ``password`` match an enabled local account, else None.

    Takes about as long for an unknown name as for a wrong password, so names cannot be probed.
    """
    user = session.execute(select(User).where(User.name == (name or "").strip())).scalar_one_or_none()
    stored = user.password_hash if user is not None and user.password_hash else None
    try:
        if stored is None:
            _hasher.verify(_dummy_hash(), password or "")
            return None
        _hasher.verify(stored, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled:
        return None
    return _account(user)


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for an unknown name (equal timing), made on first need, not at import."""
    return _hasher.hash("not a real password, only for equal timing")


def _enabled_admins(session: Session) -> int:
    return session.execute(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN.value, User.disabled.is_(False))
    ).scalar_one()


def _add(session: Session, actor: Actor, *, name: str, role: Role, password: str | None,
         display_name: str | None, email: str | None, service: bool = False) -> User:
    name = clean_username(name)
    email = _clean_email(email)
    display = _clean_display(display_name, name)
    if service and (password is not None or email):
        raise InvalidInput("password", "a service account signs in with nothing but its API tokens: "
                                       "give it neither a password nor an e-mail")
    password_hash = _hash(password) if not service and (password is not None or not email) else None
    if session.execute(select(User).where(User.name == name)).scalar_one_or_none() is not None:
        raise InvalidInput("name", f"{name} is already taken")
    if email and session.execute(select(User).where(User.email == email)).scalar_one_or_none() is not None:
        raise InvalidInput("email", f"{email} already belongs to another user")
    user = User(name=name, display_name=display, email=email, role=role.value,
                password_hash=password_hash, created_by=actor.name)
    session.add(user)
    session.flush()
    audit(session, actor, entity="appuser", entity_id=user.id, action="create", before=None, after=snapshot(user))
    return user


@write_service(Permission.SETUP)
def create_first_admin(
    *, session: Session, actor: Actor, name: str, password: str,
    display_name: str | None = None, email: str | None = None,
) -> Account:
    """Create the first account, an admin; from then on roles apply everywhere."""
    user = _add(session, Actor(clean_username(name)), name=name, role=Role.ADMIN, password=password,
                display_name=display_name, email=email)
    return _account(user)


@write_service(Permission.ADMIN)
def add_user(
    *, session: Session, actor: Actor, name: str, role: str | Role, password: str | None = None,
    display_name: str | None = None, email: str | None = None, service: bool = False,
) -> Account:
    """Add an account. A password is required unless the user signs in through the identity
    provider (an e-mail and no password) or is a ``service`` account (a CI job, say: a role and API
    tokens, no password, never signs in)."""
    role = _clean_role(role)
    if role is not Role.ADMIN and not has_accounts(session):
        raise InvalidInput("role", "the first account must be an admin, so someone can manage the others")
    user = _add(session, actor, name=name, role=role, password=password,
                display_name=display_name, email=email, service=service)
    return _account(user)


def _change(session: Session, actor: Actor, user: User, action: str, **changes) -> User:
    before = snapshot(user)
    for key, value in changes.items():
        setattr(user, key, value)
    user.updated_at = utcnow()
    session.add(user)
    session.flush()
    audit(session, actor, entity="appuser", entity_id=user.id, action=action, before=before, after=snapshot(user))
    return user


def _guard_last_admin(session: Session, user: User, *, losing_admin: bool) -> None:
    if losing_admin and user.role == Role.ADMIN.value and not user.disabled and _enabled_admins(session) <= 1:
        raise InvalidInput("role", f"{user.name} is the last enabled admin; make another admin first")


@write_service(Permission.ADMIN)
def set_role(*, session: Session, actor: Actor, name: str, role: str | Role) -> Account:
    """Change a user's role (the role they have already: nothing is written)."""
    user = get_user(session, name)
    new_role = _clean_role(role)
    if new_role.value == user.role:
        return _account(user)
    _guard_last_admin(session, user, losing_admin=new_role is not Role.ADMIN)
    revoke_sessions(session, user, reason="role changed", by=actor.name)
    return _account(_change(session, actor, user, "role", role=new_role.value))


@write_service(Permission.ADMIN)
def set_disabled(*, session: Session, actor: Actor, name: str, disabled: bool = True) -> Account:
    """Disable (or enable again) an account; its history stays."""
    user = get_user(session, name)
    _guard_last_admin(session, user, losing_admin=disabled)
    if disabled:
        revoke_sessions(session, user, reason="account disabled", by=actor.name)
    return _account(_change(session, actor, user, "disable" if disabled else "enable", disabled=disabled))


@write_service(Permission.ADMIN)
def reset_password(*, session: Session, actor: Actor, name: str, new_password: str) -> Account:
    """An admin sets a new password for someone who forgot theirs."""
    user = get_user(session, name)
    password_hash = _hash(new_password, field="new_password")
    revoke_sessions(session, user, reason="password reset", by=actor.name)
    return _account(_change(session, actor, user, "password", password_hash=password_hash))


@write_service(Permission.SELF)
def change_password(*, session: Session, actor: Actor, current_password: str, new_password: str,
                    keep_session: str | None = None) -> Account:
    """The acting user changes their own password (the current one is required). Their other
    sign-ins end; ``keep_session`` (this browser's session secret) stays signed in."""
    user = get_user(session, actor.name)
    if authenticate(session, actor.name, current_password) is None:
        raise InvalidInput("current_password", "that is not your current password")
    password_hash = _hash(new_password, field="new_password")
    revoke_sessions(session, user, reason="password changed", by=actor.name, keep=keep_session)
    return _account(_change(session, actor, user, "password", password_hash=password_hash))


def revoke_sessions(session: Session, user: User, *, reason: str, by: str, keep: str | None = None) -> int:
    """End every live browser sign-in of ``user`` (but the one whose secret is ``keep``), within
    the caller's transaction; returns how many ended."""
    query = select(UserSession).where(UserSession.user_id == user.id, col(UserSession.revoked_at).is_(None))
    if keep:
        query = query.where(UserSession.token_hash != credentials.digest(keep))
    ended = 0
    now = utcnow()
    for row in session.execute(query).scalars():
        row.revoked_at, row.revoked_by, row.revoked_reason = now, by, reason
        session.add(row)
        ended += 1
    return ended
