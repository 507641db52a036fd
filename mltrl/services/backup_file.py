"""The backup file itself: its canonical form, checksum, signature, and a parser that refuses
hostile input before it can cost anything.

Rendering (``render``) is deterministic: the same document always gives the same bytes, which
keeps export -> import -> export byte-identical. Parsing (``parse``) refuses, as ``InvalidInput``
on the field ``file``, and in this order:

* a file larger than ``MAX_FILE_BYTES`` (checked on the byte count, before decoding or parsing);
* text that is not UTF-8, or nested deeper than ``MAX_DEPTH`` (counted by a linear scan of the
  text before it is parsed, so 100,000 opening brackets end in a refusal, not a RecursionError);
* JSON that is not strict: the tokens ``NaN``, ``Infinity`` and ``-Infinity``, numbers that do
  not fit a double (``1e400``), integers longer than ``MAX_INT_DIGITS`` digits, an object with the
  same key twice, text that is not valid Unicode (a lone surrogate escape);
* another format or format version, a missing or wrong checksum, a missing or wrong signature when
  a key is given, unknown or missing header keys, and tables or rows of the wrong shape.

**What the checksum protects against.** ``checksum`` is an unkeyed SHA-256 of the canonical
content: it catches accidental damage (a truncated download, a flipped byte, an editor that changed
line endings). It does not protect against tampering: anyone can edit the file and compute a new
checksum. **The signature does.** With a key (``MLTRL_BACKUP_KEY``) an export carries
``signature``, an HMAC-SHA256 with that key over the same canonical content (everything but the
checksum and the signature); without the key, nobody can produce a signature that
``hmac.compare_digest`` accepts. See docs/BACKUPS.md.

Pure: no database, no settings (the caller passes the key).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from itertools import accumulate
from typing import Any

from mltrl.domain.errors import InvalidInput

FORMAT = "mltrl-backup"
FORMAT_VERSION = 1
HEADER_KEYS = ("checksum", "exported_by", "format", "format_version", "schema_revision", "tables")
OPTIONAL_HEADER_KEYS = ("signature",)
SIGNATURE_SCHEME = "hmac-sha256"
KEY_MIN_LENGTH = 16

MAX_FILE_BYTES = 512 * 1024 * 1024  # far above a large portfolio's backup, far below what the parse could hold
MAX_DEPTH = 64  # the file needs 5 levels, JSON columns (card content, audit snapshots) a few more
MAX_INT_DIGITS = 30  # the schema's integers have at most 19 digits


# --- writing ------------------------------------------------------------------------------------


def dumps(value: Any) -> str:
    """The canonical JSON of ``value``: sorted keys, no spaces, UTF-8 text, no NaN."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _canonical(document: dict[str, Any], *, leave_out: tuple[str, ...]) -> bytes:
    body = {k: v for k, v in document.items() if k not in leave_out}
    try:
        return dumps(body).encode("utf-8")
    except UnicodeEncodeError:
        raise damaged("it holds text that is not valid Unicode (an unpaired surrogate escape such as \\ud800)") from None


def checksum(document: dict[str, Any]) -> str:
    """``sha256:<hex>`` of the canonical serialization of ``document`` without its checksum
    (the signature, when there is one, is covered). Detects accidental damage only."""
    return "sha256:" + hashlib.sha256(_canonical(document, leave_out=("checksum",))).hexdigest()


def signature(document: dict[str, Any], key: str) -> str:
    """``hmac-sha256:<hex>``: HMAC-SHA256 with ``key`` over the canonical serialization of
    ``document`` without its checksum and signature."""
    body = _canonical(document, leave_out=("checksum", "signature"))
    return f"{SIGNATURE_SCHEME}:" + hmac.new(key.encode("utf-8"), body, hashlib.sha256).hexdigest()


def check_key(key: str) -> str:
    """``key`` if it is long enough to sign with; a short key is refused rather than trusted."""
    if len(key) < KEY_MIN_LENGTH:
        raise InvalidInput("MLTRL_BACKUP_KEY", f"a signing key needs at least {KEY_MIN_LENGTH} characters "
                                               f"(got {len(key)}); use a long random string")
    return key


def seal(document: dict[str, Any], key: str | None) -> dict[str, Any]:
    """``document`` with its signature (when a key is given) and then its checksum set."""
    document.pop("signature", None)
    document.pop("checksum", None)
    if key:
        document["signature"] = signature(document, check_key(key))
    document["checksum"] = checksum(document)
    return document


def render(document: dict[str, Any]) -> bytes:
    """The document as file bytes: the header on the first line, then one row per line.

    Deterministic: the same document always gives the same bytes (it is valid JSON that parses
    back to ``document``)."""
    header = {k: v for k, v in document.items() if k != "tables"}
    head = "{" + "".join(f"{dumps(k)}:{dumps(v)}," for k, v in sorted(header.items())) + '"tables":['
    blocks = []
    for table in document["tables"]:
        rows = ",\n".join(dumps(row) for row in table["rows"])
        blocks.append(
            f'{{"name":{dumps(table["name"])},"columns":{dumps(table["columns"])},"rows":['
            + (f"\n{rows}\n" if rows else "")
            + "]}"
        )
    return (head + "\n" + ",\n".join(blocks) + "\n]}\n").encode("utf-8")


# --- reading ------------------------------------------------------------------------------------


def damaged(reason: str) -> InvalidInput:
    return InvalidInput("file", f"the backup file is damaged: {reason}; nothing was imported")


class _Refused(ValueError):
    """Raised inside the JSON parser's hooks; becomes a ``damaged`` refusal."""


def _no_constant(token: str) -> Any:
    raise _Refused(f"it holds the token {token}, which is not JSON (numbers must be finite)")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text[:40]} does not fit a double")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused(f"it holds an integer of {len(text.lstrip('-'))} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise _Refused(f"an object has the key {twice[:40]!r} twice")
    return result


# A JSON string, or an unterminated one running to the end: the pattern always matches once it
# starts, so the scan is linear whatever the text (no retry from each quote).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def nesting_depth(text: str) -> int:
    """How deeply the arrays and objects of ``text`` nest, at most (brackets inside strings do not
    count), found without parsing: strings and everything but brackets are cut out by two linear
    regular-expression passes, then the depth is a running sum."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _structure(document: dict[str, Any]) -> None:
    missing_keys = sorted(set(HEADER_KEYS) - set(document))
    if missing_keys:
        raise damaged(f"the header lacks {', '.join(missing_keys)}")
    unknown_keys = sorted(set(document) - set(HEADER_KEYS) - set(OPTIONAL_HEADER_KEYS))
    if unknown_keys:
        raise damaged(f"the header has unknown keys {', '.join(k[:40] for k in unknown_keys)}")
    if not isinstance(document["schema_revision"], str) or not isinstance(document["exported_by"], str):
        raise damaged("schema_revision and exported_by must be strings")
    if not isinstance(document["tables"], list):
        raise damaged("'tables' is not a list")
    seen: set[str] = set()
    for position, table in enumerate(document["tables"]):
        if (not isinstance(table, dict) or set(table) != {"name", "columns", "rows"}
                or not isinstance(table["name"], str) or not isinstance(table["columns"], list)
                or not all(isinstance(c, str) for c in table["columns"])
                or not isinstance(table["rows"], list)):
            raise damaged(f"table #{position + 1} is not a {{name, columns, rows}} object")
        if table["name"] in seen:
            raise damaged(f"table {table['name'][:40]} appears twice")
        seen.add(table["name"])
        if len(set(table["columns"])) != len(table["columns"]):
            raise damaged(f"table {table['name'][:40]} names a column twice")
        width = len(table["columns"])
        for number, row in enumerate(table["rows"], start=1):
            if not isinstance(row, list) or len(row) != width:
                raise damaged(f"row {number} of table {table['name'][:40]} does not have {width} values")


def parse(data: bytes | str, key: str | None = None) -> dict[str, Any]:
    """Parse and check a backup file (see the module docstring); with ``key``, its signature too."""
    if not isinstance(data, (bytes, bytearray, str)):
        raise InvalidInput("file", f"expected the file's bytes, got {type(data).__name__}")
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput("file", f"the file has {len(data):,} bytes; a backup may have at most "
                                   f"{MAX_FILE_BYTES:,} (nothing was read)")
    try:
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    except UnicodeDecodeError as exc:
        raise damaged(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise damaged(f"its arrays and objects nest {depth} deep; a backup nests at most {MAX_DEPTH} deep")
    try:
        document = json.loads(text, parse_constant=_no_constant, parse_float=_finite,
                              parse_int=_bounded_int, object_pairs_hook=_unique_keys)
    except _Refused as exc:
        raise damaged(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise damaged(f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
                      "it may be truncated") from None
    if not isinstance(document, dict) or "format" not in document:
        raise InvalidInput("file", f"this is not an MLTRL backup (no {FORMAT!r} format header)")
    if document.get("format") != FORMAT:
        shown = document.get("format")
        shown = shown[:40] if isinstance(shown, str) else type(shown).__name__
        raise InvalidInput("file", f"this is not an MLTRL backup (format {shown!r}, expected {FORMAT!r})")
    version = document.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        shown = version if isinstance(version, (int, float)) else type(version).__name__
        raise InvalidInput("file", f"format_version {shown!r} is not supported; this version of "
                                   f"mltrl reads format_version {FORMAT_VERSION}")
    stated = document.get("checksum")
    if not isinstance(stated, str):
        raise damaged("it has no checksum")
    actual = checksum(document)
    if not hmac.compare_digest(stated.encode("utf-8", "replace"), actual.encode("utf-8")):
        raise damaged(f"its contents do not match its checksum (the file says {stated[:19]}..., "
                      f"the contents give {actual[:19]}...); was it truncated or edited?")
    _structure(document)
    if key:
        _verify(document, check_key(key))
    elif "signature" in document and not isinstance(document["signature"], str):
        raise damaged("its signature is not text")
    return document


def _verify(document: dict[str, Any], key: str) -> None:
    stated = document.get("signature")
    if stated is None:
        raise InvalidInput("file", "the file is not signed, and this installation accepts only signed backups "
                                   "(MLTRL_BACKUP_KEY is set); nothing was imported")
    if not isinstance(stated, str) or not hmac.compare_digest(
            stated.encode("utf-8", "replace"), signature(document, key).encode("utf-8")):
        raise InvalidInput("file", "the file's signature does not match its contents: it was changed after it "
                                   "was exported, or signed with another key; nothing was imported")
