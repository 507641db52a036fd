"""What every service passes through: the acting user, one transaction per use case, the audit row.

A write use case is a keyword-only function ``fn(*, session, actor, ...)`` decorated with
``@write_service``. The decorator

* checks that an ``Actor`` is acting (the permission check of team use hooks in here),
* commits once when the use case returns and rolls everything back when it raises, so a refused
  input leaves the database as it was,
* turns SQLAlchemy's stale-version error into ``Conflict``,
* registers the use case in ``WRITE_SERVICES`` so tests can walk every writer.

Helpers called by a use case never commit. Every row a use case writes is described by
``audit(...)``, the one place that writes ``AuditEntry``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, ParamSpec, TypeVar

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, SQLModel

from mltrl.errors import Conflict, InvalidInput
from mltrl.models import PERSON_MAX, AuditEntry

P = ParamSpec("P")
R = TypeVar("R")

WRITE_SERVICES: list[Callable[..., Any]] = []


@dataclass(frozen=True)
class Actor:
    """Who is acting: recorded on every write and in the audit trail."""

    name: str

    def __post_init__(self) -> None:
        name = (self.name or "").strip()
        if not name:
            raise InvalidInput("user", "a name is required to act (use --as NAME or MLTRL_USER)")
        if len(name) > PERSON_MAX:
            raise InvalidInput("user", f"at most {PERSON_MAX} characters")
        object.__setattr__(self, "name", name)


def write_service(fn: Callable[P, R]) -> Callable[P, R]:
    """Make ``fn`` a transactional, audited use case (see the module docstring)."""

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
        try:
            result = fn(**kwargs)
            session.commit()
        except StaleDataError as exc:
            session.rollback()
            raise Conflict(
                "Somebody else saved this technology since you opened it; "
                "reload to see their change, then try again."
            ) from exc
        except BaseException:
            session.rollback()
            raise
        return result

    use_case.is_write_service = True  # type: ignore[attr-defined]
    WRITE_SERVICES.append(use_case)
    return use_case


def snapshot(row: SQLModel, **extra: Any) -> dict[str, Any]:
    """A JSON-ready picture of ``row`` for the audit trail (plus ``extra`` fields)."""
    data = {}
    for key, value in row.model_dump().items():
        data[key] = _jsonable(value)
    data.update({k: _jsonable(v) for k, v in extra.items()})
    return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
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
        entity=entity,
        entity_id=str(entity_id),
        action=action,
        before=before,
        after=after,
    )
    session.add(entry)
    return entry


def as_utc(value: datetime | date | None, *, field: str = "at") -> datetime | None:
    """``value`` as an aware UTC datetime; a naive value or a plain date is taken as UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    raise InvalidInput(field, f"expected a date or date-time, got {value!r}")


def parse_when(text: str, *, field: str = "at") -> datetime:
    """Parse an ISO 8601 date or date-time typed by a person (naive means UTC)."""
    raw = (text or "").strip()
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            field, f"{text!r} is not an ISO 8601 date such as 2025-03-31 or 2025-03-31T14:00"
        ) from None
    result = as_utc(parsed, field=field)
    assert result is not None
    return result


def within(use_case: Callable[P, R]) -> Callable[P, R]:
    """The body of a write use case without its commit, for composing use cases in one
    transaction (the outer use case commits once, or rolls everything back)."""
    inner = getattr(use_case, "__wrapped__", None)
    if inner is None or not getattr(use_case, "is_write_service", False):
        raise TypeError(f"{use_case!r} is not a write service")
    return inner
