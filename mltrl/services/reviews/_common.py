"""What the review modules share: a note's one-line check and a technology's open review."""

from __future__ import annotations

from sqlmodel import Session, select

from mltrl.domain.fields import one_line
from mltrl.models import NOTE_MAX, Review


def _note(text: object, field: str, limit: int = NOTE_MAX, *, required: bool = False) -> str:
    return one_line(text, field, limit, required=required)


def _open_review(session: Session, project_id: int) -> Review | None:
    return session.exec(select(Review).where(Review.project_id == project_id, Review.status == "open")).first()
