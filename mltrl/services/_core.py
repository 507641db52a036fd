"""What every service passes through: the acting user and their rights, one transaction per use
case, the audit row.

A write use case is a keyword-only function ``fn(*, session, actor, ...)`` decorated with
``@write_service(Permission.X)``. The decorator

* checks that an ``Actor`` is acting and that they may do this (``authorize``): with no accounts in
  the database everyone may (single-user mode); once accounts exist the actor must name an enabled
  account whose role holds the permission, whether the call comes from a page, the CLI or a test,
* commits once when the use case returns and rolls everything back when it raises, so a refused
  input leaves the database as it was,
* turns SQLAlchemy's stale-version error into ``Conflict``,
* retries the whole use case, after a short wait, when SQLite says "database is locked" or
  PostgreSQL reports a deadlock or serialization failure; if that persists the user gets ``Busy``,
  never a driver error,
* registers the use case in ``WRITE_SERVICES`` so tests can walk every writer.

Helpers called by a use case never commit. Every row a use case writes is described by
``audit(...)``, the one place that writes ``AuditEntry``; snapshots never carry secrets
(``SECRET_FIELDS`` are masked).
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, SQLModel

from mltrl.domain.days import as_utc, parse_when  # noqa: F401  (re-exported for the services)
from mltrl.domain.errors import Busy, Conflict, InvalidInput, PermissionDenied
from mltrl.domain.fields import one_line
from mltrl.models import PERSON_MAX, VIA_MAX, AuditEntry, User
from mltrl.domain.permissions import LEAST_ROLE, Permission, Role, allows, effective_role

P = ParamSpec("P")
R = TypeVar("R")

WRITE_SERVICES: list[Callable[..., Any]] = []
SECRET_FIELDS = frozenset({"password_hash", "token_hash", "webhook_secret"})

# Retries of a use case that met a locked database (SQLite) or a deadlock (PostgreSQL); with
# SQLite's own 5 s busy timeout per attempt this rides out a long burst of writers.
RETRY_ATTEMPTS = 6
RETRY_BASE_DELAY = 0.05
_TRANSIENT_PGCODES = {"40001", "40P01"}  # serialization failure, deadlock detected


@dataclass(frozen=True)
class Actor:
    """Who is acting: recorded on every write and in the audit trail.

    ``via`` says how, when not in person ("token ci-bot": a write made with an API token; it goes
    into the audit row beside the name). ``role_cap`` is the most the acting may do, whatever the
    account's role (a token's role): the account's role and the cap, the lower one, decide."""

    name: str
    via: str | None = None
    role_cap: Role | None = None

    def __post_init__(self) -> None:
        name = one_line(self.name, "user", PERSON_MAX)
        if not name:
            raise InvalidInput("user", "a name is required to act (use --as NAME or MLTRL_USER)")
        object.__setattr__(self, "name", name)
        if self.via is not None:
            object.__setattr__(self, "via", one_line(self.via, "via", VIA_MAX) or None)
        if self.role_cap is not None:
            object.__setattr__(self, "role_cap", Role(self.role_cap))


def account_count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(User)).scalar_one()


def authorize(session: Session, actor: Actor, permission: Permission) -> None:
    """Refuse with ``PermissionDenied`` unless ``actor`` may use ``permission``."""
    accounts = account_count(session)
    if permission is Permission.SETUP:
        if accounts:
            raise PermissionDenied("Accounts already exist: an admin adds further users.")
        return
    if not accounts:
        return  # single-user mode: the acting user has every right
    user = session.execute(select(User).where(User.name == actor.name)).scalar_one_or_none()
    if user is None:
        raise PermissionDenied(
            f"{actor.name!r} has no account here: sign in, or act as an enabled account "
            "(--as NAME or MLTRL_USER)."
        )
    if user.disabled:
        raise PermissionDenied(f"The account {actor.name!r} is disabled.")
    role = effective_role(user.role, actor.role_cap)
    if not allows(role, permission):
        needed = LEAST_ROLE[permission]
        who = f"{actor.name} is a {user.role}" if role == user.role else f"{actor.via or 'this access'} acts as a {role}"
        raise PermissionDenied(
            f"{who}; this needs the {needed} role" + (" or higher." if needed is not Role.ADMIN else ".")
        )



def _transient(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    if "database is locked" in text or "database table is locked" in text:
        return True
    return getattr(exc.orig, "sqlstate", None) in _TRANSIENT_PGCODES


def write_service(permission: Permission) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Make a function a transactional, audited, authorized use case (see the module docstring)."""
    if not isinstance(permission, Permission):
        raise TypeError("write_service needs the Permission the use case requires")

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def use_case(*args: P.args, **kwargs: P.kwargs) -> R:
            if args:
                raise TypeError(f"{fn.__name__} takes keyword arguments only")
            session = kwargs.get("session")
            actor = kwargs.get("actor")
            if not isinstance(session, Session):
                raise TypeError(f"{fn.__name__} needs session=<sqlmodel Session>")
            if not isinstance(actor, Actor):
                raise TypeError(f"{fn.__name__} needs actor=<Actor>")
            for attempt in range(RETRY_ATTEMPTS):
                try:
                    authorize(session, actor, permission)
                    result = fn(**kwargs)
                    session.commit()
                    return result
                except StaleDataError as exc:
                    session.rollback()
                    raise Conflict(
                        "Somebody else saved this since you opened it; "
                        "reload to see their change, then try again."
                    ) from exc
                except DBAPIError as exc:
                    session.rollback()
                    if not _transient(exc):
                        raise
                    if attempt == RETRY_ATTEMPTS - 1:
                        raise Busy(
                            "The database is busy with other writers; nothing was saved. "
                            "Try again in a moment."
                        ) from exc
                    time.sleep(RETRY_BASE_DELAY * (2 ** attempt) * (1 + random.random()))
                except BaseException:
                    session.rollback()
                    raise
            raise AssertionError("unreachable")  # pragma: no cover

        use_case.is_write_service = True  # type: ignore[attr-defined]
        use_case.permission = permission  # type: ignore[attr-defined]
        WRITE_SERVICES.append(use_case)
        return use_case

    return decorate


def snapshot(row: SQLModel, **extra: Any) -> dict[str, Any]:
    """A JSON-ready picture of ``row`` for the audit trail (plus ``extra`` fields)."""
    data = {}
    for key, value in row.model_dump().items():
        data[key] = "(hidden)" if key in SECRET_FIELDS and value is not None else _jsonable(value)
    data.update({k: _jsonable(v) for k, v in extra.items()})
    return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def audit(
    session: Session,
    actor: Actor,
    *,
    entity: str,
    entity_id: object,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditEntry:
    """Record one change in the audit trail (flushed with the use case, committed with it)."""
    entry = AuditEntry(
        actor=actor.name,
        via=actor.via,
        entity=entity,
        entity_id=str(entity_id),
        action=action,
        before=before,
        after=after,
    )
    session.add(entry)
    return entry


ROW_ID_MAX = 2**31 - 1  # ids are INTEGER columns: 32 bits on PostgreSQL (a larger number names no row)


def row_by_id(session: Session, model: type[SQLModel], row_id: object) -> Any:
    """The row of ``model`` with id ``row_id``, or ``None``: an id that is not an int within
    1..``ROW_ID_MAX`` names no row (PostgreSQL would refuse to compare it with a 32-bit column)."""
    if not isinstance(row_id, int) or isinstance(row_id, bool) or not 0 < row_id <= ROW_ID_MAX:
        return None
    return session.get(model, row_id)


def check_version(row: Any, expected_version: int | None, what: str) -> None:
    """The optimistic version check, written once: an edit made from a stale copy (the version the
    person saw is not the row's) is refused as a ``Conflict`` naming both versions. ``None`` means
    the caller saw no version (a script acting on whatever is current)."""
    if expected_version is not None and row.version != expected_version:
        raise Conflict(
            f"{what} changed since you opened it (version {expected_version} -> {row.version}); "
            "reload to see the change, then try again.",
            current_version=row.version,
        )


def within(use_case: Callable[P, R]) -> Callable[P, R]:
    """The body of a write use case without its commit, for composing use cases in one
    transaction (the outer use case commits once, or rolls everything back)."""
    inner = getattr(use_case, "__wrapped__", None)
    if inner is None or not getattr(use_case, "is_write_service", False):
        raise TypeError(f"{use_case!r} is not a write service")
    return inner
