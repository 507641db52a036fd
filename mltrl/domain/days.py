"""Days and instants: the one home of the rules about dates and times.

* Instants are timezone-aware UTC ``datetime``s. A naive value, or a plain date, is taken as UTC.
* A *day* ``D`` runs from its first instant (``day_start``) up to, but not including, the next
  day's first instant (``day_end``). "By D", "as of D" and "until D" all mean the whole of D: an
  event counts when it is before ``day_end(D)``; ``last_instant(D)`` is the same bound for the
  code that compares with "at or before" (one microsecond earlier, the database's resolution).
* "Today" is the UTC day (``today``), the same for the server, the CLI and every browser.
* ``recorded_at(moment)`` sets "the present" for the code it wraps (``now``, ``today`` and
  ``mltrl.models.utcnow``, so every stamp a use case writes, audit rows included), in this thread
  only: the demo loader records each step of its stories as of the day it happened, then the whole
  portfolio as of the day it is loaded for. ``freeze_today(day)`` (a server started with
  ``MLTRL_TODAY``) makes a whole process live on one day, for reproducible screenshots.
* Instants a person types are accepted between ``EARLIEST`` and ``LATEST``; outside that window the
  arithmetic of Python and pandas overflows (years 1 and 9999, pandas' 1677-2262), so such values
  are refused with a message naming the field and the window rather than failing later.

Pure: no streamlit, no database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta

from mltrl.domain.errors import InvalidInput

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2199, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
WINDOW = f"between {EARLIEST.date().isoformat()} and {LATEST.date().isoformat()}"
ONE_DAY = timedelta(days=1)
RESOLUTION = timedelta(microseconds=1)


_PRESENT: ContextVar[datetime | None] = ContextVar("mltrl_present", default=None)
_TODAY: date | None = None  # freeze_today's day, for the whole process


def freeze_today(day: date | None) -> None:
    """From now on, in this whole process, "today" is ``day`` while the time of day keeps running
    (None: the clock again). A server started with ``MLTRL_TODAY`` shows the demo as on that day,
    for reproducible screenshots and walks; nothing else sets it."""
    global _TODAY
    _TODAY = None if day is None else _as_date(day)


def now() -> datetime:
    """The present instant, aware UTC (the one ``recorded_at`` sets, inside it; on the frozen day,
    when ``freeze_today`` set one)."""
    moment = _PRESENT.get()
    if moment is not None:
        return moment
    real = datetime.now(UTC)
    return real if _TODAY is None else datetime.combine(_TODAY, real.timetz())


@contextmanager
def recorded_at(moment: datetime) -> Iterator[datetime]:
    """Inside the block, "now" is ``moment`` (aware UTC) for ``now``, ``today`` and every stamp
    the services write; outside it, the clock again. Nests; per thread (a ``ContextVar``)."""
    moment = as_utc(moment, field="at")
    token = _PRESENT.set(moment)
    try:
        yield moment
    finally:
        _PRESENT.reset(token)


def today() -> date:
    """The UTC day of the present instant."""
    return now().date()


def day_start(day: date) -> datetime:
    """The first instant of ``day`` (UTC)."""
    return datetime.combine(_as_date(day), time(), tzinfo=UTC)


def day_end(day: date) -> datetime:
    """The first instant after ``day`` (UTC): "by D" means before this."""
    return day_start(day) + ONE_DAY


def last_instant(day: date) -> datetime:
    """The last instant of ``day`` (UTC), for comparisons written "at or before"."""
    return day_end(day) - RESOLUTION


def last_day_before(end: datetime) -> date:
    """The last day a period ending (exclusively) at ``end`` covers: ``day_end(D)`` gives ``D``."""
    return (as_utc(end, field="end") - RESOLUTION).date()


def as_of_instant(day: date, *, moment: datetime | None = None) -> datetime:
    """"As of D" as an instant: the end of D, or the present moment when D is today or later (a
    report as of today counts what has happened so far, not the rest of the day)."""
    present = moment or now()
    return min(last_instant(day), present)


def _as_date(value: date) -> date:
    if isinstance(value, datetime):
        return as_utc(value).date()
    return value


def as_utc(value: datetime | date | None, *, field: str = "at") -> datetime | None:
    """``value`` as an aware UTC datetime; a naive value or a plain date is taken as UTC.
    Refused (naming ``field``) when it is not a date, or when it lies outside the window."""
    if value is None:
        return None
    if isinstance(value, datetime):
        try:
            result = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError:
            raise InvalidInput(field, f"{value.isoformat()} is outside the dates this tool keeps ({WINDOW})") from None
    elif isinstance(value, date):
        result = datetime(value.year, value.month, value.day, tzinfo=UTC)
    else:
        raise InvalidInput(field, f"expected a date or date-time, got {type(value).__name__}")
    if not EARLIEST <= result <= LATEST:
        raise InvalidInput(field, f"{result.date().isoformat()} is outside the dates this tool keeps ({WINDOW})")
    return result


def parse_when(text: object, *, field: str = "at") -> datetime:
    """An ISO 8601 date or date-time typed by a person (naive means UTC), within the window."""
    raw = text.strip() if isinstance(text, str) else ""
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        shown = text if isinstance(text, str) else type(text).__name__
        raise InvalidInput(
            field, f"{shown!r} is not an ISO 8601 date such as 2025-03-31 or 2025-03-31T14:00"
        ) from None
    result = as_utc(parsed, field=field)
    assert result is not None
    return result


def parse_day(text: object, *, field: str = "date") -> date:
    """A calendar day typed as ``YYYY-MM-DD`` (a date-time is refused: a day has no hour), within
    the window."""
    raw = text.strip() if isinstance(text, str) else ""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        shown = text if isinstance(text, str) else type(text).__name__
        raise InvalidInput(field, f"{shown!r} is not a date such as 2025-03-31") from None
    as_utc(day, field=field)
    return day
