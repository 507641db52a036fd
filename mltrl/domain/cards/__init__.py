"""TRL cards: their content, the MLTRL card Markdown layout, safe HTML, diffs and staleness. Pure.

A card is the living report of one technology (see ``docs/ARCHITECTURE.md``). Its *content* is a
``Card``: the summary rows a person writes (owners, reviewers, links, ethics status, coupled
components), the TL;DR, the Markdown sections and the stage debrief, plus whatever a hand-written
card carried that has no field of its own (extra summary rows, extra sections, notes such as
footnotes), kept rather than dropped. What the dashboard knows better than the card (project ID,
name, current level, the levels it left) comes in a ``CardHeader``.

One module per job; this package re-exports their public names, so ``from mltrl.domain import
cards; cards.X`` and ``from mltrl.domain.cards import X`` work whatever module holds ``X``:

* ``model``: ``Card``, ``CardHeader``, the limits (sizes, nesting), ``canonical``,
  ``validate`` (an ``InvalidInput`` naming the field and what is allowed) and ``staleness``.
* ``layout``: ``to_markdown`` and ``parse_markdown`` (the MLTRL template layout both ways; sizes
  checked before reading; for every valid card ``parse_markdown(to_markdown(card)).card == card``).
* ``rendering``: ``render_html`` (python-markdown, then nh3's allow-list, with ``#CODE`` and
  ``@name`` cross-links; never raises or stalls on any text), ``card_body_html``, ``to_html``,
  ``brief_html`` and the stylesheets.
* ``diff``: ``section_changes`` and ``diff_html``.
* ``hf``: Hugging Face model cards both ways (``to_hf_card``, ``parse_hf_card``: the card's
  Markdown after a YAML front matter whose ``model-index`` holds the evidence's metrics; built and
  read with ``huggingface_hub``, imported when a function runs).
* ``text``: reading Markdown line by line in linear time (headings, fences, labels, nesting).

This package imports neither streamlit nor the database.
"""

from mltrl.domain.cards.diff import DIFF_MAX, WORD_DIFF_BUDGET, SectionChange, diff_html, section_changes, word_diff_html
from mltrl.domain.cards.hf import (
    FRONT_MATTER_MAX_BYTES,
    HF_INSTALL_HINT,
    MODEL_INDEX_METRICS_MAX,
    HFCard,
    Measurement,
    ModelResult,
    is_hf_card,
    latest_measurements,
    parse_hf_card,
    to_hf_card,
)
from mltrl.domain.cards.layout import (
    ParsedCard,
    ethics_cell,
    level_cell,
    parse_level,
    parse_markdown,
    summary_rows,
    to_markdown,
)
from mltrl.domain.cards.model import (
    CARD_MAX_BYTES,
    CELL_MAX,
    CHANGE_SUMMARY_MAX,
    DEBRIEF,
    DEBRIEF_HEADING,
    FIELD_LABELS,
    LINK_ROWS,
    MAX_BRACKET_DEPTH,
    MAX_NESTING,
    ROW_COUPLED,
    ROW_ETHICS,
    ROW_LEVEL,
    ROW_OWNERS,
    ROW_REVIEWERS,
    ROW_TECH,
    SECTION_HEADINGS,
    SECTION_MAX_BYTES,
    SECTIONS,
    TITLE_MAX,
    TLDR_MAX,
    Card,
    CardHeader,
    Staleness,
    canonical,
    canonical_text,
    check_link_field,
    check_markup,
    default_title,
    staleness,
    validate,
)
from mltrl.domain.cards.rendering import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_CLASSES,
    ALLOWED_TAGS,
    CARD_CSS,
    DIFF_CSS,
    BriefFacts,
    Links,
    brief_html,
    card_body_html,
    html_document,
    render_cell,
    render_html,
    sanitize,
    sanitize_document,
    to_html,
    top_requirements,
)

__all__ = [
    "FRONT_MATTER_MAX_BYTES", "HF_INSTALL_HINT", "MODEL_INDEX_METRICS_MAX", "HFCard", "Measurement", "ModelResult",
    "is_hf_card", "latest_measurements", "parse_hf_card", "to_hf_card",
    "ALLOWED_ATTRIBUTES", "ALLOWED_CLASSES", "ALLOWED_TAGS", "CARD_CSS", "CARD_MAX_BYTES", "CELL_MAX",
    "CHANGE_SUMMARY_MAX", "DEBRIEF", "DEBRIEF_HEADING", "DIFF_CSS", "FIELD_LABELS", "LINK_ROWS",
    "MAX_BRACKET_DEPTH", "MAX_NESTING", "ROW_COUPLED", "ROW_ETHICS", "ROW_LEVEL", "ROW_OWNERS",
    "ROW_REVIEWERS", "ROW_TECH", "SECTIONS", "SECTION_HEADINGS", "SECTION_MAX_BYTES", "TITLE_MAX",
    "TLDR_MAX", "DIFF_MAX", "WORD_DIFF_BUDGET", "BriefFacts", "Card", "CardHeader", "Links", "ParsedCard", "SectionChange",
    "Staleness", "brief_html", "canonical", "canonical_text", "card_body_html", "check_link_field",
    "check_markup", "default_title", "diff_html", "ethics_cell", "html_document", "level_cell",
    "parse_level", "parse_markdown", "render_cell", "render_html", "sanitize", "sanitize_document",
    "section_changes", "staleness", "summary_rows", "to_html", "to_markdown", "top_requirements",
    "validate", "word_diff_html",
]
