"""``mltrl card export|import|history``: the CLI contract for TRL cards (exit 0 on success, 1 with
the reason on stderr and nothing written, 2 for usage errors), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.services.test_cli import everything, ok, run

CARD = """\
# Solar optimiser card

| Summary info | Content, links |
| --- | --- |
| Tech name (project ID) | Solar array optimiser (P13.2) |
| Current Level | 6 |
| Owner(s) | Ana Ruiz, Li Wei |
| Reviewer(s) | Tom Berg |
| Main project page | https://wiki.example.org/p13 |

**TL;DR** — Closed-loop optimisation of panel angles.

### Testing status

- Shadow tests against the plant simulator.
- Hostile text stays text: <script>alert(1)</script>
"""


@pytest.fixture
def card_file(tmp_path: Path) -> Path:
    path = tmp_path / "card.md"
    path.write_text(CARD, encoding="utf-8")
    return path


def test_import_then_export_round_trips(cli_db, card_file, tmp_path):
    result = ok("card", "import", str(card_file))
    assert "P13.2: created the technology and saved card revision 1" in result.stdout
    exported = ok("card", "export", "P13.2").stdout
    assert exported.startswith("# Solar optimiser card\n")
    assert "| Owner(s) | Ana Ruiz, Li Wei |" in exported
    assert "| Current Level | 6 |" in exported
    again = tmp_path / "again.md"
    again.write_text(exported, encoding="utf-8")
    assert "saved card revision 2" in ok("card", "import", str(again)).stdout
    assert ok("card", "export", "P13.2").stdout == exported
    history = json.loads(ok("card", "history", "P13.2", "--json").stdout)
    assert [(h["number"], h["action"], h["author"]) for h in history] == [(2, "import", "cli-user"), (1, "import", "cli-user")]
    assert "Imported from Markdown" in ok("card", "history", "P13.2").stdout


def test_export_html_to_a_file_and_of_a_prior_level(cli_db, card_file, tmp_path):
    ok("card", "import", str(card_file))
    ok("level", "graduate", "P13.2")
    out = tmp_path / "card.html"
    ok("card", "export", "P13.2", "--format", "html", "--level", "6", "-o", str(out))
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Card of level 6" in page
    assert "<script" not in page and "alert(1)" not in page  # removed, content and all
    refused = run("card", "export", "P13.2", "-o", str(out))
    assert refused.exit_code == 1 and "exists; use --force" in refused.stderr
    ok("card", "export", "P13.2", "--revision", "1", "-o", str(out), "--force")
    assert "| Current Level | 6 |" in out.read_text(encoding="utf-8")


def test_import_into_a_chosen_project_warns(cli_db, card_file):
    ok("project", "add", "R01.1", "Other technology")
    result = ok("card", "import", str(card_file), "--project", "R01.1", "--summary", "moved")
    assert "R01.1: saved card revision 1" in result.stdout
    assert "names P13.2; it was imported into R01.1" in result.stderr


@pytest.mark.parametrize(("text", "message"), [
    ("# No table\n\n**TL;DR** — x\n", "Tech name (project ID): the card names no project ID"),
    (CARD.replace("https://wiki.example.org/p13", "javascript:alert(1)"), "Main project page: only http"),
])
def test_bad_cards_exit_1_and_write_nothing(cli_db, tmp_path, text, message):
    path = tmp_path / "bad.md"
    path.write_text(text, encoding="utf-8")
    before = everything(cli_db)
    result = run("card", "import", str(path))
    assert result.exit_code == 1 and message in result.stderr
    assert everything(cli_db) == before


def test_unreadable_files_and_unknown_cards(cli_db, tmp_path):
    binary = tmp_path / "card.md"
    binary.write_bytes(b"\xff\xfe\x00bad")
    assert "is not UTF-8 text" in run("card", "import", str(binary)).stderr
    assert run("card", "import", str(tmp_path / "missing.md")).exit_code == 1
    assert "No project with code 'NOPE'" in run("card", "export", "NOPE").stderr
    ok("project", "add", "R01.1", "Cardless")
    assert "R01.1 has no card yet" in run("card", "export", "R01.1").stderr
    assert "R01.1 has no card yet" in ok("card", "history", "R01.1").stdout


def test_usage_errors_exit_2(cli_db):
    assert run("card", "export", "R01.1", "--format", "pdf").exit_code == 2
    assert run("card", "export", "R01.1", "--level", "12").exit_code == 2
    assert run("card", "export", "R01.1", "--level", "1", "--revision", "1").exit_code == 2
