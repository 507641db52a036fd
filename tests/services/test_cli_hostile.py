"""Defect 8: hostile arguments to ``mltrl`` end in a clear refusal, never a traceback.

Every case: exit 2 for a usage error (a bad option value, type or id; one line naming the option
and what is allowed), exit 1 for a refusal (one line ``error: ...``, an unusable path named with
the reason), the database unchanged, no partial file. Terminal output neutralises control and
bidi characters; JSON keeps the text exact. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import ast
import io
import json
from pathlib import Path

import pytest
import typer.main

from mltrl import db
from mltrl.cli import app, common
from mltrl.cli import user as user_cli
from mltrl.domain.errors import InvalidInput
from tests.services.test_cli import everything, ok, run

BIDI = "\u202e"
HUGE = "9" * 20  # beyond SQLite's and PostgreSQL's largest integer
CARD = f"""\
# Sorter card

| Summary info | Content, links |
| --- | --- |
| Tech name (project ID) | Sorter {BIDI}txt.exe (R02.1) |
| Current Level | 3 |
| Owner(s) | Ana |

**TL;DR** — Sorts {BIDI}gnp.exe waste.\u2066 isolate\u2069 and a C1 \x9b31m control.
"""


@pytest.fixture
def cli_db(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """R02.1 at level 3 with a card holding bidi and C1 controls, an objective (id 1) with a key
    result (id 1), an open review (id 1); acting as cli-user in single-user mode."""
    monkeypatch.setenv("MLTRL_USER", "cli-user")
    ok("project", "add", "R02.1", f"Sorter {BIDI}evil")
    ok("level", "start", "R02.1", "3", "--at", "2026-01-05")
    card = tmp_path / "card.md"
    card.write_text(CARD, encoding="utf-8")
    ok("card", "import", str(card))
    assert ok("okr", "add", "2026-Q1", f"Ship {BIDI}it").stdout.strip() == "1"
    assert ok("okr", "kr", "1", "R02.1", "4").stdout.strip() == "1"
    assert ok("review", "open", "R02.1").stdout.strip() == "1"
    yield db_url
    db.dispose_engines()


def refused(url: str, *args: str, code: int, says: str | tuple[str, ...]) -> str:
    """``args`` exit ``code`` with one line on stderr holding ``says``, nothing on stdout, no
    traceback, and nothing written. Returns the line."""
    before = everything(url)
    result = run(*args)
    assert result.exit_code == code, (args, result.output)
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    for words in (says,) if isinstance(says, str) else says:
        assert words in result.stderr, (args, result.stderr)
    assert everything(url) == before
    return result.stderr


# --- dates --------------------------------------------------------------------------------------

EXTREME_INSTANTS = ["0001-01-01T00:00+01:00", "9999-12-31T23:59-01:00", "0001-01-01", "9999-12-31",
                    "1899-12-31T23:59:59", "2200-01-01T00:00:00Z"]


@pytest.mark.parametrize("value", EXTREME_INSTANTS)
def test_instants_outside_the_window_are_usage_errors_naming_the_option(cli_db: str, value: str) -> None:
    for args, option in (
            (["level", "graduate", "R02.1", "--at", value], "--at"),
            (["level", "switchback", "R02.1", "2", "--kind", "review", "--at", value], "--at"),
            (["okr", "checkin", "1", "5", "fine", "--at", value], "--at"),
            (["analytics", "time-per-level", "--as-of", value], "--as-of"),
            (["okr", "report", "--quarter", "2026-Q1", "--as-of", value], "--as-of"),
            (["review", "override", "R02.1", "5", "research-vv", "--why", "x", "--until", value], "--until")):
        refused(cli_db, *args, code=2, says=(f"'{option}'", "between 1900-01-01 and 2199-12-31"))


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "2026-02-30", "2026-03-31T10:00", "soon"])
def test_a_due_day_outside_the_window_or_malformed_is_a_usage_error(cli_db: str, value: str) -> None:
    refused(cli_db, "okr", "kr", "1", "R02.1", "5", "--by", value, code=2, says="'--by'")


# --- ids and numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize("args, name", [
    (["review", "show", HUGE], "'ID'"),
    (["review", "vote", HUGE, "graduate"], "'ID'"),
    (["review", "decide", HUGE, "graduate"], "'ID'"),
    (["okr", "kr", HUGE, "R02.1", "4"], "'OBJECTIVE_ID'"),
    (["okr", "copy", HUGE], "'OBJECTIVE_ID'"),
    (["okr", "checkin", HUGE, "5", "fine"], "'KR_ID'"),
    (["card", "export", "R02.1", "--revision", HUGE], "'--revision'"),
    (["card", "export", "R02.1", "--level", HUGE], "'--level'"),
    (["review", "decide", "1", "switch back", "--to", HUGE], "'--to'"),
    (["okr", "report", "--quarter", "2026-Q1", "--samples", HUGE], "'--samples'"),
    (["okr", "report", "--quarter", "2026-Q1", "--seed", HUGE], "'--seed'"),
    (["review", "show", "0"], "'ID'"),
])
def test_ids_and_numbers_beyond_their_range_are_usage_errors_naming_the_argument(
        cli_db: str, args: list[str], name: str) -> None:
    refused(cli_db, *args, code=2, says=name)


@pytest.mark.parametrize("args, says", [
    (["level", "start", "R02.1", HUGE], "already started"),
    (["level", "switchback", "R02.1", HUGE, "--kind", "review"], HUGE),
    (["okr", "kr", "1", "R02.1", HUGE], "target_level"),
    (["okr", "checkin", "1", HUGE, "fine"], "confidence"),
    (["review", "override", "R02.1", HUGE, "validation", "--why", "x"], HUGE),
])
def test_huge_levels_and_confidences_are_refused_by_their_rules(cli_db: str, args: list[str], says: str) -> None:
    refused(cli_db, *args, code=1, says=says)


# --- output paths -------------------------------------------------------------------------------


def _outputs(target: str) -> list[list[str]]:
    return [["risks", "export", "R02.1", target], ["requirements", "export", "R02.1", target],
            ["export", target], ["db", "backup", target], ["card", "export", "R02.1", "-o", target],
            ["okr", "report", "--quarter", "2026-Q1", "-o", target]]


def test_every_output_to_a_folder_is_refused_naming_it(cli_db: str, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    for args in _outputs(str(folder)):
        if args[0] == "db" and not cli_db.startswith("sqlite"):
            continue
        refused(cli_db, *args, code=1, says=(str(folder), "is a folder"))
        assert list(folder.iterdir()) == []


def test_outputs_under_a_file_or_a_missing_folder_are_refused(cli_db: str, tmp_path: Path) -> None:
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")
    for args in _outputs(str(a_file / "x.out")):
        if args[0] == "db" and not cli_db.startswith("sqlite"):
            continue
        refused(cli_db, *args, code=1, says=(str(a_file), "is not a folder"))
    # The registers, cards and reports need their folder; backups make theirs (checked above it).
    missing = tmp_path / "missing" / "x.out"
    for args in _outputs(str(missing))[:2] + _outputs(str(missing))[4:]:
        refused(cli_db, *args, code=1, says=(str(missing.parent), "does not exist"))
    assert not missing.parent.exists()
    assert a_file.read_text() == "x"


def test_an_existing_output_needs_force_and_is_left_as_it_was(cli_db: str, tmp_path: Path) -> None:
    target = tmp_path / "taken"
    for args in _outputs(str(target)):
        if args[0] == "db" and not cli_db.startswith("sqlite"):
            continue
        target.write_text("mine")
        refused(cli_db, *args, code=1, says=(str(target), "already exists", "--force"))
        assert target.read_text() == "mine"


def test_a_write_that_fails_names_the_path_and_leaves_no_file(cli_db: str, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(common.os, "replace", full)
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "risks.csv"
    refused(cli_db, "risks", "export", "R02.1", str(target), code=1,
            says=(str(target), "No space left on device"))
    assert list(folder.iterdir()) == []  # neither the file nor its temporary


def test_an_unwritable_place_is_refused_naming_the_path(cli_db: str) -> None:
    # /proc takes no new files, even for root (the tests may run as root, for whom chmod is moot).
    line = refused(cli_db, "requirements", "export", "R02.1", "/proc/mltrl-test.csv", code=1,
                   says="/proc/mltrl-test.csv")
    assert "cannot write" in line


def test_an_output_path_is_checked_before_any_work(cli_db: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from mltrl.services import backup, okr_report, risks

    def no_work(*args, **kwargs):
        raise AssertionError("the work ran before the path was checked")

    for module, name in ((risks, "export_risks"), (backup, "export_backup"), (okr_report, "quarter_report")):
        monkeypatch.setattr(module, name, no_work)
    missing = str(tmp_path / "nowhere" / "x")
    refused(cli_db, "risks", "export", "R02.1", missing, code=1, says="does not exist")
    refused(cli_db, "okr", "report", "--quarter", "2026-Q1", "-o", missing, code=1, says="does not exist")
    refused(cli_db, "export", str(tmp_path), code=1, says="is a folder")


def test_exports_still_write_exactly(cli_db: str, tmp_path: Path) -> None:
    tmp_path = tmp_path / "exports"
    tmp_path.mkdir()
    card = tmp_path / "card.md"
    ok("card", "export", "R02.1", "-o", str(card))
    assert f"Sorts {BIDI}gnp.exe" in card.read_text(encoding="utf-8")  # a file keeps the text as stored
    report = tmp_path / "report.json"
    ok("okr", "report", "--quarter", "2026-Q1", "--as-of", "2026-02-01", "--format", "json", "-o", str(report))
    assert json.loads(report.read_text(encoding="utf-8"))["quarter"] == "2026-Q1"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


# --- input files --------------------------------------------------------------------------------


@pytest.mark.parametrize("path, says", [("/dev/zero", "not a regular file"), ("/", "is a folder"),
                                        ("/nonexistent/card.md", "No such file")])
def test_unreadable_inputs_are_refused_naming_the_path(cli_db: str, path: str, says: str) -> None:
    for args in (["card", "import", path], ["risks", "import", "R02.1", path],
                 ["requirements", "import", "R02.1", path], ["import", path]):
        refused(cli_db, *args, code=1, says=(path, says))


# --- user add without a password on stdin --------------------------------------------------------


def test_user_add_with_nothing_on_stdin_is_refused(cli_db: str) -> None:
    refused(cli_db, "user", "add", "ada", "--role", "admin", code=1, says="password: none given")
    refused(cli_db, "user", "add", "ada", "--role", "admin", "--display-name", "Ada", code=1,
            says="password: none given")


@pytest.mark.parametrize("stdin", [None, "closed", "broken"])
def test_a_closed_or_missing_stdin_is_a_named_refusal(monkeypatch: pytest.MonkeyPatch, stdin: str | None) -> None:
    if stdin == "closed":
        stream = io.StringIO("secret words\nsecret words\n")
        stream.close()
    elif stdin == "broken":
        class Broken:
            closed = False

            def isatty(self) -> bool:
                raise OSError(9, "Bad file descriptor")
        stream = Broken()
    else:
        stream = None
    monkeypatch.setattr(user_cli.sys, "stdin", stream)
    with pytest.raises(InvalidInput, match="password: none given"):
        user_cli._read_new_password()


# --- what the terminal shows ---------------------------------------------------------------------


def _no_raw_controls(text: str) -> None:
    assert not common._UNSAFE.search(text.replace("\n", "").replace("\t", "")), ascii(text)


def test_card_text_and_names_are_neutralised_on_the_terminal(cli_db: str) -> None:
    card = ok("card", "export", "R02.1").stdout
    _no_raw_controls(card)
    assert "Sorts \\u202egnp.exe waste.\\u2066 isolate\\u2069 and a C1 \\x9b31m control." in card
    html = ok("card", "export", "R02.1", "--format", "html").stdout
    _no_raw_controls(html)
    for args in (["project", "list"], ["okr", "list"], ["review", "list"], ["review", "show", "1"],
                 ["card", "history", "R02.1"], ["okr", "report", "--quarter", "2026-Q1", "--as-of", "2026-02-01"]):
        result = ok(*args)
        _no_raw_controls(result.stdout + result.stderr)
    assert "Sorter \\u202eevil" in ok("project", "list").stdout


def test_json_output_escapes_them_and_stays_exact(cli_db: str) -> None:
    for args, pick in ((["project", "list", "--json"], lambda d: d[0]["name"]),
                       (["okr", "list", "--json"], lambda d: d[0]["title"]),
                       (["review", "show", "1", "--json"], lambda d: d["technology"]["name"])):
        out = ok(*args).stdout
        _no_raw_controls(out)
        assert BIDI in pick(json.loads(out))
    assert "Sorter \\u202eevil" in ok("project", "list", "--json").stdout


def test_error_lines_are_neutralised_too(cli_db: str) -> None:
    line = refused(cli_db, "review", "list", "--code", f"{BIDI}\x1b[2J\x9b", code=1, says="No project")
    _no_raw_controls(line)
    line = refused(cli_db, "level", "graduate", "R02.1", "--at", f"\x1b]0;owned\x07{BIDI}", code=2, says="'--at'")
    _no_raw_controls(line)


def test_a_command_line_that_is_not_utf8_is_a_usage_error(cli_db: str) -> None:
    refused(cli_db, "project", "add", "R09.1", "bad \udcff name", code=2, says="argument 4")


# --- one handler for every command ---------------------------------------------------------------


def _commands(group, prefix=()):
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, prefix + (name,))
        else:
            yield prefix + (name,)


def test_every_command_reports_a_usage_error_on_one_line(cli_db: str) -> None:
    commands = list(_commands(typer.main.get_command(app)))
    assert len(commands) >= 30
    for command in commands:
        refused(cli_db, *command, "--no-such-option", code=2, says="No such option")


def test_an_unexpected_exception_is_one_line_without_a_traceback(cli_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from mltrl.services import portfolio

    def boom(session):
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(portfolio, "project_list", boom)
    result = run("project", "list")
    assert result.exit_code == common.INTERNAL_ERROR
    assert isinstance(result.exception, SystemExit)
    assert result.stderr == "error: internal error (RuntimeError): disk on fire second line; please report it\n"


def test_usage_errors_are_one_line_exit_2(cli_db: str) -> None:
    for args, says in ((["nosuch"], "No such command"), (["level", "start"], "Missing argument"),
                       (["card", "export", "R02.1", "--format", "pdf"], "'--format'"),
                       (["review", "list", "--status", "maybe"], "'--status'"),
                       (["card", "export", "R02.1", "--level", "1", "--revision", "1"], "not both"),
                       (["--as"], "requires an argument")):
        refused(cli_db, *args, code=2, says=says)


def test_the_cli_reaches_no_private_service_module_nor_the_tables() -> None:
    package = Path(common.__file__).parent
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        assert not {m for m in imported if m.startswith(("mltrl.services._", "mltrl.models"))}, path
        assert "session.get(" not in path.read_text(encoding="utf-8"), path
