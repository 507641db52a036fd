"""Concurrent writers lose nothing: several processes write to one database at once.

``WORKERS`` processes (started with ``spawn``, each with its own engine, as separate app or CLI
processes would be) release together and each makes ``WRITES`` writes through the services:

* **edit** one of a few shared technologies with ``projects.update_project``, passing the version
  the process *last read* (it re-reads only after its own write or a refusal, like a page left
  open), with new owners as the edit form sends them (``with-owners``) or name and status only
  (``name-status``): other processes' writes make many of these stale, and those must be refused
  with ``Conflict``;
* **add** a technology with a code of its own;
* **graduate** or **switch back** a shared technology (``level_moves``) with ``expected_version``.

Each process reports every accepted write (with the version and level it produced) and every
refusal (exception class and message). Then, on a fresh connection: every add exists; every shared
technology's version is 1 + its accepted edits and level moves (the seed's start included) and the
accepted writes produced each version in between exactly once; its level history is exactly the
accepted moves, chained level to level; every accepted write has its audit rows; every refusal is a
``Conflict`` that says so in plain words, or a ``RuleViolation`` for a level move that raced
another (seen as "already at level N [rule: same-level]": the service reads the project and then
its history in separate statements, so another writer's move can land in between; the engine
refuses it and nothing is written); nothing is a raw driver error, ``Busy`` or "database is
locked"; and no SQLAlchemy warning was raised.

A second test races writers adding the same codes: each code is taken once, the others are told
it is taken (``InvalidInput``), never a driver error.

Runs on SQLite (a temp file: WAL, one writer at a time, the services retry on "database is
locked") and on PostgreSQL (row locks; a stale UPDATE matches no row).
"""

from __future__ import annotations

import multiprocessing
import queue
import random
import time
import traceback
import warnings
from collections import Counter, defaultdict
from itertools import pairwise
from typing import Any

import pytest
from sqlmodel import col, select

from mltrl import db
from mltrl.domain.errors import Conflict, MltrlError, RuleViolation
from mltrl.models import AuditEntry, LevelEvent
from mltrl.services import Actor, level_moves, projects
from mltrl.services.projects import owners_of
from tests.factories import TESTER, day, make_project

WORKERS = 6
WRITES = 25
SHARED = ("S1", "S2", "S3")
START_LEVEL = 3
JOIN_TIMEOUT_S = 120
CONFLICT_WORDS = "since you opened it"


# --- the writer (runs in a child process) --------------------------------------------------------


def seed(url: str, codes: tuple[str, ...] = SHARED) -> None:
    """The shared technologies, each started at ``START_LEVEL`` (version 2: the add and the start)."""
    engine = db.get_engine(url)
    with db.session_scope(engine) as session:
        for code in codes:
            make_project(session, code, owners=["seed"])
            level_moves.record_start(session=session, actor=TESTER, code=code, level=START_LEVEL,
                                     at=day("2024-01-01"))
    db.dispose_engines()


def _describe(exc: BaseException) -> dict[str, str]:
    cls = type(exc)
    return {"error": cls.__name__, "module": cls.__module__, "message": str(exc),
            "traceback": "" if isinstance(exc, MltrlError) else traceback.format_exc(limit=8)}


def run_writer(url: str, worker: int, writes: int, *, barrier: Any = None, shared: tuple[str, ...] = SHARED,
               mix: tuple[float, float] = (0.4, 0.75), seed_value: int = 0,
               edit_owners: bool = False, same_new_codes: bool = False,
               duration_s: float | None = None) -> dict[str, Any]:
    """Make ``writes`` writes as ``Actor(f"writer-{worker}")``; report what was accepted and refused.

    ``mix``: a draw below ``mix[0]`` edits, below ``mix[1]`` moves, else adds. ``edit_owners``:
    edits also replace the owners (as the page's edit form does); else they change the name,
    summary and status only. ``same_new_codes``: every writer adds the same codes (a race for each).
    ``duration_s``: stop early once this long has passed (the benchmark's time-boxed runs).
    """
    rng = random.Random(seed_value * 1000 + worker)
    actor = Actor(f"writer-{worker}")
    engine = db.get_engine(url)
    seen: dict[str, tuple[int, int | None]] = {}  # code -> (version, level) as this process last read them
    accepted: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    caught: list[str] = []

    def read(code: str) -> tuple[int, int | None]:
        with db.session_scope(engine) as session:
            project = projects.get_project(session, code)
            seen[code] = (project.version, project.level)
        return seen[code]

    with engine.connect() as conn:  # connect before the start line, so all start writing together
        conn.exec_driver_sql("SELECT 1")
    for code in shared:
        read(code)
    if barrier is not None:
        barrier.wait(timeout=JOIN_TIMEOUT_S)
    t0 = time.perf_counter()
    latencies: list[float] = []
    for i in range(writes):
        if duration_s is not None and time.perf_counter() - t0 >= duration_s:
            break
        if same_new_codes and barrier is not None:
            barrier.wait(timeout=JOIN_TIMEOUT_S)  # each code is a race: all writers add it together
        draw = rng.random()
        code = rng.choice(shared) if shared else ""
        version, level = seen.get(code, (0, None))
        note = f"w{worker}.{i}"
        if draw < mix[0]:
            op = "edit"
            owners = [f"owner-{worker}", "shared owner"] if edit_owners else None
            status = rng.choice(("active", "paused"))
            call = lambda s, code=code, version=version, note=note, owners=owners, status=status: (
                projects.update_project(session=s, actor=actor, code=code, expected_version=version,
                                        name=f"Shared {code} {note}", summary=f"edited by {note}",
                                        status=status, owners=owners))
        elif draw < mix[1]:
            assert level is not None
            if level >= START_LEVEL + 3 or (level > 1 and rng.random() < 0.4):
                op = "switchback"
                call = lambda s, code=code, version=version, note=note, level=level: level_moves.switch_back(
                    session=s, actor=actor, code=code, level=level - 1, kind="discovery", note=note,
                    expected_version=version)
            else:
                op = "graduate"
                call = lambda s, code=code, version=version, note=note: level_moves.graduate(
                    session=s, actor=actor, code=code, note=note, expected_version=version)
        else:
            op, code = "add", (f"D{seed_value}-{i}" if same_new_codes else f"N{seed_value}-{worker}-{i}")
            call = lambda s, code=code, note=note: projects.add_project(
                session=s, actor=actor, code=code, name=f"New {note}", owners=[f"owner-{worker}"])
        record: dict[str, Any] = {"op": op, "code": code, "worker": worker, "i": i, "note": note,
                                  "expected_version": version if op != "add" else None}
        started = time.perf_counter()
        got: list[warnings.WarningMessage] = []
        try:
            with warnings.catch_warnings(record=True) as got, db.session_scope(engine) as session:
                warnings.simplefilter("always")
                result = call(session)
                if op == "add":
                    record.update(version=result.version, name=result.name)
                elif op == "edit":
                    record.update(version=result.version, name=result.name, status=result.status,
                                  owners=owners)
                    seen[code] = (result.version, result.level)
                else:
                    # An accepted move was checked against ``version`` and bumps it by one. (Not
                    # re-read: the session keeps rows weakly, so a read could see a later writer.)
                    record.update(version=version + 1, level=result.event.to_level,
                                  from_level=result.event.from_level)
                    seen[code] = (version + 1, result.event.to_level)
            caught += [f"{w.category.__name__}: {w.message}" for w in got]
            accepted.append(record)
        except Exception as exc:
            caught += [f"{w.category.__name__}: {w.message}" for w in got]
            refused.append(record | _describe(exc))
            if op != "add":
                read(code)  # reload, as the user is told to
        record["latency_s"] = time.perf_counter() - started
        latencies.append(record["latency_s"])
    elapsed = time.perf_counter() - t0
    db.dispose_engines()
    return {"worker": worker, "accepted": accepted, "refused": refused, "warnings": caught,
            "elapsed_s": elapsed, "latencies_s": latencies}


def _child(url: str, worker: int, writes: int, barrier: Any, results: Any, kwargs: dict[str, Any]) -> None:
    try:
        results.put(run_writer(url, worker, writes, barrier=barrier, **kwargs))
    except BaseException as exc:
        results.put({"worker": worker, "crashed": _describe(exc) | {"traceback": traceback.format_exc()}})


def run_writers(url: str, workers: int, writes: int, **kwargs: Any) -> list[dict[str, Any]]:
    """Start ``workers`` spawned processes writing to ``url`` at once; their reports, by worker."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers)
    results = ctx.Queue()
    procs = [ctx.Process(target=_child, args=(url, w, writes, barrier, results, kwargs), daemon=True)
             for w in range(workers)]
    for p in procs:
        p.start()
    reports: list[dict[str, Any]] = []
    deadline = time.monotonic() + JOIN_TIMEOUT_S
    try:
        while len(reports) < workers:
            try:
                reports.append(results.get(timeout=max(0.1, deadline - time.monotonic())))
            except queue.Empty:
                dead = [p.exitcode for p in procs if p.exitcode is not None]
                raise AssertionError(f"only {len(reports)} of {workers} writers reported in "
                                     f"{JOIN_TIMEOUT_S} s (exit codes seen: {dead})") from None
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()
                p.join()
    crashed = [r["crashed"] for r in reports if "crashed" in r]
    assert not crashed, crashed
    return sorted(reports, key=lambda r: r["worker"])


# --- the test ------------------------------------------------------------------------------------


RAW_DRIVER_MODULES = ("sqlalchemy", "sqlite3", "psycopg")


def _show(refusal: dict[str, Any]) -> str:
    return (f"{refusal['op']} {refusal['code']} by writer {refusal['worker']}: "
            f"{refusal['module']}.{refusal['error']}: {refusal['message'][:400]}\n{refusal['traceback']}")


@pytest.mark.parametrize(("edit_kind", "workers", "writes"), [
    ("with-owners", WORKERS, WRITES),  # as the page's edit form sends them: the main proof
    ("name-status", 4, 15),  # edits that leave the owners alone: a shorter run
], ids=["with-owners", "name-status"])
def test_concurrent_writers_lose_nothing_and_stale_writes_are_refused(
        db_url: str, edit_kind: str, workers: int, writes: int) -> None:
    seed(db_url)
    engine = db.get_engine(db_url)
    with engine.connect() as conn:
        audit_before = conn.execute(select(AuditEntry.id)).all()
    db.dispose_engines()

    t0 = time.perf_counter()
    reports = run_writers(db_url, workers, writes, edit_owners=edit_kind == "with-owners")
    elapsed = time.perf_counter() - t0
    accepted = [a for r in reports for a in r["accepted"]]
    refused = [f for r in reports for f in r["refused"]]
    by_op = Counter(a["op"] for a in accepted)
    print(f"\n{db_url.split(':')[0]}: {workers} writers x {writes} writes in {elapsed:.1f} s: "
          f"accepted {dict(by_op)}, refused {Counter(f['error'] for f in refused)}")
    for f in refused:
        if f["error"] == RuleViolation.__name__:
            print(f"  a move that raced: {f['op']} {f['code']} from version {f['expected_version']}: {f['message']}")

    # Every write was either accepted or refused, and every refusal is a clear, expected one.
    assert len(accepted) + len(refused) == workers * writes
    problems = [f for f in refused
                if f["module"].startswith(RAW_DRIVER_MODULES) or "database is locked" in f["message"].lower()
                or f["error"] not in (Conflict.__name__, RuleViolation.__name__)]
    assert problems == [], "\n".join(_show(f) for f in problems)
    for f in refused:
        assert f["op"] != "add", f  # unique codes: nothing to refuse
        if f["error"] == Conflict.__name__:
            assert CONFLICT_WORDS in f["message"] and "reload" in f["message"], f
        else:  # a RuleViolation: a level move that raced another (the engine checked a newer state)
            assert f["op"] in ("graduate", "switchback"), f
    assert any(f["error"] == Conflict.__name__ for f in refused), \
        "no stale write was refused: the writers did not overlap"
    warned = [w for r in reports for w in r["warnings"]]
    assert warned == [], warned

    with db.session_scope(db.get_engine(db_url)) as session:
        # Every add is there, as it was made.
        for a in (a for a in accepted if a["op"] == "add"):
            project = projects.get_project(session, a["code"])
            assert (project.name, project.version) == (a["name"], 1)
            assert owners_of(session, project.id) == [f"owner-{a['worker']}"]

        for code in SHARED:
            project = projects.get_project(session, code)
            mine = [a for a in accepted if a["code"] == code]
            edits = [a for a in mine if a["op"] == "edit"]
            moves = [a for a in mine if a["op"] in ("graduate", "switchback")]
            # 1 (the add) + 1 (the seed's start) + every accepted edit and move, and those made
            # each version in between exactly once (one at a time, none lost, none doubled).
            assert project.version == 2 + len(edits) + len(moves), (code, project.version, len(edits), len(moves))
            assert sorted(a["version"] for a in mine) == list(range(3, project.version + 1)), (
                code, sorted((a["version"], a["op"], a["note"], a["expected_version"]) for a in mine))
            # The last accepted edit is what the row holds now.
            if edits:
                last = max(edits, key=lambda a: a["version"])
                assert (project.name, project.status) == (last["name"], last["status"])
                if last["owners"] is not None:
                    assert owners_of(session, project.id) == last["owners"]
            # The history is exactly the seed's start and the accepted moves, chained.
            events = session.exec(
                select(LevelEvent).where(LevelEvent.project_id == project.id)
                .order_by(col(LevelEvent.at), col(LevelEvent.id))).all()
            assert [e.note for e in events[1:]] == [a["note"] for a in sorted(moves, key=lambda a: a["version"])]
            assert Counter((e.recorded_by, e.note, e.to_level) for e in events[1:]) == Counter(
                (f"writer-{a['worker']}", a["note"], a["level"]) for a in moves)
            for previous, event in pairwise(events):
                assert event.from_level == previous.to_level, (code, previous, event)
            assert project.level == events[-1].to_level

        # Every accepted write has its audit rows: one per add and edit, two per level move.
        audit = session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
        new_rows = audit[len(audit_before):]
        expected_rows = by_op["add"] + by_op["edit"] + 2 * (by_op["graduate"] + by_op["switchback"])
        assert len(new_rows) == expected_rows
        edit_rows = {(r.actor, r.after["name"], r.after["version"]) for r in new_rows
                     if r.entity == "project" and r.action == "update"}
        assert edit_rows == {(f"writer-{a['worker']}", a["name"], a["version"])
                             for a in accepted if a["op"] == "edit"}
        ids = {code: str(projects.get_project(session, code).id) for code in SHARED}
        level_rows = Counter((r.actor, r.entity_id, r.after["version"], r.after["level"]) for r in new_rows
                             if r.entity == "project" and r.action == "level")
        assert level_rows == Counter((f"writer-{a['worker']}", ids[a["code"]], a["version"], a["level"])
                                     for a in accepted if a["op"] in ("graduate", "switchback"))
    db.dispose_engines()


def test_the_writer_reports_each_write_once(db_url: str) -> None:
    """The harness itself, in-process: one writer, no races, every write accepted."""
    seed(db_url, ("S1",))
    report = run_writer(db_url, 0, 8, shared=("S1",))
    assert report["refused"] == [] and len(report["accepted"]) == 8
    versions = defaultdict(list)
    for a in report["accepted"]:
        versions[a["code"]].append(a["version"])
    assert versions["S1"] == sorted(versions["S1"]) and len(set(versions["S1"])) == len(versions["S1"])


def test_the_same_code_added_at_once_is_taken_once_and_refused_plainly(db_url: str) -> None:
    writers, codes = 3, 6
    db.get_engine(db_url)
    db.dispose_engines()
    reports = run_writers(db_url, writers, codes, shared=(), mix=(0.0, 0.0), same_new_codes=True)
    accepted = [a for r in reports for a in r["accepted"]]
    refused = [f for r in reports for f in r["refused"]]
    assert sorted(a["code"] for a in accepted) == sorted(f"D0-{i}" for i in range(codes))
    assert len(refused) == (writers - 1) * codes
    plain = [f for f in refused if f["error"] == "InvalidInput" and "already taken" in f["message"]]
    assert plain == refused, "\n".join(_show(f) for f in refused if f not in plain)
