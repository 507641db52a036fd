"""What every ``mltrl`` command shares: the one refusal handler, the acting user, sessions, the
parsers of dates and ids, input and output files, and terminal-safe printing.

**One refusal handler, by construction.** The root command is a ``Refusing`` group: its ``main``
runs every command and turns whatever escapes into one line on stderr and an exit code, so no
command catches its own refusals:

* a ``MltrlError`` (a service's or the domain's refusal) -> ``error: <its message>``, exit 1;
* a usage error (unknown option, bad value or type, missing argument, a command line holding
  bytes that are not UTF-8) -> ``error: <click's message, naming the option and what is
  allowed>``, exit 2 (a noun without a verb, or no arguments, prints the help, exit 2);
* an ``OSError`` (a file that cannot be read or written) -> ``error: <path>: <reason>``, exit 1;
* anything else is a bug: ``error: internal error (<type>): ...``, exit 70, still without a
  traceback.

**Printing.** ``say`` neutralises control characters and Unicode bidi controls in everything it
prints (card text, titles, notes, names; error lines too), so stored text cannot move the cursor,
recolour or reorder the terminal: each such character is shown as an escape (``\\x1b``,
``\\u202e``). Tab and line feed stay. ``say_json`` keeps JSON exact: the same characters are
written as JSON escapes, which parse back to the stored text.

A batch refusal (``RowErrors``) is one line too: its message lists the first ten bad rows.

**Files.** ``output_file`` checks an output path before any work is done (not a folder, its folder
exists and is a folder, writable, no existing file without ``--force``; the backups create their
folder, so for them the nearest existing folder is checked); ``write_output`` writes through a
temporary file in the same folder and renames it, so a failed write leaves no partial file.
``read_input`` reads a regular file (or a pipe), at most a given size, as UTF-8 text or bytes.

**Numbers and dates.** ``Id`` bounds an id argument to 1..2**31-1 (the ids are INTEGER columns, PostgreSQL's
integer) before any query; date options go through ``mltrl.domain.days`` (1900-2199), so year 1 or
9999 is a usage error naming the option instead of an overflow. Levels and confidences are
passed on as typed: the services refuse them (exit 1) naming the rule or the field and the range.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlmodel import Session
from typer._click import exceptions as usage  # typer vendors click: its exceptions live here
from typer.core import TyperGroup

from mltrl import db
from mltrl.domain import days
from mltrl.domain.errors import InvalidInput, MltrlError
from mltrl.services import Actor

INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug, not the user's input
ID_MAX = 2**31 - 1  # ids are INTEGER columns: PostgreSQL stores at most 2**31 - 1 (SQLite more)

# --- terminal-safe printing ----------------------------------------------------------------------

# C0 controls but tab and line feed, DEL, C1 controls, and the bidi controls (embeddings,
# overrides, isolates, the directional marks and the Arabic letter mark).
# Lone surrogates (bytes of a command line that were not UTF-8) cannot be printed at all.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def neutral(text: object) -> str:
    """``text`` with control and bidi characters shown as escapes (tab and line feed kept)."""
    return _UNSAFE.sub(_escape, str(text))


def one_line(text: object) -> str:
    """``text`` neutralised and folded onto one line."""
    return " ".join(neutral(text).split())


def say(text: object = "", *, err: bool = False, nl: bool = True) -> None:
    """Print ``text`` (to stderr with ``err``) with control and bidi characters neutralised."""
    typer.echo(neutral(text), err=err, nl=nl)


def warn(warnings: tuple[str, ...] | list[str]) -> None:
    for warning in warnings:
        say(f"warning: {one_line(warning)}", err=True)


def json_text(data: Any) -> str:
    """``data`` as indented JSON, readable non-ASCII kept, control and bidi characters escaped."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def say_json(data: Any) -> None:
    typer.echo(json_text(data))


# --- the one refusal handler ---------------------------------------------------------------------


def _report(message: object) -> None:
    typer.echo(f"error: {one_line(message)}", err=True)


def _usage_message(exc: usage.UsageError) -> str:
    message = exc.format_message()
    command = exc.ctx.command_path if exc.ctx is not None else "mltrl"
    return f"{message} (see: {command} --help)"


def _os_message(exc: OSError) -> str:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{exc.filename}: {reason}" if exc.filename is not None else reason


def run_refusing(call: Callable[[], Any]) -> int:
    """Run ``call`` (a command line's parse and invocation) and map what escapes to an exit code,
    reported on one line of stderr."""
    try:
        result = call()
    except usage.NoArgsIsHelpError as exc:
        typer.echo(exc.format_message(), err=True)
        return 2
    except usage.UsageError as exc:
        _report(_usage_message(exc))
        return 2
    except usage.ClickException as exc:
        _report(exc.format_message())
        return exc.exit_code
    except typer.Abort:
        _report("aborted")
        return 1
    except MltrlError as exc:
        _report(exc)
        return 1
    except OSError as exc:
        _report(_os_message(exc))
        return 1
    except Exception as exc:
        _report(f"internal error ({type(exc).__name__}): {exc}; please report it")
        return INTERNAL_ERROR
    # Not standalone, typer returns the code of an Exit raised by a command (help, typer.Exit(n)).
    return result if isinstance(result, int) else 0


def _check_text(args: list[str]) -> None:
    """Refuse a command line with bytes that are not UTF-8 (Python decodes them to lone
    surrogates, which no database, file or terminal accepts) before any parsing."""
    for position, arg in enumerate(args, start=1):
        if _SURROGATE.search(arg):
            raise usage.UsageError(f"argument {position} ({neutral(arg)!s}) is not UTF-8 text")


class Refusing(TyperGroup):
    """The root group: every command line runs through ``run_refusing``."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # type: ignore[override]
        given = list(sys.argv[1:] if args is None else args)

        def call() -> Any:
            _check_text(given)
            return super(Refusing, self).main(args=given, prog_name=prog_name, complete_var=complete_var,
                                              standalone_mode=False, **extra)

        code = run_refusing(call)
        if standalone_mode:
            sys.exit(code)
        return code


def noun(help_text: str) -> typer.Typer:
    """The sub-command group of one noun (``mltrl card ...``)."""
    return typer.Typer(no_args_is_help=True, help=help_text)


# --- acting user, sessions, writes ---------------------------------------------------------------

_state: dict[str, str | None] = {"as": None, "server": None, "token": None}


def set_acting(name: str | None) -> None:
    _state["as"] = name


def set_remote(server: str | None, token: str | None) -> None:
    _state["server"], _state["token"] = server, token


def remote_client():
    """The API client when a server is set (``--server`` or ``MLTRL_SERVER``), else ``None``
    (``mltrl.cli.remote`` is imported only then, so a local run starts without it)."""
    if not (_state["server"] or os.environ.get("MLTRL_SERVER", "").strip()):
        return None
    from mltrl.cli import remote

    return remote.configured(_state["server"], _state["token"])


def remote_records(client, path: str, **params: Any) -> list[dict]:
    """Every item of a paged API list (``{"items": [...], "next": ...}``), page by page."""
    records: list[dict] = []
    offset = 0
    while True:
        answer = client.request("GET", path, params={**params, "limit": 500, "offset": offset})
        records.extend(answer["items"])
        offset += len(answer["items"])
        if not answer["items"] or offset >= answer["total"]:
            return records


def actor() -> Actor:
    name = _state["as"] or os.environ.get("MLTRL_USER") or getpass.getuser()
    return Actor(name)


@contextmanager
def session() -> Iterator[Session]:
    """A session on the local database; refused when a server is set (a command that has no
    remote form must not quietly act on a local file)."""
    if remote_client() is not None:
        from mltrl.cli import remote

        raise remote.local_only()
    with db.session_scope(db.get_engine()) as s:
        yield s


def write(use_case, **kwargs):
    """Run a write use case as the acting user (a refusal reaches the handler: exit 1); with a
    server set, through its API as the token's owner."""
    client = remote_client()
    if client is not None:
        from mltrl.cli import remote

        return remote.write(client, use_case.__name__, kwargs)
    with session() as s:
        return use_case(session=s, actor=actor(), **kwargs)


# --- dates and numbers ---------------------------------------------------------------------------


def _option_name(param: typer.CallbackParam | None, default: str) -> str:
    if param is None:
        return default
    return param.opts[0] if param.opts else (param.name or default)


def _bad(exc: MltrlError, field: str) -> typer.BadParameter:
    return typer.BadParameter(str(exc).removeprefix(f"{field}: "))


def when_callback(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> datetime | None:
    """An instant option (``--at``, ``--as-of``, ``--until``): ISO 8601 date or date-time, naive
    meaning UTC, within 1900-2199."""
    if value is None:
        return None
    field = _option_name(param, "--at")
    try:
        return days.parse_when(value, field=field)
    except MltrlError as exc:
        raise _bad(exc, field) from None


def day_callback(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> date | None:
    """A calendar-day option (``--by``): ``YYYY-MM-DD`` within 1900-2199."""
    if value is None:
        return None
    field = _option_name(param, "--by")
    try:
        return days.parse_day(value, field=field)
    except MltrlError as exc:
        raise _bad(exc, field) from None


def iso(value: datetime | None) -> str | None:
    """A stored instant as ISO 8601 UTC text."""
    value = days.as_utc(value)
    return None if value is None else value.isoformat()


def Id(metavar: str, help_text: str) -> Any:
    """An id argument: an integer 1..2**31-1, refused as a usage error before any query."""
    return Annotated[int, typer.Argument(metavar=metavar, min=1, max=ID_MAX, help=help_text)]


AtOption = Annotated[
    str | None,
    typer.Option("--at", help="When it happened: ISO 8601 date or date-time, UTC unless an offset is given "
                              "(default: now).", callback=when_callback),
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Judge as of this moment: ISO 8601 date (its first instant, UTC) or date-time "
                                 "(default: now). Later events are ignored, so a past date gives the same report "
                                 "every time.", callback=when_callback),
]
NoteOption = Annotated[str | None, typer.Option("--note", help="Why, in a sentence.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace the file if it exists.")]


# --- files ---------------------------------------------------------------------------------------

TEXT_LIMIT = 64 * 1024 * 1024  # a card or a register file; far above any real one


def output_file(value: str | None, *, field: str, force: bool, stdout_dash: bool = False,
                make_folders: bool = False) -> Path | None:
    """Check an output path before any work is done; ``None`` means stdout (no path, or ``-``
    when ``stdout_dash``). Refused (naming ``field``): an empty name, a folder, an existing file
    without ``force``, a folder that does not exist (unless ``make_folders``: the backups create
    theirs, so then the nearest existing one is checked) or is not a folder, or one that cannot be
    written in."""
    if value is None or (stdout_dash and value == "-"):
        return None
    if not value.strip():
        raise InvalidInput(field, "a file name is needed")
    if "\x00" in value:
        raise InvalidInput(field, "a file name cannot contain NUL")
    path = Path(value)
    try:
        if path.is_dir():
            raise InvalidInput(field, f"{value} is a folder; name a file (in it, say)")
        if (path.exists() or path.is_symlink()) and not force:
            raise InvalidInput(field, f"{value} already exists; use --force to replace it")
        folder = path.parent
        if make_folders:
            while not folder.exists() and not folder.is_symlink() and folder != folder.parent:
                folder = folder.parent
        if not folder.exists():
            raise InvalidInput(field, f"the folder {folder} does not exist")
        if not folder.is_dir():
            raise InvalidInput(field, f"{folder} is not a folder")
    except OSError as exc:  # a name too long, a loop of links
        raise InvalidInput(field, f"cannot use {value}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidInput(field, f"cannot write in the folder {folder}: permission denied")
    return path


def write_output(path: Path, content: str | bytes, *, field: str) -> None:
    """Write ``content`` to ``path`` (checked by ``output_file``) through a temporary file in the
    same folder renamed over it: the file appears whole or not at all."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = -1, ""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:100]}.", suffix=".part")
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as handle:
            fd = -1
            handle.write(data)
        os.replace(tmp, path)
        tmp = ""
    except OSError as exc:
        raise InvalidInput(field, f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if fd >= 0:
            os.close(fd)
        if tmp:
            Path(tmp).unlink(missing_ok=True)


def read_input(value: str, *, field: str, limit: int | None = TEXT_LIMIT, text: bool = True) -> Any:
    """Read an input file: a regular file or a pipe, at most ``limit`` bytes, as UTF-8 text
    (or bytes). Refused naming ``field``: missing, a folder, a device, too large, not UTF-8."""
    if not value.strip() or "\x00" in value:
        raise InvalidInput(field, "a file name is needed")
    try:
        mode = os.stat(value).st_mode
        if stat.S_ISDIR(mode):
            raise InvalidInput(field, f"{value} is a folder, not a file")
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
            raise InvalidInput(field, f"{value} is not a regular file")
        with open(value, "rb") as handle:
            data = handle.read() if limit is None else handle.read(limit + 1)
    except OSError as exc:
        raise InvalidInput(field, f"cannot read {value}: {exc.strerror or exc}") from None
    if limit is not None and len(data) > limit:
        raise InvalidInput(field, f"{value} is larger than {limit // (1024 * 1024)} MiB")
    if not text:
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(field, f"{value} is not UTF-8 text") from None
