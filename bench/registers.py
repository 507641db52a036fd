"""The requirements and risk registers area: the Requirements & risks and Risk portfolio pages'
checks, their independent answers from the raw rows, and the register operations.

The pages: the Requirements & risks page at ``risks?code=T00042`` with each of its tabs open (the
matrix; the requirements table and its CSV; the risks table and its CSV), and the Risk portfolio
page with each of its tabs open (``rp_tab``: the portfolio matrix, whose total must be every risk
not closed; the 25 highest risks, highest first, as found from the raw rows; the overdue reviews,
whose count must match one made risk by risk with ``mltrl.domain.risk.overdue`` and the default
policy; the technologies whose open risk grew since their level change, as found from the raw
history), and once more its matrix with a phase and a category chosen (``productization``,
``data``).

The operations (``bench/registergen.py``: 10 requirements and 20 risks per technology on average,
``T00042`` with 200 and 400), through the register service on a throwaway copy of the size's
database: the portfolio risk matrix (``matrix_counts``), the portfolio requirements matrix,
``T00042``'s risk matrix, the items of the portfolio's busiest risk cell (``cell_items``), the CSV
exports of ``T00042``'s two registers, and ``import_risks`` of that export: unchanged (every row
checked, nothing to write) and with every risk's value changed (400 updates with their history
and audit rows; the two files alternate, so each run changes every row back). For reference, the
bare portfolio matrix SQL through sqlite3. Also the Risk portfolio's queries with the default
policy (``Policy()``): the 25 highest risks (``top_risks``), the overdue reviews
(``overdue_risks``: the count and the first 200), the technologies whose open risk grew since
their level change (``risk_growth``), and ``T00042``'s risk trend (``risk_events`` +
``analytics.risk_trend``, total and by category); each checked against an answer computed untimed
in Python from the copy's raw rows (the overdue count risk by risk with
``mltrl.domain.risk.overdue``, just before and just after the timed calls, as it moves with the
clock). Last, the grid saves: ``edit_requirements`` and ``edit_risks`` of 50 edited rows of
``T00042`` (each row's value moved on by one; the ``RowEdit`` list is built untimed from the rows
as they are before each save). The register operations are held to the page time target, without
a floor ratio.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import registergen
from bench.common import PageSpec, aware, copy_db, median_ms, page_answer, profile_call, project_id_sql


REGISTER_CODE = registergen.REGISTER_CODE


def _matrix_text(at) -> list[list[int]]:
    """The counts the page's risk matrix shows (the heatmap's cell text, p band rows, value band columns)."""
    charts = at.get("plotly_chart")
    assert charts, "the page drew no matrix chart"
    spec = json.loads(charts[0].proto.spec)
    heatmap = next(d for d in spec["data"] if d.get("type") == "heatmap")
    return [[int(n) for n in row] for row in heatmap["text"]]


def _check_risks_matrix(at, n: int, counts: dict) -> None:
    """The matrix shows T00042's risks that are not closed, cell by cell, as counted independently."""
    shown = _matrix_text(at)
    expected = counts["register_risk_matrix"]
    assert shown == expected, (shown, expected)
    assert sum(map(sum, shown)) == counts["register_open_risks"] > 0, counts["register_open_risks"]


def _table_rows(at, rows: int) -> list:
    """The page's data frames with ``rows`` rows (the register's table)."""
    return [d.value for d in at.dataframe if len(d.value) == rows]


def _check_risks_requirements(at, n: int, counts: dict) -> None:
    """The Requirements tab lists every requirement of T00042, in number order; the matrix is not drawn."""
    tables = _table_rows(at, counts["register_requirements"])
    assert tables, (f"no table of {counts['register_requirements']} requirements",
                    [len(d.value) for d in at.dataframe])
    column = next((c for c in tables[0].columns if str(c).lower() == "number"), None)
    assert column is not None, list(tables[0].columns)
    numbers = [str(x) for x in tables[0][column]]
    from mltrl.domain.risk import number_sort_key

    assert numbers == sorted(numbers, key=number_sort_key) and numbers[0] == "1", numbers[:12]
    assert not at.get("plotly_chart"), "the Requirements tab also drew the matrix"


def _check_risks_risks(at, n: int, counts: dict) -> None:
    """The Risks tab lists every risk of T00042, closed ones included; the matrix is not drawn."""
    assert _table_rows(at, counts["register_risks"]), (f"no table of {counts['register_risks']} risks",
                                                       [len(d.value) for d in at.dataframe])
    assert not at.get("plotly_chart"), "the Risks tab also drew the matrix"


# --- the Risk portfolio page: independent answers (Python over the raw rows, not the services' SQL) ---

TOP_RISKS = 25  # the page's "Highest risks" table
GRID_ROWS = 50  # rows edited in one grid save
OVERDUE_LISTED = 200  # the page lists the first 200 overdue risks
FILTER_PHASE, FILTER_CATEGORY = "productization", "data"  # the filtered run


def _open_risk_rows(con: sqlite3.Connection) -> list[tuple]:
    """(p_failure, value, last_reviewed_at, accepted_until) of every risk that is not closed."""
    return [(p, v, aware(reviewed), aware(until)) for p, v, reviewed, until in con.execute(
        "SELECT p_failure, value, last_reviewed_at, accepted_until FROM risk WHERE status != 'closed'")]


def _overdue_count(rows: list[tuple], now: datetime) -> int:
    """How many of ``rows`` (``_open_risk_rows``) are overdue at ``now`` under the default policy,
    risk by risk with ``mltrl.domain.risk.overdue`` (not the services' SQL)."""
    from mltrl.domain import risk as rules
    from mltrl.domain.policy import Policy

    cadences = Policy().risk_review_days
    return sum(rules.overdue(reviewed, p, v, now, cadences, accepted_until=until) for p, v, reviewed, until in rows)


def _overdue_bracket(con: sqlite3.Connection, fn: Callable[[], object]) -> tuple[int, int, object]:
    """(count before, count after, fn()): the independent overdue count just before and just after
    ``fn`` runs. Overdue only grows with time, so what ``fn`` counted must lie between the two.
    The lower count is taken at the start of the current minute: the page counts as of the minute
    (its cached read is keyed on it)."""
    rows = _open_risk_rows(con)
    lo = _overdue_count(rows, datetime.now(UTC).replace(second=0, microsecond=0))
    out = fn()
    hi = _overdue_count(rows, datetime.now(UTC))
    return lo, hi, out


def _top_scores(con: sqlite3.Connection, k: int = TOP_RISKS) -> list[float]:
    """The ``k`` highest p x value of the risks not closed, highest first, rounded as shown."""
    from mltrl.domain import risk as rules

    scores = sorted((rules.score(p, v) for p, v in con.execute(
        "SELECT p_failure, value FROM risk WHERE status != 'closed'")), reverse=True)
    return [round(x, 3) for x in scores[:k]]


def _growth(con: sqlite3.Connection) -> dict[str, float]:
    """Code -> growth of every technology whose open risk (sum of p x value over risks not closed)
    is higher now than at its last level change, the total then read from each risk's own history
    (its latest event at or before ``level_since``; a risk added since counts 0). Python over the
    raw rows."""
    projects = {pid: (code, aware(since)) for pid, code, since in con.execute(
        "SELECT id, code, level_since FROM project WHERE level_since IS NOT NULL")}
    now: dict[int, float] = {}
    for pid, p, v in con.execute("SELECT project_id, p_failure, value FROM risk WHERE status != 'closed'"):
        now[pid] = now.get(pid, 0.0) + p * v
    last: dict[int, tuple] = {}  # risk id -> (at, id, project, p, value, status) of its latest event by then
    for eid, rid, pid, at, p, v, status in con.execute(
            "SELECT id, risk_id, project_id, at, p_failure, value, status FROM riskevent"):
        if pid not in projects:
            continue
        at = aware(at)
        if at <= projects[pid][1] and (rid not in last or (at, eid) > last[rid][:2]):
            last[rid] = (at, eid, pid, p, v, status)
    then: dict[int, float] = {}
    for _, _, pid, p, v, status in last.values():
        if status != "closed":
            then[pid] = then.get(pid, 0.0) + p * v
    return {projects[pid][0]: total - then.get(pid, 0.0) for pid, total in now.items()
            if pid in projects and total > then.get(pid, 0.0) + 1e-9}


def _states_total(caption: object, total: int) -> bool:
    """The matrix caption states ``total`` ("**N** item(s): ...", or the earlier "N item(s). ...")."""
    return str(caption).startswith((f"**{total}** item(s)", f"{total} item(s)."))


def _check_rp_matrix(at, n: int, counts: dict) -> None:
    """The portfolio matrix shows every risk that is not closed, cell by cell; its caption the total."""
    shown = _matrix_text(at)
    assert shown == counts["portfolio_risk_matrix"], (shown, counts["portfolio_risk_matrix"])
    total = sum(map(sum, shown))
    assert total == counts["open_risks"] > 0, (total, counts["open_risks"])  # count(*) WHERE status != 'closed'
    assert any(_states_total(c.value, total) for c in at.caption), [c.value for c in at.caption]


def _check_rp_matrix_filtered(at, n: int, counts: dict) -> None:
    """With phase and category chosen, the matrix counts only the open risks of that category of
    technologies at that phase's levels (and some exist)."""
    shown = _matrix_text(at)
    expected = counts["portfolio_risk_matrix_filtered"]
    assert shown == expected, (shown, expected)
    total = sum(map(sum, shown))
    assert 0 < total < counts["open_risks"], (total, counts["open_risks"])
    assert any(_states_total(c.value, total) for c in at.caption), [c.value for c in at.caption]


def _check_rp_top(at, n: int, counts: dict) -> None:
    """The 25 highest open risks, highest first, the same scores as counted from the raw rows."""
    tables = [d.value for d in at.dataframe]
    assert len(tables) == 1 and len(tables[0]) == TOP_RISKS, [len(t) for t in tables]
    shown = [float(x) for x in tables[0]["risk"]]
    assert shown == sorted(shown, reverse=True), shown
    expected = page_answer(_top_scores)
    assert shown == expected, (shown, expected)
    assert "closed" not in set(tables[0]["status"]), set(tables[0]["status"])
    assert not at.get("plotly_chart"), "the Highest risks tab also drew the matrix"


def _check_rp_overdue(at, n: int, counts: dict) -> None:
    """The overdue metric equals a count made risk by risk with ``mltrl.domain.risk.overdue`` and the
    default policy over every open risk: the page is run again between two such counts (it reads
    the clock, and a risk can fall due meanwhile). The table lists the first 200."""
    def shown() -> int:
        at.run()
        assert not at.exception, at.exception
        metric = next(m for m in at.metric if m.label == "Risks overdue for review")
        return int(str(metric.value).replace(",", ""))

    lo, hi, total = page_answer(lambda con: _overdue_bracket(con, shown))  # type: ignore[misc]
    assert 0 < lo <= total <= hi, (lo, total, hi)
    tables = [d.value for d in at.dataframe]
    assert len(tables) == 1 and len(tables[0]) == min(total, OVERDUE_LISTED), ([len(t) for t in tables], total)
    counts["overdue_risks_seen"] = total


def _check_rp_growth(at, n: int, counts: dict) -> None:
    """The technologies whose open risk grew since their last level change, as found from the
    raw history; or, when none did, the page says so."""
    grown = page_answer(_growth)
    tables = [d.value for d in at.dataframe]
    if not grown:
        assert not tables and any("No technology's open risk grew" in str(i.value) for i in at.info), \
            [i.value for i in at.info]
        return
    assert len(tables) == 1, [len(t) for t in tables]
    shown = {str(link).split("code=", 1)[1]: float(g) for link, g in zip(tables[0]["code"], tables[0]["growth"])}
    assert set(shown) == set(grown), (sorted(set(shown) ^ set(grown))[:10], len(shown), len(grown))
    assert all(abs(shown[c] - grown[c]) < 1.5e-3 for c in grown), \
        [(c, shown[c], grown[c]) for c in grown if abs(shown[c] - grown[c]) >= 1.5e-3][:5]
    assert list(tables[0]["growth"]) == sorted(tables[0]["growth"], reverse=True)
    counts["grown_technologies"] = len(grown)


def _changed_values(csv_text: str) -> str:
    """The risks CSV with every risk's value moved on by one (10 becomes 1): every row changes."""
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(csv_text)))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row | {"value": str(int(row["value"]) % 10 + 1)})
    return out.getvalue()


def _by_title(csv_text: str) -> dict[str, dict]:
    import csv
    import io

    return {row["title"]: row for row in csv.DictReader(io.StringIO(csv_text))}


def measure_register_ops(db_path: Path, runs: int, size: str, log: Callable[[str], None], profiling: bool,
                         counts: dict) -> dict[str, dict]:
    """Matrix counts, a cell's items, CSV export and import of the registers, on a throwaway copy.

    Every result is checked against ``counts`` (the matrices counted in Python from the raw rows),
    so a fast wrong answer cannot pass."""
    from sqlalchemy import func, select

    from mltrl import db

    from mltrl.domain import analytics
    from mltrl.domain import risk as rules
    from mltrl.models import Project, Requirement, Risk, RiskEvent
    from mltrl.domain.policy import Policy
    from mltrl.services import Actor
    from mltrl.services import risks as registers

    code = REGISTER_CODE
    actor = Actor("bench")
    items: dict[str, dict] = {}

    def grid(cells: dict[tuple[int, int], int]) -> list[list[int]]:
        return [[cells.get((pb, vb), 0) for vb in rules.BANDS] for pb in rules.BANDS]

    with tempfile.TemporaryDirectory(prefix="mltrl-bench-registers-") as tmp:
        copy = copy_db(db_path, Path(tmp))

        # The reference: the same GROUP BY as the service, bare, through sqlite3.
        matrix_sql = (f"SELECT {rules.p_band_sql('p_failure')} AS pb, {rules.value_band_sql('value')} AS vb, "
                      "count(*) FROM risk WHERE status != 'closed' GROUP BY pb, vb")
        con = sqlite3.connect(copy)
        try:
            items["floor ref: portfolio risk matrix SQL"] = dict(kind="floor-ref", **median_ms(
                lambda: con.execute(matrix_sql).fetchall(), runs))
        finally:
            con.close()

        engine = db.make_engine(f"sqlite:///{copy}")
        try:
            def timed(name: str, fn: Callable[[], object], before: Callable[[], object] | None = None) -> None:
                res = median_ms(fn, runs, before=before)
                items[name] = dict(kind="register-op", **res)
                log(f"{name} {res['median_ms']:.1f} ms")
                if profiling:
                    profile_call(fn, before, size, name)

            def matrix(expected: str, code: str | None = None, requirements_matrix: bool = False) -> Callable[[], None]:
                def run() -> None:
                    with db.session_scope(engine) as s:
                        cells = registers.matrix_counts(s, code, requirements_matrix=requirements_matrix)
                    assert grid(cells) == counts[expected], (expected, grid(cells), counts[expected])
                    if expected == "portfolio_risk_matrix":  # SELECT count(*) FROM risk WHERE status != 'closed'
                        assert sum(cells.values()) == counts["open_risks"], (sum(cells.values()), counts)
                return run

            timed("risks: portfolio risk matrix (matrix_counts)", matrix("portfolio_risk_matrix"))
            timed("risks: portfolio requirements matrix", matrix("portfolio_requirement_matrix",
                                                                  requirements_matrix=True))
            timed(f"risks: {code} risk matrix", matrix("register_risk_matrix", code))

            flat = [(n, pb, vb) for pb, row in enumerate(counts["portfolio_risk_matrix"], start=1)
                    for vb, n in enumerate(row, start=1)]
            busiest, pb, vb = max(flat)

            def cell() -> None:
                with db.session_scope(engine) as s:
                    listed = registers.cell_items(s, pb, vb)
                assert len(listed) == min(busiest, 500), (len(listed), busiest)
                assert all(rules.p_band(r["p_failure"]) == pb and rules.value_band(r["value"]) == vb
                           for r in listed)

            log(f"busiest portfolio risk cell: p band {pb}, value band {vb}, {busiest:,} risks")
            timed("risks: busiest portfolio risk cell's items (cell_items, first 500)", cell)

            # The Risk portfolio page's queries, checked against answers computed in Python from
            # the copy's raw rows (untimed, before the writes below change the copy).
            con = sqlite3.connect(copy)
            try:
                top_expected = _top_scores(con)
                grown_expected = _growth(con)
                open_rows = _open_risk_rows(con)
                trend_expected: dict[str, float] = {}
                for category, p, v in con.execute(
                        "SELECT category, p_failure, value FROM risk WHERE status != 'closed' "
                        f"AND project_id = ({project_id_sql(code)})"):
                    trend_expected[category] = trend_expected.get(category, 0.0) + p * v
                register_events = con.execute(
                    f"SELECT count(*) FROM riskevent WHERE project_id = ({project_id_sql(code)})").fetchone()[0]
            finally:
                con.close()

            def top() -> None:
                with db.session_scope(engine) as s:
                    rows = registers.top_risks(s, Policy(), limit=TOP_RISKS)
                assert [r["risk"] for r in rows] == top_expected, ([r["risk"] for r in rows], top_expected)
                assert all(r["status"] != "closed" for r in rows)

            timed(f"risks: portfolio top {TOP_RISKS} risks (top_risks)", top)

            overdue_seen: list[int] = []

            def overdue() -> None:
                with db.session_scope(engine) as s:
                    total, rows = registers.overdue_risks(s, Policy())
                assert len(rows) == min(total, OVERDUE_LISTED), (len(rows), total)
                scores = [rules.cell_score(rules.p_band(r["p_failure"]), rules.value_band(r["value"])) for r in rows]
                assert scores == sorted(scores, reverse=True), scores[:20]
                overdue_seen.append(total)

            # Counted risk by risk with mltrl.domain.risk.overdue just before and just after the timed
            # calls (the clock moves; overdue only grows): every call's total lies between.
            lo = _overdue_count(open_rows, datetime.now(UTC))
            timed(f"risks: portfolio overdue reviews (overdue_risks, count and first {OVERDUE_LISTED})", overdue)
            hi = _overdue_count(open_rows, datetime.now(UTC))
            assert overdue_seen and all(0 < lo <= t <= hi for t in overdue_seen), (lo, overdue_seen, hi)
            log(f"overdue risks: {lo:,} (independent count) {sorted(set(overdue_seen))} (service)")

            def growth() -> None:
                with db.session_scope(engine) as s:
                    rows = registers.risk_growth(s)
                got = {r["code"]: r["growth"] for r in rows}
                assert set(got) == set(grown_expected), (len(got), len(grown_expected))
                assert all(abs(got[c] - grown_expected[c]) < 1.5e-3 for c in got)

            log(f"technologies whose open risk grew since their level change: {len(grown_expected):,}")
            timed("risks: portfolio risk growth since level change (risk_growth)", growth)

            def trend(by_category: bool) -> Callable[[], None]:
                def run() -> None:
                    with db.session_scope(engine) as s:
                        events = registers.risk_events(s, code)
                    out = analytics.risk_trend(events, by_category=by_category)
                    assert len(events) == register_events, (len(events), register_events)
                    if by_category:  # each category's line ends at its open risk now
                        last = out.groupby("category")["total"].last().to_dict()
                        assert set(last) == set(trend_expected) and all(
                            abs(last[c] - trend_expected[c]) < 1e-4 for c in last), (last, trend_expected)
                    else:  # the line ends at the register's open risk now
                        assert abs(out["total"].iloc[-1] - sum(trend_expected.values())) < 1e-4, out.tail(1)
                return run

            timed(f"risks: {code} risk trend (risk_events + risk_trend)", trend(False))
            timed(f"risks: {code} risk trend by category", trend(True))

            exported: dict[str, str] = {}

            def export(what: str) -> Callable[[], None]:
                def run() -> None:
                    with db.session_scope(engine) as s:
                        fn = registers.export_requirements if what == "requirements" else registers.export_risks
                        text = fn(s, code)
                    rows = text.count("\n") - 1  # no field holds a line break
                    assert rows == counts[f"register_{what}"], (what, rows)
                    exported[what] = text
                return run

            timed(f"risks: {code} requirements CSV export", export("requirements"))
            timed(f"risks: {code} risks CSV export", export("risks"))

            original = exported["risks"]

            def import_unchanged() -> None:
                with db.session_scope(engine) as s:
                    out = registers.import_risks(session=s, actor=actor, code=code, text=original)
                assert (out.added, out.updated) == (0, counts["register_risks"]), out

            timed(f"risks: {code} risks CSV import, unchanged", import_unchanged)

            changed = _changed_values(original)
            texts = [changed, original]
            state = {"next": 0}

            def pick() -> None:  # untimed: the other file than the last import
                state["text"] = texts[state["next"] % 2]
                state["next"] += 1

            def import_changed() -> None:
                with db.session_scope(engine) as s:
                    out = registers.import_risks(session=s, actor=actor, code=code, text=state["text"])
                assert (out.added, out.updated) == (0, counts["register_risks"]), out

            def events() -> int:
                with db.session_scope(engine) as s:
                    return s.execute(select(func.count()).select_from(RiskEvent)).scalar_one()

            before = events()
            timed(f"risks: {code} risks CSV import, every value changed", import_changed, before=pick)
            # Each import changed every risk (one history event each), and the register now holds
            # the last file imported.
            assert events() - before == state["next"] * counts["register_risks"], (before, events(), state)
            with db.session_scope(engine) as s:
                assert _by_title(registers.export_risks(s, code)) == _by_title(state["text"])

            # Grid saves: GRID_ROWS edited rows of each register at once, as the page's Save sends
            # them (RowEdit: key, the version the grid showed, the changed cells). Each edit moves
            # the row's value on by one, so every save changes every row it names; the edits are
            # built untimed from the rows as they are before each save.
            pending_edits: dict[str, list] = {}

            def requirement_edits() -> None:
                with db.session_scope(engine) as s:
                    rows = registers.requirements(s, code)[:GRID_ROWS]
                    pending_edits["edits"] = [registers.RowEdit(key=r.number, expected_version=r.version,
                                                       changes={"value": r.value % 10 + 1}) for r in rows]

            def save_requirements() -> None:
                with db.session_scope(engine) as s:
                    out = registers.edit_requirements(session=s, actor=actor, code=code, edits=pending_edits["edits"],
                                                      deletions=[])
                assert (out.updated, out.deleted) == (GRID_ROWS, 0), out

            def versions(model: type) -> int:
                with db.session_scope(engine) as s:
                    return s.execute(select(func.sum(model.version)).where(
                        model.project_id == select(Project.id).where(Project.code == code).scalar_subquery())
                    ).scalar_one()

            before = versions(Requirement)
            timed(f"risks: {code} requirements grid save, {GRID_ROWS} rows edited (edit_requirements)",
                  save_requirements, before=requirement_edits)
            saves = runs + 1 + (1 if profiling else 0)
            assert versions(Requirement) - before == saves * GRID_ROWS, (before, versions(Requirement), saves)

            def risk_edits() -> None:
                with db.session_scope(engine) as s:
                    rows = sorted(registers.risks(s, code), key=lambda r: r.id)[:GRID_ROWS]
                    pending_edits["edits"] = [registers.RowEdit(key=str(r.id), expected_version=r.version,
                                                       changes={"value": r.value % 10 + 1}) for r in rows]

            def save_risks() -> None:
                with db.session_scope(engine) as s:
                    out = registers.edit_risks(session=s, actor=actor, code=code, edits=pending_edits["edits"])
                assert (out.updated, out.deleted) == (GRID_ROWS, 0), out

            before, history = versions(Risk), events()
            timed(f"risks: {code} risks grid save, {GRID_ROWS} rows edited (edit_risks)", save_risks,
                  before=risk_edits)
            # Every saved row was written once and gained one history event per save.
            assert versions(Risk) - before == saves * GRID_ROWS, (before, versions(Risk), saves)
            assert events() - history == saves * GRID_ROWS, (history, events(), saves)
        finally:
            engine.dispose()
    return items


RISK_TABS = [("Matrix", _check_risks_matrix), ("Requirements", _check_risks_requirements),
             ("Risks", _check_risks_risks)]
RP_TABS = [("Matrix", _check_rp_matrix), ("Highest risks", _check_rp_top), ("Overdue reviews", _check_rp_overdue),
           ("Grown since level change", _check_rp_growth)]
RP_NO_FILTER = {"rp_phase": [], "rp_level": [], "rp_category": []}

REGISTER_PAGES = [
    *(PageSpec(f"risks {REGISTER_CODE} {tab}", "views/risks.py", query_params=lambda n, c: {"code": REGISTER_CODE},
               check=check, session_state={"risk_tab": tab}) for tab, check in RISK_TABS),
    *(PageSpec(f"risk portfolio {tab}", "views/risk_portfolio.py", check=check,
               session_state={"rp_tab": tab, **RP_NO_FILTER}) for tab, check in RP_TABS),
    PageSpec(f"risk portfolio Matrix, phase {FILTER_PHASE}, category {FILTER_CATEGORY}", "views/risk_portfolio.py",
             check=_check_rp_matrix_filtered,
             session_state={"rp_tab": "Matrix", **RP_NO_FILTER, "rp_phase": [FILTER_PHASE],
                            "rp_category": [FILTER_CATEGORY]}),
]
