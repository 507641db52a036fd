"""Hugging Face model cards (mltrl.domain.cards.hf): a TRL card out as a model card's README.md
(YAML front matter built with huggingface_hub, the evidence's metrics as its model-index, then the
card's Markdown) and back in; a model card from elsewhere read as far as it goes; bad and hostile
front matter refused by name. Pure: no database. No timing here."""

from __future__ import annotations

import sys

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mltrl.domain import cards
from mltrl.domain.cards import Card, CardHeader, Measurement, hf
from mltrl.domain.errors import InvalidInput
from mltrl.domain.evidence import KINDS
from tests.unit.test_cards import any_card, any_header, sentence

HEADER = CardHeader("R02.1", "Mixed-variable BO", 4, (2, 3))
CARD = cards.validate(Card(owners=("Ana Ruiz",), reviewers=("Tom Berg",), tldr="Optimises mixed variables.",
                           model="A **GP** surrogate.", extra_rows=(("License", "apache-2.0"),),
                           extra_sections=(("Deployment notes", "Shadow mode first."),)))
RUNS = [
    Measurement("model-version", "Version 3: summary model", (("accuracy", 0.93), ("tests", 212.0)),
                source="MLflow", url="https://mlflow.example.org/models/summary/3"),
    Measurement("test-report", "Evaluation on 2,000 tickets", (("accuracy", 0.91), ("faithfulness", 0.94))),
    Measurement("document", "Notes", ()),
]


def front_matter(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("\n---\n", 1)[0].removeprefix("---\n"))


def metrics_of(results) -> dict[str, float]:
    return {name: value for result in results for name, value in result.metrics}


# --- export ----------------------------------------------------------------------------------


def test_export_is_front_matter_then_the_card_in_the_mltrl_layout() -> None:
    text = cards.to_hf_card(CARD, HEADER, RUNS)
    meta = front_matter(text)
    assert meta["license"] == "apache-2.0"
    assert meta["tags"] == ["mltrl", "mltrl-level-4"]
    assert text.split("\n---\n", 1)[1].lstrip("\n") == cards.to_markdown(CARD, HEADER)
    [model] = meta["model-index"]
    assert model["name"] == "Mixed-variable BO"
    first, second = model["results"]
    assert first["task"] == {"type": "model-version", "name": "Model version"}
    assert first["dataset"] == {"name": "Version 3: summary model", "type": "version-3-summary-model"}
    assert first["metrics"] == [{"type": "accuracy", "value": 0.93}, {"type": "tests", "value": 212}]
    assert first["source"] == {"url": "https://mlflow.example.org/models/summary/3", "name": "MLflow"}
    # accuracy is reported once, from the newest record; a record without metrics has no result
    assert second["metrics"] == [{"type": "faithfulness", "value": 0.94}] and "source" not in second


def test_export_is_what_huggingface_hub_reads() -> None:
    from huggingface_hub import ModelCard

    model_card = ModelCard(cards.to_hf_card(CARD, HEADER, RUNS))
    assert model_card.data.model_name == "Mixed-variable BO"
    assert {(r.metric_type, r.metric_value) for r in model_card.data.eval_results} == {
        ("accuracy", 0.93), ("tests", 212), ("faithfulness", 0.94)}
    assert model_card.text.lstrip("\n").startswith("# Mixed-variable BO (R02.1)")


def test_export_without_metrics_level_or_licence_id() -> None:
    card = cards.validate(Card(tldr="x", extra_rows=(("License", "Internal use only"),)))
    meta = front_matter(cards.to_hf_card(card, CardHeader("R01.1", "Early idea"), []))
    assert meta == {"model_name": "Early idea", "tags": ["mltrl"]}


def test_records_with_the_same_title_stay_apart() -> None:
    same = [Measurement("ci-run", "Nightly", (("p95_latency_ms", 420.0),)),
            Measurement("ci-run", "Nightly", (("error_rate", 0.002),))]
    results = front_matter(cards.to_hf_card(CARD, HEADER, same))["model-index"][0]["results"]
    assert [r["dataset"]["type"] for r in results] == ["nightly", "nightly-2"]


def test_latest_measurements_keep_each_metric_once_and_at_most_the_limit() -> None:
    many = [Measurement("other", f"r{i}", tuple((f"m{i}_{k}", float(k)) for k in range(50))) for i in range(12)]
    kept = cards.latest_measurements(many)
    assert sum(len(m.metrics) for m in kept) == cards.MODEL_INDEX_METRICS_MAX
    assert kept[0] == many[0]


# --- round trip ------------------------------------------------------------------------------

metric_name = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)
metric_value = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-10**6, 10**6).map(float))


@st.composite
def any_measurements(draw) -> list[Measurement]:
    return [Measurement(
        kind=draw(st.sampled_from(sorted(KINDS))), title=draw(sentence),
        metrics=tuple(draw(st.dictionaries(metric_name, metric_value, max_size=4)).items()),
        source=draw(st.sampled_from(["", "MLflow", "GitHub Actions"])),
        url=draw(st.sampled_from(["", "https://ci.example.org/runs/7"])),
    ) for _ in range(draw(st.integers(0, 4)))]


@settings(max_examples=80)
@given(card=any_card(), header=any_header(), measurements=any_measurements())
def test_import_of_an_export_is_the_same_card_and_the_same_metrics(card, header, measurements) -> None:
    back = cards.parse_hf_card(cards.to_hf_card(card, header, measurements))
    assert back.parsed.card == card
    assert (back.parsed.code, back.parsed.name, back.parsed.level) == (header.code, header.name, header.level)
    assert metrics_of(back.results) == metrics_of(cards.latest_measurements(measurements))
    assert [r.dataset for r in back.results] == [m.title for m in cards.latest_measurements(measurements)]
    assert back.warnings == ()


def test_the_same_file_gives_the_same_external_ids() -> None:
    text = cards.to_hf_card(CARD, HEADER, RUNS)
    once, again = cards.parse_hf_card(text), cards.parse_hf_card(text)
    assert once.external_id(0) == again.external_id(0) != once.external_id(1)
    other = cards.parse_hf_card(text.replace("0.94", "0.95"))
    assert other.external_id(0) != once.external_id(0)


# --- a model card from elsewhere -------------------------------------------------------------

HUB_CARD = """\
---
language: en
license: mit
tags:
- text-classification
- mltrl-level-5
datasets:
- imdb
model-index:
- name: distilbert-imdb
  results:
  - task:
      type: text-classification
      name: Text Classification
    dataset:
      name: IMDB (test split)
      type: imdb
      split: test
    metrics:
    - type: accuracy
      value: 0.9312
    - type: f1
      value: "93.1%"
    - type: bleu
      value: 20.0 ± 1.2
    - type: f1 (macro)
      value: 0.9
    source:
      name: Our evaluation
      url: https://example.org/eval
---

# DistilBERT fine-tuned on IMDB

## Model description

A small sentiment classifier.

## Intended uses & limitations

Movie reviews in English.
"""


def test_a_hub_card_gives_its_name_level_licence_sections_and_numeric_metrics() -> None:
    back = cards.parse_hf_card(HUB_CARD)
    parsed = back.parsed
    assert (parsed.code, parsed.name, parsed.level) == (None, "distilbert-imdb", 5)
    assert parsed.card.title == "DistilBERT fine-tuned on IMDB"
    assert ("License", "mit") in parsed.card.extra_rows
    assert parsed.card.extra_sections == (("Model description", "A small sentiment classifier."),)
    assert parsed.card.intended_use == "Movie reviews in English."  # the layout knows this heading
    [result] = back.results
    assert (result.task, result.dataset, result.dataset_type) == ("text-classification", "IMDB (test split)", "imdb")
    assert (result.source, result.url) == ("Our evaluation", "https://example.org/eval")
    assert result.metrics == (("accuracy", 0.9312), ("f1", 93.1))
    assert len(back.warnings) == 2
    assert "bleu: '20.0 ± 1.2' is not a number; not recorded" in back.warnings[0]
    assert "'f1 (macro)' is not a metric name" in back.warnings[1]


def test_a_card_without_front_matter_is_not_a_hub_card() -> None:
    assert cards.is_hf_card(HUB_CARD) and cards.is_hf_card("\ufeff---\r\nlicense: mit\r\n---\r\n# x")
    assert not cards.is_hf_card(cards.to_markdown(CARD, HEADER))
    assert not cards.is_hf_card("--- not front matter\n") and not cards.is_hf_card(None)


def test_empty_front_matter_and_an_empty_model_index_are_fine() -> None:
    body = cards.to_markdown(CARD, HEADER)
    for meta in ("", "model-index: []\n", "# only a comment\n"):
        back = cards.parse_hf_card(f"---\n{meta}---\n{body}")
        assert back.parsed.card == CARD and back.results == () and back.digest is None


# --- refused ---------------------------------------------------------------------------------

BODY = "\n# Card\n\n| Tech name (project ID) | X (R01.1) |\n| --- | --- |\n"
GOOD_RESULT = "- task: {type: t}\n    dataset: {type: d, name: D}\n    metrics: [{type: m, value: 1}]"


@pytest.mark.parametrize(("meta", "field", "words"), [
    ("license: [mit\n", "front matter", "is not YAML"),
    ("key: value: other\n", "front matter", "is not YAML"),
    ("\tlicense: mit\n", "front matter", "is not YAML"),
    ("- mit\n- apache-2.0\n", "front matter", "must be a YAML mapping of key: value lines (got a list)"),
    ("just words\n", "front matter", "must be a YAML mapping"),
    ("model-index: 7\n", "model-index", "must be a list of models"),
    ("model-index: {name: x}\n", "model-index", "must be a list of models"),
    ("model-index: [x]\n", "model-index", "model 1 must be a mapping"),
    ("model-index: [{results: []}]\n", "model-index", "model 1: 'name' must be text"),
    ("model-index: [{name: x}]\n", "model-index", "model 1: 'results' must be a list"),
    ("model-index: [{name: x, results: [3]}]\n", "model-index", "model 1, result 1 must be a mapping"),
    ("model-index:\n- name: x\n  results:\n  - task: t\n", "model-index", "'task' must be a mapping with 'type'"),
    ("model-index:\n- name: x\n  results:\n  - task: {type: t}\n    dataset: {type: d}\n", "model-index",
     "result 1, dataset: 'name' must be text"),
    ("model-index:\n- name: x\n  results:\n  - task: {type: t}\n    dataset: {type: d, name: D}\n",
     "model-index", "'metrics' must be a list"),
    ("model-index:\n- name: x\n  results:\n  - task: {type: t}\n    dataset: {type: d, name: D}\n"
     "    metrics: [{type: m}]\n", "model-index", "metric 1 must be a mapping with a type and a value"),
    ("model-index:\n- name: x\n  results:\n  " + GOOD_RESULT + "\n    source: somewhere\n", "model-index",
     "'source' must be a mapping with a 'url'"),
    ("model-index:\n- name: x\n  results:\n  " + GOOD_RESULT + "\n    source: {name: n}\n", "model-index",
     "source: 'url' must be text"),
    ("model-index:\n- name: x\n  results:\n  - task: {type: t}\n    dataset: {type: d, name: D}\n    metrics: ["
     + ", ".join(f"{{type: m{i}, value: 1}}" for i in range(51)) + "]\n", "model-index", "at most 50 metrics"),
])
def test_bad_front_matter_is_refused_naming_the_field(meta: str, field: str, words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        cards.parse_hf_card(f"---\n{meta}---\n{BODY}")
    assert refused.value.field == field
    assert words in str(refused.value)


def test_front_matter_left_open_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no closing '---' line") as refused:
        cards.parse_hf_card("---\nlicense: mit\n# Card\n")
    assert refused.value.field == "front matter"


def test_too_many_metrics_in_all_are_refused() -> None:
    results = "".join(f"  - task: {{type: t}}\n    dataset: {{type: d{r}, name: D}}\n    metrics: ["
                      + ", ".join(f"{{type: m{i}, value: 1}}" for i in range(50)) + "]\n" for r in range(11))
    with pytest.raises(InvalidInput, match="at most 500 metrics in all"):
        cards.parse_hf_card(f"---\nmodel-index:\n- name: x\n  results:\n{results}---\n{BODY}")


# --- hostile ---------------------------------------------------------------------------------


def test_sizes_are_checked_before_reading() -> None:
    with pytest.raises(InvalidInput, match="at most 2 MB") as refused:
        cards.parse_hf_card("---\n" + "a: b\n" * 500_000 + "---\n")
    assert refused.value.field == "file"
    with pytest.raises(InvalidInput, match="at most 256 KB") as refused:
        cards.parse_hf_card("---\n" + "a: b\n" * 60_000 + "---\n")
    assert refused.value.field == "front matter"


def test_an_alias_bomb_is_refused_by_counting_not_by_walking() -> None:
    """Nine levels of nine aliases: 387 million values once expanded, a few hundred bytes as YAML."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    lines.append("model-index: *a9")
    with pytest.raises(InvalidInput, match="at most 50000 values") as refused:
        cards.parse_hf_card("---\n" + "\n".join(lines) + "\n---\n" + BODY)
    assert refused.value.field == "front matter"


@pytest.mark.parametrize("meta", ["a: " + "[" * 5000 + "]" * 5000, "a: " + "{b: " * 40 + "1" + "}" * 40,
                                  "n: " + "9" * 5000, "a: !!python/object/apply:os.system ['true']",
                                  "a: \"\\ud800\"\nmodel_name: \"\\ud800x\\x00\""])
def test_deep_huge_or_unsafe_yaml_ends_in_a_named_refusal_or_a_result(meta: str) -> None:
    try:
        back = cards.parse_hf_card(f"---\n{meta}\n---\n{BODY}")
    except InvalidInput as refused:
        assert refused.field == "front matter"
    else:
        assert back.parsed.name == "X" and back.model_name in (None, "?x")


def test_without_huggingface_hub_the_message_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(InvalidInput, match=r"pip install 'mltrl-dashboard\[hf\]'") as refused:
        cards.to_hf_card(CARD, HEADER, RUNS)
    assert refused.value.field == "format"
    with pytest.raises(InvalidInput, match=r"pip install 'mltrl-dashboard\[hf\]'") as refused:
        cards.parse_hf_card(HUB_CARD)
    assert refused.value.field == "file"
    assert hf.HF_INSTALL_HINT == "pip install 'mltrl-dashboard[hf]'"


YAML_PIECES = st.sampled_from([
    "model-index:", "\n", "- ", "  ", "name: ", "results:", "task:", "dataset:", "metrics:", "type: ", "value: ",
    "source:", "url: ", "{", "}", "[", "]", ", ", "x", "1", "0.5", "nan", ".inf", "'", '"', "&a ", "*a", "!!set ",
    "!!binary ", "~", "null", "true", "? ", ": ", "#", "---", "\t", "\x00", "\ud800", "é", "license: ", "tags:",
    "mltrl-level-4", "model_name: ",
])
yaml_ish = st.lists(st.tuples(YAML_PIECES, st.integers(1, 4)), max_size=40).map(
    lambda parts: "".join(piece * count for piece, count in parts))


@settings(max_examples=300)
@given(meta=yaml_ish)
def test_any_front_matter_gives_a_result_or_a_named_refusal(meta: str) -> None:
    try:
        back = cards.parse_hf_card(f"---\n{meta}\n---\n{BODY}")
    except InvalidInput as refused:
        assert refused.field in ("front matter", "model-index", "file") and str(refused)
    else:
        assert back.parsed.code == "R01.1"
        for result in back.results:
            assert result.title and 0 < len(result.metrics) <= 50


leaf = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**20), st.floats(), st.text(max_size=8),
                 st.sampled_from(["", "accuracy", "https://e.org/x", "javascript:x", "93%", "f1 (macro)"]))
anything = st.recursive(leaf, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                        max_leaves=8)


def maybe(value):
    """The value a well-formed model-index has there, or anything else."""
    return st.one_of(value, anything)


metric = maybe(st.fixed_dictionaries({"type": maybe(st.sampled_from(["accuracy", "f1", "wer"])),
                                      "value": maybe(st.floats(-1e6, 1e6))}))
result = maybe(st.fixed_dictionaries(
    {"task": maybe(st.fixed_dictionaries({"type": maybe(st.just("text-classification"))})),
     "dataset": maybe(st.fixed_dictionaries({"type": maybe(st.just("imdb")), "name": maybe(st.just("IMDB"))})),
     "metrics": maybe(st.lists(metric, min_size=1, max_size=3))},
    optional={"source": maybe(st.fixed_dictionaries({"url": maybe(st.just("https://e.org/eval"))},
                                                    optional={"name": maybe(st.just("Eval"))}))}))
model_index = maybe(st.lists(maybe(st.fixed_dictionaries({"name": maybe(st.just("m")),
                                                          "results": maybe(st.lists(result, max_size=3))})),
                             max_size=2))


@settings(max_examples=300)
@given(index=model_index)
def test_any_model_index_gives_results_or_a_refusal_naming_it(index) -> None:
    meta = yaml.safe_dump({"model-index": index}, allow_unicode=True)
    try:
        back = cards.parse_hf_card(f"---\n{meta}---\n{BODY}")
    except InvalidInput as refused:
        assert refused.field in ("model-index", "front matter") and str(refused)
    else:
        for found in back.results:
            assert found.title and found.metrics
            assert all(isinstance(v, float) and v == v for _, v in found.metrics)
            assert found.url in ("", "https://e.org/eval")
