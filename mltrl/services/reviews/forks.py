"""Forks (bifurcation): a new technology linked to its parent, starting at the level the parent
held, with its owners and a copy of its card; the parent's history before the fork is derived as
the fork's past (``lineage_events``), never copied. The card service is imported by ``fork``, which
copies the card, so reading reviews does not load the card renderer.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlmodel import Session

from mltrl.domain.days import as_utc
from mltrl.domain.errors import InvalidInput
from mltrl.domain.permissions import Permission
from mltrl.models import LevelEvent, Project, utcnow
from mltrl.services import level_moves, projects
from mltrl.services._core import Actor, audit, within, write_service
from mltrl.services.projects import get_project
from mltrl.services.reviews._common import _note

@write_service(Permission.EDIT)
def fork(*, session: Session, actor: Actor, code: str, new_code: str, name: str, note: str = "",
         at: datetime | None = None) -> Project:
    """Bifurcate: a new technology ``new_code`` going on from ``code`` at its current level, with
    its owners, a copy of its card, and the parent's history before now as its past."""
    from mltrl.services import cards

    parent = get_project(session, code)
    when = as_utc(at) or utcnow()
    held = [e for e in level_moves.history(session, parent.code) if as_utc(e.at) <= when]
    if not held:
        raise InvalidInput("level", f"{parent.code} has no level {'yet' if at is None else 'on that date'}: "
                                    "a fork starts from the level its parent held")
    level = held[-1].to_level  # the level the parent held at the fork (its current level for a fork now)
    child = within(projects.add_project)(session=session, actor=actor, code=new_code, name=name,
                                         summary=parent.summary, owners=projects.owners_of(session, parent.id))
    child.forked_from_id, child.forked_at = parent.id, when
    session.add(child)
    session.flush()
    within(level_moves.record_start)(session=session, actor=actor, code=child.code, level=level, at=when,
                                     note=_note(note, "note") or f"Forked from {parent.code} at level {level}")
    state = cards.current_card(session, parent.code)
    if state.number:
        within(cards.save_card)(session=session, actor=actor, code=child.code, card=replace(state.card),
                                base_revision=0, summary=f"Copied from {parent.code}'s card (revision {state.number})",
                                at=when)
    audit(session, actor, entity="project", entity_id=child.id, action="fork", before=None,
          after={"code": child.code, "forked_from": parent.code, "forked_at": when.isoformat(), "level": level})
    return child


def lineage_events(session: Session, code: str) -> tuple[list[LevelEvent], list[LevelEvent]]:
    """A technology's past inherited from the technologies it was forked from (oldest first,
    each ancestor's events before its fork) and its own events."""
    project = get_project(session, code)
    own = level_moves.history(session, code)
    past: list[LevelEvent] = []
    child, seen = project, {project.id}
    while child.forked_from_id is not None and child.forked_from_id not in seen:
        parent = session.get(Project, child.forked_from_id)
        seen.add(parent.id)
        cutoff = as_utc(child.forked_at)
        past = [e for e in level_moves.history(session, parent.code) if as_utc(e.at) <= cutoff] + past
        child = parent
    return past, own
