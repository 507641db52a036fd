"""The writes of /api/v1/projects as requests an editor makes successfully on the demo portfolio
(``walk(session)``), for the authorization walk in ``test_api_authorization``."""

from __future__ import annotations

from sqlmodel import Session

from mltrl.services import Actor, cards, level_moves, projects, reviews

CARD = b"""| Tech name (project ID) | Walked in (W9.1) |
|---|---|

## TL;DR
Imported by the walk.
"""


def walk(session: Session) -> list[tuple]:
    """(service, method, path, request kwargs); sets up what the requests need (a technology with
    no level yet, a card with two revisions) through the services."""
    projects.add_project(session=session, actor=Actor("ada"), code="W1", name="Walk start")
    revision = cards.current_card(session, "R01.1").number
    carded = next(code for code in projects.project_codes(session) if cards.current_card(session, code).number)
    return [
        (projects.add_project, "POST", "/projects", {"json": {"code": "W2", "name": "Walked"}}),
        (projects.update_project, "PATCH", "/projects/R01.1", {"json": {"summary": "Walked."}}),
        (level_moves.record_start, "POST", "/projects/W1/level/start", {"json": {"level": 2}}),
        (level_moves.graduate, "POST", "/projects/R01.1/level/graduate", {"json": {"note": "walk"}}),
        (level_moves.switch_back, "POST", "/projects/R01.1/level/switchback",
         {"json": {"level": 3, "kind": "discovery"}}),
        (reviews.change_deployed_version, "POST", "/projects/P02.1/level/deployed-change", {"json": {"note": "v2"}}),
        (reviews.fork, "POST", "/projects/R01.1/fork", {"json": {"new_code": "R01.9", "name": "Walk fork"}}),
        (cards.save_card, "PUT", "/projects/R01.1/card",
         {"json": {"card": {"tldr": "Walked."}, "base_revision": revision}}),
        (cards.restore_revision, "POST", f"/projects/{carded}/card/revisions/1/restore", {"json": {}}),
        (cards.import_card, "POST", "/cards/import", {"content": CARD, "headers": {"Content-Type": "text/markdown"}}),
    ]


__all__ = ["walk", "level_moves"]
