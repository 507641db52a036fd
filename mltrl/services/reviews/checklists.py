"""Exit checklists and the ethics checklist: the versioned criteria sets and ethics templates
(version 1 is the built-in default, in code; an admin's edit is a new version, and reviews keep the
version they copied) and the team's scores of a level's exit criteria (percent complete, evidence
link, comment), before a review too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from mltrl.domain import gates as rules
from mltrl.domain import levels as engine
from mltrl.domain.criteria_default import DEFAULT_CRITERIA, SCORED_FROM_EVIDENCE
from mltrl.domain.errors import Conflict, InvalidInput, NotFound, RowErrors, StaleRow
from mltrl.domain.ethics_default import DEFAULT_ETHICS_TEMPLATE
from mltrl.domain.permissions import Permission
from mltrl.models import NOTE_MAX, CriteriaSet, CriterionScore, EthicsTemplate, Project, utcnow
from mltrl.services._core import Actor, audit, snapshot, write_service
from mltrl.services.projects import get_project
from mltrl.domain.fields import block, one_line
from mltrl.services.reviews._common import _listed, _mapped, _note, _open_review

BUILT_IN_VERSION = 1
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
ETHICS_PARTS = ("before", "after")


def _link(text: object, field: str = "evidence") -> str:
    value = one_line(text, field, NOTE_MAX)  # text, no control characters, at most NOTE_MAX
    if value and not re.match(r"^https?://\S+$", value):
        raise InvalidInput(field, f"{value!r} is not a link: give an http(s) URL, or leave it empty")
    return value


# --- criteria sets and ethics templates ----------------------------------------------------------


def _default_criteria_content() -> dict[str, list[list[str]]]:
    return {str(level): [[*c, *(["evidence"] if c[0] in SCORED_FROM_EVIDENCE.get(level, ()) else [])] for c in items]
            for level, items in DEFAULT_CRITERIA.items()}


def _default_ethics_content() -> dict[str, list[list[str]]]:
    return {part: [list(q) for q in DEFAULT_ETHICS_TEMPLATE[part]] for part in (*ETHICS_PARTS, "positions")}


def criteria_set(session: Session, version: int | None = None) -> tuple[int, dict[str, list[list[str]]]]:
    """A criteria set (default: the newest) as (version, {"level": [[key, criterion, guidance]]})."""
    query = select(CriteriaSet)
    query = query.where(CriteriaSet.version == version) if version is not None else query
    row = session.exec(query.order_by(col(CriteriaSet.version).desc()).limit(1)).first()
    if row is not None:
        return row.version, row.content
    if version in (None, BUILT_IN_VERSION):
        return BUILT_IN_VERSION, _default_criteria_content()
    raise NotFound(f"There is no criteria set version {version}.")


def level_criteria(session: Session, level: int, version: int | None = None) -> tuple[int, tuple[rules.Criterion, ...]]:
    number, content = criteria_set(session, version)
    return number, rules.criteria_of(content.get(str(level), []))


def ethics_template(session: Session, version: int | None = None) -> tuple[int, dict[str, list[list[str]]]]:
    """The ethics template (default: the newest) as (version, {"before", "after", "positions"})."""
    query = select(EthicsTemplate)
    query = query.where(EthicsTemplate.version == version) if version is not None else query
    row = session.exec(query.order_by(col(EthicsTemplate.version).desc()).limit(1)).first()
    if row is not None:
        return row.version, row.content
    if version in (None, BUILT_IN_VERSION):
        return BUILT_IN_VERSION, _default_ethics_content()
    raise NotFound(f"There is no ethics template version {version}.")


def _part(value: object, field: str, n: int) -> str:
    try:
        return block(value, field, NOTE_MAX)
    except InvalidInput as refusal:
        reason = refusal.message.split(": ", 1)[-1]
        raise InvalidInput(field, f"item {n}: {reason}") from None


def _check_items(items: Sequence[Sequence[str]], *, field: str, width: int) -> list[list[str]]:
    """Checklist items of ``width`` parts ([key, text, guidance] or [key, text]), every one named
    when refused. Exit criteria (``width`` 3) may have a fourth part saying how they are scored:
    "evidence" (kept) or "hand" (the default, dropped)."""
    cleaned, keys = [], set()
    items = _listed(items, field, "items")
    if not items:
        raise InvalidInput(field, "at least one item")
    for n, item in enumerate(items, start=1):
        parts = [_part(x, field, n) for x in _listed(item, field, f"parts (item {n})")]
        extra: list[str] = []
        if width == 3 and len(parts) == 4:
            scored_by = parts.pop().strip().lower() or "hand"
            if scored_by not in rules.SCORED_BY:
                raise InvalidInput(field, f"item {n}: scored by {scored_by!r}: one of {', '.join(rules.SCORED_BY)}")
            extra = ["evidence"] if scored_by == "evidence" else []
        if len(parts) != width:
            raise InvalidInput(field, f"item {n} needs {width} parts")
        key = parts[0]
        if not _KEY.match(key):
            raise InvalidInput(field, f"item {n}: key {key!r} must be a short slug (a-z, 0-9 and -)")
        if key in keys:
            raise InvalidInput(field, f"item {n}: key {key!r} is used twice")
        keys.add(key)
        if not parts[1]:
            raise InvalidInput(field, f"item {n} ({key}) has no text")
        cleaned.append(parts + extra)
    return cleaned


@dataclass(frozen=True)
class TemplateVersion:
    """A saved version of the exit criteria or of the ethics checklist: who saved it, when, why."""

    version: int
    by: str
    at: datetime
    note: str


def template_versions(session: Session, kind: str, *, since: int) -> list[TemplateVersion]:
    """The versions of the exit criteria (``kind`` "criteria") or of the ethics checklist
    ("ethics") saved after version ``since``, oldest first: what a refused template save names."""
    model = {"criteria": CriteriaSet, "ethics": EthicsTemplate}[kind]
    rows = session.exec(select(model).where(model.version > since).order_by(col(model.version))).all()
    return [TemplateVersion(r.version, r.created_by, r.created_at, r.note) for r in rows]


def _check_base(what: str, current: int, base_version: int | None) -> None:
    """A template saved from a version that is no longer the newest would silently replace what an
    admin saved meanwhile: refused as a ``Conflict`` (``None``: the caller saw no version)."""
    if base_version is not None and base_version != current:
        raise Conflict(f"The {what} changed since you opened them (version {base_version} -> {current}); "
                       "reload to see the change, then try again.", current_version=current)


@write_service(Permission.ADMIN)
def update_criteria(*, session: Session, actor: Actor, level: int, criteria: Sequence[Sequence[str]],
                    note: str = "", base_version: int | None = None) -> int:
    """Replace one level's exit criteria: a new criteria set version (reviews opened earlier keep
    the criteria they copied). ``base_version``, when given, is the version the admin edited: a
    newer one refuses the save (``Conflict``). Returns the new version."""
    engine.check_level_number(level)
    current, content = criteria_set(session)
    _check_base("exit criteria", current, base_version)
    content = dict(content) | {str(level): _check_items(criteria, field=f"criteria of level {level}", width=3)}
    row = CriteriaSet(version=current + 1, content=content, note=_note(note, "note"), created_by=actor.name)
    session.add(row)
    session.flush()
    audit(session, actor, entity="criteriaset", entity_id=row.id, action="create", before=None,
          after={"version": row.version, "level": level, "note": row.note})
    return row.version


@write_service(Permission.ADMIN)
def update_ethics_template(*, session: Session, actor: Actor, before: Sequence[Sequence[str]],
                           after: Sequence[Sequence[str]], positions: Sequence[Sequence[str]], note: str = "",
                           base_version: int | None = None) -> int:
    """A new version of the ethics template (reviews keep the version they used); with
    ``base_version``, refused (``Conflict``) when a newer version was saved since."""
    current, _ = ethics_template(session)
    _check_base("ethics checklist questions", current, base_version)
    content = {"before": _check_items(before, field="before", width=3),
               "after": _check_items(after, field="after", width=3),
               "positions": _check_items(positions, field="positions", width=2)}
    row = EthicsTemplate(version=current + 1, content=content, note=_note(note, "note"), created_by=actor.name)
    session.add(row)
    session.flush()
    audit(session, actor, entity="ethicstemplate", entity_id=row.id, action="create", before=None,
          after={"version": row.version, "note": row.note})
    return row.version


def ethics_keys(template: Mapping[str, Any]) -> list[str]:
    return [f"{part}:{q[0]}" for part in ETHICS_PARTS for q in template.get(part, [])]


# --- self-assessment ----------------------------------------------------------------------------


def scores_of(session: Session, project_id: int, level: int) -> dict[str, rules.Score]:
    rows = session.exec(select(CriterionScore).where(CriterionScore.project_id == project_id,
                                                     CriterionScore.level == level)).all()
    return {r.key: rules.Score(r.key, r.percent, r.evidence, r.comment) for r in rows}


def score_versions(session: Session, code: str, level: int) -> dict[str, tuple[int, int]]:
    """Each scored criterion of ``code`` at ``level``: its score's (id, version), what a checklist
    grid saves with (``score_criteria``'s ``expected_versions``) and names in the audit trail."""
    project = get_project(session, code)
    rows = session.exec(select(CriterionScore.key, CriterionScore.id, CriterionScore.version).where(
        CriterionScore.project_id == project.id, CriterionScore.level == level)).all()
    return {key: (row_id, version) for key, row_id, version in rows}


def _known_keys(session: Session, project: Project, level: int) -> list[str]:
    review = _open_review(session, project.id)
    return ([c[0] for c in review.criteria] if review is not None and review.level == level
            else [c.key for c in level_criteria(session, level)[1]])


@write_service(Permission.EDIT)
def score_criterion(*, session: Session, actor: Actor, code: str, level: int, key: str, percent: object,
                    evidence: str = "", comment: str = "") -> CriterionScore:
    """Record how complete one exit criterion of ``level`` is (0-100%), with evidence and a comment."""
    project = get_project(session, code)
    engine.check_level_number(level)
    return _score(session, actor, project, level, _known_keys(session, project, level), key,
                  {"percent": percent, "evidence": evidence, "comment": comment})


@write_service(Permission.EDIT)
def score_criteria(*, session: Session, actor: Actor, code: str, level: int,
                   scores: Mapping[str, Mapping[str, object]],
                   expected_versions: Mapping[str, int] | None = None) -> int:
    """Score several criteria at once (key -> {percent, evidence, comment}); all or nothing, every
    bad row named. ``expected_versions`` (key -> the version of its score the person saw, 0 for
    none yet), when given, refuses a score somebody else saved meanwhile: field "version", listed
    in the refusal's ``stale``. Returns how many were recorded."""
    project = get_project(session, code)
    engine.check_level_number(level)
    known = _known_keys(session, project, level)
    scores = _mapped(scores, "scores", "criterion key -> {percent, evidence, comment}")
    seen = dict(expected_versions or {})
    stored = {r.key: r for r in session.exec(select(CriterionScore).where(
        CriterionScore.project_id == project.id, CriterionScore.level == level)).all()} if seen else {}
    errors, stale = [], []
    for key, values in scores.items():
        row = stored.get(key)
        now = row.version if row is not None else 0
        if key in seen and seen[key] != now:
            errors.append((f"criterion {key}", "version", f"changed since you opened it (version {seen[key]} -> {now})"))
            stale.append(StaleRow(str(key), row.id if row is not None else None, now))
            continue
        try:
            _check_score(known, level, key, values)
        except InvalidInput as exc:
            errors.append((f"criterion {key}", exc.field, exc.message.split(": ", 1)[-1]))
    if errors:
        raise RowErrors("checklist", errors, verb="saved", stale=stale)
    for key, values in scores.items():
        _score(session, actor, project, level, known, key, values)
    return len(scores)


def _check_score(known: list[str], level: int, key: str, values: Mapping[str, object]) -> dict[str, Any]:
    if key not in known:
        raise InvalidInput("key", f"{key!r} is not an exit criterion of level {level}: one of {', '.join(known)}")
    values = _mapped(values, "score", "a mapping of percent, evidence and comment")
    return {"percent": rules.parse_percent(values.get("percent")), "evidence": _link(values.get("evidence")),
            "comment": _note(values.get("comment"), "comment")}


def _score(session: Session, actor: Actor, project: Project, level: int, known: list[str], key: str,
           raw: Mapping[str, object]) -> CriterionScore:
    values = _check_score(known, level, key, raw)
    row = session.exec(select(CriterionScore).where(CriterionScore.project_id == project.id,
                                                    CriterionScore.level == level, CriterionScore.key == key)).first()
    before = snapshot(row) if row is not None else None
    if row is None:
        row = CriterionScore(project_id=project.id, level=level, key=key, updated_by=actor.name, **values)
    else:
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_by, row.updated_at = actor.name, utcnow()
    session.add(row)
    session.flush()
    audit(session, actor, entity="criterionscore", entity_id=row.id, action="update" if before else "create",
          before=before, after=snapshot(row, code=project.code))
    return row
