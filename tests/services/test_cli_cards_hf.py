"""``mltrl card export --format hf`` and ``mltrl card import`` of a Hugging Face model card, on
SQLite and PostgreSQL: the README.md written and read back (the card and the metrics), bad front
matter refused with exit 1 and nothing written, and a clear word when huggingface_hub is missing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from tests.services.test_cli import everything, ok, run
from tests.services.test_cli_cards import CARD


@pytest.fixture
def p13(cli_db, tmp_path: Path) -> str:
    """P13.2 at level 6 with its card and two evidence records carrying metrics."""
    card = tmp_path / "card.md"
    card.write_text(CARD, encoding="utf-8")
    ok("card", "import", str(card))
    ok("evidence", "add", "P13.2", "--level", "6", "--kind", "mlflow-run", "--status", "info", "--title", "Run 7",
       "--metric", "accuracy=0.91", "--metric", "loss=0.12", "--produced-at", "2026-01-05")
    ok("evidence", "add", "P13.2", "--level", "6", "--kind", "model-version", "--status", "info", "--title",
       "Version 3", "--metric", "accuracy=0.93", "--url", "https://mlflow.example.org/models/solar/3",
       "--source", "MLflow")
    return "P13.2"


def metrics(text: str) -> dict[str, float]:
    meta = yaml.safe_load(text.split("\n---\n", 1)[0].removeprefix("---\n"))
    return {m["type"]: m["value"] for model in meta.get("model-index", []) for result in model["results"]
            for m in result["metrics"]}


def test_a_model_card_out_and_back_in(p13, tmp_path):
    readme = tmp_path / "README.md"
    ok("card", "export", p13, "--format", "hf", "-o", str(readme))
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("---\n") and "- mltrl-level-6\n" in text
    assert metrics(text) == {"accuracy": 0.93, "loss": 0.12}
    assert text.split("\n---\n", 1)[1].lstrip("\n") == ok("card", "export", p13).stdout
    assert ok("card", "export", p13, "--format", "hf").stdout == text

    back = ok("card", "import", str(readme))
    assert back.stdout.strip() == "P13.2: saved card revision 2" and back.stderr == ""
    assert ok("card", "export", p13, "--format", "hf").stdout == text  # same card, no metric added

    fresh = ok("card", "import", str(readme), "--project", "R09.1")
    assert fresh.stdout.strip() == ("R09.1: created the technology and saved card revision 1; "
                                    "recorded 2 evidence records from its model-index")
    assert "names P13.2; it was imported into R09.1" in fresh.stderr
    copy = ok("card", "export", "R09.1", "--format", "hf").stdout
    assert metrics(copy) == metrics(text)
    assert copy.split("\n---\n", 1)[1] == text.split("\n---\n", 1)[1].replace("(P13.2)", "(R09.1)")
    records = json.loads(ok("evidence", "list", "R09.1", "--json").stdout)
    assert {(r["kind"], r["status"], r["level"]) for r in records} == {("model-card", "info", 6)}
    assert ok("card", "import", str(readme), "--project", "R09.1").stdout.strip() == "R09.1: saved card revision 2"
    assert len(json.loads(ok("evidence", "list", "R09.1", "--json").stdout)) == 2


@pytest.mark.parametrize(("meta", "message"), [
    ("license: [mit\n", "front matter: is not YAML"),
    ("- mit\n", "front matter: must be a YAML mapping of key: value lines (got a list)"),
    ("model-index: {name: x}\n", "model-index: must be a list of models"),
    ("model-index:\n- name: x\n  results: [{task: {type: t}, dataset: {type: d, name: D}, metrics: [7]}]\n",
     "model-index: model 1, result 1, metric 1 must be a mapping with a type and a value"),
])
def test_bad_front_matter_exits_1_naming_it_and_writes_nothing(cli_db, p13, tmp_path, meta, message):
    path = tmp_path / "README.md"
    path.write_text(f"---\n{meta}---\n{CARD}", encoding="utf-8")
    before = everything(cli_db)
    result = run("card", "import", str(path))
    assert result.exit_code == 1 and message in result.stderr and "Traceback" not in result.output
    assert everything(cli_db) == before


def test_without_huggingface_hub_the_commands_say_what_to_install(cli_db, p13, tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text(ok("card", "export", p13, "--format", "hf").stdout, encoding="utf-8")
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    export = run("card", "export", p13, "--format", "hf")
    assert export.exit_code == 1 and "pip install 'mltrl-dashboard[hf]'" in export.stderr
    before = everything(cli_db)
    imported = run("card", "import", str(readme))
    assert imported.exit_code == 1 and "pip install 'mltrl-dashboard[hf]'" in imported.stderr
    assert everything(cli_db) == before
    assert ok("card", "export", p13).stdout.startswith("# Solar optimiser card")  # Markdown needs none of it
