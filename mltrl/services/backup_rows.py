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
* **The domain's rules, per table** (``RULES``): project codes as ``services.projects.clean_code``
  accepts them, levels through ``mltrl.domain.levels``, p(failure) and value through
  ``mltrl.domain.risk``, roles through ``mltrl.domain.permissions``, user names and e-mails as
  ``services.users`` accepts them, card content through the card model's ``validate``, quarters,
  target levels and confidences through ``mltrl.domain.okr``, percents through
  ``mltrl.domain.gates``, settings through ``mltrl.domain.policy``, criteria and ethics checklists
  as ``services.reviews`` checks them; no technology is its own ancestor.

Every problem becomes one entry of a ``RowErrors`` naming the table, the row (counted from 1 in
the file's table) and the field; the first ``MAX_ERRORS`` are collected, then the check stops.
"""

from __future__ import annotations

import base64
import typing
import uuid
from collections.abc import Callable, Iterator
from dataclasses import fields as dataclass_fields
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

from mltrl import db, models
from mltrl.domain import cards, days, fields, gates, levels, okr, permissions, policy
from mltrl.domain import risk as risk_rules
from mltrl.domain.errors import InvalidInput, MltrlError, RowErrors
from mltrl.services import reviews, users
from mltrl.services.projects import clean_code

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


def _kind(value: Any) -> str:
    return "null" if value is None else {dict: "an object", list: "a list", bool: "a boolean", str: "text",
                                         int: "an integer", float: "a number"}.get(type(value), type(value).__name__)


def _integer(column: Column) -> Callable[[Any], int]:
    bits = next((b for t, b in _INT_RANGE.items() if isinstance(base_type(column), t)), 63)
    low, high = (1 if column.primary_key else -(2 ** bits)), 2 ** bits - 1

    def read(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(column.name, f"expected a whole number, got {_kind(value)} {_short(value)}")
        if not low <= value <= high:
            raise InvalidInput(column.name, f"{_short(value)} is outside {low}..{high}")
        return value

    return read


def _float(column: Column, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(column.name, f"expected a number, got {_kind(value)} {_short(value)}")
    return float(value)


def _text(column: Column) -> Callable[[Any], str]:
    limit = getattr(base_type(column), "length", None)
    kind = fields.Block(limit or _UNLIMITED)

    def read(value: Any) -> str:
        if not isinstance(value, str):
            raise InvalidInput(column.name, f"expected text, got {_kind(value)} {_short(value)}")
        if limit is not None and len(value) > limit:
            raise InvalidInput(column.name, f"at most {limit} characters (got {len(value)})")
        fields.checked(column.name, kind, value)  # text, without control characters
        return value

    return read


def _json(column: Column, value: Any, annotation: Any) -> Any:
    shape = typing.get_origin(annotation) or annotation
    if shape in (dict, list) and not isinstance(value, shape):
        raise InvalidInput(column.name, f"expected {_kind(shape())}, got {_kind(value)}")
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
        raise TypeError(f"expected text, got {_kind(value)}")
    return value


def _reason(exc: InvalidInput) -> str:
    """The refusal's message without its leading "field: "."""
    prefix = f"{exc.field}: "
    return exc.message[len(prefix):] if exc.message.startswith(prefix) else exc.message


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _typed(column: Column, annotation: Any) -> Callable[[Any], Any]:
    """The check of a non-null value of ``column``'s type (chosen once per column)."""
    kind = base_type(column)
    if isinstance(kind, JSON):
        return lambda value: _json(column, value, annotation)
    if isinstance(kind, Boolean):
        def boolean(value: Any) -> bool:
            if not isinstance(value, bool):
                raise InvalidInput(column.name, f"expected true or false, got {_kind(value)} {_short(value)}")
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
        raise InvalidInput(column.name, f"expected an ISO 8601 date as text, got {_kind(value)} {_short(value)}")
    return value


# --- the domain's rules, per table -------------------------------------------------------------


def _one_of(row: dict[str, Any], name: str, allowed: Any, *, nullable: bool = False) -> None:
    allowed = [getattr(a, "value", a) for a in allowed]
    value = row.get(name)
    if value is None and nullable:
        return
    if value not in allowed:
        raise InvalidInput(name, f"{_short(value)} is not one of {', '.join(map(str, allowed))}")


def _level(row: dict[str, Any], name: str, *, nullable: bool = False) -> None:
    value = row.get(name)
    if value is None and nullable:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not levels.MIN_LEVEL <= value <= levels.MAX_LEVEL:
        raise InvalidInput(name, f"{_short(value)} is not a level: levels are whole numbers "
                                 f"{levels.MIN_LEVEL}-{levels.MAX_LEVEL}")


def _same(name: str, value: Any, clean: Any) -> None:
    if clean != value:
        raise InvalidInput(name, f"{_short(value)} is not in the form the services store ({_short(clean)})")


def _required(row: dict[str, Any], *names: str) -> None:
    for name in names:
        if not (row.get(name) or "").strip():
            raise InvalidInput(name, "required")


def _project(row: dict[str, Any]) -> None:
    _same("code", row["code"], clean_code(row["code"]))
    _required(row, "name", "created_by")
    _one_of(row, "status", models.PROJECT_STATUSES)
    _level(row, "level", nullable=True)
    if row.get("parent_id") is not None and row["parent_id"] == row["id"]:
        raise InvalidInput("parent_id", "a technology cannot be its own component")


def _level_event(row: dict[str, Any]) -> None:
    _level(row, "from_level", nullable=True)
    _level(row, "to_level")
    _one_of(row, "kind", levels.EventKind)
    _one_of(row, "switchback_kind", levels.SwitchbackKind, nullable=True)
    if (row["kind"] == levels.EventKind.SWITCHBACK) != (row["switchback_kind"] is not None):
        raise InvalidInput("switchback_kind", "a switchback names its kind, and only a switchback does")


def _user(row: dict[str, Any]) -> None:
    _same("name", row["name"], users.clean_username(row["name"]))
    _one_of(row, "role", permissions.ROLE_ORDER)
    email = row.get("email")
    if email is not None and (email != email.strip().lower() or not users.EMAIL_PATTERN.match(email)):
        raise InvalidInput("email", f"{_short(email)} is not an e-mail address as the services store it")


_CARD_PAIRS = ("extra_rows", "extra_sections")


def _card_text(label: str, value: Any) -> None:
    fields.checked(label, fields.Block(cards.SECTION_MAX_BYTES), value)


def check_card_content(content: Any) -> cards.Card:
    """Stored card content (``CardRevision.content``) as the card model reads it, or a refusal
    naming the card's field: an object whose fields have their types, valid as a card."""
    if not isinstance(content, dict):
        raise InvalidInput("content", f"card content must be an object, got {_kind(content)}")
    for spec in dataclass_fields(cards.Card):
        value = content.get(spec.name)
        label = f"content: {cards.FIELD_LABELS.get(spec.name, spec.name)}"
        if value is None:
            continue
        if isinstance(spec.default, str):
            _card_text(label, value)
            continue
        if not isinstance(value, list):
            raise InvalidInput(label, f"expected a list, got {_kind(value)}")
        for item in value:
            if spec.name in _CARD_PAIRS:
                if not isinstance(item, list) or len(item) != 2:
                    raise InvalidInput(label, "expected [label, text] pairs")
                for part in item:
                    _card_text(label, part)
            else:
                _card_text(label, item)
    try:
        return cards.validate(cards.Card.from_dict(content))
    except InvalidInput as exc:
        raise InvalidInput(f"content: {exc.field}", _reason(exc)) from None


def _card_revision(row: dict[str, Any]) -> None:
    check_card_content(row["content"])
    _level(row, "level", nullable=True)
    _one_of(row, "action", models.CARD_ACTIONS)
    if row["number"] < 1:
        raise InvalidInput("number", "revisions are numbered from 1")


def _p_and_value(row: dict[str, Any]) -> None:
    risk_rules.parse_probability(row["p_failure"])
    risk_rules.parse_value(row["value"])


def _requirement(row: dict[str, Any]) -> None:
    _same("number", row["number"], risk_rules.parse_number(row["number"]))
    _same("sort_key", row["sort_key"], risk_rules.number_sort_key(row["number"]))
    _one_of(row, "kind", risk_rules.Kind)
    _one_of(row, "verification_status", risk_rules.VVStatus)
    _one_of(row, "validation_status", risk_rules.VVStatus)
    _required(row, "statement")
    _level(row, "level", nullable=True)
    _p_and_value(row)


def _risk(row: dict[str, Any]) -> None:
    _required(row, "title")
    _one_of(row, "category", risk_rules.Category)
    _one_of(row, "status", risk_rules.RiskStatus)
    _p_and_value(row)


def _risk_event(row: dict[str, Any]) -> None:
    _one_of(row, "status", risk_rules.RiskStatus)
    _p_and_value(row)


def _items(value: Any, field: str, width: int) -> None:
    if not isinstance(value, list) or not all(isinstance(i, list) and all(isinstance(p, str) for p in i)
                                              for i in value):
        raise InvalidInput(field, f"expected a list of [{', '.join(['key', 'text', 'guidance'][:width])}] texts")
    if value:
        reviews._check_items(value, field=field, width=width)


def _criteria_content(value: dict[str, Any], field: str) -> None:
    for key, items in value.items():
        if key not in {str(n) for n in range(levels.MIN_LEVEL, levels.MAX_LEVEL + 1)}:
            raise InvalidInput(field, f"{key[:20]!r} is not a level")
        _items(items, f"{field} of level {key}", 3)


def _ethics_content(value: dict[str, Any], field: str) -> None:
    for part, width in (("before", 3), ("after", 3), ("positions", 2)):
        _items(value.get(part, []), f"{field}: {part}", width)


def _criterion_score(row: dict[str, Any]) -> None:
    _level(row, "level")
    gates.parse_percent(row["percent"])


def _review(row: dict[str, Any]) -> None:
    _level(row, "level")
    _level(row, "target_level", nullable=True)
    _one_of(row, "status", models.REVIEW_STATUSES)
    _one_of(row, "decision", models.DECISIONS, nullable=True)
    _one_of(row, "switchback_kind", levels.SwitchbackKind, nullable=True)
    for name in row["panel"]:
        fields.one_line(name, "panel", models.PERSON_MAX, required=True)
    _items(row["criteria"], "criteria", 3)
    _ethics_content(row["ethics"], "ethics")
    for n, task in enumerate(row["tasks"], start=1):
        if not isinstance(task, dict):
            raise InvalidInput("tasks", f"task {n} is not an object")
        fields.one_line(task.get("task"), f"tasks: task {n}", models.NOTE_MAX)
        fields.one_line(task.get("owner"), f"tasks: task {n} owner", models.PERSON_MAX)
        if task.get("due") is not None:
            days.parse_day(task["due"], field=f"tasks: task {n} due")
    for key, score in row["scores"].items():
        if not isinstance(score, dict):
            raise InvalidInput("scores", f"the score of {key[:40]!r} is not an object")
        percent = score.get("percent")
        if percent is not None:
            if isinstance(percent, bool) or not isinstance(percent, int):
                raise InvalidInput(f"scores: {key[:40]} percent", f"expected a whole number, got {_kind(percent)}")
            gates.parse_percent(percent, field=f"scores: {key[:40]} percent")
        for part in ("evidence", "comment"):
            fields.block(score.get(part), f"scores: {key[:40]} {part}", models.NOTE_MAX)
    for n, gate in enumerate(row["gates"], start=1):
        if not isinstance(gate, dict):
            raise InvalidInput("gates", f"gate {n} is not an object")
        if gate.get("state") not in {g.value for g in gates.GateState}:
            raise InvalidInput("gates", f"gate {n}: {_short(gate.get('state'))} is not one of "
                                        f"{', '.join(g.value for g in gates.GateState)}")
        if not isinstance(gate.get("blockers", []), list):
            raise InvalidInput("gates", f"gate {n}: blockers must be a list")


def _objective(row: dict[str, Any]) -> None:
    _same("quarter", row["quarter"], str(okr.parse_quarter(row["quarter"])))
    _required(row, "title")


RULES: dict[str, Callable[[dict[str, Any]], None]] = {
    "project": _project,
    "levelevent": _level_event,
    "appuser": _user,
    "cardrevision": _card_revision,
    "requirement": _requirement,
    "risk": _risk,
    "riskevent": _risk_event,
    "criteriaset": lambda row: _criteria_content(row["content"], "content"),
    "ethicstemplate": lambda row: _ethics_content(row["content"], "content"),
    "criterionscore": _criterion_score,
    "review": _review,
    "reviewvote": lambda row: _one_of(row, "vote", models.VOTES),
    "gateoverride": lambda row: (_level(row, "level"), _required(row, "justification")),
    "objective": _objective,
    "keyresult": lambda row: okr.parse_target_level(row["target_level"]),
    "checkin": lambda row: okr.parse_confidence(row["confidence"]),
    "orgsetting": lambda row: _one_of(row, "key", [s.key for s in policy.specs()]),
}
"""Each table's rules beyond its column types; a rule raises ``InvalidInput`` naming the field."""


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
                    problems.add(table.name, number, exc.field, _reason(exc))
                    bad = True
            if not bad and rule is not None:
                try:
                    rule(row)
                except InvalidInput as exc:
                    problems.add(table.name, number, exc.field, _reason(exc))
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
                                 "+".join(c.name for c in columns), f"{_short(key if len(key) > 1 else key[0])} "
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
                                 f"{_short(value)} names no row of table {fk.column.table.name}")
    by_name = {table.name: rows for table, rows in tables}
    _tree(by_name.get("project", []), problems)
    _settings(by_name.get("orgsetting", []), problems)


def _tree(rows: list[dict[str, Any]], problems: _Problems) -> None:
    parent = {row["id"]: row.get("parent_id") for row in rows}
    number = {row["id"]: n for n, row in enumerate(rows, start=1)}
    cleared: set[Any] = set()
    for start in parent:
        path: list[Any] = []
        node = start
        while node is not None and node not in cleared:
            if node in path:
                problems.add("project", number[start], "parent_id", "the technology tree has a cycle through it")
                break
            path.append(node)
            node = parent.get(node)
        cleared.update(path)


def _settings(rows: list[dict[str, Any]], problems: _Problems) -> None:
    if not rows:
        return
    default = db.settings().card_stale_days
    try:
        policy.check(policy.defaults(default) | {row["key"]: row["value"] for row in rows}, default)
    except MltrlError as exc:
        field = getattr(exc, "field", "value")
        number = next((n for n, row in enumerate(rows, start=1) if row["key"] == field), 1)
        problems.add("orgsetting", number, "value", str(exc))
