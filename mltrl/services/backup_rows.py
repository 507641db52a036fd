"""The rows of a backup: column values to JSON and back, every row checked as the services would.

A restore writes rows without going through the use cases, so this module holds them to the same
rules before anything is written, in two layers:

* **Generic, from ``SQLModel.metadata`` and the models** (a table added later is covered): a
  column that is not nullable needs a value; booleans must be booleans; integers must be integers
  (not booleans, not 4.5) within the column type's range, and primary keys at least 1; floats
  finite numbers; text must be text (``mltrl.domain.fields``: no control characters) within the
  column's length; date-times and days parseable and inside ``mltrl.domain.days``' window; JSON
  columns of the shape the model declares (an object, a list, a list of text). Across rows:
  primary keys and unique columns unique, and every foreign key naming a row of the file.
* **The domain's rules, per table** (``backup_rules.RULES``: codes, levels, p and value, roles,
  card content, quarters...), and across rows no cycle in the technology tree and settings that
  obey the policy.

Every problem becomes one entry of a ``RowErrors`` naming the table, the row (counted from 1 in
the file's table) and the field; the first ``MAX_ERRORS`` are collected, then the check stops.
"""

from __future__ import annotations

import base64
import typing
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    Interval,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Table,
    Time,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.types import TypeDecorator, TypeEngine
from sqlmodel import SQLModel

from mltrl.domain import days, fields
from mltrl.domain.errors import InvalidInput, RowErrors
from mltrl.services.backup_rules import (
    RULES,
    check_card_content,  # noqa: F401  (part of this module's interface)
    kind_of,
    reason,
    settings_problem,
    short,
    tree_cycles,
)

MAX_ERRORS = 50
_UNLIMITED = 10**9
_INT_RANGE = {SmallInteger: 15, BigInteger: 63, Integer: 31}  # bits: PostgreSQL's int2, int8, int4


def base_type(column: Column) -> TypeEngine:
    kind = column.type
    while isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    return kind


# --- values out -----------------------------------------------------------------------------------


def to_json(column: Column, value: Any) -> Any:
    """A column value as a JSON value: date-times as ISO 8601 in UTC with the offset, dates and
    times as ISO 8601, JSON columns as JSON, decimals and UUIDs as strings, bytes as base64."""
    if value is None or isinstance(base_type(column), JSON):
        return value
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, (bool, int, str, float)):
        return value
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"{column.table.name}.{column.name}: cannot back up a {type(value).__name__} value")


# --- values in: the generic checks -------------------------------------------------------------

def _integer(column: Column) -> Callable[[Any], int]:
    bits = next((b for t, b in _INT_RANGE.items() if isinstance(base_type(column), t)), 63)
    low, high = (1 if column.primary_key else -(2 ** bits)), 2 ** bits - 1

    def read(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(column.name, f"expected a whole number, got {kind_of(value)} {short(value)}")
        if not low <= value <= high:
            raise InvalidInput(column.name, f"{short(value)} is outside {low}..{high}")
        return value

    return read


def _float(column: Column, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(column.name, f"expected a number, got {kind_of(value)} {short(value)}")
    return float(value)


def _text(column: Column) -> Callable[[Any], str]:
    limit = getattr(base_type(column), "length", None)
    kind = fields.Block(limit or _UNLIMITED)

    def read(value: Any) -> str:
        if not isinstance(value, str):
            raise InvalidInput(column.name, f"expected text, got {kind_of(value)} {short(value)}")
        if limit is not None and len(value) > limit:
            raise InvalidInput(column.name, f"at most {limit} characters (got {len(value)})")
        fields.checked(column.name, kind, value)  # text, without control characters
        return value

    return read


def _json(column: Column, value: Any, annotation: Any) -> Any:
    shape = typing.get_origin(annotation) or annotation
    if shape in (dict, list) and not isinstance(value, shape):
        raise InvalidInput(column.name, f"expected {kind_of(shape())}, got {kind_of(value)}")
    args = typing.get_args(annotation)
    if shape is list and args and args[0] is str and not all(isinstance(v, str) for v in value):
        raise InvalidInput(column.name, "expected a list of text")
    for text in _strings(value):
        if "\x00" in text:
            raise InvalidInput(column.name, "text inside it holds a NUL character, which no database keeps")
    return value


def _strings(value: Any) -> Iterator[str]:
    """Every key and string inside a JSON value, walked without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            yield from item.keys()
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _other(column: Column, value: Any) -> Any:
    """Types the schema does not use today (kept so a new column of such a type still restores)."""
    kind = base_type(column)
    try:
        if isinstance(kind, Time):
            return time.fromisoformat(_must_be_text(value))
        if isinstance(kind, Numeric) and getattr(kind, "asdecimal", False):
            return Decimal(str(value))
        if isinstance(kind, Uuid):
            return uuid.UUID(_must_be_text(value)) if kind.as_uuid else _must_be_text(value)
        if isinstance(kind, Interval):
            return timedelta(seconds=float(value))
        if isinstance(kind, LargeBinary):
            return base64.b64decode(_must_be_text(value), validate=True)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise InvalidInput(column.name, str(exc)[:200]) from None
    return value


def _must_be_text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {kind_of(value)}")
    return value

def _typed(column: Column, annotation: Any) -> Callable[[Any], Any]:
    """The check of a non-null value of ``column``'s type (chosen once per column)."""
    kind = base_type(column)
    if isinstance(kind, JSON):
        return lambda value: _json(column, value, annotation)
    if isinstance(kind, Boolean):
        def boolean(value: Any) -> bool:
            if not isinstance(value, bool):
                raise InvalidInput(column.name, f"expected true or false, got {kind_of(value)} {short(value)}")
            return value
        return boolean
    if isinstance(kind, Integer):
        return _integer(column)
    if isinstance(kind, Float):
        return lambda value: _float(column, value)
    if isinstance(kind, DateTime):
        aware = kind.timezone or column.type is not kind

        def instant(value: Any) -> datetime:
            parsed = days.parse_when(_must_be(column, value), field=column.name)
            return parsed if aware else parsed.replace(tzinfo=None)
        return instant
    if isinstance(kind, Date):
        return lambda value: days.parse_day(_must_be(column, value), field=column.name)
    if isinstance(kind, String):
        return _text(column)
    return lambda value: _other(column, value)


def reader(column: Column, annotation: Any) -> Callable[[Any], Any]:
    """A function turning a file's JSON value into what ``column`` takes, or refusing it."""
    typed = _typed(column, annotation)
    nullable = column.nullable

    def read(value: Any) -> Any:
        if value is None:
            if not nullable:
                raise InvalidInput(column.name, "required (null is not allowed here)")
            return None
        return typed(value)

    return read


def _must_be(column: Column, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInput(column.name, f"expected an ISO 8601 date as text, got {kind_of(value)} {short(value)}")
    return value

# --- a whole file -------------------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.errors: list[tuple[int | str, str, str]] = []

    def add(self, table: str, number: int, field: str, reason: str) -> None:
        self.errors.append((f"row {number} of table {table}", field, reason))
        if len(self.errors) >= MAX_ERRORS:
            raise self.refusal()

    def refusal(self) -> RowErrors:
        return RowErrors("file", self.errors)


def _models() -> dict[str, type[SQLModel]]:
    return {mapper.local_table.name: mapper.class_ for mapper in SQLModel._sa_registry.mappers}


def read_rows(plan: list[tuple[Table, dict[str, Any]]]) -> list[tuple[Table, list[dict[str, Any]]]]:
    """Every row of the file as column values, checked (see the module docstring); ``RowErrors``
    naming each bad row's table, row and field when any fails."""
    problems = _Problems()
    by_model = _models()
    out: list[tuple[Table, list[dict[str, Any]]]] = []
    for table, entry in plan:
        model = by_model.get(table.name)
        annotations = {name: f.annotation for name, f in (model.model_fields if model else {}).items()}
        columns = [table.columns[name] for name in entry["columns"]]
        readers = [reader(c, annotations.get(c.name, Any)) for c in columns]
        rule = RULES.get(table.name)
        rows = []
        for number, raw in enumerate(entry["rows"], start=1):
            row, bad = {}, False
            for column, read, value in zip(columns, readers, raw):
                try:
                    row[column.name] = read(value)
                except InvalidInput as exc:
                    problems.add(table.name, number, exc.field, reason(exc))
                    bad = True
            if not bad and rule is not None:
                try:
                    rule(row)
                except InvalidInput as exc:
                    problems.add(table.name, number, exc.field, reason(exc))
            rows.append(row)
        out.append((table, rows))
    if not problems.errors:
        _across_rows(out, problems)
    if problems.errors:
        raise problems.refusal()
    return out


def _unique_sets(table: Table) -> list[tuple[Column, ...]]:
    sets = [tuple(table.primary_key.columns)]
    sets += [(c,) for c in table.columns if c.unique]
    sets += [tuple(c.columns) for c in table.constraints if isinstance(c, UniqueConstraint)]
    return [s for s in sets if s]


def _across_rows(tables: list[tuple[Table, list[dict[str, Any]]]], problems: _Problems) -> None:
    """Unique keys, foreign keys, the technology tree and the settings, over the whole file."""
    referenced = {(fk.column.table.name, fk.column.name) for table, _ in tables for fk in table.foreign_keys}
    keys: dict[tuple[str, str], set[Any]] = {}
    for table, rows in tables:
        for columns in _unique_sets(table):
            seen: set[tuple[Any, ...]] = set()
            for number, row in enumerate(rows, start=1):
                key = tuple(row[c.name] for c in columns)
                if None in key:
                    continue
                if key in seen:
                    problems.add(table.name, number, columns[0].name if len(columns) == 1 else
                                 "+".join(c.name for c in columns), f"{short(key if len(key) > 1 else key[0])} "
                                                                     "appears in an earlier row too (must be unique)")
                seen.add(key)
        for column in table.columns:
            if (table.name, column.name) in referenced:
                keys[(table.name, column.name)] = {row[column.name] for row in rows}
    for table, rows in tables:
        for fk in table.foreign_keys:
            known = keys.get((fk.column.table.name, fk.column.name), set())
            for number, row in enumerate(rows, start=1):
                value = row[fk.parent.name]
                if value is not None and value not in known:
                    problems.add(table.name, number, fk.parent.name,
                                 f"{short(value)} names no row of table {fk.column.table.name}")
    by_name = {table.name: rows for table, rows in tables}
    for number in tree_cycles(by_name.get("project", [])):
        problems.add("project", number, "parent_id", "the technology tree has a cycle through it")
    found = settings_problem(by_name.get("orgsetting", []))
    if found:
        problems.add("orgsetting", found[0], "value", found[1])
