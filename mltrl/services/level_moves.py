"""Level history: starts, graduations and switchbacks, checked by the level engine.

Every move goes through ``mltrl.domain.levels.check_move``; an accepted one appends a ``LevelEvent``,
updates the project's mirrored ``level``/``level_since`` (bumping its version, so two people moving
the same technology at once cannot both succeed) and writes the audit rows, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from mltrl.domain import fields
from mltrl.domain import levels as engine
from mltrl.domain.errors import Conflict, InvalidInput
from mltrl.domain.levels import EventKind, Move, SwitchbackKind
from mltrl.models import NOTE_MAX, LevelEvent, Project, utcnow
from mltrl.domain.permissions import Permission
from mltrl.services._core import Actor, check_version, as_utc, audit, snapshot, write_service
from mltrl.services.projects import get_project


@dataclass(frozen=True)
class MoveOutcome:
    """An accepted move: the recorded event and any warnings the user should read."""

    event: LevelEvent
    warnings: tuple[str, ...]


def history(session: Session, code: str) -> list[LevelEvent]:
    """A technology's level events, oldest first."""
    project = get_project(session, code)
    return _events(session, project.id)


def _events(session: Session, project_id: int) -> list[LevelEvent]:
    return list(
        session.exec(
            select(LevelEvent)
            .where(LevelEvent.project_id == project_id)
            .order_by(col(LevelEvent.at), col(LevelEvent.id))
        ).all()
    )


def level_state(session: Session, project_id: int) -> engine.LevelState:
    events = _events(session, project_id)
    return engine.state_from_levels([e.to_level for e in events], events[-1].at if events else None)


def event_kind_label(event: LevelEvent) -> str:
    """``start``, ``graduation`` or the switchback's kind, as the CLI and tables show it."""
    return event.switchback_kind if event.kind == EventKind.SWITCHBACK else event.kind


def _clean_note(note: str | None) -> str:
    return fields.block(note, "note", NOTE_MAX)


def _parse_switchback_kind(kind: str | SwitchbackKind | None) -> SwitchbackKind | None:
    if kind is None or kind == "":
        return None
    try:
        return SwitchbackKind(str(kind).strip().lower())
    except ValueError:
        raise InvalidInput(
            "kind", f"{kind!r} is not a switchback kind: use discovery, review or embedded"
        ) from None


def _record(
    session: Session,
    actor: Actor,
    *,
    code: str,
    move: Move,
    note: str | None,
    expected_version: int | None,
    review_id: int | None = None,
) -> MoveOutcome:
    project = get_project(session, code)
    check_version(project, expected_version,
                  f"{project.code} (now at level {project.level if project.level is not None else 'none'})")
    note = _clean_note(note)
    now = utcnow()
    at = as_utc(move.at) or now
    move = Move(move.kind, move.to_level, move.switchback_kind, at)
    state = level_state(session, project.id)
    if state.current != project.level:
        # The history moved on between reading the project and reading its events: another
        # writer is recording a move right now. Refuse as a conflict rather than judge a
        # half-seen state by the rules.
        raise Conflict(f"{project.code} changed since you opened it: someone else is moving it right now; "
                       "reload and try again.")
    transition = engine.check_move(state, move, now=now)

    event = LevelEvent(
        project_id=project.id,
        from_level=transition.from_level,
        to_level=transition.to_level,
        kind=transition.kind.value,
        switchback_kind=transition.switchback_kind.value if transition.switchback_kind else None,
        at=at,
        note=note,
        recorded_by=actor.name,
        recorded_at=now,
        review_id=review_id,
    )
    session.add(event)
    before = {"level": project.level, "level_since": snapshot(project)["level_since"], "version": project.version}
    project.level = transition.to_level
    project.level_since = at
    project.updated_at = now
    session.add(project)
    session.flush()
    audit(session, actor, entity="levelevent", entity_id=event.id, action=transition.kind.value,
          before=None, after=snapshot(event, code=project.code))
    audit(session, actor, entity="project", entity_id=project.id, action="level",
          before=before,
          after={"level": project.level, "level_since": snapshot(project)["level_since"], "version": project.version})
    return MoveOutcome(event, transition.warnings)


@write_service(Permission.EDIT)
def record_start(
    *,
    session: Session,
    actor: Actor,
    code: str,
    level: int,
    at: datetime | date | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> MoveOutcome:
    """Record where a technology enters MLTRL (any level 0-9, once)."""
    return _record(session, actor, code=code, move=Move(EventKind.START, level, None, at),
                   note=note, expected_version=expected_version)


@write_service(Permission.EDIT)
def graduate(
    *,
    session: Session,
    actor: Actor,
    code: str,
    at: datetime | date | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> MoveOutcome:
    """Move a technology up exactly one level."""
    return _record(session, actor, code=code, move=Move(EventKind.GRADUATION, None, None, at),
                   note=note, expected_version=expected_version)


@write_service(Permission.EDIT)
def switch_back(
    *,
    session: Session,
    actor: Actor,
    code: str,
    level: int,
    kind: str | SwitchbackKind | None = None,
    at: datetime | date | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> MoveOutcome:
    """Move a technology down to ``level``; ``kind`` may be omitted for the embedded pairs."""
    return _record(
        session, actor, code=code,
        move=Move(EventKind.SWITCHBACK, level, _parse_switchback_kind(kind), at),
        note=note, expected_version=expected_version,
    )


def record_decided_move(session: Session, actor: Actor, *, code: str, move: Move, note: str | None,
                        review_id: int) -> MoveOutcome:
    """A move decided at gated review ``review_id``, inside the review service's transaction (the
    level engine's rules apply as to any move; the event names its review)."""
    return _record(session, actor, code=code, move=move, note=note, expected_version=None, review_id=review_id)


def current_levels(session: Session) -> dict[str, int | None]:
    """Every project's current level by code (from the mirrored column)."""
    return dict(session.exec(select(Project.code, Project.level)).all())
