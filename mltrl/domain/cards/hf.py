"""Hugging Face model cards, both ways: a TRL card as a model card's ``README.md``, and such a
file read back into a card and its metrics. Pure: no database; ``huggingface_hub`` (the ``hf``
extra) is imported only when a function here needs it, so nothing else waits for it, and its
absence is an ``InvalidInput`` saying what to install (``HF_INSTALL_HINT``).

The file is the card's own Markdown, in the MLTRL card layout (``to_markdown``), after a YAML
front matter built with ``huggingface_hub``'s ``ModelCardData`` and ``EvalResult``:

* ``model_name``: the technology's name; ``tags``: ``mltrl`` and ``mltrl-level-N``; ``license``:
  the card's ``License`` summary row when it holds a licence id (``apache-2.0``, ``mit``);
* ``model-index``: one result per evidence record (task: the record's kind; dataset: its title;
  source: its link and the system it came from), one metric per named number, each metric name
  once, from the newest record that has it (``latest_measurements``; at most
  ``MODEL_INDEX_METRICS_MAX``).

So the MLTRL parts (project ID, level, owners, every summary row and section, the TL;DR) travel
in the body, which ``parse_markdown`` reads back exactly, and the Hub's parts in the front matter.
``parse_hf_card`` reads a file that starts with ``---``: the front matter (size checked first,
``yaml.safe_load`` only, then its values counted and its depth bounded before anything reads them,
since YAML aliases can make a small file a huge tree), the ``model-index`` checked entry by entry
(a malformed one is an ``InvalidInput`` naming ``model-index`` and the entry), then the body. The
front matter fills what the body does not say: the tech name (``model_name``), the level (a
``mltrl-level-N`` tag) and a ``License`` row. Its metrics come back as ``ModelResult``\\ s, one per
model-index result; a metric whose name or value evidence cannot hold is left out with a warning.
Other metadata (language, datasets, base model...) has no place on a TRL card and is not kept.

For every valid card, ``parse_hf_card(to_hf_card(card, header, ms))`` gives the card, its code,
name and level, and the metrics of ``latest_measurements(ms)`` (property tests check it).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from mltrl.domain import evidence as evidence_rules
from mltrl.domain.cards.layout import ParsedCard, _check_file_size, parse_markdown, to_markdown
from mltrl.domain.cards.model import CELL_MAX, Card, CardHeader
from mltrl.domain.cards.text import norm
from mltrl.domain.errors import InvalidInput

HF_INSTALL_HINT = "pip install 'mltrl-dashboard[hf]'"
FRONT_MATTER_MAX_BYTES = 256 * 1024  # yaml.safe_load is pure Python: about a second for this much
FRONT_MATTER_VALUES_MAX = 50_000  # values in the loaded tree, an alias counted each time it is used
FRONT_MATTER_DEPTH_MAX = 32
MODEL_INDEX_METRICS_MAX = 500
TAG = "mltrl"
LEVEL_TAG = "mltrl-level-"
LICENSE_ROW = "License"
DEFAULT_SOURCE = "Hugging Face model card"

FRONT_MATTER = "front matter"
MODEL_INDEX = "model-index"

_STARTS_WITH_FRONT_MATTER = re.compile(r"\s*---(?:\r\n|\r|\n)")
_LICENSE_ID = re.compile(r"[a-z0-9][a-z0-9.+\-]{0,63}")
# '---' twice: the Hub's pattern wants a line between them; read as no metadata rather than refused.
_EMPTY_FRONT_MATTER = re.compile(r"(\s*---(?:\r\n|\r|\n))()---[ \t]*(?:\r\n|\n|$)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def available() -> bool:
    """Whether ``huggingface_hub`` (the ``hf`` extra) is installed, without importing it."""
    return importlib.util.find_spec("huggingface_hub") is not None


def _hub(field: str) -> Any:
    """``huggingface_hub.repocard`` (ModelCard, ModelCardData, EvalResult, the Hub's front matter
    pattern), or an ``InvalidInput`` naming ``field`` and what to install."""
    try:
        from huggingface_hub import repocard
    except ImportError:
        raise InvalidInput(field, f"Hugging Face model cards need the huggingface_hub package: {HF_INSTALL_HINT}") \
            from None
    return repocard


def _one_line(value: object, limit: int) -> str:
    """Text a record or a card can hold: control characters and lone surrogates gone, white space
    folded, at most ``limit`` characters; anything but text is empty."""
    if not isinstance(value, str):
        return ""
    text = _CONTROL.sub(" ", value).encode("utf-8", "replace").decode("utf-8")
    return " ".join(text.split())[:limit].strip()


# --------------------------------------------------------------------------------------------
# Export


@dataclass(frozen=True)
class Measurement:
    """One evidence record's named numbers, as the model-index reports them."""

    kind: str
    title: str
    metrics: tuple[tuple[str, float], ...]
    source: str = ""
    url: str = ""


def latest_measurements(records: Iterable[Measurement]) -> list[Measurement]:
    """``records`` (newest first) with each metric name kept once, in its newest record; records
    left without a metric are dropped, and at most ``MODEL_INDEX_METRICS_MAX`` metrics are kept
    (the newest)."""
    seen: set[str] = set()
    out: list[Measurement] = []
    for record in records:
        kept = []
        for name, value in record.metrics:
            if name not in seen and len(seen) < MODEL_INDEX_METRICS_MAX:
                seen.add(name)
                kept.append((name, value))
        if kept:
            out.append(replace(record, metrics=tuple(kept)))
    return out


def _number(value: float) -> int | float:
    """A whole number written as one (``212``, not ``212.0``); read back, it is the same float."""
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-")
    return slug or "evidence"


def eval_results(measurements: Sequence[Measurement]) -> list[Any]:
    """One ``EvalResult`` per metric of each measurement; each measurement gets a dataset id of
    its own (its title's slug), so the model-index keeps one result per record."""
    repocard = _hub("format")
    taken: dict[str, int] = {}
    results = []
    for m in measurements:
        base = _slug(m.title)
        taken[base] = taken.get(base, 0) + 1
        dataset_type = base if taken[base] == 1 else f"{base}-{taken[base]}"
        for name, value in m.metrics:
            results.append(repocard.EvalResult(
                task_type=m.kind, task_name=evidence_rules.KINDS.get(m.kind), dataset_type=dataset_type,
                dataset_name=m.title, metric_type=name, metric_value=_number(value),
                source_url=m.url or None, source_name=(m.source or None) if m.url else None,
            ))
    return results


def _license(card: Card) -> str | None:
    for label, value in card.extra_rows:
        if norm(label) == norm(LICENSE_ROW) and _LICENSE_ID.fullmatch(value.strip()):
            return value.strip()
    return None


def to_hf_card(card: Card, header: CardHeader, measurements: Sequence[Measurement] = ()) -> str:
    """The card as a Hugging Face model card's ``README.md`` (see the module docstring);
    ``measurements`` are the technology's evidence records, newest first."""
    repocard = _hub("format")
    tags = [TAG] + ([f"{LEVEL_TAG}{header.level}"] if header.level is not None else [])
    results = eval_results(latest_measurements(measurements))
    data = repocard.ModelCardData(model_name=header.name, license=_license(card), tags=tags,
                                  eval_results=results or None)
    text = f"---\n{data.to_yaml()}\n---\n\n{to_markdown(card, header)}"
    return str(repocard.ModelCard(text))  # read back by huggingface_hub itself before it is written


# --------------------------------------------------------------------------------------------
# Import


@dataclass(frozen=True)
class ModelResult:
    """One result of a model-index (a task on a dataset, with its metrics): what one evidence
    record holds when an imported model card's metrics are recorded."""

    task: str
    dataset: str  # the dataset's name: the record's title
    dataset_type: str
    metrics: tuple[tuple[str, float], ...]
    source: str = ""
    url: str = ""

    @property
    def title(self) -> str:
        return self.dataset or self.dataset_type or "Model card result"


@dataclass(frozen=True)
class HFCard:
    """What ``parse_hf_card`` found: the card as ``parse_markdown`` reads the body (with what the
    front matter adds), the model-index's results and a digest of it (``external_id``), and notes
    for the user about what was left out."""

    parsed: ParsedCard
    model_name: str | None
    results: tuple[ModelResult, ...]
    digest: str | None
    warnings: tuple[str, ...] = ()

    def external_id(self, index: int) -> str:
        """The evidence external id of result ``index``: the same file imported again adds nothing."""
        return f"hf-model-index:{self.digest}:{index}"


def is_hf_card(text: object) -> bool:
    """Whether ``text`` starts with a front matter block (``---`` on the first line), as a Hugging
    Face model card does; a card in the MLTRL layout starts with its title."""
    return isinstance(text, str) and bool(_STARTS_WITH_FRONT_MATTER.match(text.lstrip("\ufeff")))


def _check_size(text: str, field: str, limit: int) -> None:
    size = len(text.encode("utf-8", "surrogatepass")) if len(text) * 4 > limit else len(text)
    if size > limit:
        raise InvalidInput(field, f"at most {limit // 1024} KB (got {size / 1024:.0f} KB)")


def _bounded(data: object) -> None:
    """Refuse a loaded tree with more than ``FRONT_MATTER_VALUES_MAX`` values or nested deeper
    than ``FRONT_MATTER_DEPTH_MAX``, before anything walks it (counting stops at the limit, so a
    tree that aliases make exponential costs no more than the limit)."""
    count = 0
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > FRONT_MATTER_VALUES_MAX:
            raise InvalidInput(FRONT_MATTER, f"at most {FRONT_MATTER_VALUES_MAX} values (a YAML alias counts "
                                             "each time it is used)")
        if depth > FRONT_MATTER_DEPTH_MAX:
            raise InvalidInput(FRONT_MATTER, f"nests at most {FRONT_MATTER_DEPTH_MAX} deep")
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for pair in node.items() for child in pair)
        elif isinstance(node, (list, tuple, set, frozenset)):
            stack.extend((child, depth + 1) for child in node)


def _load_front_matter(block: str) -> dict[str, Any]:
    _check_size(block, FRONT_MATTER, FRONT_MATTER_MAX_BYTES)
    import yaml  # huggingface_hub's own dependency, and its loader (safe_load)

    try:
        data = yaml.safe_load(block)
    except RecursionError:  # PyYAML composes nested values recursively
        raise InvalidInput(FRONT_MATTER, f"nests at most {FRONT_MATTER_DEPTH_MAX} deep") from None
    except Exception as exc:  # a YAMLError, or a value its constructors refuse (an int too long...)
        if isinstance(exc, MemoryError):
            raise
        reason = " ".join(str(exc).split())[:200]
        raise InvalidInput(FRONT_MATTER, f"is not YAML ({type(exc).__name__}: {reason}); write the "
                                         "metadata as YAML key: value lines between two '---' lines") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput(FRONT_MATTER, f"must be a YAML mapping of key: value lines (got a "
                                         f"{type(data).__name__}), e.g. 'license: mit' and 'model-index:'")
    _bounded(data)
    return data


def _text_field(mapping: dict, key: str, where: str, *, required: bool = True) -> str | None:
    value = mapping.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(MODEL_INDEX, f"{where}: {key!r} must be text" + ("" if required else " when given"))
    return value


def _check_model_index(raw: object) -> list:
    """The model-index when it has the Hub's shape: a list of models, each ``{name, results}``,
    each result ``{task: {type}, dataset: {type, name}, metrics: [{type, value}], source: {url}}``;
    otherwise an ``InvalidInput`` naming ``model-index`` and the entry."""
    shape = "a list of models, each with a name and results: [{task: {type}, dataset: {type, name}, " \
            "metrics: [{type, value}]}]"
    if not isinstance(raw, list):
        raise InvalidInput(MODEL_INDEX, f"must be {shape} (got a {type(raw).__name__})")
    metrics = 0
    for m, model in enumerate(raw, start=1):
        where = f"model {m}"
        if not isinstance(model, dict):
            raise InvalidInput(MODEL_INDEX, f"{where} must be a mapping with a name and results: {shape}")
        _text_field(model, "name", where)
        results = model.get("results")
        if not isinstance(results, list):
            raise InvalidInput(MODEL_INDEX, f"{where}: 'results' must be a list: {shape}")
        for r, result in enumerate(results, start=1):
            at = f"{where}, result {r}"
            if not isinstance(result, dict):
                raise InvalidInput(MODEL_INDEX, f"{at} must be a mapping of task, dataset and metrics")
            for part, keys in (("task", ("type",)), ("dataset", ("type", "name"))):
                value = result.get(part)
                if not isinstance(value, dict):
                    raise InvalidInput(MODEL_INDEX, f"{at}: {part!r} must be a mapping with "
                                                    f"{' and '.join(repr(k) for k in keys)}")
                for key in keys:
                    _text_field(value, key, f"{at}, {part}")
            source = result.get("source")
            if source is not None:
                if not isinstance(source, dict):
                    raise InvalidInput(MODEL_INDEX, f"{at}: 'source' must be a mapping with a 'url'")
                _text_field(source, "url", f"{at}, source")
                _text_field(source, "name", f"{at}, source", required=False)
            listed = result.get("metrics")
            if not isinstance(listed, list) or not listed:
                raise InvalidInput(MODEL_INDEX, f"{at}: 'metrics' must be a list of {{type, value}}")
            if len(listed) > evidence_rules.METRICS_MAX:
                raise InvalidInput(MODEL_INDEX, f"{at}: at most {evidence_rules.METRICS_MAX} metrics per result "
                                                f"(got {len(listed)})")
            for k, metric in enumerate(listed, start=1):
                if not isinstance(metric, dict) or metric.get("value") is None:
                    raise InvalidInput(MODEL_INDEX, f"{at}, metric {k} must be a mapping with a type and a value")
                _text_field(metric, "type", f"{at}, metric {k}")
            metrics += len(listed)
            if metrics > MODEL_INDEX_METRICS_MAX:
                raise InvalidInput(MODEL_INDEX, f"at most {MODEL_INDEX_METRICS_MAX} metrics in all")
    return raw


def _digest(model_index: list) -> str:
    text = json.dumps(model_index, sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _results(repocard: Any, model_index: list) -> tuple[str | None, list[ModelResult], list[str]]:
    """The model name and results of a checked model-index, through ``ModelCardData`` (the Hub's
    reading: its ``EvalResult``\\ s, grouped back per task and dataset)."""
    try:
        data = repocard.ModelCardData(**{"model-index": model_index})
    except ValueError as exc:  # checked above; kept in case huggingface_hub reads more strictly
        raise InvalidInput(MODEL_INDEX, " ".join(str(exc).split())[:300]) from None
    groups: dict[tuple, list[Any]] = {}
    for result in data.eval_results or []:
        key = json.dumps([*result.unique_identifier, result.dataset_name, result.source_url, result.source_name],
                         sort_keys=True, default=str)  # a config or split may be any YAML value
        groups.setdefault(key, []).append(result)
    warnings: list[str] = []
    out = []
    for group in groups.values():
        first = group[0]
        dataset = _one_line(first.dataset_name, evidence_rules.TITLE_MAX)
        metrics: dict[str, float] = {}
        for result in group:
            name = result.metric_type.strip()
            try:
                checked = evidence_rules.metrics_of({name: result.metric_value})
            except InvalidInput as exc:
                warnings.append(f"model-index: {dataset or first.dataset_type}: {str(exc).removeprefix('metrics: ')}; "
                                "not recorded")
                continue
            if name in metrics:
                warnings.append(f"model-index: {dataset or first.dataset_type}: {name} is given twice; "
                                "the first value is recorded")
                continue
            metrics.update(checked)
        if not metrics:
            continue
        url = first.source_url.strip() if isinstance(first.source_url, str) else ""
        try:
            url = evidence_rules.url_of(url)
        except InvalidInput:
            warnings.append(f"model-index: {dataset or first.dataset_type}: its source {url[:60]!r} is not an "
                            "http(s) link; not recorded")
            url = ""
        out.append(ModelResult(
            task=_one_line(first.task_type, 100), dataset=dataset,
            dataset_type=_one_line(first.dataset_type, 200), metrics=tuple(metrics.items()),
            source=_one_line(first.source_name, evidence_rules.SOURCE_MAX) or DEFAULT_SOURCE, url=url,
        ))
    return data.model_name, out, warnings


def _level_from_tags(tags: object) -> int | None:
    if isinstance(tags, str):
        tags = [tags]
    if not isinstance(tags, list):
        return None
    found = {t[len(LEVEL_TAG):] for t in tags if isinstance(t, str) and t.startswith(LEVEL_TAG)}
    levels = {int(v) for v in found if v.isascii() and v.isdigit() and len(v) == 1}
    return levels.pop() if len(levels) == 1 else None


def parse_hf_card(text: str) -> HFCard:
    """Read a Hugging Face model card (``README.md``: YAML front matter, then Markdown): see the
    module docstring. A result, or an ``InvalidInput`` naming the file's limit, ``front matter``,
    ``model-index`` or the card's row or section that cannot be read."""
    if not isinstance(text, str):
        raise InvalidInput("file", f"a card file is text (got {type(text).__name__})")
    _check_file_size(text)  # before anything reads it
    repocard = _hub("file")
    text = text.lstrip("\ufeff")
    match = repocard.REGEX_YAML_BLOCK.search(text) or _EMPTY_FRONT_MATTER.match(text)
    if match is None:
        raise InvalidInput(FRONT_MATTER, "the file starts with '---' but has no closing '---' line: a model "
                                         "card's metadata sits between two '---' lines, before the Markdown")
    data = _load_front_matter(match.group(2))
    parsed = parse_markdown(text[match.end():])
    warnings: list[str] = []
    model_name = _one_line(data.get("model_name"), 200) or None
    results: list[ModelResult] = []
    digest = None
    raw_index = data.get(MODEL_INDEX)
    if raw_index is not None and raw_index != []:
        model_index = _check_model_index(raw_index)
        digest = _digest(model_index)
        index_name, results, warnings = _results(repocard, model_index)
        model_name = model_name or _one_line(index_name, 200) or None
    card = parsed.card
    license_id = _one_line(data.get("license"), CELL_MAX)
    if license_id and not any(norm(label) == norm(LICENSE_ROW) for label, _ in card.extra_rows):
        card = replace(card, extra_rows=(*card.extra_rows, (LICENSE_ROW, license_id)))
    parsed = replace(parsed, card=card, name=parsed.name or model_name,
                     level=parsed.level if parsed.level is not None else _level_from_tags(data.get("tags")))
    return HFCard(parsed=parsed, model_name=model_name, results=tuple(results), digest=digest,
                  warnings=tuple(warnings))
