"""The domain's rules for the rows of a backup, per table (``RULES``), and the rules across rows.

A restore writes rows without the use cases, so each table's rows are held here to what the
services accept, reusing their checks rather than writing them again: project codes as
``services.projects.clean_code`` accepts them, levels 0-9 (``mltrl.domain.levels``), p(failure)
and value (``mltrl.domain.risk``), roles (``mltrl.domain.permissions``), user names and e-mails
as ``services.users`` accepts them, card content through the card model's ``validate``, quarters,
target levels and confidences (``mltrl.domain.okr``), percents and gate states
(``mltrl.domain.gates``), evidence's kinds, statuses, links and metrics (``mltrl.domain.evidence``), criteria and ethics checklists as ``services.reviews`` checks them.
Across rows: no technology is its own ancestor, and the settings obey ``mltrl.domain.policy``.

A rule sees a row whose columns already passed the generic checks of ``backup_rows`` (types,
lengths, nullability) and raises ``InvalidInput`` naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields as dataclass_fields
from typing import Any

from mltrl import db, models
from mltrl.domain import cards, days, fields, gates, levels, okr, permissions, policy
from mltrl.domain import evidence as evidence_rules
from mltrl.domain import risk as risk_rules
from mltrl.domain.errors import InvalidInput, MltrlError, RuleViolation
from mltrl.services import reviews, users
from mltrl.services.projects import clean_code


def kind_of(value: Any) -> str:
    return "null" if value is None else {dict: "an object", list: "a list", bool: "a boolean", str: "text",
                                         int: "an integer", float: "a number"}.get(type(value), type(value).__name__)


def reason(exc: InvalidInput) -> str:
    """The refusal's message without its leading "field: "."""
    prefix = f"{exc.field}: "
    return exc.message[len(prefix):] if exc.message.startswith(prefix) else exc.message


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _one_of(row: dict[str, Any], name: str, allowed: Any, *, nullable: bool = False) -> None:
    allowed = [getattr(a, "value", a) for a in allowed]
    value = row.get(name)
    if value is None and nullable:
        return
    if value not in allowed:
        raise InvalidInput(name, f"{short(value)} is not one of {', '.join(map(str, allowed))}")


def _level(row: dict[str, Any], name: str, *, nullable: bool = False) -> None:
    """A level number, held to the level engine's own rule (``levels.check_level_number``)."""
    value = row.get(name)
    if value is None and nullable:
        return
    try:
        levels.check_level_number(value)
    except RuleViolation as exc:
        raise InvalidInput(name, exc.message) from None


def _same(name: str, value: Any, clean: Any) -> None:
    if clean != value:
        raise InvalidInput(name, f"{short(value)} is not in the form the services store ({short(clean)})")


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
        raise InvalidInput("email", f"{short(email)} is not an e-mail address as the services store it")


_CARD_PAIRS = ("extra_rows", "extra_sections")


def _card_text(label: str, value: Any) -> None:
    fields.checked(label, fields.Block(cards.SECTION_MAX_BYTES), value)


def check_card_content(content: Any) -> cards.Card:
    """Stored card content (``CardRevision.content``) as the card model reads it, or a refusal
    naming the card's field: an object whose fields have their types, valid as a card."""
    if not isinstance(content, dict):
        raise InvalidInput("content", f"card content must be an object, got {kind_of(content)}")
    for spec in dataclass_fields(cards.Card):
        value = content.get(spec.name)
        label = f"content: {cards.FIELD_LABELS.get(spec.name, spec.name)}"
        if value is None:
            continue
        if isinstance(spec.default, str):
            _card_text(label, value)
            continue
        if not isinstance(value, list):
            raise InvalidInput(label, f"expected a list, got {kind_of(value)}")
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
        raise InvalidInput(f"content: {exc.field}", reason(exc)) from None


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
        scored = " (and how it is scored: hand or evidence)" if width == 3 else ""
        raise InvalidInput(field, f"expected a list of [{', '.join(['key', 'text', 'guidance'][:width])}] texts{scored}")
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
                raise InvalidInput(f"scores: {key[:40]} percent", f"expected a whole number, got {kind_of(percent)}")
            gates.parse_percent(percent, field=f"scores: {key[:40]} percent")
        for part in ("evidence", "comment"):
            fields.block(score.get(part), f"scores: {key[:40]} {part}", models.NOTE_MAX)
    for n, gate in enumerate(row["gates"], start=1):
        if not isinstance(gate, dict):
            raise InvalidInput("gates", f"gate {n} is not an object")
        if gate.get("state") not in {g.value for g in gates.GateState}:
            raise InvalidInput("gates", f"gate {n}: {short(gate.get('state'))} is not one of "
                                        f"{', '.join(g.value for g in gates.GateState)}")
        if not isinstance(gate.get("blockers", []), list):
            raise InvalidInput("gates", f"gate {n}: blockers must be a list")


def _evidence(row: dict[str, Any]) -> None:
    """An evidence record as ``services.reviews.add_evidence`` accepts it: a level, a kind and a
    status, a title, an http(s) link or none, named finite metrics."""
    _level(row, "level")
    _one_of(row, "kind", evidence_rules.KINDS)
    _one_of(row, "status", evidence_rules.STATUSES)
    _required(row, "title")
    evidence_rules.url_of(row.get("url"))
    for name in ("metrics", "details"):
        if not isinstance(row.get(name), dict):
            raise InvalidInput(name, f"expected an object (name -> value), got {kind_of(row.get(name))}")
    evidence_rules.metrics_of(row["metrics"])


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
    "evidence": _evidence,
    "modellink": lambda row: (_required(row, "tracking_uri"), _required(row, "model_name")),
    "apitoken": lambda row: (_one_of(row, "role", permissions.ROLE_ORDER), _required(row, "name")),
}
"""Each table's rules beyond its column types; a rule raises ``InvalidInput`` naming the field."""


def tree_cycles(rows: list[dict[str, Any]]) -> list[int]:
    """The rows (numbered from 1) of technologies whose parent chain comes back to itself."""
    parent = {row["id"]: row.get("parent_id") for row in rows}
    number = {row["id"]: n for n, row in enumerate(rows, start=1)}
    cleared: set[Any] = set()
    found: list[int] = []
    for start in parent:
        path: list[Any] = []
        node = start
        while node is not None and node not in cleared:
            if node in path:
                found.append(number[start])
                break
            path.append(node)
            node = parent.get(node)
        cleared.update(path)
    return found


def settings_problem(rows: list[dict[str, Any]]) -> tuple[int, str] | None:
    """(row, reason) when the settings in ``rows`` together break the policy's rules."""
    if not rows:
        return None
    default = db.settings().card_stale_days
    try:
        policy.check(policy.defaults(default) | {row["key"]: row["value"] for row in rows}, default)
    except MltrlError as exc:
        field = getattr(exc, "field", "value")
        return next((n for n, row in enumerate(rows, start=1) if row["key"] == field), 1), str(exc)
    return None
