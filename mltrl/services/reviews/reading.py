"""Reading reviews: one review in full (votes, the latest per member, ethics answers and what
changed since the technology's previous review, its level event), lists newest first, counts, and
the open reviews waiting for one panel member's vote.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from mltrl.models import EthicsAnswer, LevelEvent, Project, Review, ReviewVote
from mltrl.services.projects import get_project
from mltrl.services._core import ROW_ID_MAX
from mltrl.services.reviews.decisions import _review

@dataclass(frozen=True)
class ReviewView:
    review: Review
    code: str
    name: str
    current_level: int | None
    votes: tuple[ReviewVote, ...]  # every vote, oldest first
    latest_votes: Mapping[str, ReviewVote]  # voter -> their vote now
    answers: Mapping[str, EthicsAnswer]
    previous_answers: Mapping[str, str]  # the technology's previous review's answers
    event: LevelEvent | None
    tasks: tuple[Mapping[str, Any], ...] = field(default=())

    @property
    def changed_answers(self) -> set[str]:
        """Questions whose answer differs from the previous review's."""
        keys = set(self.answers) | set(self.previous_answers)
        return {k for k in keys if (self.answers[k].answer if k in self.answers else "")
                != self.previous_answers.get(k, "")}


def review_view(session: Session, review_id: int) -> ReviewView:
    review = _review(session, review_id)
    project = session.get(Project, review.project_id)
    votes = tuple(session.exec(select(ReviewVote).where(ReviewVote.review_id == review.id)
                               .order_by(col(ReviewVote.at), col(ReviewVote.id))).all())
    latest = {v.voter: v for v in votes}
    answers = {a.key: a for a in session.exec(select(EthicsAnswer).where(EthicsAnswer.review_id == review.id)).all()}
    previous = session.exec(select(Review.id).where(Review.project_id == project.id, Review.id < review.id,
                                                    Review.status != "cancelled")
                            .order_by(col(Review.id).desc()).limit(1)).first()
    previous_answers = {} if previous is None else {
        a.key: a.answer for a in session.exec(select(EthicsAnswer).where(EthicsAnswer.review_id == previous)).all()}
    event = session.exec(select(LevelEvent).where(LevelEvent.review_id == review.id)).first()
    return ReviewView(review, project.code, project.name, project.level, votes, latest, answers, previous_answers,
                      event, tuple(review.tasks or ()))


def reviews(session: Session, *, code: str | None = None, status: str | None = None, limit: int = 200
            ) -> list[tuple[Review, str]]:
    """Reviews with their technology's code, newest first."""
    query = select(Review, Project.code).join(Project, Project.id == Review.project_id)
    if code is not None:
        query = query.where(Review.project_id == get_project(session, code).id)
    if status is not None:
        query = query.where(Review.status == status)
    return [tuple(r) for r in session.exec(query.order_by(col(Review.id).desc()).limit(limit)).all()]


def review_number(text: object) -> int | None:
    """A review number as a link or a person writes it (``"12"``), or None when ``text`` is not
    one: ASCII digits only, within the range of a row id (``ROW_ID_MAX``)."""
    if isinstance(text, bool) or not isinstance(text, int | str):
        return None
    if isinstance(text, int):
        return text if 0 < text <= ROW_ID_MAX else None
    raw = text.strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(ROW_ID_MAX))):
        return None
    number = int(raw)
    return number if 0 < number <= ROW_ID_MAX else None


def reviews_by_id(session: Session, ids: Iterable[int]) -> list[tuple[Review, str]]:
    """The reviews of these numbers that exist (anything that is not a review number is skipped)."""
    wanted = [n for n in (review_number(i) for i in ids) if n is not None]
    if not wanted:
        return []
    return [tuple(r) for r in session.exec(select(Review, Project.code).join(Project, Project.id == Review.project_id)
                                           .where(col(Review.id).in_(wanted))).all()]


def count_reviews(session: Session, *, status: str | None = None) -> int:
    query = select(func.count()).select_from(Review)
    if status is not None:
        query = query.where(Review.status == status)
    return session.exec(query).one()


def waiting_for(session: Session, name: str) -> list[tuple[Review, str]]:
    """Every open review with ``name`` on the panel who has not voted yet (all of them: the panels
    are read without the reviews' large columns, then only the matching reviews are loaded)."""
    voted = set(session.exec(select(ReviewVote.review_id).where(func.lower(ReviewVote.voter) == name.lower())).all())
    wanted = [rid for rid, panel in session.exec(select(Review.id, Review.panel).where(Review.status == "open")).all()
              if rid not in voted and name.lower() in (n.lower() for n in panel or [])]
    if not wanted:
        return []
    return [tuple(r) for r in session.exec(
        select(Review, Project.code).join(Project, Project.id == Review.project_id)
        .where(col(Review.id).in_(wanted)).order_by(col(Review.id).desc())).all()]
