"""Register CSV files against a real database (SQLite and PostgreSQL), issue 14 / defect 6: a
register with accepted risks survives export -> import -> export unchanged; formula cells are
neutralised and read back; odd numbers, huge cells, CR-only line ends, repeated columns and NUL
bytes end in a result or a named refusal, and a refusal writes nothing. Hypothesis throws random
and hostile files at both importers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from mltrl.domain import csvcells, days
from mltrl.domain.errors import Conflict, InvalidInput, MltrlError, RowErrors
from mltrl.services import Actor, risks
from tests.factories import everything, make_history, make_project

ANA = Actor("ana")
LEAD = Actor("lead")
FORMULAS = ["=HYPERLINK(\"http://evil\",\"x\")", "+cmd|' /C calc'!A0", "@SUM(A1:A9)", "-2+3", "'=quoted"]


@pytest.fixture
def r02(session) -> str:
    make_project(session, "R02.1", "Mixed-variable BO")
    make_history(session, "R02.1", [("start", 4, None, "2026-01-05")])
    make_project(session, "P07.1", "Copy")
    return "R02.1"


def _register(session):
    """Requirements and risks of R02.1, two of them accepted (one until a day's end, one until an
    instant in the middle of a day), one with formula-like text everywhere."""
    risks.add_requirement(session=session, actor=ANA, code="R02.1", number="1", statement="=1+1 shall hold.",
                          p_failure="30%", value=5, verification_method="@check")
    risks.add_requirement(session=session, actor=ANA, code="R02.1", number="1.2", statement="Second.", p_failure=0.9,
                          value=10)
    for title in ["Drift", "Vendor lock-in", *FORMULAS]:
        risks.add_risk(session=session, actor=ANA, code="R02.1", title=title, category="data", p_failure=0.5, value=8,
                       description="-multi\nline, \"quoted\"", mitigation="+watch", owner="@ana", requirement="1")
    by_title = {r.title: r for r in risks.risks(session, "R02.1")}
    row = by_title["Drift"]
    risks.accept_risk(session=session, actor=LEAD, code="R02.1", risk_id=row.id, expected_version=row.version,
                      reason="=covered by contract", until=days.last_instant(days.today() + timedelta(days=30)))
    row = by_title["Vendor lock-in"]
    risks.accept_risk(session=session, actor=ANA, code="R02.1", risk_id=row.id, expected_version=row.version,
                      reason="cheap to switch", until=days.now() + timedelta(days=3, hours=5))


def test_export_import_export_keeps_accepted_risks_and_formula_text(session, engine, r02):
    _register(session)
    req_file, risk_file = risks.export_requirements(session, r02), risks.export_risks(session, r02)
    assert risk_file.splitlines()[0].endswith("status,accepted_by,accepted_reason,accepted_until")
    # the file as it stands imports into the same register unchanged...
    before = everything(engine)
    assert risks.import_requirements(session=session, actor=ANA, code=r02, text=req_file) == risks.ImportSummary(0, 2)
    assert risks.import_risks(session=session, actor=ANA, code=r02, text=risk_file) == risks.ImportSummary(0, 7)
    assert everything(engine) == before  # nothing changed, so nothing was written
    # ...and into another technology, giving the same files again
    assert risks.import_requirements(session=session, actor=ANA, code="P07.1", text=req_file).added == 2
    assert risks.import_risks(session=session, actor=ANA, code="P07.1", text=risk_file).added == 7
    assert risks.export_requirements(session, "P07.1") == req_file.replace("R02.1", "P07.1")
    assert risks.export_risks(session, "P07.1") == risk_file
    copied = {r.title: r for r in risks.risks(session, "P07.1")}
    drift = copied["Drift"]
    assert (drift.status, drift.accepted_by, drift.accepted_reason) == ("accepted", "lead", "=covered by contract")
    assert set(copied) == {"Drift", "Vendor lock-in", *FORMULAS}
    assert copied["Drift"].description == "-multi\nline, \"quoted\""


def test_exported_cells_never_start_a_formula(session, r02):
    _register(session)
    import csv
    import io

    for text in (risks.export_requirements(session, r02), risks.export_risks(session, r02)):
        cells = [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]
        assert cells and not [c for c in cells if c and c[0] in csvcells.FORMULA_STARTS]
    assert "'=1+1 shall hold." in risks.export_requirements(session, r02)
    text = risks.export_risks(session, r02)
    assert "'=HYPERLINK" in text and "'@SUM(A1:A9)" in text and "''=quoted" in text and "'+watch" in text


def test_an_acceptance_from_a_file_is_recorded_and_a_partial_one_refused(session, engine, r02):
    head = "title,category,p_failure,value,status,accepted_by,accepted_reason,accepted_until\n"
    out = risks.import_risks(session=session, actor=ANA, code=r02,
                             text=head + "Bias,ethics,0.2,6,accepted,lead,reviewed by the board,2027-03-31\n")
    assert out == risks.ImportSummary(1, 0)
    bias = risks.risks(session, r02)[0]
    assert (bias.accepted_by, bias.accepted_reason, days.as_utc(bias.accepted_until)) == (
        "lead", "reviewed by the board", days.last_instant(days.parse_day("2027-03-31")))
    before = everything(engine)
    bad = head + ("A,data,0.2,6,accepted,,why,2027-03-31\nB,data,0.2,6,accepted,me,why,31/03/2027\n"
                  "C,data,0.2,6,open,me,,\nD,data,0.2,6,accepted,,,\n")
    with pytest.raises(RowErrors) as refusal:
        risks.import_risks(session=session, actor=ANA, code=r02, text=bad)
    assert [(r, f) for r, f, _ in refusal.value.errors] == [(2, "accepted_by"), (3, "accepted_until"),
                                                            (4, "accepted_by"), (5, "accepted_by")]
    assert everything(engine) == before
    # an accepted risk listed in an old file without the columns keeps its acceptance
    old = "title,category,p_failure,value,status\nBias,ethics,0.3,6,accepted\n"
    assert risks.import_risks(session=session, actor=ANA, code=r02, text=old) == risks.ImportSummary(0, 1)
    bias = risks.risks(session, r02)[0]
    assert (bias.p_failure, bias.status, bias.accepted_by) == (0.3, "accepted", "lead")
    # and one set back to open loses it
    assert risks.import_risks(session=session, actor=ANA, code=r02,
                              text="title,category,p_failure,value,status\nBias,ethics,0.3,6,open\n").updated == 1
    bias = risks.risks(session, r02)[0]
    assert (bias.status, bias.accepted_by, bias.accepted_until) == ("open", None, None)


REQ_HEAD = "number,statement,p_failure,value\n"
RISK_HEAD = "title,category,p_failure,value\n"


@pytest.mark.parametrize(("use_case", "text", "row", "field", "words"), [
    ("requirements", REQ_HEAD + "1,ok,0.1,inf\n", 2, "value", "integer from 1 to 10"),
    ("requirements", REQ_HEAD + "1,ok,0.1,1e309\n", 2, "value", "integer from 1 to 10"),
    ("requirements", REQ_HEAD + "1,ok,1e309,2\n", 2, "p_failure", "between 0 and 1"),
    ("requirements", REQ_HEAD + "1,ok,nan,2\n", 2, "p_failure", "between 0 and 1"),
    ("requirements", REQ_HEAD + "1,ok,0x10,2\n", 2, "p_failure", "between 0 and 1"),
    ("requirements", REQ_HEAD + "1,ok,0.1,-0\n", 2, "value", "outside 1-10"),
    ("requirements", "number,statement,p_failure,value,level\n1,ok,0.1,2,inf\n", 2, "level", "0 to 9"),
    ("requirements", REQ_HEAD + "1,nul\x00here,0.1,2\n", 2, "statement", "control characters"),
    ("risks", RISK_HEAD + "nul\x00here,data,0.1,2\n", 2, "title", "control characters"),
    ("risks", "title,category,p_failure,value,component\nx,data,0.1,2,R0\x002.1\n", 2, "component", "control"),
    ("risks", "title,category,p_failure,value,owner\nx,data,0.1,2," + "o" * 101 + "\n", 2, "owner", "at most 100"),
    ("risks", RISK_HEAD + "x,data,0.1,2\ny,data,0.1," + "9" * (csvcells.CELL_MAX_CHARS + 1) + "\n", 3, "(row)",
     "longer than 128 KB"),
    ("risks", RISK_HEAD + "x,data,0.1,2,3\n", 2, "(row)", "cells but 4 columns"),
    ("risks", RISK_HEAD + "x,data,0.1,2\nx,data,0.2,3\n", 3, "title", "also on row 2"),
    ("risks", "title,category,p_failure,value,requirement\nx,data,0.1,2,99\n", 2, "requirement", "no requirement 99"),
])
def test_hostile_cells_are_refused_naming_row_and_field_and_write_nothing(session, engine, r02, use_case, text,
                                                                          row, field, words):
    importer = risks.import_requirements if use_case == "requirements" else risks.import_risks
    before = everything(engine)
    with pytest.raises(RowErrors) as refusal:
        importer(session=session, actor=ANA, code=r02, text=text)
    assert (refusal.value.errors[0][0], refusal.value.errors[0][1]) == (row, field)
    assert words in refusal.value.errors[0][2]
    assert everything(engine) == before


@pytest.mark.parametrize(("text", "words"), [
    ("title,title,category,p_failure,value\na,b,data,0.1,2\n", "'title' appear more than once"),
    ("title,category,p_failure,value,colour\n", "unknown column(s) 'colour'"),
    (RISK_HEAD + ("x" * 1023 + "\n") * 10_300, "at most 10 MB"),
    ("", "empty"),
])
def test_hostile_files_are_refused_naming_the_file_and_write_nothing(session, engine, r02, text, words):
    before = everything(engine)
    with pytest.raises(InvalidInput) as refusal:
        risks.import_risks(session=session, actor=ANA, code=r02, text=text)
    assert refusal.value.field == "risks file" and words in refusal.value.message
    assert everything(engine) == before


def test_cr_only_line_ends_are_read(session, r02):
    """Excel's "CSV (Macintosh)" ends lines with a lone CR."""
    text = "number,statement,p_failure,value\r1,First,0.1,2\r2,\"Two\rlines\",0.2,3\r"
    assert risks.import_requirements(session=session, actor=ANA, code=r02, text=text) == risks.ImportSummary(2, 0)
    assert [(r.number, r.statement) for r in risks.requirements(session, r02)] == [("1", "First"), ("2", "Two lines")]
    text = "title,category,p_failure,value,description\rDrift,data,0.1,2,\"a\rb\"\r"
    assert risks.import_risks(session=session, actor=ANA, code=r02, text=text) == risks.ImportSummary(1, 0)
    assert risks.risks(session, r02)[0].description == "a\nb"


def test_grid_saves_name_the_versions_a_stale_row_had(session, engine, r02):
    row = risks.add_risk(session=session, actor=ANA, code=r02, title="Drift", category="data", p_failure=0.5, value=8)
    risks.update_risk(session=session, actor=ANA, code=r02, risk_id=row.id, expected_version=row.version,
                      changes={"value": 9})
    before = everything(engine)
    with pytest.raises(RowErrors) as refusal:
        risks.edit_risks(session=session, actor=ANA, code=r02,
                         edits=[risks.RowEdit(key=str(row.id), expected_version=1, changes={"value": 2})])
    assert refusal.value.errors == [("risk 'Drift'", "version", "changed since you opened it (version 1 -> 2); "
                                                                "reload to see the change, then try again.")]
    assert everything(engine) == before
    with pytest.raises(Conflict):
        risks.update_risk(session=session, actor=ANA, code=r02, risk_id=row.id, expected_version=1, changes={})


# --- random and hostile files at both importers -------------------------------------------------

PIECES = st.sampled_from([
    ",", '"', "\n", "\r", "\r\n", "'", "=", "+", "-", "@", "\t", "\x00", "x", "é", " ", "\ufeff",
    "number", "statement", "title", "category", "p_failure", "value", "level", "status", "requirement", "component",
    "accepted_by", "accepted_until", "accepted", "data", "1", "1.2", "0.5", "30%", "nan", "inf", "1e309", "-0",
    "0x10", "2027-03-31", "R02.1", "=HYPERLINK(", "title,category,p_failure,value\n",
    "number,statement,p_failure,value\n",
])
hostile_text = st.one_of(
    st.lists(st.tuples(PIECES, st.integers(1, 20)), max_size=25).map(lambda parts: "".join(p * n for p, n in parts)),
    st.binary(max_size=200).map(lambda b: b.decode("utf-8", "replace")),
    st.text(max_size=200),
)


def _done_or_refused(engine, call):
    before = everything(engine)
    try:
        return call()
    except MltrlError as refusal:
        assert isinstance(refusal, InvalidInput) and str(refusal)
        assert everything(engine) == before, "a refusal wrote something"
        return refusal


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=hostile_text, which=st.sampled_from(["requirements", "risks"]))
def test_hostile_files_are_imported_or_refused_and_a_refusal_writes_nothing(session: Session, engine, r02, text,
                                                                             which):
    importer = risks.import_requirements if which == "requirements" else risks.import_risks
    out = _done_or_refused(engine, lambda: importer(session=session, actor=ANA, code=r02, text=text))
    session.rollback()
    if isinstance(out, risks.ImportSummary):  # what was imported exports and imports again unchanged
        exported = (risks.export_requirements if which == "requirements" else risks.export_risks)(session, r02)
        again = importer(session=session, actor=ANA, code=r02, text=exported)
        assert again.added == 0
        assert (risks.export_requirements if which == "requirements" else risks.export_risks)(session, r02) == exported


cell = st.one_of(st.sampled_from(["", "nan", "inf", "-inf", "1e309", "-0", "0x10", "1_0", "30%", "0.5", "7", "=1+1",
                                  "'@x", "\x00", "x\ry", "\t", "2027-03-31", "accepted", "open", "data", "R02.1",
                                  "1", "1.2", "a" * 2100]),
                 st.text(max_size=30))


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.fixed_dictionaries({c: cell for c in risks.RISK_COLUMNS}), min_size=1, max_size=4))
def test_hostile_cells_in_well_formed_risk_files(session: Session, engine, r02, rows):
    text = csvcells.write_table(rows, risks.RISK_COLUMNS)
    _done_or_refused(engine, lambda: risks.import_risks(session=session, actor=ANA, code=r02, text=text))
    session.rollback()


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.fixed_dictionaries({c: cell for c in risks.REQUIREMENT_COLUMNS}), min_size=1, max_size=4))
def test_hostile_cells_in_well_formed_requirement_files(session: Session, engine, r02, rows):
    text = csvcells.write_table(rows, risks.REQUIREMENT_COLUMNS)
    _done_or_refused(engine, lambda: risks.import_requirements(session=session, actor=ANA, code=r02, text=text))
    session.rollback()
