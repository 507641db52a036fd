"""OKRs in quarters: the calendar arithmetic and the checks of what people type. Pure: no database,
no streamlit.

* A quarter is written ``YYYY-Qn`` (``2027-Q1``); ``parse_quarter`` also reads surrounding spaces
  and a lower-case ``q``, and nothing else. Years run 2000-2100. Quarters sort in time order, and so
  do their strings (fixed width), which is how they are stored.
* A key result reads "technology X reaches level >= L by date D". D is a calendar day and is
  inclusive: "by D" means by the end of D. It defaults to the last day of the objective's quarter.
* Copying an objective into another quarter moves each due date to the same place in the new
  quarter (``move_due``): a due on the old quarter's last day becomes the new quarter's last day;
  any other due keeps its distance in days from the quarter's first day, clamped into the new
  quarter (quarters are 90-92 days long, so the 91st day of a 92-day quarter lands on the last day
  of a 90-day one).
* Confidence in a check-in is a whole number 0-10; a target level is a whole number 0-9.
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from mltrl.domain.errors import InvalidInput

YEAR_MIN = 2000
YEAR_MAX = 2100
CONFIDENCE_MIN = 0
CONFIDENCE_MAX = 10
LEVEL_MIN = 0
LEVEL_MAX = 9

QUARTER_FORM = "YYYY-Qn, e.g. 2027-Q1"
_QUARTER = re.compile(r"^([0-9]{4})-[Qq]([1-4])$")


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter: ``Quarter(2027, 1)`` is January to March 2027 (``str``: ``2027-Q1``)."""

    year: int
    number: int

    def __post_init__(self) -> None:
        for name, value in (("year", self.year), ("number", self.number)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInput("quarter", f"the {name} must be a whole number, got {value!r}")
        if not 1 <= self.number <= 4:
            raise InvalidInput("quarter", f"quarter {self.number} does not exist: quarters are numbered 1-4")
        if not YEAR_MIN <= self.year <= YEAR_MAX:
            raise InvalidInput("quarter", f"{self.year} is outside the years {YEAR_MIN}-{YEAR_MAX}")

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def start(self) -> date:
        """The quarter's first day."""
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        """The quarter's last day (a due date on it means "by the end of the quarter")."""
        month = 3 * self.number
        return date(self.year, month, calendar.monthrange(self.year, month)[1])

    @property
    def length(self) -> int:
        """How many days the quarter has (90-92)."""
        return (self.end - self.start).days + 1

    def days(self) -> list[date]:
        """Every day of the quarter, in order."""
        first = self.start
        return [first + timedelta(days=n) for n in range(self.length)]

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= _plain_date(day) <= self.end

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)


def _plain_date(day: date) -> date:
    if isinstance(day, datetime):
        return (day.astimezone(UTC) if day.tzinfo is not None else day).date()
    return day


def parse_quarter(text: object, *, field: str = "quarter") -> Quarter:
    """``text`` (``2027-Q1``, `` 2027-q1 ``) as a Quarter; anything else is refused, naming ``field``."""
    if isinstance(text, Quarter):
        return text
    raw = text.strip() if isinstance(text, str) else None
    match = _QUARTER.match(raw) if raw is not None else None
    if match is None:
        raise InvalidInput(field, f"{text!r} is not a quarter; write it as {QUARTER_FORM}")
    year, number = int(match.group(1)), int(match.group(2))
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise InvalidInput(field, f"{text!r} is outside the years {YEAR_MIN}-{YEAR_MAX}")
    return Quarter(year, number)


def quarter_of(day: date) -> Quarter:
    """The quarter ``day`` falls in (an aware date-time is taken in UTC)."""
    day = _plain_date(day)
    return Quarter(day.year, (day.month - 1) // 3 + 1)


def move_due(due: date, source: Quarter, target: Quarter) -> date:
    """Where a due date of a key result in ``source`` lands when copied into ``target`` (see the
    module docstring): the last day stays the last day, otherwise the same offset from the first
    day, clamped into ``target``."""
    if due == source.end:
        return target.end
    moved = target.start + (due - source.start)
    return min(max(moved, target.start), target.end)


def parse_day(value: object, *, field: str = "due") -> date:
    """A calendar day from a date, a date-time (its UTC day) or an ISO 8601 date string."""
    if isinstance(value, date):
        return _plain_date(value)
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidInput(field, f"{value!r} is not a date: give one such as 2027-03-31")


def _whole_number(raw: object, *, field: str, low: int, high: int, what: str) -> int:
    allowed = f"a whole number from {low} to {high}"
    if raw is None or isinstance(raw, bool) or (isinstance(raw, str) and not raw.strip()):
        raise InvalidInput(field, f"{raw!r} is not {what}: give {allowed}")
    try:
        number = float(raw.strip()) if isinstance(raw, str) else float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput(field, f"{raw!r} is not {what}: give {allowed}") from None
    if math.isnan(number) or math.isinf(number) or number != int(number):
        raise InvalidInput(field, f"{raw!r} is not a whole number: give {allowed}")
    value = int(number)
    if not low <= value <= high:
        raise InvalidInput(field, f"{value} is outside {low}-{high}: give {allowed}")
    return value


def parse_confidence(raw: object, *, field: str = "confidence") -> int:
    """A check-in's confidence that the key result will be met: a whole number 0-10."""
    return _whole_number(raw, field=field, low=CONFIDENCE_MIN, high=CONFIDENCE_MAX, what="a confidence")


def parse_target_level(raw: object, *, field: str = "target_level") -> int:
    """The level a key result's technology is to reach: a whole number 0-9."""
    return _whole_number(raw, field=field, low=LEVEL_MIN, high=LEVEL_MAX, what="a level")
