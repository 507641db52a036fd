"""TRL cards: save, restore and import revisions; read the current card, its history and the
cards of the levels a technology left; export as Markdown, HTML or a Hugging Face model card.

* Every save is a new ``CardRevision`` (author, time, change summary, full content) and an audit
  row; revisions are never edited or deleted. Restoring an old revision saves its content again.
* No lost edits: a save names the revision it was edited from (``base_revision``). If somebody
  saved since, the save is refused with a ``CardConflict`` that carries their revision, so the page
  can show what changed and let the person merge by hand. The unique (project, number) pair
  catches the race where two saves pass that check at once.
* The card of a level the technology left is the last revision saved at or before the level
  change ("frozen" because revisions never change); ``level_cards`` lists them.
* The card's owners are the technology's owners: saving a card with other owners updates the
  technology's owner list in the same transaction; the live card shows the technology's owners.
* Every argument is checked before anything is written: a project code, a revision number, a
  change summary and the card itself (``mltrl.domain.cards.validate``; an imported file is read by
  ``parse_markdown``, which checks its size first) are used or refused with an ``InvalidInput`` /
  ``NotFound`` naming them, and a refusal leaves the database as it was.
* A Hugging Face model card (``export_card(fmt="hf")``; ``mltrl.domain.cards.hf`` translates) is
  the card's Markdown after a YAML front matter whose ``model-index`` holds the latest value of
  each metric of the technology's evidence (for a prior level or revision, of the evidence
  produced by then). ``import_card`` reads such a file too (it starts with ``---``): the body is
  the card, and each model-index result whose metrics are not yet in the technology's evidence
  becomes an evidence record (kind model-card, status info) in the same transaction, its
  ``external_id`` a digest of the model-index, so importing the same file again adds nothing.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mltrl.domain import cards as card_rules
from mltrl.domain import risk as risk_rules
from mltrl.domain.cards import Card, CardHeader, Links, Staleness
from mltrl import db
from mltrl.domain import fields
from mltrl.domain.errors import Conflict, InvalidInput, NotFound
from mltrl.models import (
    CHANGE_SUMMARY_MAX,
    CardRevision,
    LevelEvent,
    Project,
    ProjectOwner,
    utcnow,
)
from mltrl.domain.permissions import Permission
from mltrl.services import level_moves, projects, reviews, risks
from mltrl.services._core import Actor, as_utc, audit, snapshot, within, write_service
from mltrl.services.policy import current_policy
from mltrl.services.projects import owners_of

REVISION_MAX = 2**31 - 1  # PostgreSQL's INTEGER: a larger revision number names no revision


def _code(code: object, field: str = "project") -> str:
    """A project code argument as text of the code's form, or ``InvalidInput`` naming ``field``."""
    if not isinstance(code, str):
        raise InvalidInput(field, f"a project code is text, e.g. R02.1 (got {type(code).__name__})")
    return projects.clean_code(code, field=field)


def get_project(session: Session, code: str) -> Project:
    """The project with this code, or ``NotFound`` (also for text that is no code, such as one
    holding a NUL, which is never sent to the database); anything but text is ``InvalidInput``."""
    try:
        clean = _code(code)
    except InvalidInput:
        if isinstance(code, str):
            raise NotFound(f"No project with code {code[:40]!r}.") from None
        raise
    return projects.get_project(session, clean)


def _revision_number(number: object, field: str) -> int:
    if isinstance(number, bool) or not isinstance(number, int) or number < 0:
        raise InvalidInput(field, f"a revision number is a whole number, 0 or more (got {number!r:.40})")
    return number


class CardConflict(Conflict):
    """Somebody saved the card after the revision this edit started from."""

    def __init__(self, message: str, *, theirs: CardRevision, base: int):
        super().__init__(message, current_version=theirs.number)
        self.theirs_number = theirs.number
        self.theirs_author = theirs.author
        self.theirs_at = theirs.at
        self.theirs = Card.from_dict(theirs.content)
        self.base = base


@dataclass(frozen=True)
class CardState:
    """A technology's current card with what a reader wants next to it."""

    code: str
    name: str
    level: int | None
    level_since: datetime | None
    status: str
    card: Card
    number: int  # the latest revision's number; 0 when there is no card yet
    saved_at: datetime | None
    saved_by: str | None
    staleness: Staleness
    header: CardHeader
    frozen: tuple[LevelCard, ...]  # the levels it left, with the cards that stood then


@dataclass(frozen=True)
class LevelCard:
    """The card of a level the technology left: the revision that stood at the level change."""

    level: int
    left_at: datetime
    to_level: int
    move: str  # graduation or the switchback's kind
    number: int | None  # the frozen revision's number; None when no card had been saved


def stale_days(session: Session) -> int:
    """Days after which a card not saved counts as stale (an admin setting)."""
    return current_policy(session).card_stale_days


def _latest(session: Session, project_id: int) -> CardRevision | None:
    return session.exec(
        select(CardRevision).where(CardRevision.project_id == project_id)
        .order_by(col(CardRevision.number).desc()).limit(1)
    ).first()


def level_cards(session: Session, code: str) -> list[LevelCard]:
    """Every level the technology left, oldest first, with the card that stood when it left
    (two queries, however long the history)."""
    project = get_project(session, code)
    events = session.exec(
        select(LevelEvent).where(LevelEvent.project_id == project.id, col(LevelEvent.from_level).is_not(None))
        .order_by(col(LevelEvent.at), col(LevelEvent.id))
    ).all()
    saves = session.execute(
        select(CardRevision.at, CardRevision.number).where(CardRevision.project_id == project.id)
        .order_by(col(CardRevision.at), col(CardRevision.number))
    ).all()
    times = [as_utc(at) for at, _ in saves]
    frozen = []
    for e in events:
        # The newest revision saved at or before the level change (numbers grow with time).
        k = bisect_right(times, as_utc(e.at))
        number = max((n for _, n in saves[:k]), default=None)
        frozen.append(LevelCard(level=e.from_level, left_at=e.at, to_level=e.to_level,
                                move=level_moves.event_kind_label(e), number=number))
    return frozen


def header_for(session: Session, project: Project, *, level: int | None = None,
               frozen: list[LevelCard] | None = None) -> CardHeader:
    frozen = level_cards(session, project.code) if frozen is None else frozen
    prior = sorted({lc.level for lc in frozen if lc.number is not None})
    return CardHeader(project.code, project.name, project.level if level is None else level, tuple(prior))


def current_card(session: Session, code: str, *, now: datetime | None = None,
                 max_days: int | None = None) -> CardState:
    """The technology's card as it stands (empty when nobody has written one yet)."""
    project = get_project(session, code)
    latest = _latest(session, project.id)
    frozen = level_cards(session, code)
    card = Card.from_dict(latest.content) if latest else Card()
    card = replace(card, owners=tuple(owners_of(session, project.id)))
    state = card_rules.staleness(
        latest.at if latest else None, project.level_since, now or utcnow(),
        stale_days(session) if max_days is None else max_days,
    )
    return CardState(
        code=project.code, name=project.name, level=project.level, level_since=project.level_since,
        status=project.status, card=card, number=latest.number if latest else 0,
        saved_at=latest.at if latest else None, saved_by=latest.author if latest else None,
        staleness=state, header=header_for(session, project, frozen=frozen), frozen=tuple(frozen),
    )


def revisions(session: Session, code: str) -> list[CardRevision]:
    """The card's revisions, newest first."""
    project = get_project(session, code)
    return list(session.exec(
        select(CardRevision).where(CardRevision.project_id == project.id).order_by(col(CardRevision.number).desc())
    ).all())


def revision(session: Session, code: str, number: int) -> CardRevision:
    project = get_project(session, code)
    number = _revision_number(number, "revision")
    if number > REVISION_MAX:
        raise NotFound(f"{project.code} has no card revision {number}.")
    found = session.exec(
        select(CardRevision).where(CardRevision.project_id == project.id, CardRevision.number == number)
    ).first()
    if found is None:
        raise NotFound(f"{project.code} has no card revision {number}.")
    return found


def card_of_level(session: Session, code: str, level: int) -> tuple[Card, CardHeader, LevelCard]:
    """The card as it stood when the technology last left ``level``."""
    project = get_project(session, code)
    frozen = level_cards(session, code)
    matches = [lc for lc in frozen if lc.level == level]
    if not matches:
        raise NotFound(f"{project.code} has not left level {level}, so it has no card of that level.")
    last = matches[-1]
    if last.number is None:
        raise NotFound(f"No card had been saved for {project.code} when it left level {level} "
                       f"on {last.left_at:%Y-%m-%d}.")
    rev = revision(session, code, last.number)
    return Card.from_dict(rev.content), header_for(session, project, level=level, frozen=frozen), last


def links(session: Session) -> Links:
    """How cross-links resolve in this portfolio, in the app (links relative to the page)."""
    return Links(codes=frozenset(projects.project_codes(session)))


def export_links(session: Session) -> Links:
    """Cross-links in a file that leaves the app: absolute links to the dashboard when
    ``MLTRL_BASE_URL`` says where it is served; otherwise marked but not linked (a relative link
    would point nowhere once the file is opened elsewhere)."""
    codes = frozenset(projects.project_codes(session))
    base = db.settings().base_url.rstrip("/")
    if not base:
        return Links(codes=codes, project_href=None, person_href=None)
    return Links(codes=codes, project_href=lambda code: f"{base}/project?code={quote(code)}",
                 person_href=lambda name: f"{base}/cards?person={quote(name)}")


def _clean_summary(summary: str | None) -> str:
    return fields.one_line(summary, "Change summary", CHANGE_SUMMARY_MAX)


def _check_base(project: Project, latest: CardRevision | None, base_revision: int) -> None:
    base_revision = _revision_number(base_revision, "base_revision")
    current = latest.number if latest else 0
    if base_revision == current:
        return
    if latest is None or base_revision > current:
        raise InvalidInput("base_revision", f"{project.code} has no card revision {base_revision}")
    raise CardConflict(
        f"{latest.author} saved the card of {project.code} (revision {latest.number}, "
        f"{latest.at:%Y-%m-%d %H:%M} UTC) after you opened revision {base_revision}; "
        "nothing was saved. Compare the two, merge by hand, then save again.",
        theirs=latest, base=base_revision,
    )


def _append(session: Session, actor: Actor, project: Project, card: Card, *, base_revision: int,
            summary: str, action: str, restored_from: int | None = None,
            at: datetime | None = None) -> CardRevision:
    latest = _latest(session, project.id)
    _check_base(project, latest, base_revision)
    previous = Card.from_dict(latest.content) if latest else Card()
    owners = projects.clean_owners(card.owners)
    if owners != owners_of(session, project.id):
        before = snapshot(project, owners=owners_of(session, project.id))
        projects._set_owners(session, project, owners)
        project.updated_at = utcnow()
        session.add(project)
        session.flush()
        audit(session, actor, entity="project", entity_id=project.id, action="update",
              before=before, after=snapshot(project, owners=owners))
    rev = CardRevision(
        project_id=project.id, number=(latest.number if latest else 0) + 1, at=at or utcnow(),
        author=actor.name, summary=summary, action=action, restored_from=restored_from,
        level=project.level, content=card.to_dict(),
    )
    session.add(rev)
    code = project.code  # read before a failed flush expires it
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"Somebody saved the card of {code} at the same moment; nothing was saved. "
            "Reload, compare, then save again."
        ) from exc
    changed = [change.label for change in card_rules.section_changes(previous, card)]
    audit(session, actor, entity="cardrevision", entity_id=rev.id, action=action, before=None,
          after={"code": project.code, "number": rev.number, "summary": summary, "level": rev.level,
                 "restored_from": restored_from, "changed": changed})
    return rev


@write_service(Permission.EDIT)
def save_card(*, session: Session, actor: Actor, code: str, card: Card, base_revision: int,
              summary: str = "", at: datetime | None = None) -> CardRevision:
    """Save ``card`` as the next revision, edited from revision ``base_revision`` (0: no card yet).

    ``at`` backdates the revision (the demo loader uses it); people's saves are stamped now."""
    project = get_project(session, code)
    if not isinstance(card, Card):
        raise InvalidInput("card", f"expected a card, got {type(card).__name__}")
    card = card_rules.validate(card)
    return _append(session, actor, project, card, base_revision=base_revision,
                   summary=_clean_summary(summary), action="edit", at=at)


@write_service(Permission.EDIT)
def restore_revision(*, session: Session, actor: Actor, code: str, number: int, base_revision: int,
                     summary: str = "") -> CardRevision:
    """Save the content of revision ``number`` again, as a new revision."""
    project = get_project(session, code)
    old = revision(session, code, number)
    card = card_rules.validate(Card.from_dict(old.content))
    summary = _clean_summary(summary) or f"Restored revision {number}"
    return _append(session, actor, project, card, base_revision=base_revision, summary=summary,
                   action="restore", restored_from=number)


@dataclass(frozen=True)
class ImportOutcome:
    code: str
    created: bool
    number: int
    warnings: tuple[str, ...]
    evidence_added: int = 0  # evidence records added from a Hugging Face model card's model-index


@write_service(Permission.EDIT)
def import_card(*, session: Session, actor: Actor, text: str, code: str | None = None,
                summary: str = "") -> ImportOutcome:
    """Import a card written in the MLTRL template layout, or a Hugging Face model card (YAML
    front matter, then the card's Markdown), as the next revision of its technology.

    The project ID in the summary table (or ``code``) picks the technology; an unknown one is
    created with the card's tech name and owners. When a new technology's card states a level, it
    is recorded as the technology's start (marked as stated on the imported card). A model card's
    metrics not yet in the technology's evidence are recorded as evidence of its current level."""
    summary = _clean_summary(summary)
    if code is not None and code != "":
        code = _code(code)
    model_card = card_rules.parse_hf_card(text) if card_rules.is_hf_card(text) else None
    # (both check the file's size before reading it)
    parsed = model_card.parsed if model_card else card_rules.parse_markdown(text)
    warnings = [w for w in parsed.warnings if not code]
    target = code or (parsed.code or "").strip()
    if not target:
        raise InvalidInput(
            "Tech name (project ID)",
            "the card names no project ID: write it in the summary table as 'Name (R02.1)', "
            "or choose the project to import into",
        )
    if not code:
        target = _code(target, "Tech name (project ID)")
    if code and parsed.code and parsed.code != code:
        warnings.append(f"The card names {parsed.code}; it was imported into {code} as asked.")
    card = card_rules.validate(parsed.card)
    project = projects.find_project(session, target)
    created = project is None
    if project is None:
        if not parsed.name:
            raise InvalidInput("Tech name (project ID)", f"{target} is a new project and the card gives no tech name")
        project = within(projects.add_project)(
            session=session, actor=actor, code=target, name=parsed.name, owners=card.owners,
        )
    elif parsed.name and parsed.name != project.name:
        warnings.append(f"The card calls it {parsed.name!r}; the technology keeps its name {project.name!r}.")
    if parsed.level is not None:
        if project.level is None:
            within(level_moves.record_start)(
                session=session, actor=actor, code=project.code, level=parsed.level,
                note="Level stated on an imported card (recorded without a review)",
            )
        elif project.level != parsed.level:
            warnings.append(
                f"The card states level {parsed.level}; {project.code} is at level {project.level} in its "
                "level history, which is what the dashboard shows."
            )
    latest = _latest(session, project.id)
    rev = _append(session, actor, project, card, base_revision=latest.number if latest else 0,
                  summary=summary or ("Imported from a Hugging Face model card" if model_card else
                                      "Imported from Markdown"), action="import")
    added = 0
    if model_card is not None:
        warnings += model_card.warnings
        added = _record_model_index(session, actor, project, model_card, warnings)
    return ImportOutcome(code=project.code, created=created, number=rev.number, warnings=tuple(warnings),
                         evidence_added=added)


def _record_model_index(session: Session, actor: Actor, project: Project, model_card: card_rules.HFCard,
                        warnings: list[str]) -> int:
    """Record each model-index result's metrics that the technology's evidence does not hold yet
    (the same name with the same value in any record) as one evidence record of its current level;
    how many records were added."""
    if not model_card.results:
        return 0
    if project.level is None:
        warnings.append(f"The model-index's metrics were not recorded: {project.code} has no level yet, and "
                        "evidence belongs to a level (record its start, then import the card again).")
        return 0
    held = {(name, float(value)) for record in reviews.evidence_of(session, project.code)
            for name, value in (record.metrics or {}).items()}
    added = 0
    for index, result in enumerate(model_card.results):
        new = {name: value for name, value in result.metrics if (name, value) not in held}
        if not new:
            continue
        outcome = within(reviews.add_evidence)(
            session=session, actor=actor, code=project.code, level=project.level, kind="model-card",
            status="info", title=result.title, url=result.url, metrics=new, source=result.source,
            details={"model": model_card.model_name, "task": result.task, "dataset": result.dataset_type},
            external_id=model_card.external_id(index),
        )
        added += outcome.created
    return added


def brief_html(session: Session, code: str, *, for_export: bool = False) -> str:
    """The one-page stakeholder brief of the technology's current card (sanitized HTML)."""
    from mltrl.domain import levels

    state = current_card(session, code)
    if state.level is None:
        level_label, phase = "no level yet", "—"
    else:
        meta = levels.level(state.level)
        level_label, phase = f"Level {state.level} · {meta.name}", meta.phase.value
    revision_text = (f"revision {state.number}, saved by {state.saved_by} on {state.saved_at:%Y-%m-%d}"
                     if state.number else "no card yet")
    facts = card_rules.BriefFacts(level_label=level_label, phase=phase, status=state.status,
                                  card_state=state.staleness, revision=revision_text,
                                  top_risks=top_risk_lines(session, code),
                                  register_requirements=register_lines(session, code))
    return card_rules.brief_html(state.card, state.header, facts,
                                 export_links(session) if for_export else links(session))


def register_lines(session: Session, code: str) -> tuple[str, ...]:
    """The top-level requirements of the register (plain integer numbers), one line each, as the
    card lists them: number, statement, V&V status and risk."""
    return tuple(
        f"{r.number}. {r.statement} (verification {r.verification_status}, validation {r.validation_status}; "
        f"risk {risk_rules.score(r.p_failure, r.value):.2f})"
        for r in risks.requirements(session, code) if risk_rules.is_top_level(r.number))


TESTING_KINDS = ("test-report", "ci-run")


def testing_lines(session: Session, code: str, limit: int = 5) -> tuple[str, ...]:
    """The latest test evidence of the technology's current level (test reports and CI runs), one
    line each, as the card shows them under its Testing status."""
    project = get_project(session, code)
    if project.level is None:
        return ()
    rows = [r for r in reviews.evidence_of(session, code, level=project.level, limit=limit * 4)
            if r.kind in TESTING_KINDS][:limit]
    return tuple(f"{r.status}: {r.title} ({r.source or 'no source given'}, {as_utc(r.produced_at):%Y-%m-%d})"
                 + (f" for {r.criterion_key}" if r.criterion_key else "") for r in rows)


def top_risk_lines(session: Session, code: str, limit: int = 5) -> tuple[str, ...]:
    """The technology's highest open risks, one line each, for the brief."""
    open_risks = [r for r in risks.risks(session, code) if r.status != risk_rules.RiskStatus.CLOSED]
    return tuple(
        f"{r.title}: {r.category}, risk {risk_rules.score(r.p_failure, r.value):.2f} "
        f"({risk_rules.grade_of(r.p_failure, r.value).name}), {r.status}" + (f", owner {r.owner}" if r.owner else "")
        for r in open_risks[:limit])


EXPORT_FORMATS = ("md", "html", "hf")


def measurements(session: Session, code: str, *, until: datetime | None = None) -> list[card_rules.Measurement]:
    """The technology's evidence records that carry metrics, newest first (produced at or before
    ``until`` when given), as a model card's model-index reads them."""
    records = reviews.evidence_of(session, code)
    if until is not None:
        records = [r for r in records if as_utc(r.produced_at) <= as_utc(until)]
    return [card_rules.Measurement(kind=r.kind, title=r.title, metrics=tuple((r.metrics or {}).items()),
                                   source=r.source, url=r.url) for r in records if r.metrics]


def export_card(session: Session, code: str, *, fmt: str = "md", level: int | None = None,
                number: int | None = None) -> str:
    """The card (current, of a prior ``level``, or revision ``number``) as Markdown, HTML or a
    Hugging Face model card (``hf``: its model-index from the evidence produced by then)."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput("format", f"{fmt!r:.40} is not one of {', '.join(EXPORT_FORMATS)}")
    project = get_project(session, code)
    meta = ""
    until = None
    if level is not None:
        card, header, frozen = card_of_level(session, code, level)
        meta = (f"Card of level {level} as it stood when {project.code} left it on "
                f"{frozen.left_at:%Y-%m-%d} (revision {frozen.number}).")
        until = frozen.left_at
    elif number is not None:
        rev = revision(session, code, number)
        card = Card.from_dict(rev.content)
        header = header_for(session, project, level=rev.level)
        meta = f"Revision {rev.number}, saved by {rev.author} on {rev.at:%Y-%m-%d %H:%M} UTC."
        until = rev.at
    else:
        state = current_card(session, code)
        if state.number == 0:
            raise NotFound(f"{project.code} has no card yet.")
        card, header = state.card, state.header
        meta = f"Revision {state.number}, saved by {state.saved_by} on {state.saved_at:%Y-%m-%d %H:%M} UTC."
    if fmt == "md":
        return card_rules.to_markdown(card, header)
    if fmt == "hf":
        return card_rules.to_hf_card(card, header, measurements(session, code, until=until))
    current = level is None and number is None
    return card_rules.to_html(card, header, export_links(session), meta=meta,
                              register=register_lines(session, code) if current else ())


def _person_key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def person_matches(handle: str, name: str) -> bool:
    """Whether ``@handle`` names the person ``name`` (full name without spaces, or first name)."""
    key = _person_key(handle)
    if not key:
        return False
    parts = name.split()
    return key == _person_key(name) or (bool(parts) and key == _person_key(parts[0]))


def cards_of_person(session: Session, handle: str) -> list[dict]:
    """The technologies whose card names ``handle`` as an owner or a reviewer."""
    found: dict[str, dict] = {}
    for code, name, owner in session.execute(
        select(Project.code, Project.name, ProjectOwner.name).join(ProjectOwner, ProjectOwner.project_id == Project.id)
    ).all():
        if person_matches(handle, owner):
            found.setdefault(code, {"code": code, "name": name, "as": set(), "person": owner})["as"].add("owner")
    latest = (
        select(CardRevision.project_id, func.max(CardRevision.number).label("n"))
        .group_by(CardRevision.project_id).subquery()
    )
    for code, name, content in session.execute(
        select(Project.code, Project.name, CardRevision.content)
        .join(CardRevision, CardRevision.project_id == Project.id)
        .join(latest, (latest.c.project_id == CardRevision.project_id) & (latest.c.n == CardRevision.number))
    ).all():
        for reviewer in (content or {}).get("reviewers", []):
            if person_matches(handle, reviewer):
                found.setdefault(code, {"code": code, "name": name, "as": set(), "person": reviewer})["as"].add("reviewer")
    return [dict(row, **{"as": ", ".join(sorted(row["as"]))}) for _, row in sorted(found.items())]
