"""Hostile input (issue 14): how long the parsers and importers take to give a result or a refusal.

Every case is one hostile file given to one public function, and the row is the time until that
call returns (a result) or refuses (an ``mltrl.domain.errors.MltrlError``; which one is recorded).
Another exception (``RecursionError``, ``csv.Error``, ...) is a defect: the row is marked ``CHECK
FAILED``. So is a refusal that left the database changed (the imports' database is dumped before
and after the call), and a result known to be wrong (a CR-only file must add every one of its
rows; the deep JSON is no backup, so only a refusal is right). The target is ``TARGET_S`` = 2 s
per case, reported, not asserted.

The cases:

* 100 KB of hostile card Markdown, each read by ``cards.parse_markdown`` and rendered by
  ``cards.render_html`` (``mltrl.domain.cards``), and imported by the card import service
  (``services.cards.import_card`` into ``HOSTILE_CODE``): a heading line (``# a``, spaces, ``b``);
  a TL;DR-like line of spaces then ``x``; a table-separator-like line (``|--``, spaces, ``x``)
  under a table's first row; nested link brackets (``[`` x N, ``x``, ``]`` x N); a list nested
  deep (``- - - ... x``: each item holding the next list).
* Two CSV files through each register importer (``services.risks.import_risks`` and
  ``import_requirements``): one row whose free-text cell has 128 KiB + 1 characters (one more than
  ``csv``'s default field limit); and 1,000 valid rows with CR-only line ends (old Mac files).
* A 100,000-deep JSON array given to the backup import (``services.backup.import_backup``, into an
  empty database).

Each case runs in its own process (``python -m bench.hostile --case NAME ...``) with a hard bound
(``BENCH_HOSTILE_TIMEOUT``, default 10 s), so a parser that backtracks for hours is reported as
"over N s" (N: how long the call had run when its process was stopped) instead of hanging the
benchmark. The input is built, the functions warmed up on a harmless input and the database copied
before the timed call, all untimed. The cases do not depend on the portfolio's size: ``make bench``
(``bench/run.py``) runs them once, after the sizes (``BENCH_HOSTILE=0`` leaves them out);
``python -m bench.hostile`` runs them alone. A crash of the case's process (a signal) is a failed
check too.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import RESULTS, ROOT

TARGET_S = 2.0  # every case: a result or a refusal within 2 s
CARD_BYTES = 100_000  # each hostile card file
CELL_CHARS = 128 * 1024 + 1  # one more than csv.field_size_limit()'s default (131,072)
CR_ROWS = 1_000  # rows of the CR-only CSV files
JSON_DEPTH = 100_000  # nesting of the hostile backup file
HOSTILE_CODE = "H0001"  # the technology the card and register imports write into
STARTUP_S = 60.0  # the case's process: start, imports, input and warm-up, before the timed call


def timeout_s() -> float:
    return float(os.environ.get("BENCH_HOSTILE_TIMEOUT", "10"))


# --- the hostile inputs -----------------------------------------------------------------------------


def _heading() -> str:
    return "# a" + " " * (CARD_BYTES - 4) + "b"


def _tldr_line() -> str:
    return " " * (CARD_BYTES - 1) + "x"


def _table_separator() -> str:
    first = "| a | b |\n"
    return first + "|--" + " " * (CARD_BYTES - len(first) - 4) + "x"


def _nested_brackets() -> str:
    n = (CARD_BYTES - 1) // 2
    return "[" * n + "x" + "]" * n


def _deep_list() -> str:
    return "- " * ((CARD_BYTES - 1) // 2) + "x"


CARD_INPUTS: dict[str, tuple[str, Callable[[], str]]] = {
    "heading": ("heading line '# a', spaces, 'b'", _heading),
    "tldr": ("TL;DR-like line of spaces, then 'x'", _tldr_line),
    "separator": ("table-separator-like line '|--', spaces, 'x'", _table_separator),
    "brackets": ("nested link brackets '['*N 'x' ']'*N", _nested_brackets),
    "list": ("list nested deep '- - - ... x'", _deep_list),
}


def _big_cell(what: str) -> str:
    cell = "x" * CELL_CHARS
    if what == "risks":
        return f"title,category,p_failure,value,description\nBig cell,data,0.3,5,{cell}\n"
    return f"number,statement,p_failure,value\n1,{cell},0.3,5\n"


def _cr_only(what: str) -> str:
    if what == "risks":
        rows = ["title,category,p_failure,value"] + [f"Risk {i},data,0.3,5" for i in range(1, CR_ROWS + 1)]
    else:
        rows = ["number,statement,p_failure,value"] + [f"{i},Statement {i},0.3,5" for i in range(1, CR_ROWS + 1)]
    return "\r".join(rows) + "\r"


def _deep_json() -> bytes:
    return b"[" * JSON_DEPTH + b"]" * JSON_DEPTH


@dataclass(frozen=True)
class Case:
    name: str  # the row's name
    input: str  # what the file is
    kind: str  # card-parse, card-render, card-import, csv-risks, csv-requirements, backup
    build: Callable[[], str | bytes]
    # A result must be the right one: (the call's result) -> what is wrong with it, or None.
    expect: Callable[[Any], str | None] = lambda out: None


def _cases() -> list[Case]:
    out = []
    for fn, kind in (("cards.parse_markdown", "card-parse"), ("cards.render_html", "card-render"),
                     ("card import (import_card)", "card-import")):
        out += [Case(f"{fn}: {key}", f"100 KB card: {label}", kind, build)
                for key, (label, build) in CARD_INPUTS.items()]
    for what in ("risks", "requirements"):
        out.append(Case(f"import_{what}: 128 KiB cell", f"CSV, one {CELL_CHARS:,}-character cell",
                        f"csv-{what}", lambda what=what: _big_cell(what)))
        out.append(Case(f"import_{what}: CR-only line ends", f"CSV, {CR_ROWS:,} rows ended by CR only",
                        f"csv-{what}", lambda what=what: _cr_only(what), _every_row_added))
    out.append(Case("import_backup: deep JSON", f"JSON array nested {JSON_DEPTH:,} deep", "backup", _deep_json,
                    lambda out: f"restored {out!r} from a file that is no backup"))
    return out


def _every_row_added(out: Any) -> str | None:
    """A CR-only file read as what it is: every row added to the empty register."""
    return None if (out.added, out.updated) == (CR_ROWS, 0) else f"{out!r}: expected {CR_ROWS} rows added"


CASES = _cases()


# --- the child: one case ----------------------------------------------------------------------------


def _dump_hash(path: Path) -> str:
    con = sqlite3.connect(path)
    try:
        return hashlib.sha256("\n".join(con.iterdump()).encode("utf-8")).hexdigest()
    finally:
        con.close()


def _call(case: Case, db_path: Path) -> Callable[[Any], object]:
    """The timed call for ``case`` (warmed up here, untimed, on a harmless input)."""
    from mltrl import db
    from mltrl.domain import cards
    from mltrl.services import Actor
    from mltrl.services import backup as backup_service
    from mltrl.services import cards as card_service
    from mltrl.services import risks as registers

    harmless = "# Card\n\n| Tech name (project ID) | Warm-up (W1) |\n|---|---|\n\n**TL;DR** — [a](b)\n\n- x\n"
    if case.kind == "card-parse":
        cards.parse_markdown(harmless)
        return cards.parse_markdown
    if case.kind == "card-render":
        cards.render_html(harmless)
        return cards.render_html
    engine = db.make_engine(f"sqlite:///{db_path}")
    with db.session_scope(engine) as s:  # the engine, the schema and the session, untimed
        s.connection()
    actor = Actor("bench")

    def in_session(fn: Callable[..., object], argument: str = "text", **kwargs) -> Callable[[Any], object]:
        def run(data: Any) -> object:
            with db.session_scope(engine) as s:
                return fn(session=s, actor=actor, **kwargs, **{argument: data})
        return run

    if case.kind == "card-import":
        cards.parse_markdown(harmless)
        return in_session(card_service.import_card, code=HOSTILE_CODE)
    if case.kind == "csv-risks":
        return in_session(registers.import_risks, code=HOSTILE_CODE)
    if case.kind == "csv-requirements":
        return in_session(registers.import_requirements, code=HOSTILE_CODE)
    if case.kind == "backup":
        return in_session(backup_service.import_backup, "data")
    raise ValueError(case.kind)


def run_case(case: Case, db_path: Path, mark: Path) -> dict[str, Any]:
    """Build the input, time the call once, and classify its end: result, refusal or error."""
    from mltrl.domain.errors import MltrlError

    data = case.build()
    call = _call(case, db_path)
    writes = case.kind not in ("card-parse", "card-render")
    before = _dump_hash(db_path) if writes else None
    started = mark.with_suffix(".tmp")  # written whole, then renamed: the parent reads it while this runs
    started.write_text(repr(time.time()), encoding="utf-8")  # the parent's clock for "over N s"
    started.replace(mark)
    t0 = time.perf_counter()
    try:
        out = call(data)
        seconds = time.perf_counter() - t0
        outcome, detail = "result", repr(out) if writes else f"{type(out).__name__}, {len(str(out)):,} chars"
        wrong = case.expect(out)
    except MltrlError as exc:
        seconds = time.perf_counter() - t0
        outcome, detail, wrong = "refused", f"{type(exc).__name__}: {exc}", None
    except Exception as exc:  # the defect this benchmark looks for: reported, not raised
        seconds = time.perf_counter() - t0
        kind = type(exc).__qualname__ if type(exc).__module__ == "builtins" else \
            f"{type(exc).__module__}.{type(exc).__qualname__}"
        outcome, detail, wrong = "error", f"{kind}: {exc}", None
    result: dict[str, Any] = {"seconds": seconds, "outcome": outcome, "detail": " ".join(detail.split())[:300]}
    problems = []
    if outcome == "error":
        problems.append(f"another exception than a refusal: {result['detail'][:200]}")
    if wrong:
        problems.append(f"a wrong result: {wrong[:200]}")
    if writes and outcome != "result" and _dump_hash(db_path) != before:
        problems.append(f"the database changed after the {'refusal' if outcome == 'refused' else outcome}")
    if problems:
        result["check_failed"] = "; ".join(problems)
    return result


# --- the parent: every case, each in its own bounded process ------------------------------------------


def _databases(folder: Path) -> tuple[Path, Path]:
    """(an empty migrated database, the same with the technology ``HOSTILE_CODE``)."""
    from mltrl import db
    from mltrl.services import Actor, projects

    empty, with_project = folder / "empty.db", folder / "with-project.db"
    db.upgrade_db(f"sqlite:///{empty}")
    shutil.copy(empty, with_project)
    engine = db.make_engine(f"sqlite:///{with_project}")
    try:
        with db.session_scope(engine) as s:
            projects.add_project(session=s, actor=Actor("bench"), code=HOSTILE_CODE, name="Hostile input")
    finally:
        engine.dispose()
    return empty, with_project


def measure_all(log: Callable[[str], None] = print) -> dict[str, Any]:
    limit = timeout_s()
    t_start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="mltrl-bench-hostile-") as tmp:
        folder = Path(tmp)
        empty, with_project = _databases(folder)
        for number, case in enumerate(CASES):
            db_path = folder / f"case-{number}.db"
            shutil.copy(empty if case.kind == "backup" else with_project, db_path)
            out, mark = folder / f"case-{number}.json", folder / f"case-{number}.started"
            cmd = [sys.executable, "-m", "bench.hostile", "--case", case.name, "--db", str(db_path),
                   "--out", str(out), "--mark", str(mark)]
            row: dict[str, Any] = {"name": case.name, "input": case.input, "timeout_s": limit}
            with open(folder / f"case-{number}.log", "w+", encoding="utf-8") as err:
                proc = subprocess.Popen(cmd, cwd=ROOT, stdout=err, stderr=subprocess.STDOUT)
                over = _bounded_wait(proc, mark, limit)
                err.seek(0)
                tail = err.read()[-300:].strip()
            if over is not None:
                row.update(outcome="timeout", seconds=None, over_s=over)
            elif proc.returncode == 0 and out.exists():
                row.update(json.loads(out.read_text(encoding="utf-8")))
            else:
                why = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit {proc.returncode}"
                row.update(outcome="crashed", seconds=None, detail=f"{why}: {tail}",
                           check_failed=f"the case's process crashed ({why})")
            rows.append(row)
            log(f"  hostile {case.name}: {_time_cell(row)} ({row['outcome']})")
    return {"target_s": TARGET_S, "timeout_s": limit, "rows": rows, "total_s": time.perf_counter() - t_start}


def _bounded_wait(proc: subprocess.Popen, mark: Path, limit: float) -> float | None:
    """Wait for the case's process; stop it once its timed call has run ``limit`` seconds (or once
    it has not reached the call within ``STARTUP_S``: reported as a crash). Returns how long the
    call had run when it was stopped, or None when the process ended by itself."""
    launched = time.monotonic()
    while proc.poll() is None:
        if mark.exists():
            running = time.time() - float(mark.read_text(encoding="utf-8"))
            if running > limit:
                proc.kill()
                proc.wait()
                return running
        elif time.monotonic() - launched > STARTUP_S:
            proc.kill()
            proc.wait()
            return None
        time.sleep(0.05)
    return None


def _time_cell(row: dict[str, Any]) -> str:
    if row["outcome"] == "timeout":
        return f"over {row['over_s']:.0f} s"
    if row["seconds"] is None:
        return "—"
    return f"{row['seconds'] * 1000:,.1f} ms"


def _verdict(row: dict[str, Any], target: float) -> str:
    failed = "CHECK FAILED; " if row.get("check_failed") else ""
    if row["seconds"] is None:
        return failed + ("over: time" if row["outcome"] == "timeout" else "no answer")
    return failed + ("within" if row["seconds"] < target else "over: time")


def failures(result: dict[str, Any] | None) -> list[tuple[str, str]]:
    return [(r["name"], r["check_failed"]) for r in (result or {}).get("rows", []) if r.get("check_failed")]


def render(result: dict[str, Any]) -> list[str]:
    target = result["target_s"]
    lines = [
        "",
        (f"Hostile input (issue 14): the time until the result or the refusal, each case once in its own "
         f"process, stopped after {result['timeout_s']:.0f} s (see bench/hostile.py)"),
        "",
        "| case | input | time | target | outcome | verdict |",
        "|---|---|---:|---|---|---|",
    ]
    for r in result["rows"]:
        outcome = {"result": "result", "refused": "refused", "error": "ERROR", "timeout": "no answer yet",
                   "crashed": "CRASHED"}[r["outcome"]]
        if r.get("detail"):
            outcome += f": {r['detail'][:140]}"
        cells = [r["name"], r["input"], _time_cell(r), f"< {target:.0f} s", outcome, _verdict(r, target)]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines += ["", ("A refusal is an MltrlError naming the field; ERROR (another exception) and CRASHED are "
                   "defects, as is a refusal that changed the database: those rows fail their check.")]
    bad = failures(result)
    if bad:
        lines += ["", "Hostile input check failures:", ""] + [f"* {name}: {text}" for name, text in bad]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mark", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:  # the child: one case
        case = next(c for c in CASES if c.name == args.case)
        args.out.write_text(json.dumps(run_case(case, args.db, args.mark)), encoding="utf-8")
        return 0
    result = measure_all()
    print("\n".join(render(result)))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "hostile.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 1 if failures(result) else 0


if __name__ == "__main__":
    sys.exit(main())
