"""CSV files of the registers: the one home of how a cell is written and read back, and of what a
file may be. Pure: no streamlit, no database.

* **Formula cells** (OWASP's CSV injection guidance, ASVS 1.2.10): a cell whose text starts with
  ``=``, ``+``, ``-``, ``@``, a tab, a line break or NUL would run as a formula in a spreadsheet,
  so ``escape`` prefixes it with a single quote. So that the prefix can be removed exactly where
  it was added, a text that itself starts with a quote is prefixed too; ``unescape`` strips one
  quote from a cell that starts with a quote followed by a formula character or another quote.
  Hence ``unescape(escape(s)) == s`` for any text, and no escaped cell starts with a formula
  character. A person typing ``'=1+1`` in a spreadsheet means the text ``=1+1``, which is what
  the import reads.
* **Files** are UTF-8 text of at most ``FILE_MAX_BYTES`` and ``MAX_ROWS`` rows, checked before
  the text is parsed; any line ending is read (``\\n``, ``\\r\\n`` and Excel's "CSV (Macintosh)"
  ``\\r``); the header names each column once (a repeated column is refused, not silently
  dropped); a cell over the csv module's field limit, a malformed file or a row with more cells
  than columns is refused naming the row. Every refusal is an ``InvalidInput`` naming the file, or
  a ``RowErrors`` naming the row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

from mltrl.domain.errors import InvalidInput, RowErrors

FORMULA_STARTS = frozenset("=+-@\t\r\n\x00")
QUOTE = "'"
FILE_MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
CELL_MAX_CHARS = csv.field_size_limit()  # the csv module's own limit (128 KB), never raised here


def escape(text: str) -> str:
    """``text`` as a CSV cell that no spreadsheet reads as a formula."""
    if text and (text[0] in FORMULA_STARTS or text[0] == QUOTE):
        return QUOTE + text
    return text


def unescape(cell: str) -> str:
    """The text of a cell written by ``escape`` (one quote removed where ``escape`` adds one)."""
    if len(cell) >= 2 and cell[0] == QUOTE and (cell[1] in FORMULA_STARTS or cell[1] == QUOTE):
        return cell[1:]
    return cell


def write_table(rows: Iterable[Mapping[str, object]], columns: Sequence[str]) -> str:
    """CSV text (RFC 4180: lines end in CRLF; a cell holding a comma, a quote or a line break is
    quoted): a header, then one line per row; ``None`` is an empty cell, every cell escaped."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180; and a cell holding a CR is then quoted
    writer.writerow([escape(c) for c in columns])
    for row in rows:
        writer.writerow([escape("" if row.get(c) is None else str(row.get(c))) for c in columns])
    return out.getvalue()


def check_size(size: int, what: str) -> None:
    """Refuse a file of ``size`` bytes over ``FILE_MAX_BYTES`` (before it is read or decoded)."""
    if size > FILE_MAX_BYTES:
        raise InvalidInput(what, f"the file is {size / 1024 / 1024:.1f} MB; at most "
                                 f"{FILE_MAX_BYTES // 1024 // 1024} MB is read")


def read_table(text: object, columns: Sequence[str], required: set[str], what: str) -> list[tuple[int, dict[str, str]]]:
    """The non-blank rows of CSV ``text`` as (row number, column -> unescaped, stripped cell), the
    header being row 1. Refusals name the file (``what``) or the row."""
    if not isinstance(text, str):
        raise InvalidInput(what, f"expected the file's text, got {type(text).__name__}")
    check_size(len(text), what)  # a character is at least one byte: cheap, before encoding
    try:
        check_size(len(text.encode("utf-8")), what)
    except UnicodeEncodeError:
        raise InvalidInput(what, "the file is not UTF-8 text") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""))
    row_number = 1  # the row being read: the header, then each record
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        header = [h.strip() for h in next(reader, [])]
        if not any(header):
            raise InvalidInput(what, "the file is empty: the first line names the columns")
        _check_header(header, columns, required, what)
        row_number = 2
        for cells in reader:
            if len(cells) > len(header):
                raise RowErrors(what, [(row_number, "(row)", f"{len(cells)} cells but {len(header)} columns")])
            values = {h: unescape(c.strip()) for h, c in zip(header, cells)}
            if any(values.values()):
                if len(rows) >= MAX_ROWS:
                    raise InvalidInput(what, f"more than {MAX_ROWS} rows; split the file")
                rows.append((row_number, {h: values.get(h, "") for h in header}))
            row_number += 1
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            reason = f"a cell is longer than {CELL_MAX_CHARS // 1024} KB; no column holds that much text"
        else:
            reason = f"not readable as CSV ({exc})"
        raise RowErrors(what, [(row_number, "(row)", reason)]) from None
    return rows


def _check_header(header: list[str], columns: Sequence[str], required: set[str], what: str) -> None:
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise InvalidInput(what, f"column(s) {', '.join(map(repr, repeated))} appear more than once; name each "
                                 "column once")
    unknown = [h for h in header if h not in columns]
    if unknown:
        shown = ", ".join(repr(h[:40]) for h in unknown[:5])
        raise InvalidInput(what, f"unknown column(s) {shown}; the columns are {', '.join(columns)}")
    missing = sorted(required - set(header))
    if missing:
        raise InvalidInput(what, f"missing required column(s) {', '.join(missing)}")


def decode(data: bytes, what: str) -> str:
    """An uploaded file's bytes as text: its size checked first, then UTF-8 (a byte order mark
    is allowed)."""
    check_size(len(data), what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(what, "the file is not UTF-8 text; save it as CSV UTF-8") from None
