"""CSV cells and files of the registers (mltrl.domain.csvcells): formula cells escaped and read back
exactly, and hostile files refused by name (never a csv error, an OverflowError or a traceback).
Pure."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mltrl.domain import csvcells
from mltrl.domain.errors import InvalidInput, RowErrors

COLUMNS = ["title", "category", "p_failure", "value"]
REQUIRED = {"title", "p_failure"}
FORMULA_LIKE = st.text(alphabet=st.sampled_from("=+-@\t\r\n\x00'\"x ,;|é"), max_size=12)


@given(st.one_of(st.text(), FORMULA_LIKE))
def test_unescape_undoes_escape_for_any_text(text):
    assert csvcells.unescape(csvcells.escape(text)) == text


@given(st.one_of(st.text(), FORMULA_LIKE))
def test_no_escaped_cell_starts_with_a_formula_character(text):
    escaped = csvcells.escape(text)
    assert not escaped or escaped[0] not in csvcells.FORMULA_STARTS
    assert escaped == text or escaped == "'" + text


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "@SUM(A1:A2)", "-2+3",
                                  "\tx", "\rx", "'=1"])
def test_formula_cells_are_written_with_a_quote_and_read_back_as_typed(text):
    table = csvcells.write_table([{"title": text, "p_failure": "0.1"}], COLUMNS)
    cells = list(csv.reader(io.StringIO(table, newline="")))
    assert cells[1][0] == "'" + text  # what a spreadsheet opens: text, not a formula
    rows = csvcells.read_table(table, COLUMNS, REQUIRED, "risks file")
    assert rows[0][1]["title"] == text


@given(st.lists(st.fixed_dictionaries({"title": st.text(), "category": FORMULA_LIKE}), min_size=1, max_size=5))
def test_written_tables_read_back_cell_for_cell(rows):
    rows = [r | {"p_failure": "0.5"} for r in rows]
    read = csvcells.read_table(csvcells.write_table(rows, COLUMNS), COLUMNS, REQUIRED, "f")
    # cells are read with their outer white space trimmed, except what a quote protected
    expected = [{c: csvcells.unescape(csvcells.escape(r.get(c, "")).strip()) for c in COLUMNS} for r in rows]
    assert [v for _, v in read] == [e for e in expected if any(e.values())]


def test_any_line_ending_is_read_including_cr_only():
    for newline in ("\n", "\r\n", "\r"):
        text = newline.join(["title,p_failure", "a,0.1", '"multi\nline",0.2', ""])
        rows = csvcells.read_table(text, COLUMNS, REQUIRED, "f")
        assert [(n, r["title"], r["p_failure"]) for n, r in rows] == [(2, "a", "0.1"), (3, "multi\nline", "0.2")]


def test_a_repeated_column_is_refused_by_name():
    with pytest.raises(InvalidInput) as refusal:
        csvcells.read_table("title,title,p_failure\na,b,0.1\n", COLUMNS, REQUIRED, "risks file")
    assert refusal.value.field == "risks file" and "'title' appear more than once" in refusal.value.message


def test_a_cell_over_the_csv_limit_is_refused_naming_its_row():
    text = "title,p_failure\nfine,0.1\n" + "x" * (csvcells.CELL_MAX_CHARS + 10) + ",0.2\n"
    with pytest.raises(RowErrors) as refusal:
        csvcells.read_table(text, COLUMNS, REQUIRED, "risks file")
    assert refusal.value.errors[0][0] == 3 and "longer than 128 KB" in refusal.value.errors[0][2]


def test_the_size_is_checked_before_the_text_is_parsed(monkeypatch):
    def parse(*_args, **_kw):
        raise AssertionError("parsed a file over the limit")

    monkeypatch.setattr(csvcells.csv, "reader", parse)
    with pytest.raises(InvalidInput, match="at most 10 MB"):
        csvcells.read_table("title,p_failure\n" + "x" * csvcells.FILE_MAX_BYTES, COLUMNS, REQUIRED, "f")
    with pytest.raises(InvalidInput, match="at most 10 MB"):  # multi-byte characters: the bytes count
        csvcells.read_table("title\n" + "é" * (csvcells.FILE_MAX_BYTES // 2 + 1), COLUMNS, REQUIRED, "f")
    with pytest.raises(InvalidInput, match="at most 10 MB"):
        csvcells.decode(b"x" * (csvcells.FILE_MAX_BYTES + 1), "f")


@pytest.mark.parametrize(("text", "words"), [
    ("", "empty"), ("\ufeff", "empty"), ("colour\n", "unknown column"), ("title\n", "missing required column"),
    ("title,p_failure\na,0.1,extra\n", "3 cells but 2 columns"), ("title,p_failure\n\ud800,0.1\n", "not UTF-8"),
    (b"title\n\xff".decode("latin-1").encode("latin-1"), "expected the file's text"),
])
def test_malformed_files_are_refused_by_name(text, words):
    with pytest.raises(InvalidInput) as refusal:
        csvcells.read_table(text, COLUMNS, REQUIRED, "risks file")
    assert words in refusal.value.message


def test_too_many_rows_are_refused():
    text = "title,p_failure\n" + "a,0.1\n" * (csvcells.MAX_ROWS + 1)
    with pytest.raises(InvalidInput, match=f"more than {csvcells.MAX_ROWS} rows"):
        csvcells.read_table(text, COLUMNS, REQUIRED, "f")


PIECES = st.sampled_from([",", '"', "\n", "\r", "\r\n", "'", "=", "+", "-", "@", "\t", "\x00", "x", "é", "title",
                          "p_failure", "category", "value", "nan", "inf", "1e309", "-0", "0x10", "\ufeff", " "])
hostile = st.one_of(st.text(), st.lists(st.tuples(PIECES, st.integers(1, 50)), max_size=20).map(
    lambda parts: "".join(p * n for p, n in parts)), st.binary().map(lambda b: b.decode("utf-8", "replace")))


@given(hostile)
def test_hostile_text_reads_or_is_refused_by_name(text):
    try:
        rows = csvcells.read_table(text, COLUMNS, REQUIRED, "risks file")
    except InvalidInput as refusal:
        assert refusal.field == "risks file" and refusal.message
    else:
        assert all(set(r) <= set(COLUMNS) and n >= 2 for n, r in rows)


@given(st.binary(max_size=300))
def test_random_bytes_decode_or_are_refused_by_name(data):
    try:
        text = csvcells.decode(data, "f")
    except InvalidInput as refusal:
        assert "UTF-8" in refusal.message
    else:
        assert text.encode("utf-8") == data
