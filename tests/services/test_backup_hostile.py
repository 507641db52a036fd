"""Hostile backup files: every one ends in a named refusal (or a correct restore), never another
exception, and a refused import leaves the database as it was.

The file level (size, nesting, strict JSON, checksum, signature) is tested without a database; the
rows (types, lengths, the domain's rules, keys across rows) against a real one, on both backends.
"""

# ruff: noqa: F811  (the fixtures imported from test_backup are named again as test parameters)
from __future__ import annotations

import json
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from mltrl import db
from mltrl.cli import app
from mltrl.domain import cards as card_rules
from mltrl.domain.errors import InvalidInput, RowErrors
from mltrl.services import backup, backup_file, backup_rows, cards, demo, level_moves, okrs, projects, reviews, \
    risks, users
from tests.factories import TESTER, everything
from tests.services.test_backup import (  # noqa: F401  (fixtures)
    ADMIN,
    PASSWORD,
    VIEWER,
    add_accounts,
    export_from,
    import_into,
    restore_engine,
    restore_url,
)

KEY = "a long enough signing key, 42"
ROOT = Path(__file__).resolve().parents[2]


def minimal(**extra: Any) -> dict[str, Any]:
    document = {"format": "mltrl-backup", "format_version": 1, "schema_revision": "0001",
                "exported_by": "test", "tables": [{"name": "t", "columns": ["a"], "rows": [[1]]}], **extra}
    return backup_file.seal(document, None)


def file_refusal(data: bytes | str, key: str | None = None) -> InvalidInput:
    """The refusal of ``data``: through the public ``inspect_backup`` (no key set), or the parser
    with ``key``."""
    with pytest.raises(InvalidInput) as caught:
        if key is None:
            backup.inspect_backup(data)  # type: ignore[arg-type]
        else:
            backup_file.parse(data, key)
    assert caught.value.field == "file"
    return caught.value


def table(document: dict, name: str) -> dict:
    return next(t for t in document["tables"] if t["name"] == name)


def cell(document: dict, name: str, column: str, row: int = 0) -> tuple[list, int]:
    """The row list and the column's index, for editing one value of ``name``."""
    t = table(document, name)
    return t["rows"][row], t["columns"].index(column)


def reseal(data: bytes, edit: Callable[[dict], object], key: str | None = None) -> bytes:
    document = json.loads(data)
    edit(document)
    return backup.render(backup_file.seal(document, key))


@pytest.fixture
def watchdog() -> Iterator[None]:
    """Fails a test that runs for minutes (a quadratic scan would run for hours), without timing it."""
    def expired(*_: object) -> None:
        raise TimeoutError("the watchdog expired")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(120)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- the file: strict JSON, size and nesting -----------------------------------------------------


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_the_json_tokens_nan_and_infinity_are_refused(token: str) -> None:
    text = backup.render(minimal()).decode().replace("[1]", f"[{token}]")
    error = file_refusal(text.encode())
    assert "damaged" in str(error) and token in str(error)


def test_a_number_too_large_for_a_double_is_refused() -> None:
    error = file_refusal(backup.render(minimal()).replace(b"[1]", b"[1e400]"))
    assert "does not fit a double" in str(error)


def test_an_integer_of_thousands_of_digits_is_refused() -> None:
    error = file_refusal(backup.render(minimal()).replace(b"[1]", b"[" + b"7" * 5000 + b"]"))
    assert "integer of 5000 digits" in str(error)


def test_an_object_with_a_key_twice_is_refused() -> None:
    data = backup.render(minimal()).replace(b'{"name":"t"', b'{"name":"t","name":"u"', 1)
    assert "the key 'name' twice" in str(file_refusal(data))


def test_text_that_is_not_unicode_is_refused() -> None:
    data = backup.render(minimal()).replace(b"[1]", b'["\\ud800"]')
    assert "not valid Unicode" in str(file_refusal(data))


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_json_nested_100000_deep_is_refused_before_it_is_parsed(opening: str, monkeypatch: pytest.MonkeyPatch) -> None:
    closing = "]" if opening == "[" else "}"
    deep = opening * 100_000 + "1" + closing * 100_000
    text = backup.render(minimal()).decode().replace("[1]", f"[{deep}]")

    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was parsed")

    monkeypatch.setattr(backup_file.json, "loads", no_parse)
    error = file_refusal(text.encode())
    assert "nest 100005 deep" in str(error) and f"at most {backup_file.MAX_DEPTH}" in str(error)


def test_the_size_is_checked_before_the_file_is_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    data = backup.render(minimal())
    monkeypatch.setattr(backup_file, "MAX_FILE_BYTES", len(data) - 1)
    monkeypatch.setattr(backup_file, "nesting_depth", lambda text: pytest.fail("the file was read"))
    error = file_refusal(data)
    assert f"{len(data):,} bytes" in str(error) and "nothing was read" in str(error)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    assert backup_file.nesting_depth('["[[[[", "\\"{{{", {"]]]": []}]') == 3
    assert backup_file.nesting_depth("") == 0


def test_the_nesting_scan_is_linear_on_unterminated_strings(watchdog: None) -> None:
    """An opening quote followed by 400,000 escaped quotes: a pattern retried from each quote
    would take hours; the scan takes one pass."""
    text = '["' + '\\"' * 400_000 + "[[["
    assert backup_file.nesting_depth(text) == 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(alphabet='[]{}"\\ab,:', max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(alphabet='[]{}"\\a', max_size=4), inner,
                                                                max_size=4),
    max_leaves=30,
)


def true_depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(true_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(true_depth, value.values()), default=0)
    return 0


@given(json_values)
def test_the_nesting_scan_agrees_with_the_parsed_value(value: Any) -> None:
    assert backup_file.nesting_depth(json.dumps(value)) == true_depth(value)


def test_a_value_that_is_not_bytes_is_refused() -> None:
    assert "expected the file's bytes" in str(file_refusal(None))  # type: ignore[arg-type]


# --- the file: checksum and signature -----------------------------------------------------------


def test_a_signed_file_verifies_and_an_edited_one_does_not() -> None:
    signed = backup_file.seal(minimal(), KEY)
    assert signed["signature"].startswith("hmac-sha256:")
    assert backup_file.parse(backup.render(signed), KEY)["signature"] == signed["signature"]

    signed["exported_by"] = "someone else"
    signed["checksum"] = backup.checksum(signed)  # the checksum recomputed, the signature kept
    assert "signature does not match" in str(file_refusal(backup.render(signed), KEY))
    assert "signature does not match" in str(file_refusal(backup.render(backup_file.seal(minimal(), KEY + "!")), KEY))
    assert "not signed" in str(file_refusal(backup.render(minimal()), KEY))


def test_a_short_key_is_refused_rather_than_trusted() -> None:
    with pytest.raises(InvalidInput) as caught:
        backup_file.seal(minimal(), "short")
    assert caught.value.field == "MLTRL_BACKUP_KEY" and "at least 16 characters" in str(caught.value)


# --- rows: each defect ends in a refusal naming the table, the row and the field -----------------


@pytest.fixture
def source(session: Session, engine: Engine) -> bytes:
    """A small portfolio with one of everything the rules look at, exported."""
    demo.load_demo(session=session, actor=TESTER)
    add_accounts(session)
    return export_from(engine, ADMIN)


def refused_rows(engine: Engine, data: bytes) -> RowErrors:
    before = everything(engine)
    with pytest.raises(RowErrors) as caught:
        import_into(engine, data)
    assert everything(engine) == before, "a refused import wrote something"
    return caught.value


def set_value(name: str, column: str, value: Any, row: int = 0) -> Callable[[dict], None]:
    def edit(document: dict) -> None:
        values, index = cell(document, name, column, row)
        values[index] = value
    return edit


HOSTILE_VALUES = [
    ("appuser", "disabled", "yes", "expected true or false"),
    ("project", "name", ["a", "list"], "expected text, got a list"),
    ("project", "level", 4.5, "expected a whole number, got a number 4.5"),
    ("project", "code", "R01'; DROP TABLE project;--", "is not a valid code"),
    ("project", "summary", "nul \x00 inside", "control characters"),
    ("project", "name", "x" * 201, "at most 200 characters"),
    ("project", "name", "   ", "required"),
    ("project", "status", "archived", "is not one of active, paused, retired"),
    ("project", "id", 0, "outside 1.."),
    ("project", "version", 2**40, "outside"),
    ("project", "created_at", "0001-01-01T00:00:00+00:00", "outside the dates this tool keeps"),
    ("project", "created_at", 20250101, "expected an ISO 8601 date as text"),
    ("project", "created_by", None, "required (null is not allowed here)"),
    ("levelevent", "to_level", 10, "Level 10 does not exist: levels are whole numbers 0-9. [rule: level-range]"),
    ("levelevent", "kind", "teleport", "is not one of start, graduation, switchback"),
    ("cardrevision", "content", "not an object", "expected an object, got text"),
    ("cardrevision", "content", ["a", "list"], "expected an object, got a list"),
    ("cardrevision", "content", {"owners": "Ada"}, "expected a list, got text"),
    ("cardrevision", "content", {"project_url": "javascript:alert(1)"}, "only http:// or https:// links"),
    ("requirement", "p_failure", "0.5", "expected a number, got text"),
    ("requirement", "p_failure", 1.5, "outside 0 to 1"),
    ("risk", "value", 11, "outside 1-10"),
    ("risk", "category", "vibes", "is not one of"),
    ("appuser", "role", "superuser", "is not one of viewer, editor, reviewer, admin"),
    ("appuser", "email", "ADA@EXAMPLE.ORG", "e-mail address"),
    ("appuser", "name", "ada lovelace", "is not a valid user name"),
    ("review", "panel", "Ada", "expected a list"),
    ("review", "scores", {"k": {"percent": 140}}, "outside 0-100"),
    ("review", "scores", {"k": {"percent": "80%"}}, "expected a whole number, got text"),
    ("review", "scores", {"k": "full marks"}, "is not an object"),
    ("review", "gates", [{"state": "vibes"}], "is not one of passed"),
    ("review", "criteria", [["Bad Key", "text", "guidance"]], "must be a short slug"),
    ("criterionscore", "percent", 101, "outside 0-100"),
    ("objective", "quarter", "2027-Q5", "is not a quarter"),
    ("checkin", "confidence", 11, "outside 0-10"),
    ("keyresult", "due", "2027-02-30", "is not a date"),
]


@pytest.mark.parametrize(("name", "column", "value", "reason"), HOSTILE_VALUES,
                         ids=[f"{n}.{c}={str(v)[:20]}" for n, c, v, _ in HOSTILE_VALUES])
def test_a_value_the_services_would_refuse_is_refused_naming_table_row_and_field(
        source: bytes, restore_engine: Engine, name: str, column: str, value: Any, reason: str) -> None:
    error = refused_rows(restore_engine, reseal(source, set_value(name, column, value)))
    assert f"row 1 of table {name}, {column}" in str(error)
    assert reason in str(error)
    assert error.errors[0][0] == f"row 1 of table {name}"


def test_every_bad_row_is_named_not_only_the_first(source: bytes, restore_engine: Engine) -> None:
    def two(document: dict) -> None:
        set_value("project", "level", 4.5, row=0)(document)
        set_value("project", "level", "nine", row=2)(document)

    error = refused_rows(restore_engine, reseal(source, two))
    assert [(row, field) for row, field, _ in error.errors] == [
        ("row 1 of table project", "level"), ("row 3 of table project", "level")]


def test_a_foreign_key_to_no_row_is_refused(source: bytes, restore_engine: Engine) -> None:
    error = refused_rows(restore_engine, reseal(source, set_value("levelevent", "project_id", 99_999)))
    assert "row 1 of table levelevent, project_id: 99999 names no row of table project" in str(error)


def test_a_cycle_in_the_technology_tree_is_refused(source: bytes, restore_engine: Engine) -> None:
    def cycle(document: dict) -> None:
        rows, index = cell(document, "project", "parent_id", 0)
        ids = [r[table(document, "project")["columns"].index("id")] for r in table(document, "project")["rows"]]
        rows[index] = ids[1]
        other, _ = cell(document, "project", "parent_id", 1)
        other[index] = ids[0]

    error = refused_rows(restore_engine, reseal(source, cycle))
    assert "table project, parent_id: the technology tree has a cycle" in str(error)


def test_settings_are_held_to_the_policy(source: bytes, restore_engine: Engine) -> None:
    def settings(document: dict) -> None:
        table(document, "orgsetting")["rows"] = [
            ["risk_review_days.low", 10, "2026-01-01T00:00:00+00:00", "ada"],
            ["risk_review_days.critical", 30, "2026-01-01T00:00:00+00:00", "ada"],
        ]
        table(document, "orgsetting")["columns"] = ["key", "value", "updated_at", "updated_by"]

    error = refused_rows(restore_engine, reseal(source, settings))
    assert "table orgsetting" in str(error) and "reviewed at least as often" in str(error)


def test_the_card_check_is_the_card_models(source: bytes) -> None:
    values, index = cell(json.loads(source), "cardrevision", "content")
    assert backup_rows.check_card_content(values[index]) == card_rules.validate(card_rules.Card.from_dict(values[index]))


def test_project_list_works_after_restoring_an_edited_but_valid_file(
        source: bytes, restore_url: str, restore_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    edited = reseal(source, set_value("project", "name", "Renamed by hand"))
    import_into(restore_engine, edited)
    monkeypatch.setenv("MLTRL_DATABASE_URL", restore_url)
    monkeypatch.setenv("MLTRL_USER", "ada")
    listed = CliRunner().invoke(app, ["project", "list"])
    assert listed.exit_code == 0, listed.output
    assert "Renamed by hand" in listed.stdout


# --- signed backups against a database -----------------------------------------------------------


def test_with_a_key_exports_are_signed_and_round_trip_byte_identically(
        session: Session, engine: Engine, restore_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    demo.load_demo(session=session, actor=TESTER)
    monkeypatch.setenv("MLTRL_BACKUP_KEY", KEY)
    first = export_from(engine)
    assert json.loads(first)["signature"].startswith("hmac-sha256:")
    assert backup.inspect_backup(first).signed
    import_into(restore_engine, first)
    assert export_from(restore_engine) == first


def make_vic_admin(document: dict) -> None:
    t = table(document, "appuser")
    name, role = t["columns"].index("name"), t["columns"].index("role")
    next(r for r in t["rows"] if r[name] == "vic")[role] = "admin"


def test_a_tampered_signed_backup_is_refused(source: bytes, engine: Engine, restore_engine: Engine,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRL_BACKUP_KEY", KEY)
    signed = export_from(engine, ADMIN)
    document = json.loads(signed)
    make_vic_admin(document)
    document["checksum"] = backup.checksum(document)  # what a tamperer can do without the key
    before = everything(restore_engine)
    with pytest.raises(InvalidInput, match="signature does not match its contents"):
        import_into(restore_engine, backup.render(document))
    with pytest.raises(InvalidInput, match="not signed"):
        import_into(restore_engine, source)  # the unsigned export, while a key is set
    assert everything(restore_engine) == before


def test_without_a_key_an_edited_file_with_a_recomputed_checksum_is_accepted(
        source: bytes, restore_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the checksum does not protect against, and what docs/BACKUPS.md says plainly."""
    monkeypatch.delenv("MLTRL_BACKUP_KEY", raising=False)
    edited = reseal(source, make_vic_admin)
    import_into(restore_engine, edited)
    with db.session_scope(restore_engine) as s:
        assert users.authenticate(s, "vic", PASSWORD).role == "admin"
    docs = (ROOT / "docs" / "BACKUPS.md").read_text()
    assert "It does not protect against tampering" in docs and "MLTRL_BACKUP_KEY" in docs
    assert "anyone who reaches an empty database can restore a hand-made file" in docs


def test_a_short_key_refuses_the_export(source: bytes, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRL_BACKUP_KEY", "short")
    with pytest.raises(InvalidInput, match="MLTRL_BACKUP_KEY: a signing key needs at least 16"):
        export_from(engine, ADMIN)


# --- the property: random mutations of a valid backup -------------------------------------------

_ODD_TEXT = ["", " ", "\x00", "\ud7ff", "NaN", "R01'; DROP TABLE project;--", "0001-01-01", "2199-12-31T23:59:59",
             "9999-12-31T23:59:59+14:00", "2025-03-31", "admin", "graduation", "https://example.org", "javascript:x",
             "x" * 300]
scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(max_size=30) | st.sampled_from(_ODD_TEXT))
json_junk = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                         | st.dictionaries(st.text(max_size=10), inner, max_size=3), max_leaves=8)
RAW_TOKENS = ["NaN", "Infinity", "-Infinity", "1e999", "9" * 5000, "[" * 5000 + "]" * 5000, '"\\ud800"', "{}"]


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, Any]:
    kind = draw(st.sampled_from(["value", "value", "value", "drop", "extra", "header", "table", "raw"]))
    if kind in ("value", "drop", "extra"):
        return kind, (draw(st.integers(0, 10**6)), draw(st.integers(0, 10**6)), draw(st.integers(0, 10**6)),
                      draw(json_junk))
    if kind == "header":
        return kind, (draw(st.sampled_from(["format", "format_version", "schema_revision", "exported_by",
                                            "tables", "signature", "surprise"])), draw(json_junk))
    if kind == "table":
        return kind, (draw(st.integers(0, 10**6)), draw(st.sampled_from(["name", "columns", "rows", "extra"])),
                      draw(json_junk))
    return kind, (draw(st.integers(0, 10**6)), draw(st.integers(0, 10**6)), draw(st.integers(0, 10**6)),
                  draw(st.sampled_from(RAW_TOKENS)))


def mutate(data: bytes, mutation: tuple[str, Any], reseal_it: bool) -> bytes:
    kind, args = mutation
    document = json.loads(data)
    tables = [t for t in document["tables"] if t["rows"]]
    if kind in ("value", "drop", "extra", "raw"):
        t = tables[args[0] % len(tables)]
        row = t["rows"][args[1] % len(t["rows"])]
        position = args[2] % len(row)
        if kind == "value":
            row[position] = args[3]
        elif kind == "drop":
            del row[position]
        elif kind == "extra":
            row.append(args[3])
        else:
            row[position] = "@@RAW@@"
    elif kind == "header":
        document[args[0]] = args[1]
    elif kind == "table":
        t = document["tables"][args[0] % len(document["tables"])]
        t[args[1]] = args[2]
    if reseal_it:
        document["checksum"] = backup.checksum(document)
    try:
        text = backup.render(document)
    except (TypeError, KeyError, AttributeError):  # the structure was broken on purpose: plain JSON
        text = json.dumps(document).encode()
    if kind == "raw":
        text = text.replace(b'"@@RAW@@"', args[3].encode(), 1)
    return text


@pytest.fixture
def small_source(session: Session, engine: Engine) -> bytes:
    """One of most things, kept small so each example restores quickly."""
    add_accounts(session)
    projects.add_project(session=session, actor=ADMIN, code="R01", name="System", owners=["Ada"])
    projects.add_project(session=session, actor=ADMIN, code="R01.1", name="Part", parent_code="R01")
    level_moves.record_start(session=session, actor=ADMIN, code="R01.1", level=2)
    cards.save_card(session=session, actor=ADMIN, code="R01.1", base_revision=0,
                    card=card_rules.Card(title="T", owners=("Ada",), tldr="Short.", extra_rows=(("Team", "B"),)))
    risks.add_requirement(session=session, actor=ADMIN, code="R01.1", number="1", statement="Works",
                          p_failure=0.2, value=5)
    risks.add_risk(session=session, actor=ADMIN, code="R01.1", title="Drift", category="data",
                   p_failure=0.4, value=6)
    reviews.open_review(session=session, actor=ADMIN, code="R01.1", panel=["Ada"])
    objective = okrs.add_objective(session=session, actor=ADMIN, quarter="2027-Q1", title="Ship")
    okrs.add_key_result(session=session, actor=ADMIN, objective_id=objective.id, code="R01.1", target_level=3)
    return export_from(engine, ADMIN)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=mutations(), reseal_it=st.booleans() | st.just(True))
def test_a_mutated_backup_restores_or_is_refused_by_name_never_another_error(
        small_source: bytes, restore_engine: Engine, mutation: tuple[str, Any], reseal_it: bool) -> None:
    data = mutate(small_source, mutation, reseal_it)
    before = everything(restore_engine)
    assert not any(before.values())
    try:
        import_into(restore_engine, data)
    except InvalidInput as refusal:
        assert refusal.field and str(refusal)
        event(f"refused: {type(refusal).__name__} {str(refusal).split(':')[0]}")
        assert everything(restore_engine) == before, "a refused import wrote something"
    else:
        event("restored")
        with db.session_scope(restore_engine) as s:  # a success is a full restore: empty it for the next example
            for t in reversed(backup.tables()):
                s.execute(t.delete())
            s.commit()
