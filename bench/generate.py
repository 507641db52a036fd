"""Synthetic portfolios for the benchmark, written fast with bulk inserts.

``generate(url, n_technologies)`` migrates an empty database and fills it with SQLAlchemy Core
``insert`` statements (executemany over lists of dicts), not through the services, which would
take far too long at the L size. The rows still keep the app's invariants:

* each technology is a system with 1 or 2 components (about 2.5 projects per technology), codes
  ``T00042`` for a system and ``T00042.1`` for its components (so code order is tree order);
* each project has about 10 level events (8-12; 1% have none yet) that pass the level engine:
  a start at a low level, graduations of +1, switchbacks of kind discovery or review, embedded
  only for 4->2, 9->4 and 9->7; dates strictly increase and are aware UTC datetimes;
  every generated history is replayed through ``mltrl.domain.levels.replay`` before it is written;
* ``Project.level``/``level_since`` mirror the last event and ``version`` counts the writes
  (1 for the create, +1 per level event);
* 1-3 owners per project from a pool of 50 names, in ``position`` order;
* one ``auditentry`` per created project, so the data version (``max(auditentry.id)``) is set;
* requirements and risk registers (``bench/registergen.py``): on average 10 requirements and 20
  risks per technology (50,000 and 100,000 at L), spread unevenly (about 10% of the technologies
  have neither register), ``registergen.REGISTER_CODE`` = ``T00042`` with a rich register of 200
  requirements and 400 risks at every size; each risk with 1-3 ``riskevent`` rows. They come from
  a random stream of their own, so the rest of the portfolio is what it was before they existed.
* gated reviews (``bench/reviewgen.py``): about half of the graduations and review-kind switchbacks
  decided at a review the event names (``LevelEvent.review_id``), hold reviews with tasks (and a
  deployed technology's cadence reviews), pause reviews, open reviews on about 10% of the
  technologies at their current level (``T00042`` always has one), 1-4 votes per review, ethics
  answers on about 30%, criterion scores of every technology's current level and a few gate
  overrides at levels 5 and 8 (some expired). A stream of their own too: only the events'
  ``review_id`` is new in the rows above.
* evidence (``bench/evidencegen.py``): 500 records of one technology, the evidence-heavy one (the
  first active system of the first chunk at level 8, else 4 or 3, that held levels 3 and 4:
  ``T00014`` with seed 42, at every size), spread over the levels it held and their criteria (the
  ones scored from evidence too), with an open review at its current level; written as
  ``add_evidence`` writes them, with their audit rows. A stream of its own too.
* OKRs (``bench/okrgen.py``): objectives in the current quarter and the one before (about one per
  50 technologies each, at least two), 3-5 key results each on started technologies (``T00042``
  always one), 0-3 check-ins per key result. Another stream of their own.

Then TRL cards, written through the card service (``save_card``, backdated with ``at=``), so the
revisions, owner checks and audit rows are exactly what the app writes (``bench/cardgen.py`` builds
the content):

* a handful of technologies get a short card (1-3 revisions): ``card_codes(n)`` (T00001, T00002,
  T00007, the quarter, half -- the project page's sample -- and three-quarter marks, the last one,
  and the component ``T00042.1``);
* the designated long card, ``cardgen.LONG_CARD_CODE`` = ``T00042`` at every size: six Markdown
  sections of 20-40 KB each (lists, tables, links, ``#CODE`` cross-links, ``@name`` mentions) and
  ``cardgen.LONG_CARD_REVISIONS`` = 50 revisions, each rewriting one paragraph of one section,
  spread over the technology's level history (so it has cards of the levels it left).

``cached_db(size)`` keeps one file per (size, seed, generator version, schema head) under
``bench/.cache/`` so reruns skip the generation (generator version 3: cards added; 4: the
requirements and risk registers; 5: gated reviews; 6: OKRs; 7: the evidence-heavy technology).
"""

from __future__ import annotations

import os
import random
import time
from datetime import datetime, timedelta, UTC
from pathlib import Path

from sqlalchemy import bindparam, insert, update
from sqlalchemy.pool import NullPool
from sqlmodel import col, select

from bench import cardgen, evidencegen, okrgen, registergen, reviewgen
from mltrl import db
from mltrl.domain import levels
from mltrl.domain.levels import EMBEDDED_SWITCHBACKS, EventKind, Move, SwitchbackKind
from mltrl.models import (
    AuditEntry,
    CheckIn,
    CriterionScore,
    EthicsAnswer,
    Evidence,
    GateOverride,
    KeyResult,
    LevelEvent,
    Objective,
    Project,
    ProjectOwner,
    Requirement,
    Review,
    ReviewVote,
    Risk,
    RiskEvent,
)

GENERATOR_VERSION = 7  # 3: TRL cards (a handful of short ones and the long card of T00042); 4: registers;
# 5: gated reviews; 6: OKRs; 7: the evidence-heavy technology (and open reviews' criteria marked "evidence")
SIZES = {"S": 100, "M": 1_000, "L": 5_000}
CACHE = Path(__file__).resolve().parent / ".cache"
EPOCH = datetime(2018, 1, 1, tzinfo=UTC)
CHUNK = 1_000  # technologies per batch of inserts

FIRST = ["Ada", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva"]
OWNERS = [f"{first} {last}" for first in FIRST for last in LAST]  # 50 names
assert reviewgen.REVIEWER == OWNERS[0]

ADJECTIVES = [
    "Robust", "Streaming", "Federated", "Causal", "Probabilistic", "Sparse", "Multimodal",
    "Self-supervised", "Explainable", "Low-latency", "Active", "Bayesian", "Graph", "Adaptive",
]
NOUNS = [
    "anomaly detector", "demand forecaster", "document classifier", "entity matcher",
    "recommender", "speech recogniser", "route optimiser", "image segmenter", "churn model",
    "fraud scorer", "search ranker", "sensor fusion", "translation model", "pricing model",
]
DOMAINS = [
    "power grids", "retail", "clinical notes", "satellite imagery", "logistics", "call centres",
    "payments", "manufacturing lines", "agriculture", "public transport",
]
PARTS = [
    "data pipeline", "feature store", "model", "evaluation harness", "serving API",
    "monitoring", "labelling tool", "simulator",
]
NOTES = {
    "discovery": "The experiments showed a gap in an earlier level's result.",
    "review": "The gated review sent it back.",
    "embedded": "Planned loop of the framework.",
}


def size_count(size: str) -> int:
    return SIZES[size.upper()]


def system_code(i: int) -> str:
    return f"T{i:05d}"


def sample_system_code(n_technologies: int) -> str:
    """A system (a project with components) from the middle of the portfolio."""
    return system_code(n_technologies // 2)


def card_codes(n_technologies: int) -> list[str]:
    """The technologies with a short card (the long card's ``LONG_CARD_CODE`` comes on top)."""
    n = n_technologies
    picks = sorted({1, 2, 7, n // 4, n // 2, 3 * n // 4, n})
    return [system_code(i) for i in picks if system_code(i) != cardgen.LONG_CARD_CODE] + [
        f"{cardgen.LONG_CARD_CODE}.1"]


def _card_context(session, code: str) -> tuple[Project, list[str], list[str], list[LevelEvent]]:
    """(project, owners, component codes, level events) of ``code``."""
    from mltrl.services import level_moves, projects

    project = projects.get_project(session, code)
    owners = projects.owners_of(session, project.id)
    components = [c.code for c in projects.children_of(session, project.id)]
    return project, owners, components, level_moves.history(session, code)


def _revision_times(rng: random.Random, project: Project, events: list[LevelEvent], count: int) -> list[datetime]:
    """``count`` strictly increasing aware UTC times over the technology's level history."""
    start = (events[0].at if events else project.created_at)
    end = (events[-1].at if events else start) + timedelta(days=30)
    start = (start.replace(tzinfo=UTC) if start.tzinfo is None else start) + timedelta(days=1)
    end = end.replace(tzinfo=UTC) if end.tzinfo is None else end
    span = max((end - start).total_seconds(), count * 60.0)
    offsets = sorted(rng.uniform(0, span) for _ in range(count))
    return [start + timedelta(seconds=off + i) for i, off in enumerate(offsets)]


def _write_cards(url: str, n_technologies: int, seed: int) -> dict[str, int]:
    """The cards, through ``save_card`` (each save its own transaction, as from the page)."""
    from sqlmodel import Session

    from mltrl.services import Actor, cards

    # Streams of their own: the portfolio rows stay as they were, and the long card (whose
    # cross-links use codes that exist at every size) is the same Markdown at every size.
    short_rng = random.Random(seed * 1_000 + 7)
    long_rng = random.Random(seed * 1_000 + 42)
    engine = db.make_engine(url, poolclass=NullPool)
    n_cards = n_revisions = 0
    try:
        with Session(engine, expire_on_commit=False) as s:
            codes = cardgen.link_pool(list(s.exec(select(Project.code).order_by(col(Project.code))).all()))
            for code in card_codes(n_technologies) + [cardgen.LONG_CARD_CODE]:
                project, owners, components, events = _card_context(s, code)
                long = code == cardgen.LONG_CARD_CODE
                rng = long_rng if long else short_rng
                build = cardgen.long_card if long else cardgen.short_card
                card = build(rng, code, owners, OWNERS, codes, components)
                count = cardgen.LONG_CARD_REVISIONS if long else rng.randint(1, 3)
                for number, at in enumerate(_revision_times(rng, project, events, count), start=1):
                    summary = "Card started"
                    if number > 1:
                        card, summary = cardgen.vary(card, rng, number, codes, OWNERS)
                    author = rng.choice(owners + list(card.reviewers))
                    cards.save_card(session=s, actor=Actor(author), code=code, card=card,
                                    base_revision=number - 1, summary=summary, at=at)
                    n_revisions += 1
                n_cards += 1
    finally:
        engine.dispose()
    return {"cards": n_cards, "card_revisions": n_revisions}


def _history(rng: random.Random, start_at: datetime) -> list[dict]:
    """About 10 legal level events (as LevelEvent column dicts without ids)."""
    if rng.random() < 0.01:
        return []
    n = rng.randint(8, 12)
    level = rng.choices([0, 1, 2, 3], weights=[4, 3, 2, 1])[0]
    ceiling = max(level + 1, rng.choice([3, 4, 5, 6, 7, 8, 9, 9]))
    held = {level}
    at = start_at
    events = [dict(from_level=None, to_level=level, kind="start", switchback_kind=None, at=at, note="")]
    for _ in range(n - 1):
        at = at + timedelta(days=rng.randint(5, 120), hours=rng.randint(0, 23), minutes=rng.randint(0, 59))
        lower = sorted(x for x in held if x < level)
        if lower and (level >= ceiling or level == levels.MAX_LEVEL or rng.random() < 0.15):
            embedded = [b for (a, b) in EMBEDDED_SWITCHBACKS if a == level and b in held]
            if embedded and rng.random() < 0.6:
                to, kind = rng.choice(sorted(embedded)), "embedded"
            else:
                to = rng.choice(lower[-3:])
                kind = "discovery" if rng.random() < 0.6 else "review"
            events.append(dict(from_level=level, to_level=to, kind="switchback", switchback_kind=kind,
                               at=at, note=NOTES[kind]))
            level = to
        else:
            events.append(dict(from_level=level, to_level=level + 1, kind="graduation",
                               switchback_kind=None, at=at, note=""))
            level += 1
        held.add(level)
    return events


def _check(events: list[dict], code: str) -> None:
    """Replay the history through the level engine: any illegal move raises."""
    moves = [
        Move(EventKind(e["kind"]), e["to_level"],
             SwitchbackKind(e["switchback_kind"]) if e["switchback_kind"] else None, e["at"])
        for e in events
    ]
    state, transitions = levels.replay(moves)
    assert state.current == (events[-1]["to_level"] if events else None), code
    for t in transitions:
        if t.warnings:
            raise AssertionError(f"{code}: generated a move with warnings: {t.warnings}")


def _rows(first: int, last: int, rng: random.Random, ids: dict[str, int]) -> dict[str, list[dict]]:
    """Rows for technologies ``first``..``last - 1`` (ids continue from ``ids``)."""
    out: dict[str, list[dict]] = {"project": [], "owner": [], "event": [], "audit": []}

    def project(code: str, name: str, parent_id: int | None, owners: list[str]) -> int:
        ids["project"] += 1
        pid = ids["project"]
        created = EPOCH + timedelta(days=rng.randint(0, 4 * 365), seconds=rng.randint(0, 86_399))
        events = _history(rng, created + timedelta(days=rng.randint(0, 30), hours=1))
        _check(events, code)
        actor = owners[0]
        for e in events:
            ids["event"] += 1
            e.update(id=ids["event"], project_id=pid, recorded_by=actor, recorded_at=e["at"])
        out["event"].extend(events)
        status = rng.choices(["active", "paused", "retired"], weights=[85, 10, 5])[0]
        last_event = events[-1] if events else None
        out["project"].append(dict(
            id=pid, code=code, name=name, parent_id=parent_id, status=status,
            summary=f"{name}: a synthetic technology for the benchmark, owned by {', '.join(owners)}.",
            level=last_event["to_level"] if last_event else None,
            level_since=last_event["at"] if last_event else None,
            created_at=created, created_by=actor,
            updated_at=last_event["at"] if last_event else created,
            version=1 + len(events),
        ))
        for position, owner in enumerate(owners):
            ids["owner"] += 1
            out["owner"].append(dict(id=ids["owner"], project_id=pid, name=owner, position=position))
        ids["audit"] += 1
        out["audit"].append(dict(
            id=ids["audit"], at=created, actor=actor, entity="project", entity_id=str(pid),
            action="create", before=None,
            after={"code": code, "name": name, "parent_id": parent_id, "owners": owners},
        ))
        return pid

    for i in range(first, last):
        code = system_code(i)
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} for {rng.choice(DOMAINS)}"
        owners = rng.sample(OWNERS, rng.choice([1, 1, 2, 2, 3]))
        pid = project(code, name, None, owners)
        for k, part in enumerate(rng.sample(PARTS, rng.choice([1, 2])), start=1):
            sub_owners = owners[:1] + [o for o in rng.sample(OWNERS, rng.choice([0, 1])) if o not in owners]
            project(f"{code}.{k}", f"{name}: {part}", pid, sub_owners)
    return out


def _register_rows(rows: dict[str, list[dict]], rng: random.Random, allocation: tuple[list[int], list[int]],
                   now: datetime, ids: dict[str, int]) -> dict[str, list[dict]]:
    """The registers of the technologies in ``rows`` (one chunk), on each system project."""
    out: dict[str, list[dict]] = {"requirement": [], "risk": [], "riskevent": []}
    owners: dict[int, list[str]] = {}
    for o in rows["owner"]:
        owners.setdefault(o["project_id"], []).append(o["name"])
    components: dict[int, list[dict]] = {}
    for p in rows["project"]:
        if p["parent_id"] is not None:
            components.setdefault(p["parent_id"], []).append(p)
    n_reqs, n_risks = allocation
    for p in rows["project"]:
        if p["parent_id"] is not None:
            continue
        i = int(p["code"][1:]) - 1
        part = registergen.register_rows(rng, p, components.get(p["id"], []), owners[p["id"]], OWNERS,
                                         n_reqs[i], n_risks[i], now, ids)
        for key, values in part.items():
            out[key].extend(values)
    return out


def generate(url: str, n_technologies: int, seed: int = 42) -> dict[str, int]:
    """Migrate ``url`` (an empty database) and fill it; returns row counts per table."""
    db.upgrade_db(url)
    rng = random.Random(seed)
    register_rng = random.Random(seed * 1_000 + 6)  # a stream of its own: the portfolio is unchanged
    review_rng = random.Random(seed * 1_000 + 8)  # likewise
    okr_rng = random.Random(seed * 1_000 + 10)  # likewise
    evidence_rng = random.Random(seed * 1_000 + 12)  # likewise
    allocation = registergen.allocate(register_rng, n_technologies)
    now = datetime.now(UTC)
    ids = {"project": 0, "owner": 0, "event": 0, "audit": 0, "requirement": 0, "risk": 0, "riskevent": 0,
           "review": 0, "reviewvote": 0, "ethicsanswer": 0, "criterionscore": 0, "gateoverride": 0,
           "objective": 0, "keyresult": 0, "checkin": 0, "evidence": 0}
    engine = db.make_engine(url, poolclass=NullPool)
    # Reviews before the events that name them (foreign keys are on).
    tables = [("project", Project), ("owner", ProjectOwner), ("event", LevelEvent), ("evidence", Evidence),
              ("audit", AuditEntry), ("evidence_audit", AuditEntry),
              ("requirement", Requirement), ("risk", Risk), ("riskevent", RiskEvent),
              ("criterionscore", CriterionScore), ("gateoverride", GateOverride)]
    # Reviews, votes and answers are kept until every chunk is built, then numbered in opening
    # order across the portfolio and inserted; the events they decided are pointed at them last.
    pending: dict[str, list[dict]] = {"review": [], "reviewvote": [], "ethicsanswer": []}
    links: list[tuple[int, int]] = []  # (event id, provisional review id)
    everyone: list[tuple[int, str, int | None]] = []  # (id, code, level) of every project, for the OKRs
    heavy: dict | None = None  # the evidence-heavy technology's project row (picked in the first chunk)
    try:
        with engine.begin() as conn:
            existing = conn.exec_driver_sql("SELECT count(*) FROM project").scalar_one()
            if existing:
                raise RuntimeError(f"{db.safe_url(url)} already holds {existing} projects")
            for first in range(1, n_technologies + 1, CHUNK):
                rows = _rows(first, min(first + CHUNK, n_technologies + 1), rng, ids)
                everyone.extend((p["id"], p["code"], p["level"]) for p in rows["project"])
                rows.update(_register_rows(rows, register_rng, allocation, now, ids))
                rows["evidence"], rows["evidence_audit"] = [], []  # (own insert: its rows name a ``via``)
                if first == 1:
                    heavy = evidencegen.pick(rows, now)
                    if heavy is None:
                        raise RuntimeError("no technology of the first chunk fits the evidence-heavy one")
                rows.update(reviewgen.review_rows(review_rng, rows, now, ids, OWNERS,
                                                  also_open=frozenset([heavy["code"]])))
                if first == 1:
                    part = evidencegen.evidence_rows(
                        evidence_rng, heavy, sorted((e for e in rows["event"] if e["project_id"] == heavy["id"]),
                                                    key=lambda e: (e["at"], e["id"])),
                        [o["name"] for o in rows["owner"] if o["project_id"] == heavy["id"]],
                        [r["number"] for r in rows["requirement"] if r["project_id"] == heavy["id"]], now, ids)
                    rows["evidence"] = part["evidence"]
                    rows["evidence_audit"] = part["audit"]
                for e in rows["event"]:
                    if e["review_id"] is not None:
                        links.append((e["id"], e["review_id"]))
                        e["review_id"] = None
                for key, kept in pending.items():
                    kept.extend(rows.pop(key))
                for key, model in tables:
                    if rows[key]:
                        conn.execute(insert(model.__table__), rows[key])
            decided = reviewgen.renumber(pending["review"], pending["reviewvote"], pending["ethicsanswer"], links)
            for key, model in (("review", Review), ("reviewvote", ReviewVote), ("ethicsanswer", EthicsAnswer)):
                if pending[key]:
                    conn.execute(insert(model.__table__), pending[key])
            if decided:
                conn.execute(update(LevelEvent).where(LevelEvent.id == bindparam("eid"))
                             .values(review_id=bindparam("rid")), decided)
            okrs = okrgen.okr_rows(okr_rng, everyone, now, ids, OWNERS)
            for key, model in (("objective", Objective), ("keyresult", KeyResult), ("checkin", CheckIn)):
                if okrs[key]:
                    conn.execute(insert(model.__table__), okrs[key])
        card_counts = _write_cards(url, n_technologies, seed)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    return {"technologies": n_technologies, "projects": ids["project"], "owners": ids["owner"],
            "events": ids["event"], "audit": ids["audit"], "requirements": ids["requirement"],
            "risks": ids["risk"], "risk_events": ids["riskevent"], "reviews": ids["review"],
            "review_votes": ids["reviewvote"], "ethics_answers": ids["ethicsanswer"],
            "criterion_scores": ids["criterionscore"], "gate_overrides": ids["gateoverride"],
            "objectives": ids["objective"], "key_results": ids["keyresult"], "check_ins": ids["checkin"],
            "evidence": ids["evidence"], "evidence_code": heavy["code"] if heavy else None,
            **card_counts}


def schema_head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(db.alembic_config("sqlite://")).get_current_head() or "none"


def cached_db(size: str, seed: int = 42, *, log=print) -> Path:
    """The generated database for ``size`` (S, M or L), built once and kept under bench/.cache/."""
    n = size_count(size)
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"portfolio-{size.upper()}-{n}-seed{seed}-g{GENERATOR_VERSION}-r{schema_head()}.db"
    if path.exists():
        return path
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    t0 = time.perf_counter()
    counts = generate(f"sqlite:///{tmp}", n, seed)
    registergen.verify(str(tmp))
    checked = reviewgen.verify(str(tmp))
    log(f"reviews checked: {checked}")
    log(f"OKRs checked: {okrgen.verify(str(tmp))}")
    log(f"evidence checked (every record replayed through add_evidence): {evidencegen.verify(str(tmp))}")
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)  # checkpointed and closed: nothing left in them
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.replace(tmp, path)
    log(f"generated {size.upper()}: {counts} in {time.perf_counter() - t0:.1f} s -> {path.name}")
    return path
