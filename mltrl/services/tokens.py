"""API tokens: personal ones, and those of service accounts (a CI job's account: a role, no password).

A token is shown once, when created; ``apitoken`` keeps its SHA-256 and its first characters (to
tell tokens apart). It acts as its owner, with the lower of its own role and the owner's
(``Actor.role_cap``), until it expires (the last instant of its expiry day, UTC) or is revoked by its owner
or an admin. A disabled owner's tokens are refused. Every write made with a token is audited
under the owner's name with ``via`` = "token NAME"; its last use is noted (at most once a minute).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session, col

from mltrl.domain import credentials, days
from mltrl.domain.errors import InvalidInput, NotFound, PermissionDenied, Unauthenticated
from mltrl.domain.fields import one_line
from mltrl.domain.permissions import Permission, Role, at_most, parse_role
from mltrl.models import TOKEN_NAME_MAX, ApiToken, User, utcnow
from mltrl.services import users
from mltrl.services._core import Actor, audit, snapshot, write_service

BAD_TOKEN = "The API token is unknown, expired or revoked: create a new one on My account or with `mltrl token create`."


@dataclass(frozen=True)
class TokenInfo:
    """A token as its owner and admins see it (never the secret)."""

    id: int
    owner: str
    name: str
    shown: str
    role: Role
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def live(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at >= utcnow())


def _info(row: ApiToken, owner: str) -> TokenInfo:
    return TokenInfo(row.id, owner, row.name, row.prefix + "…", Role(row.role), days.as_utc(row.created_at),
                     days.as_utc(row.expires_at) if row.expires_at else None,
                     days.as_utc(row.last_used_at) if row.last_used_at else None,
                     days.as_utc(row.revoked_at) if row.revoked_at else None)


def _expiry(expires: date | str | None) -> datetime | None:
    if expires is None or expires == "":
        return None
    day = expires if isinstance(expires, date) and not isinstance(expires, datetime) else \
        days.parse_day(expires, field="expires")
    if day < days.today():
        raise InvalidInput("expires", f"{day.isoformat()} has passed: give today or a later day")
    return days.last_instant(day)


@write_service(Permission.SELF)
def create_token(*, session: Session, actor: Actor, name: str, role: str | Role | None = None,
                 expires: date | str | None = None, owner: str | None = None) -> tuple[str, TokenInfo]:
    """A new token for the actor (or, for an admin, for ``owner``: a service account, say).
    Returns the secret (shown once) and the token's record."""
    me = users.get_user(session, actor.name)
    target = me if owner is None or owner == me.name else users.get_user(session, owner)
    if target.id != me.id and me.role != Role.ADMIN.value:
        raise PermissionDenied("Only an admin creates tokens for another account.")
    if target.disabled:
        raise InvalidInput("owner", f"{target.name} is disabled")
    clean = one_line(name, "name", TOKEN_NAME_MAX)
    if not clean:
        raise InvalidInput("name", "a token needs a name (what uses it: ci, notebook...)")
    try:
        chosen = parse_role(role) if role is not None and role != "" else Role(target.role)
    except ValueError as exc:
        raise InvalidInput("role", str(exc)) from None
    if not at_most(chosen, target.role):
        raise InvalidInput("role", f"{chosen} is higher than {target.name}'s role ({target.role}): "
                                   "a token acts at most as its owner")
    live = session.execute(select(ApiToken.id).where(
        ApiToken.user_id == target.id, ApiToken.name == clean, col(ApiToken.revoked_at).is_(None))).first()
    if live is not None:
        raise InvalidInput("name", f"{target.name} already has a token called {clean!r}: revoke it or pick another name")
    secret = credentials.new_api_token()
    row = ApiToken(user_id=target.id, name=clean, token_hash=credentials.digest(secret),
                   prefix=credentials.shown(secret), role=chosen.value, created_by=actor.name,
                   expires_at=_expiry(expires))
    session.add(row)
    session.flush()
    audit(session, actor, entity="apitoken", entity_id=row.id, action="create", before=None,
          after=snapshot(row, owner=target.name))
    return secret, _info(row, target.name)


@write_service(Permission.SELF)
def revoke_token(*, session: Session, actor: Actor, token_id: int) -> TokenInfo:
    """Revoke a token: one's own, or anyone's for an admin."""
    row = session.get(ApiToken, token_id) if isinstance(token_id, int) and not isinstance(token_id, bool) else None
    if row is None:
        raise NotFound(f"No API token {token_id!r}.")
    owner = session.get(User, row.user_id)
    me = users.get_user(session, actor.name)
    if row.user_id != me.id and me.role != Role.ADMIN.value:
        raise PermissionDenied("Only an admin revokes someone else's token.")
    if row.revoked_at is None:
        before = snapshot(row)
        row.revoked_at, row.revoked_by = utcnow(), actor.name
        session.add(row)
        session.flush()
        audit(session, actor, entity="apitoken", entity_id=row.id, action="revoke", before=before,
              after=snapshot(row))
    return _info(row, owner.name)


def list_tokens(session: Session, owner: str | None = None, *, include_ended: bool = False) -> list[TokenInfo]:
    """Tokens (of ``owner`` only, when given), newest first; live ones unless ``include_ended``."""
    query = (select(ApiToken, User.name).join(User, User.id == ApiToken.user_id)
             .order_by(col(ApiToken.created_at).desc(), col(ApiToken.id).desc()))
    if owner is not None:
        query = query.where(User.name == owner)
    found = [_info(row, name) for row, name in session.execute(query).all()]
    return found if include_ended else [t for t in found if t.live]


def actor_for(session: Session, secret: str | None, *, now: datetime | None = None) -> Actor:
    """The ``Actor`` an API token acts as (its owner, capped at the token's role, ``via`` the
    token's name); ``Unauthenticated`` for a missing, unknown, expired or revoked token or a
    disabled owner."""
    if not secret or not isinstance(secret, str) or len(secret) > 200:
        raise Unauthenticated("An API token is required: send it as `Authorization: Bearer <token>`.")
    row = session.execute(select(ApiToken).where(ApiToken.token_hash == credentials.digest(secret))).scalar_one_or_none()
    now = days.as_utc(now) if now is not None else utcnow()
    if row is None or row.revoked_at is not None or (row.expires_at is not None and days.as_utc(row.expires_at) < now):
        raise Unauthenticated(BAD_TOKEN)
    owner = session.get(User, row.user_id)
    if owner is None or owner.disabled:
        raise Unauthenticated(f"The API token's account ({owner.name if owner else 'removed'}) is disabled.")
    if row.last_used_at is None or now - days.as_utc(row.last_used_at) >= credentials.TOUCH_EVERY:
        row.last_used_at = now
        session.add(row)
        session.commit()
    return Actor(owner.name, via=f"token {row.name}", role_cap=Role(row.role))
