"""Risk arithmetic, matrix bands and register rules. Pure.

MLTRL puts a risk on every requirement and every risk item: ``risk = p(failure) x value``, with
p(failure) a probability and value an integer 1-10. The 5x5 matrix bands both:

* p(failure) in five bands of width 0.2; a value on an edge belongs to the higher band (0.2 is band
  2), and 1.0 is band 5;
* value in 1-2, 3-4, 5-6, 7-8, 9-10.

A cell's score is p band x value band (1-25); the score's grade (low, moderate, high, critical)
colours the cell and sets how often a risk in it is reviewed. Band edges, grades, colours and the
default review cadences are defined here once; the services count cells in SQL with
``p_band_sql``/``value_band_sql``, built from the same edges.

Also here: reading p(failure) as people write it (``0.3`` or ``30%``), checking value, the
requirement number format (``n``, ``n.subset``, ``n.subset.component``) and its numeric sort key,
the next-review date and review state of a risk (``review_state``: the one definition the pages
show), and an acceptance end written in a CSV cell and read back (``until_cell``/``parse_until``).
Numbers are read strictly (a decimal, or a percentage for p): ``inf``, ``nan``, ``1e309``, ``0x10``
or ``1_0`` are refused by name, never an ``OverflowError``. This module imports neither streamlit
nor the database.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from mltrl.domain import days
from mltrl.domain.errors import InvalidInput

P_EDGES: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8)  # lower edges of bands 2..5
VALUE_EDGES: tuple[int, ...] = (3, 5, 7, 9)  # lower edges of bands 2..5
BANDS = (1, 2, 3, 4, 5)
P_BAND_LABELS = ("0-0.2", "0.2-0.4", "0.4-0.6", "0.6-0.8", "0.8-1")
VALUE_BAND_LABELS = ("1-2", "3-4", "5-6", "7-8", "9-10")
VALUE_MIN, VALUE_MAX = 1, 10


@dataclass(frozen=True)
class Grade:
    """How serious a matrix cell is: the cell score's grade, its colour and review cadence."""

    name: str
    max_score: int  # the highest cell score (p band x value band) in this grade
    colour: str
    review_days: int  # default cadence: a risk in this grade is reviewed this often


GRADES: tuple[Grade, ...] = (
    Grade("low", 4, "#4caf50", 90),
    Grade("moderate", 9, "#ffc107", 60),
    Grade("high", 16, "#ff7043", 30),
    Grade("critical", 25, "#c62828", 14),
)


class Kind(StrEnum):
    RESEARCH = "research"
    PRODUCT = "product"


class VVStatus(StrEnum):
    """Verification or validation status of a requirement."""

    NOT_STARTED = "not started"
    IN_PROGRESS = "in progress"
    PASSED = "passed"
    FAILED = "failed"


class Category(StrEnum):
    SCIENCE = "science"
    TECHNICAL = "technical"
    DATA = "data"
    ETHICS = "ethics"
    SECURITY = "security & privacy"
    SIM_TO_REAL = "sim-to-real"
    PROJECT = "project/business"


class RiskStatus(StrEnum):
    OPEN = "open"
    MITIGATING = "mitigating"
    ACCEPTED = "accepted"
    CLOSED = "closed"


PRODUCT_FROM_LEVEL = 5  # requirements are research requirements below level 5, product from it


def default_kind(level: int | None) -> Kind:
    return Kind.PRODUCT if level is not None and level >= PRODUCT_FROM_LEVEL else Kind.RESEARCH


# --- bands --------------------------------------------------------------------------------------


def p_band(p: float) -> int:
    """The likelihood band (1-5) of p(failure); an edge belongs to the higher band."""
    return 1 + sum(1 for edge in P_EDGES if p >= edge)


def value_band(value: int) -> int:
    """The value band (1-5): 1-2, 3-4, 5-6, 7-8, 9-10."""
    return 1 + sum(1 for edge in VALUE_EDGES if value >= edge)


def score(p: float, value: int) -> float:
    """risk = p(failure) x value."""
    return p * value


def cell_score(pb: int, vb: int) -> int:
    return pb * vb


def grade(pb: int, vb: int) -> Grade:
    """The grade of matrix cell (p band, value band)."""
    s = cell_score(pb, vb)
    return next(g for g in GRADES if s <= g.max_score)


def grade_of(p: float, value: int) -> Grade:
    return grade(p_band(p), value_band(value))


def _band_sql(column: str, edges: tuple) -> str:
    cases = " ".join(f"WHEN {column} >= {edge!r} THEN {k}" for k, edge in reversed(list(enumerate(edges, start=2))))
    return f"CASE {cases} ELSE 1 END"


def p_band_sql(column: str = "p_failure") -> str:
    """SQL for ``p_band`` of a column (same edges, same rule), for counting cells in the database."""
    return _band_sql(column, P_EDGES)


def value_band_sql(column: str = "value") -> str:
    return _band_sql(column, VALUE_EDGES)


def cell_score_sql(p_column: str = "p_failure", value_column: str = "value") -> str:
    """SQL for the cell score (p band x value band) of a row."""
    return f"(({p_band_sql(p_column)}) * ({value_band_sql(value_column)}))"


def grade_score_ranges() -> list[tuple[Grade, int, int]]:
    """Each grade with the lowest and highest cell score it covers."""
    lows = [1] + [g.max_score + 1 for g in GRADES[:-1]]
    return [(g, lo, g.max_score) for g, lo in zip(GRADES, lows)]


def empty_matrix() -> dict[tuple[int, int], int]:
    return {(pb, vb): 0 for pb in BANDS for vb in BANDS}


def matrix_cells(counts: dict[tuple[int, int], int]) -> list[dict[str, int]]:
    """All 25 cells as ``{"p_band", "value_band", "count"}``, p band then value band ascending."""
    full = empty_matrix() | dict(counts)
    return [{"p_band": pb, "value_band": vb, "count": full[(pb, vb)]} for pb in BANDS for vb in BANDS]


# --- reading what people type -------------------------------------------------------------------

_DECIMAL = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_NUMBER_TEXT = re.compile(rf"({_DECIMAL})")
_PERCENT_TEXT = re.compile(rf"({_DECIMAL})[ \t]*%")
NUMBER_TEXT_MAX = 40  # longer text is no number a person types; refused before it is read


def shown(raw: object, limit: int = 40) -> str:
    """``raw`` as a refusal quotes it: its repr, cut to about ``limit`` characters."""
    if isinstance(raw, str) and len(raw) > limit:
        raw = raw[:limit]
    try:
        text = repr(raw)
    except ValueError:  # an int too long to print
        text = f"{type(raw).__name__} too long to show"
    return text if len(text) <= limit else text[:limit] + "...'"


def _number(raw: object, field: str, allowed: str, *, percent: bool) -> float:
    """A finite number from what a person typed: a decimal such as ``0.3``, ``3`` or ``1e-2``
    (``percent``: also ``30%``, divided by 100). Refused: text that is no decimal (``0x10``,
    ``1_0``, ``nan``, ``inf``), numbers too large for a float (``1e309``), booleans."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise InvalidInput(field, f"required: {allowed}")
    if isinstance(raw, bool) or not isinstance(raw, (str, numbers.Real)):
        raise InvalidInput(field, f"{shown(raw)} is not {allowed}")
    if isinstance(raw, str):
        text = raw.strip()
        if len(text) > NUMBER_TEXT_MAX:
            raise InvalidInput(field, f"{shown(raw)} is not {allowed}")
        plain, pct = _NUMBER_TEXT.fullmatch(text), _PERCENT_TEXT.fullmatch(text) if percent else None
        if plain is None and pct is None:
            raise InvalidInput(field, f"{shown(raw)} is not {allowed}")
        number = float(plain.group(1)) if plain else float(pct.group(1)) / 100
    else:
        try:
            number = float(raw)
        except OverflowError:  # an int past a float's range
            number = math.inf
    if not math.isfinite(number):
        raise InvalidInput(field, f"{shown(raw)} is not {allowed}")
    return number + 0.0  # -0.0 becomes 0.0


def parse_probability(raw: object, *, field: str = "p_failure") -> float:
    """p(failure) from 0.3, "0.3" or "30%"; outside [0, 1] (0% to 100%) is refused."""
    allowed = "a probability between 0 and 1, such as 0.3, or a percentage such as 30%"
    p = _number(raw, field, allowed, percent=True)
    if not 0.0 <= p <= 1.0:
        raise InvalidInput(field, f"{shown(raw)} is outside 0 to 1 (0% to 100%): give {allowed}")
    return round(p, 6) + 0.0


def parse_value(raw: object, *, field: str = "value") -> int:
    """value, an integer 1-10."""
    allowed = f"an integer from {VALUE_MIN} to {VALUE_MAX}"
    number = _number(raw, field, allowed, percent=False)
    if number != int(number):
        raise InvalidInput(field, f"{shown(raw)} is not an integer: give {allowed}")
    value = int(number)
    if not VALUE_MIN <= value <= VALUE_MAX:
        raise InvalidInput(field, f"{value} is outside {VALUE_MIN}-{VALUE_MAX}: give {allowed}")
    return value


def parse_level(raw: object, *, field: str = "level") -> int | None:
    """The level a requirement was introduced at, an integer 0-9; empty (or NaN, as an empty grid
    cell arrives) means none given."""
    if raw is None or (isinstance(raw, str) and not raw.strip()) or (isinstance(raw, float) and math.isnan(raw)):
        return None
    allowed = "a level: an integer from 0 to 9"
    number = _number(raw, field, allowed, percent=False)
    if number != int(number) or not 0 <= number <= 9:
        raise InvalidInput(field, f"{shown(raw)} is not {allowed}")
    return int(number)


def parse_choice(raw: object, enum: type[StrEnum], *, field: str, default: StrEnum | None = None) -> StrEnum:
    """A choice from ``enum``, matched without regard to case, spaces, '_' or '-'."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        if default is not None:
            return default
        raise InvalidInput(field, f"required: one of {', '.join(e.value for e in enum)}")

    def norm(s: str) -> str:
        return re.sub(r"[\s_\-/&]+", "", s.lower())

    for member in enum:
        if norm(member.value) == norm(text) or norm(member.name) == norm(text):
            return member
    raise InvalidInput(field, f"{shown(text)} is not one of {', '.join(e.value for e in enum)}")


# --- requirement numbers ------------------------------------------------------------------------

NUMBER_PATTERN = r"^[1-9][0-9]{0,5}(\.[0-9]{1,6}){0,2}$"  # also the grid's check as a number is typed
_NUMBER = re.compile(NUMBER_PATTERN)


def parse_number(raw: object, *, field: str = "number") -> str:
    """A requirement number: ``n``, ``n.subset`` or ``n.subset.component`` (e.g. 2, 2.1, 2.1.3)."""
    text = "" if raw is None else str(raw).strip()
    if not _NUMBER.fullmatch(text):
        raise InvalidInput(field, f"{shown(text)} is not a requirement number: write n, n.subset or n.subset.component, "
                                  "e.g. 2, 2.1 or 2.1.3 (top level from 1)")
    return ".".join(str(int(part)) for part in text.split("."))


def number_sort_key(number: str) -> str:
    """A key that sorts requirement numbers numerically as text (1.9 before 1.10), for SQL."""
    return ".".join(f"{int(part):06d}" for part in number.split("."))


def is_top_level(number: str) -> bool:
    return "." not in number


# --- review cadence -----------------------------------------------------------------------------


def review_days(pb: int, vb: int, cadences: Mapping[str, int] | None = None) -> int:
    """How many days may pass between reviews of a risk in cell (pb, vb)."""
    g = grade(pb, vb)
    return (cadences or {}).get(g.name, g.review_days)


def next_review(last_review: datetime, p: float, value: int, cadences: Mapping[str, int] | None = None, *,
                accepted_until: datetime | None = None) -> datetime:
    """When a risk is next due for review: its last review plus its grade's cadence, or, for an
    accepted risk, the day its acceptance runs out if that comes first."""
    due = last_review + timedelta(days=review_days(p_band(p), value_band(value), cadences))
    return min(due, accepted_until) if accepted_until is not None else due


def overdue(last_review: datetime, p: float, value: int, now: datetime, cadences: Mapping[str, int] | None = None,
            *, accepted_until: datetime | None = None) -> bool:
    return next_review(last_review, p, value, cadences, accepted_until=accepted_until) < now


@dataclass(frozen=True)
class ReviewState:
    """Where a risk stands with its reviews: its grade, the grade's cadence, when it is next due
    (``None`` once closed) and whether that moment has passed."""

    grade: Grade
    cadence_days: int
    next_review: datetime | None
    overdue: bool


def review_state(*, last_review: datetime, p: float, value: int, status: str, now: datetime,
                 cadences: Mapping[str, int] | None = None, accepted_until: datetime | None = None) -> ReviewState:
    """The review state of a risk at ``now``: the one definition the pages show and the services'
    SQL (``last review < now - cadence``, or ``acceptance end < now``) counts. Only an accepted
    risk's acceptance end counts; a closed risk is never due."""
    g = grade_of(p, value)
    days = review_days(p_band(p), value_band(value), cadences)
    if status == RiskStatus.CLOSED:
        return ReviewState(g, days, None, False)
    until = accepted_until if status == RiskStatus.ACCEPTED else None
    due = next_review(last_review, p, value, cadences, accepted_until=until)
    return ReviewState(g, days, due, due < now)


# --- acceptance ends in files -------------------------------------------------------------------


def until_cell(until: datetime) -> str:
    """An acceptance end as a CSV cell: the day alone (``2027-03-31``) when it is that day's last
    instant (what "accepted until D" stores), else the full ISO instant, so reading it back with
    ``parse_until`` gives the same instant."""
    until = days.as_utc(until, field="accepted_until")
    if until == days.last_instant(until.date()):
        return until.date().isoformat()
    return until.isoformat()


def parse_until(text: object, *, field: str = "accepted_until") -> datetime:
    """An acceptance end read from a cell: a day ``D`` means until the end of D (its last
    instant, as the page's Accept stores it); a date-time is that instant (naive = UTC)."""
    raw = text.strip() if isinstance(text, str) else text
    if isinstance(raw, str) and len(raw) == 10:
        return days.last_instant(days.parse_day(raw, field=field))
    return days.parse_when(raw, field=field)
