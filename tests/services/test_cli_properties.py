"""Property tests: random and hostile values at every argument parser of ``mltrl``.

Whatever the value (a date of year 1 or 9999, a 20-digit or negative id, a level of 10**30, text
with control, bidi or undecodable characters, a path to a folder, a device or nowhere), a command
ends with exit 0, 1 (a refusal) or 2 (a usage error); never another exception (``result.exception``
is a ``SystemExit`` or nothing), a failure is one line on stderr and leaves the database as it was,
and nothing printed carries a raw control or bidi character.

Fast: one migrated SQLite database per module (seeded once, shared by the examples), the commands
run in-process, in a temporary working folder (relative output paths land there).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mltrl import db
from mltrl.cli import app, common
from tests.services.test_cli import everything

runner = CliRunner()
EXAMPLES = settings(max_examples=60)


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """R02.1 at level 3 with a card; objective 1 with key result 1; review 1 open."""
    folder = tmp_path_factory.mktemp("cli-properties")
    with pytest.MonkeyPatch.context() as mp:
        database = f"sqlite:///{folder / 'mltrl.db'}"
        mp.setenv("MLTRL_DATABASE_URL", database)
        mp.setenv("MLTRL_USER", "cli-user")
        work = folder / "work"
        work.mkdir()
        mp.chdir(work)
        card = folder / "card.md"
        card.write_text("# Card\n\n| Summary info | Content, links |\n| --- | --- |\n"
                        "| Tech name (project ID) | Sorter (R02.1) |\n| Current Level | 3 |\n", encoding="utf-8")
        for args in (["project", "add", "R02.1", "Sorter"], ["level", "start", "R02.1", "3", "--at", "2026-01-05"],
                     ["card", "import", str(card)], ["okr", "add", "2026-Q1", "Ship it"],
                     ["okr", "kr", "1", "R02.1", "4"], ["review", "open", "R02.1"]):
            result = runner.invoke(app, args)
            assert result.exit_code == 0, (args, result.output)
        yield database
        db.dispose_engines()


_RAW = re.compile(common._UNSAFE.pattern)


def check(database: str, *args: str, stdin: str | None = None) -> int:
    before = everything(database)
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
    assert not _RAW.search(result.stdout.replace("\n", "").replace("\t", "")), (args, ascii(result.stdout))
    assert not _RAW.search(result.stderr.replace("\n", "").replace("\t", "")), (args, ascii(result.stderr))
    if result.exit_code != 0:
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, (args, result.stderr)
        assert result.stdout == "", (args, result.stdout)
        assert everything(database) == before, args
    return result.exit_code


# --- strategies ---------------------------------------------------------------------------------

HOSTILE_CHARS = "\x00\x07\x1b\x7f\x85\x9b\u061c\u200e\u200f\u202a\u202e\u2066\u2069\udcff\n\r\t"
hostile_text = st.text(
    alphabet=st.one_of(st.characters(blacklist_categories=("Cs",)), st.sampled_from(HOSTILE_CHARS)),
    max_size=30)
big_ints = st.one_of(st.integers(-10, 12), st.integers(), st.integers(2**62, 2**80), st.integers(-(2**80), -(2**62)))
SPECIAL = ["", " ", "-", "0", "-1", "9" * 20, "-" + "9" * 20, "1e309", "nan", "inf", "0x10", "1_000", "٣",
           "2026-Q1", "9999-Q4", "0000-Q0", "R02.1", "--help", "--json", "--", "/", ".", "/dev/null"]
numbers = st.one_of(big_ints.map(str), st.sampled_from(SPECIAL), hostile_text)


def _iso(dt) -> str:
    return dt.isoformat()


instants = st.one_of(
    st.datetimes().map(_iso),
    st.datetimes(timezones=st.timezones()).map(_iso),
    st.dates().map(_iso),
    st.sampled_from(["0001-01-01T00:00+01:00", "9999-12-31T23:59-01:00", "0001-01-01", "9999-12-31",
                     "1900-01-01T00:00+00:01", "2199-12-31T23:59:59.999999-00:01", "2026-02-30", "Z",
                     "2026-01-01Z", "2026-01-01T25:00", "+275760-09-13", "yesterday"]),
    hostile_text,
)
path_chars = st.sampled_from(string.ascii_letters + string.digits + "._- /\x00\u202e\udcff")
relative_paths = st.text(alphabet=path_chars, max_size=20).filter(
    lambda p: ".." not in p and not p.lstrip().startswith(("/", "~")))
paths = st.one_of(relative_paths, st.sampled_from(
    ["", "-", ".", "/", "/dev/null", "/dev/zero", "/proc/x", "/proc/self/x/y", "/etc/passwd/x",
     "missing-folder/x.csv", "x" * 300, "a/" * 200 + "x", "a\x00b"]))


# --- the properties ------------------------------------------------------------------------------


@EXAMPLES
@given(value=instants, which=st.integers(0, 5))
def test_every_date_option(url: str, value: str, which: int) -> None:
    args = [
        ["level", "graduate", "R02.1", "--at", value],
        ["analytics", "time-per-level", "--as-of", value],
        ["okr", "report", "--quarter", "2026-Q1", "--samples", "100", "--as-of", value],
        ["okr", "kr", "1", "R02.1", "5", "--by", value],
        ["okr", "checkin", "1", "5", "fine", "--at", value],
        ["review", "override", "R02.1", "5", "research-vv", "--why", "x", "--until", value],
    ][which]
    check(url, *args)


@EXAMPLES
@given(value=numbers, which=st.integers(0, 7))
def test_every_id(url: str, value: str, which: int) -> None:
    args = [
        ["review", "show", value], ["review", "vote", value, "graduate"], ["review", "decide", value, "hold"],
        ["okr", "kr", value, "R02.1", "5"], ["okr", "copy", value], ["okr", "checkin", value, "5", "fine"],
        ["card", "export", "R02.1", "--revision", value], ["review", "show", value, "--json"],
    ][which]
    check(url, *args)


@EXAMPLES
@given(value=numbers, which=st.integers(0, 9))
def test_every_level_and_number(url: str, value: str, which: int) -> None:
    args = [
        ["level", "start", "R02.1", value], ["level", "switchback", "R02.1", value, "--kind", "review"],
        ["okr", "kr", "1", "R02.1", value], ["okr", "checkin", "1", value, "fine"],
        ["okr", "report", "--quarter", "2026-Q1", "--samples", value],
        ["okr", "report", "--quarter", "2026-Q1", "--samples", "100", "--seed", value],
        ["card", "export", "R02.1", "--level", value], ["review", "decide", "1", "switch back", "--to", value],
        ["review", "override", "R02.1", value, "validation", "--why", "x"],
        ["card", "export", "R02.1", "--format", value],
    ][which]
    check(url, *args)


@EXAMPLES
@given(value=st.one_of(hostile_text, st.sampled_from(SPECIAL)), other=hostile_text, which=st.integers(0, 15))
def test_every_code_name_and_word(url: str, value: str, other: str, which: int) -> None:
    args = [
        ["project", "add", value, other or "x"], ["level", "history", value], ["card", "export", value],
        ["risks", "matrix", value, "--json"], ["okr", "add", value, other or "x"], ["okr", "list", "--quarter", value],
        ["review", "list", "--code", value], ["--as", value, "project", "list"], ["review", "vote", "1", value],
        ["okr", "report", "--quarter", value, "--samples", "100"], ["okr", "copy", "1", "--to", value],
        ["level", "switchback", "R02.1", "2", "--kind", value],
        ["review", "vote", "1", "not yet", "--comment", value], ["review", "decide", "1", "hold", "--task", value],
        ["project", "add", "R09.1", other or "x", "--parent", value, "--owner", value],
        ["review", "open", "R02.1", "--panel", value],
    ][which]
    check(url, *args)


@EXAMPLES
@given(path=paths, which=st.integers(0, 9), force=st.booleans())
def test_every_path(url: str, path: str, which: int, force: bool) -> None:
    flag = ["--force"] if force and path.startswith(("/dev", "/proc", "/etc")) is False else []
    args = [
        ["risks", "export", "R02.1", path, *flag], ["requirements", "export", "R02.1", path, *flag],
        ["card", "export", "R02.1", "-o", path, *flag], ["okr", "report", "--quarter", "2026-Q1", "--samples", "100",
                                                          "-o", path, *flag],
        ["export", path, *flag], ["db", "backup", path, *flag],
        ["card", "import", path], ["risks", "import", "R02.1", path], ["requirements", "import", "R02.1", path],
        ["import", path],
    ][which]
    check(url, *args)
    assert not list(Path.cwd().glob(".*.part")) and not list(Path.cwd().glob(".*.tmp"))  # no half-written file


@EXAMPLES
@given(name=hostile_text, stdin=st.one_of(st.none(), hostile_text), role=st.sampled_from(["admin", "viewer", "x", ""]))
def test_user_add_with_any_stdin(url: str, name: str, stdin: str | None, role: str) -> None:
    # A success would create the first account and turn on the roles: only a refusal is wanted
    # here, so the password is always too short or the lines differ, or no stdin is given.
    code = check(url, "user", "add", name or "ada", "--role", role, stdin=None if stdin is None else stdin[:7])
    assert code in (1, 2)


def test_the_database_was_not_left_with_accounts(url: str) -> None:
    result = runner.invoke(app, ["user", "list"])
    assert result.stdout.startswith("no accounts")
