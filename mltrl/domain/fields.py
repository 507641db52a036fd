"""Text fields: the one home of "trimmed, required, at most N characters".

Each kind of field is a pydantic type (``OneLine``: one line, inner white space folded; ``Block``:
several lines, ends trimmed), and ``checked`` is the one place where pydantic's refusal becomes the
product's ``InvalidInput`` naming the field, so the services, importers and forms say the same
thing in the same words. Text must be text (a list or a number where a title is expected is
refused, as a backup edited by hand might hold) and carries no control characters other than tab
and line breaks (a NUL byte is refused here rather than by PostgreSQL's driver).

Pure: no streamlit, no database.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Any

from pydantic import BeforeValidator, StringConstraints, TypeAdapter, ValidationError

from mltrl.domain.errors import InvalidInput

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _NotText(ValueError):
    pass


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _NotText(f"expected text, got {type(value).__name__}")
    bad = _CONTROL.search(value)
    if bad:
        raise _NotText(f"must not contain control characters (found U+{ord(bad.group()):04X})")
    return value


def _fold(value: Any) -> str:
    return " ".join(_text(value).split())


def _trim(value: Any) -> str:
    return _text(value).replace("\r\n", "\n").replace("\r", "\n").strip()


@cache
def OneLine(limit: int, required: bool = False) -> Any:
    """One line of text: inner runs of white space become one space, ends trimmed."""
    return Annotated[str, BeforeValidator(_fold),
                     StringConstraints(min_length=1 if required else 0, max_length=limit)]


@cache
def Block(limit: int, required: bool = False) -> Any:
    """Several lines of text (line endings made \\n), ends trimmed."""
    return Annotated[str, BeforeValidator(_trim),
                     StringConstraints(min_length=1 if required else 0, max_length=limit)]


@cache
def _adapter(kind: Any) -> TypeAdapter:
    return TypeAdapter(kind)


def checked(field: str, kind: Any, value: Any) -> Any:
    """``value`` validated as ``kind``; a refusal is ``InvalidInput`` naming ``field``."""
    try:
        return _adapter(kind).validate_python(value)
    except ValidationError as exc:
        raise InvalidInput(field, _reason(exc, value)) from None


def _reason(exc: ValidationError, value: Any) -> str:
    error = exc.errors(include_url=False)[0]
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in ("string_too_short", "too_short"):
        return "required"
    if kind in ("string_too_long", "too_long"):
        got = ctx.get("actual_length") or (len(value) if isinstance(value, str) else "more")
        return f"at most {ctx.get('max_length')} characters (got {got})"
    if kind == "value_error" and isinstance(ctx.get("error"), _NotText):
        return str(ctx["error"])
    return error["msg"]


def one_line(text: Any, field: str, limit: int, *, required: bool = False) -> str:
    """A line of text as typed, checked (see ``OneLine``)."""
    return checked(field, OneLine(limit, required), text)


def block(text: Any, field: str, limit: int, *, required: bool = False) -> str:
    """Several lines of text as typed, checked (see ``Block``)."""
    return checked(field, Block(limit, required), text)
