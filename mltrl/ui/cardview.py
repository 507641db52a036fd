"""Drawing TRL cards on a page: cached rendering, the document view, the editor's fields.

Rendering goes through ``mltrl.domain.cards`` (python-markdown, then nh3's allow-list) and is shown with
``st.html`` (which sanitizes once more with DOMPurify). The renderer never raises or stalls on any
text, stored or being typed (``mltrl.domain.cards.rendering``), so the previews need no guard of
their own. Rendered HTML is cached on the card's content, so a long card renders once per change,
not once per click.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from mltrl import db

from mltrl.domain import cards
from mltrl.domain.cards import Card, CardHeader, Links
from mltrl.services import cards as card_service
from mltrl.ui import context


def _level_card_href(code: str, level: int) -> str:
    return f"card?code={code}&level={level}"


@st.cache_data(show_spinner=False, max_entries=8)
def _codes(url: str, version: int) -> frozenset[str]:
    with db.session_scope(context.engine()) as session:
        return frozenset(card_service.links(session).codes)


def _links(version: int) -> Links:
    return Links(codes=_codes(context.database_url(), version), level_card_href=_level_card_href)


@st.cache_data(show_spinner=False, max_entries=512)
def _fragment(text: str, url: str, version: int) -> str:
    return cards.render_html(text, _links(version), new_tab=True)


def render(version: int):
    """Markdown -> safe HTML with this portfolio's cross-links, cached per text and data version
    (the cache key is the text and two numbers, never the portfolio's codes)."""
    url = context.database_url()
    return lambda text: _fragment(text, url, version)


def show_html(fragment: str) -> None:
    st.html(f"<style>{cards.CARD_CSS}{cards.DIFF_CSS}</style>{fragment}")


def show_card(card: Card, header: CardHeader, version: int, *, meta: str = "", register: tuple[str, ...] = (),
              testing: tuple[str, ...] = ()) -> None:
    """The card as a document: summary table, TL;DR, sections (with the register's top-level
    requirements and the level's latest test evidence), debrief."""
    show_html(cards.card_body_html(card, header, _links(version), meta=meta, render=render(version),
                                   title_tag="h2", new_tab=True, register=register, testing=testing))


def preview(text: str, version: int) -> None:
    """Rendered Markdown of one field, as the card will show it."""
    if text.strip():
        show_html(f'<div class="trl-card">{render(version)(text)}</div>')
    else:
        st.caption("Nothing written yet.")


@st.cache_data(show_spinner=False, max_entries=32)
def _diff(old: Card, new: Card) -> str:
    return cards.diff_html(old, new)


def show_diff(old: Card, new: Card) -> None:
    show_html(_diff(old, new))


_DOWNLOADS = {  # format: (file name after the code, MIME type, help)
    "md": ("-card.md", "text/markdown", None),
    "html": ("-card.html", "text/html", None),
    "hf": ("-README.md", "text/markdown",
           "A Hugging Face model card: metadata and model-index results from the evidence's metrics, then "
           "this card. Save it as README.md in the model's Hub repository; `mltrl card import` reads it back."),
}


def download(where, label: str, code: str, fmt: str, *, key: str) -> None:
    """A download button whose file (the card as Markdown, HTML or a Hugging Face model card) is
    written only when clicked."""
    engine = context.engine()
    suffix, mime, help_text = _DOWNLOADS[fmt]

    def export() -> str:
        with db.session_scope(engine) as session:
            return card_service.export_card(session, code, fmt=fmt)

    where.download_button(label, export, file_name=f"{code}{suffix}", mime=mime, help=help_text,
                           icon=":material/download:", key=key)


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.replace(";", ",").split(",") if part.strip())


SUMMARY_FIELDS = (
    ("project_url", "Main project page", "An https:// link, or a short note"),
    ("requirements_url", "Req's, V&V docs", "An https:// link to the full requirements and V&V table"),
    ("code_url", "Code repo & docs", "An https:// link to the code and its documentation"),
    ("ethics_url", "Ethics checklist link", "An https:// link to this technology's ethics checklist"),
)


def editor(card: Card, key: str, version: int) -> Card:
    """One field per part of the card, a live preview beside each long section; returns the
    card as the fields now hold it (not yet validated: saving does that)."""
    def k(name: str) -> str:
        return f"{key}_{name}"

    def init(name: str, value: str) -> None:
        st.session_state.setdefault(k(name), value)

    st.markdown("**Summary**")
    c1, c2 = st.columns(2)
    init("owners", ", ".join(card.owners))
    init("reviewers", ", ".join(card.reviewers))
    owners = c1.text_input("Owner(s)", key=k("owners"), help="Comma-separated names; they are the technology's owners.")
    reviewers = c2.text_input("Reviewer(s)", key=k("reviewers"), help="Comma-separated names.")
    values: dict[str, str] = {}
    cols = st.columns(2)
    for i, (name, label, help_text) in enumerate(SUMMARY_FIELDS):
        init(name, getattr(card, name))
        values[name] = cols[i % 2].text_input(label, key=k(name), help=help_text, placeholder="https://")
    c3, c4 = st.columns(2)
    init("ethics_status", card.ethics_status)
    init("coupled", ", ".join(card.coupled))
    ethics_status = c3.text_input("Ethics checks: status", key=k("ethics_status"),
                                  placeholder="Yes, WIP, Not started…")
    coupled = c4.text_input("Coupled components", key=k("coupled"),
                            help="Comma-separated project IDs (or names) this technology depends on or feeds.")
    init("tldr", card.tldr)
    tldr = st.text_area("TL;DR", key=k("tldr"), height=80, help="One paragraph a stakeholder reads first.")

    texts: dict[str, str] = {}
    for name, heading, help_text in cards.SECTIONS:
        init(name, getattr(card, name))
        st.markdown(f"**{heading}**")
        left, right = st.columns(2)
        with left:
            texts[name] = st.text_area(heading, key=k(name), height=200, help=help_text,
                                       label_visibility="collapsed", placeholder=help_text)
        with right, st.container(border=True, height=220):
            preview(texts[name], version)
    st.markdown(f"**{cards.DEBRIEF_HEADING}**")
    for name, question in cards.DEBRIEF:
        init(name, getattr(card, name))
        left, right = st.columns(2)
        with left:
            texts[name] = st.text_area(question, key=k(name), height=120)
        with right, st.container(border=True, height=150):
            preview(texts[name], version)
    extra_sections = []
    if card.extra_sections or card.notes or card.debrief_notes or card.extra_rows:
        with st.expander("Other content kept from an imported card", expanded=False):
            init("notes", card.notes)
            texts["notes"] = st.text_area("Notes under the summary (e.g. footnotes)", key=k("notes"), height=100)
            init("debrief_notes", card.debrief_notes)
            texts["debrief_notes"] = st.text_area("Debrief: other notes and questions", key=k("debrief_notes"), height=100)
            init("extra_rows", "\n".join(f"{a} | {b}" for a, b in card.extra_rows))
            rows_text = st.text_area("Other summary rows (one per line: label | value)", key=k("extra_rows"), height=80)
            for i, (heading, body) in enumerate(card.extra_sections):
                init(f"extra_h{i}", heading)
                init(f"extra_b{i}", body)
                h = st.text_input(f"Section {i + 1}: heading", key=k(f"extra_h{i}"))
                b = st.text_area(f"Section {i + 1}: text", key=k(f"extra_b{i}"), height=120)
                extra_sections.append((h, b))
    else:
        rows_text = ""
    extra_rows = []
    for line in rows_text.split("\n"):
        if line.strip():
            label, _, value = line.partition("|")
            extra_rows.append((label.strip(), value.strip()))
    return replace(
        card,
        owners=_names(owners), reviewers=_names(reviewers), coupled=_names(coupled),
        ethics_status=ethics_status, tldr=tldr, extra_rows=tuple(extra_rows),
        extra_sections=tuple(extra_sections) if extra_sections else card.extra_sections,
        **values, **texts,
    )
