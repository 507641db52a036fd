"""What the review modules share: a note's one-line check, the shape checks of what a caller
passes as a list or a mapping (refused by name, never a ``TypeError``), and a technology's open
review."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlmodel import Session, select

from mltrl.domain.errors import InvalidInput
from mltrl.domain.fields import one_line
from mltrl.models import NOTE_MAX, Review


def _note(text: object, field: str, limit: int = NOTE_MAX, *, required: bool = False) -> str:
    return one_line(text, field, limit, required=required)


def _listed(value: object, field: str, what: str) -> list[Any]:
    """``value`` as a list when it is a collection of items (a list, tuple, set...); text, a
    mapping or a single value is refused naming ``field``."""
    if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        raise InvalidInput(field, f"a list of {what}, got {type(value).__name__}")
    return list(value)


def _mapped(value: object, field: str, what: str) -> Mapping[Any, Any]:
    """``value`` when it is a mapping; anything else is refused naming ``field``."""
    if not isinstance(value, Mapping):
        raise InvalidInput(field, f"{what}, got {type(value).__name__}")
    return value


def _open_review(session: Session, project_id: int) -> Review | None:
    return session.exec(select(Review).where(Review.project_id == project_id, Review.status == "open")).first()
