"""Hugging Face model cards against a real database (SQLite and PostgreSQL): the card exported with
its evidence's metrics as the model-index (for a prior level, the metrics of then), imported back as
the next revision with no metric recorded twice, imported into a new technology with its metrics
recorded as evidence, and bad front matter refused by name with nothing written."""

from __future__ import annotations

import pytest
import yaml
from sqlmodel import select

from mltrl.domain import cards as card_rules
from mltrl.domain.cards import Card
from mltrl.domain.errors import InvalidInput
from mltrl.models import AuditEntry, utcnow
from mltrl.services import Actor, cards, projects, reviews
from tests.factories import day, everything, make_history, make_project

ANA = Actor("ana")
CARD = Card(owners=("Ana Ruiz",), reviewers=("Tom Berg",), tldr="Optimises mixed variables.",
            requirements="1. It shall optimise.\n2. It shall be fast.", model="A **GP** surrogate.",
            extra_rows=(("License", "apache-2.0"),), extra_sections=(("Deployment notes", "Shadow mode first."),))


@pytest.fixture
def r02(session) -> str:
    """R02.1 at level 4 (level 3 left on 2025-09-01, with a card saved before), evidence at both."""
    make_project(session, "R02.1", "Mixed-variable BO", owners=["Ana Ruiz"])
    make_history(session, "R02.1", [("start", 3, None, "2025-06-02"), ("graduation", None, None, "2025-09-01")])
    cards.save_card(session=session, actor=ANA, code="R02.1", card=CARD, base_revision=0, at=day("2025-08-01"))
    cards.save_card(session=session, actor=ANA, code="R02.1", card=CARD, base_revision=1, summary="again")
    add = reviews.add_evidence
    add(session=session, actor=ANA, code="R02.1", level=3, kind="mlflow-run", status="info", title="Run 12",
        metrics={"accuracy": 0.8, "loss": 0.4}, produced_at=day("2025-08-15"))
    add(session=session, actor=ANA, code="R02.1", level=4, kind="model-version", status="info", title="Version 3",
        metrics={"accuracy": 0.93}, source="MLflow", url="https://mlflow.example.org/models/bo/3",
        produced_at=utcnow())
    add(session=session, actor=ANA, code="R02.1", level=4, kind="document", status="info", title="Design note")
    return "R02.1"


def front_matter(text: str) -> dict:
    return yaml.safe_load(text.split("\n---\n", 1)[0].removeprefix("---\n"))


def reported(text: str) -> dict[str, float]:
    """Metric name -> value, as the model card's model-index reports them."""
    return {m["type"]: float(m["value"]) for model in front_matter(text).get("model-index", [])
            for result in model["results"] for m in result["metrics"]}


def latest_metrics(session, code: str) -> dict[str, float]:
    return {name: value for m in card_rules.latest_measurements(cards.measurements(session, code))
            for name, value in m.metrics}


def test_export_reports_each_metric_once_from_its_newest_record(session, r02):
    text = cards.export_card(session, r02, fmt="hf")
    meta = front_matter(text)
    assert meta["tags"] == ["mltrl", "mltrl-level-4"] and meta["license"] == "apache-2.0"
    assert reported(text) == {"accuracy": 0.93, "loss": 0.4}
    newest = meta["model-index"][0]["results"][0]
    assert newest["dataset"]["name"] == "Version 3" and newest["task"]["type"] == "model-version"
    assert newest["source"] == {"url": "https://mlflow.example.org/models/bo/3", "name": "MLflow"}
    assert text.split("\n---\n", 1)[1].lstrip("\n") == cards.export_card(session, r02)


def test_a_prior_level_or_revision_reports_the_metrics_of_then(session, r02):
    assert reported(cards.export_card(session, r02, fmt="hf", level=3)) == {"accuracy": 0.8, "loss": 0.4}
    assert "mltrl-level-3" in front_matter(cards.export_card(session, r02, fmt="hf", level=3))["tags"]
    assert reported(cards.export_card(session, r02, fmt="hf", number=1)) == {}  # saved before any evidence
    # revision 2 was saved before version 3's record: its card reports the run of August
    assert reported(cards.export_card(session, r02, fmt="hf", number=2)) == {"accuracy": 0.8, "loss": 0.4}


def test_import_of_the_export_is_the_next_revision_and_records_no_metric_twice(session, engine, r02):
    text = cards.export_card(session, r02, fmt="hf")
    evidence_before = reviews.count_evidence(session, r02)
    outcome = cards.import_card(session=session, actor=ANA, text=text)
    assert (outcome.code, outcome.created, outcome.number, outcome.evidence_added, outcome.warnings) == (
        r02, False, 3, 0, ())
    latest, previous = cards.revisions(session, r02)[:2]
    assert Card.from_dict(latest.content) == Card.from_dict(previous.content)
    assert (latest.action, latest.summary) == ("import", "Imported from a Hugging Face model card")
    assert reviews.count_evidence(session, r02) == evidence_before
    assert cards.export_card(session, r02, fmt="hf") == text
    before = everything(engine)
    again = cards.import_card(session=session, actor=ANA, text=text)
    assert again.evidence_added == 0 and reviews.count_evidence(session, r02) == evidence_before
    assert len(everything(engine)["cardrevision"]) == len(before["cardrevision"]) + 1


def test_import_into_a_new_technology_keeps_the_card_and_the_metrics(session, r02):
    """A technology that has none of the evidence (as in a fresh database): the card comes back
    whole and each model-index result becomes a model-card record holding its metrics."""
    text = cards.export_card(session, r02, fmt="hf")
    outcome = cards.import_card(session=session, actor=ANA, text=text, code="R09.1")
    assert (outcome.code, outcome.created, outcome.number, outcome.evidence_added) == ("R09.1", True, 1, 2)
    assert outcome.warnings == ("The card names R02.1; it was imported into R09.1 as asked.",)
    copy = cards.current_card(session, "R09.1")
    assert copy.card == cards.current_card(session, r02).card
    assert (copy.name, copy.level) == ("Mixed-variable BO", 4)
    assert latest_metrics(session, "R09.1") == latest_metrics(session, r02) == {"accuracy": 0.93, "loss": 0.4}
    records = reviews.evidence_of(session, "R09.1")
    assert {(r.kind, r.status, r.level, r.recorded_by) for r in records} == {("model-card", "info", 4, "ana")}
    by_title = {r.title: r for r in records}
    assert by_title["Version 3"].url == "https://mlflow.example.org/models/bo/3"
    assert by_title["Version 3"].source == "MLflow" and by_title["Version 3"].metrics == {"accuracy": 0.93}
    assert by_title["Run 12"].metrics == {"loss": 0.4}
    assert by_title["Run 12"].details == {"model": "Mixed-variable BO", "task": "mlflow-run", "dataset": "run-12"}
    assert all(r.external_id.startswith("hf-model-index:") for r in records)
    audited = session.exec(select(AuditEntry).where(AuditEntry.entity == "evidence",
                                                    AuditEntry.actor == "ana")).all()
    assert {a.after["code"] for a in audited} >= {"R09.1"}

    again = cards.import_card(session=session, actor=ANA, text=text, code="R09.1")
    assert again.evidence_added == 0 and len(reviews.evidence_of(session, "R09.1")) == 2
    assert reported(cards.export_card(session, "R09.1", fmt="hf")) == reported(text)


def test_a_changed_metric_is_recorded_once_however_often_the_file_is_imported(session, r02):
    text = cards.export_card(session, r02, fmt="hf").replace("value: 0.93", "value: 0.95")
    count = reviews.count_evidence(session, r02)
    assert cards.import_card(session=session, actor=ANA, text=text).evidence_added == 1
    newest = reviews.evidence_of(session, r02)[0]
    assert (newest.kind, newest.title, newest.metrics) == ("model-card", "Version 3", {"accuracy": 0.95})
    assert cards.import_card(session=session, actor=ANA, text=text).evidence_added == 0
    assert reviews.count_evidence(session, r02) == count + 1
    assert latest_metrics(session, r02) == {"accuracy": 0.95, "loss": 0.4}


HUB_CARD = """\
---
license: mit
model-index:
- name: Ticket summariser
  results:
  - task: {type: summarization}
    dataset: {type: tickets, name: Support tickets}
    metrics:
    - {type: rouge1, value: 0.41}
    - {type: bleu, value: 20.0 ± 1.2}
---

# Ticket summariser

| Summary info | Content, links |
| --- | --- |
| Tech name (project ID) | Ticket summariser (R05.1) |

**TL;DR** — Summarises tickets.
"""


def test_without_a_level_the_card_is_saved_and_the_metrics_wait(session, engine):
    outcome = cards.import_card(session=session, actor=ANA, text=HUB_CARD)
    assert (outcome.code, outcome.created, outcome.number, outcome.evidence_added) == ("R05.1", True, 1, 0)
    assert any("bleu: '20.0 ± 1.2' is not a number" in w for w in outcome.warnings)
    assert any("R05.1 has no level yet" in w for w in outcome.warnings)
    assert reviews.count_evidence(session, "R05.1") == 0
    assert ("License", "mit") in cards.current_card(session, "R05.1").card.extra_rows
    with_level = HUB_CARD.replace("license: mit", "license: mit\ntags: [mltrl-level-2]")
    outcome = cards.import_card(session=session, actor=ANA, text=with_level, code="R06.1")
    assert outcome.evidence_added == 1 and projects.find_project(session, "R06.1").level == 2
    assert reviews.evidence_of(session, "R06.1")[0].metrics == {"rouge1": 0.41}


BODY = "\n# Card\n\n| Tech name (project ID) | Mixed-variable BO (R02.1) |\n| --- | --- |\n| Current Level | 4 |\n"
ALIAS_BOMB = "\n".join(["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
                       + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
                       + ["model-index: *a9"]) + "\n"


@pytest.mark.parametrize(("meta", "field", "words"), [
    ("license: [mit\n", "front matter", "is not YAML"),
    ("- mit\n- apache-2.0\n", "front matter", "must be a YAML mapping"),
    ("model-index: {name: x}\n", "model-index", "must be a list of models"),
    ("model-index:\n- name: x\n  results:\n  - task: {type: t}\n    dataset: {type: d}\n    metrics: []\n",
     "model-index", "dataset: 'name' must be text"),
    ("model-index:\n- name: x\n  results:\n  - task: {type: t}\n    dataset: {type: d, name: D}\n"
     "    metrics: [{type: acc}]\n", "model-index", "metric 1 must be a mapping with a type and a value"),
    (ALIAS_BOMB, "front matter", "at most 50000 values"),
    ("a: " + "x" * 300_000 + "\n", "front matter", "at most 256 KB"),
    ("a: " + "[" * 3000 + "]" * 3000 + "\n", "front matter", "nests at most 32 deep"),
])
def test_bad_front_matter_is_refused_by_name_and_writes_nothing(session, engine, r02, meta, field, words):
    before = everything(engine)
    with pytest.raises(InvalidInput) as refused:
        cards.import_card(session=session, actor=ANA, text=f"---\n{meta}---\n{BODY}")
    assert refused.value.field == field and words in str(refused.value)
    assert everything(engine) == before
    assert len(cards.revisions(session, r02)) == 2 and reviews.count_evidence(session, r02) == 3


def test_a_source_that_is_no_link_is_left_out_with_a_warning(session, r02):
    text = cards.export_card(session, r02, fmt="hf").replace("url: https://mlflow.example.org/models/bo/3",
                                                             "url: javascript:alert(1)")
    outcome = cards.import_card(session=session, actor=ANA, text=text, code="R09.1")
    assert outcome.evidence_added == 2
    assert any("its source 'javascript:alert(1)' is not an http(s) link" in w for w in outcome.warnings)
    assert {r.url for r in reviews.evidence_of(session, "R09.1")} == {""}


def test_a_body_the_card_rules_refuse_writes_neither_card_nor_metrics(session, engine, r02):
    text = cards.export_card(session, r02, fmt="hf").replace("value: 0.93", "value: 0.95")
    bad = text.replace("| Current Level | 4 (prior level cards: 3) |", "| Current Level | IX |")
    assert bad != text
    before = everything(engine)
    with pytest.raises(InvalidInput) as refused:
        cards.import_card(session=session, actor=ANA, text=bad)
    assert refused.value.field == "Current Level"
    assert everything(engine) == before
