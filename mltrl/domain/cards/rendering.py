"""Card Markdown as safe HTML: rendering with cross-links, the allow-list, the card as a page
(``card_body_html``, ``to_html``), the stakeholder brief and the stylesheets. Pure.

* ``render_html`` turns card Markdown into HTML through python-markdown and nh3 (an allow-list: no
  script, no event handlers, only http(s)/mailto links), with cross-links: ``#R02.1`` becomes a
  link to that technology's page when the code exists and is marked unknown when it does not;
  ``@name`` links to that person's cards.
* It never raises and never stalls on what it is given, stored or typed. Before python-markdown
  sees a text, the characters it would spend too long on are hidden (private-use characters,
  shown again as written in its output): link brackets and parentheses nested (or left open)
  deeper than ``MAX_BRACKET_DEPTH`` (python-markdown rescans the rest of a paragraph for each),
  the fence of a code-fence line python-markdown would try and fail to close (it rescans the
  rest of the text for each), and, when there are many, the ``<`` with no ``>`` near (html.parser
  rescans the rest for each) and the backtick runs no later run closes (python-markdown's code
  span pattern rescans the rest of the paragraph for each). Escaping them with backslashes would not do: python-markdown
  rebuilds a paragraph's text for every escape it meets. A text longer than a section or nested
  deeper than ``MAX_NESTING`` (python-markdown recurses per level), or one python-markdown still
  fails on, is shown as escaped preformatted text with a note. Headings are read by
  ``text.heading`` (a closing ``#`` run only after a space).
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as etree
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import markdown
import nh3
from markdown.blockprocessors import HashHeaderProcessor
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor

from mltrl.domain.cards.layout import summary_rows
from mltrl.domain.cards.model import (
    DEBRIEF,
    DEBRIEF_HEADING,
    MAX_BRACKET_DEPTH,
    MAX_NESTING,
    ROW_COUPLED,
    ROW_ETHICS,
    ROW_LEVEL,
    ROW_OWNERS,
    ROW_REVIEWERS,
    ROW_TECH,
    SECTION_MAX_BYTES,
    SECTIONS,
    Card,
    CardHeader,
    Staleness,
    default_title,
)
from mltrl.domain.cards.text import bracket_report, deepest_nesting, heading, numbered, unmatched_backticks

# --------------------------------------------------------------------------------------------
# Safe HTML with cross-links

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "del", "ins",
    "span", "sup", "sub", "div", "img", "dl", "dt", "dd",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
    "span": {"title"},
}
ALLOWED_CLASSES = {"span": {"xref-unknown", "xref", "person", "img-alt"}, "a": {"xref", "person", "footnote-ref"},
                   "div": {"footnote"}, "sup": set(), "ins": set(), "del": set()}
_CODE_REF = re.compile(r"(?<![\w&#/\\])#([A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]|[A-Za-z0-9])")
_PERSON_REF = re.compile(r"(?<![\w.@/\\])@([A-Za-z][\w-]*(?:\.[\w-]+)*)")


@dataclass(frozen=True)
class Links:
    """How cross-links resolve: known project codes, and where a code's and a person's pages are."""

    codes: frozenset[str] = frozenset()
    # None: no page to link to (an export without a base URL): the reference is marked, not linked.
    project_href: Callable[[str], str] | None = lambda code: f"project?code={code}"
    person_href: Callable[[str], str] | None = lambda name: f"cards?person={name}"
    level_card_href: Callable[[str, int], str] | None = None  # in the app: the card of a prior level


class _CodeRef(InlineProcessor):
    def __init__(self, links: Links):
        super().__init__(_CODE_REF.pattern)
        self.compiled_re = _CODE_REF
        self.links = links

    def handleMatch(self, m, data):
        code = m.group(1)
        if code in self.links.codes:
            if self.links.project_href is None:
                el = etree.Element("span", {"class": "xref", "title": "A technology in this portfolio"})
            else:
                el = etree.Element("a", {"href": self.links.project_href(code), "class": "xref"})
            el.text = f"#{code}"
            return el, m.start(0), m.end(0)
        if not any(ch.isdigit() for ch in code):
            return None, None, None  # a hashtag, not a project code
        el = etree.Element("span", {"class": "xref-unknown", "title": "No technology has this code"})
        el.text = f"#{code} (unknown code)"
        return el, m.start(0), m.end(0)


class _PersonRef(InlineProcessor):
    def __init__(self, links: Links):
        super().__init__(_PERSON_REF.pattern)
        self.compiled_re = _PERSON_REF
        self.links = links

    def handleMatch(self, m, data):
        name = m.group(1)
        if self.links.person_href is None:
            el = etree.Element("span", {"class": "person"})
        else:
            el = etree.Element("a", {"href": self.links.person_href(name), "class": "person",
                                     "title": f"Cards of {name}"})
        el.text = f"@{name}"
        return el, m.start(0), m.end(0)


class _StrictHashHeader(HashHeaderProcessor):
    """A heading needs a space after its hashes (as in CommonMark), so '#R02.1 feeds...' at the
    start of a line is a cross-link, not a heading. The pattern finds a heading line without
    backtracking; ``text.heading`` reads it (a closing run of hashes only after a space)."""

    RE = re.compile(r"(?:^|\n)#{1,6}[ \t][^\n]*(?:\n|$)")

    def run(self, parent, blocks):
        block = blocks.pop(0)
        m = self.RE.search(block)
        before, after = block[:m.start()], block[m.end():]
        if before:
            self.parser.parseBlocks(parent, [before])
        depth, text = heading(m.group(0).strip("\n")) or (1, "")
        h = etree.SubElement(parent, f"h{depth}")
        h.text = text
        if after:
            if self.parser.state.isstate("looselist"):
                after = self.looseDetab(after)
            blocks.insert(0, after)


class _CrossLinks(Extension):
    def __init__(self, links: Links):
        super().__init__()
        self.links = links

    def extendMarkdown(self, md):
        # Below backticks (190) and links (160), so code spans and link texts stay as written.
        md.inlinePatterns.register(_CodeRef(self.links), "mltrl_code_ref", 105)
        md.inlinePatterns.register(_PersonRef(self.links), "mltrl_person_ref", 104)
        md.parser.blockprocessors.register(_StrictHashHeader(md.parser), "hashheader", 70)


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and not value.lower().startswith(("http://", "https://")):
        return None  # a relative image cannot be found from the dashboard; its alt text stays
    return value


_IMG_WITHOUT_SRC = re.compile(r"<img(?![^>]*\ssrc=)([^>]*)>")
_ALT = re.compile(r'\salt="([^"]*)"')


def _drop_sourceless_images(cleaned: str) -> str:
    """An image whose source was removed (relative, or hostile) leaves its alt text, not a gap."""
    def alt_text(m: re.Match) -> str:
        alt = _ALT.search(m.group(1))
        return f'<span class="img-alt">[image: {alt.group(1)}]</span>' if alt and alt.group(1) else ""
    return _IMG_WITHOUT_SRC.sub(alt_text, cleaned)


def sanitize(raw_html: str, *, new_tab: bool = False) -> str:
    """``raw_html`` through the allow-list: what survives cannot run code. ``new_tab`` makes links
    open in a new browser tab (in the app, so a draft on the page is not lost)."""
    return _drop_sourceless_images(_clean(raw_html, new_tab))


def _clean(raw_html: str, new_tab: bool) -> str:
    return nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_keep_attribute,
        set_tag_attribute_values={"a": {"target": "_blank"}} if new_tab else None,
    )


_SIMPLE_INFO = re.compile(r"\.?[\w#.+-]*")  # the info strings python-markdown's fences accept simply

# Characters python-markdown would spend too long on are hidden as private-use characters while it
# runs, and shown again in its output (a '<' as '&lt;'); the text's own such characters become U+FFFD.
_HIDE = {"[": "\ue000", "]": "\ue001", "(": "\ue002", ")": "\ue003", "`": "\ue004", "~": "\ue005", "<": "\ue006"}
_SHOW = {ord(hidden): ("&lt;" if char == "<" else char) for char, hidden in _HIDE.items()}
_OWN = {ord(hidden): "\ufffd" for hidden in _HIDE.values()}
OPEN_TAG_REACH = 1_000  # a '<' with no '>' this close is no tag python-markdown should look for
OPEN_TAGS_MAX = 16  # how many such '<' a text may hold before they are hidden
UNMATCHED_BACKTICKS_MAX = 64  # backticks no run closes, before they are hidden


def _markdown_fences(lines: list[str]) -> tuple[list[str], list[bool]]:
    """python-markdown's fenced code blocks (a run of 3+ backticks or tildes at the start of a line,
    closed by a line of exactly that run): the lines with the fence characters of every fence line
    python-markdown would try and fail to close hidden (the line is shown as written), and which
    lines are outside the kept blocks."""
    closers: dict[str, list[int]] = {}
    for k, line in enumerate(lines):
        core = line.rstrip(" ")
        if len(core) >= 3 and core[0] in "`~" and core == core[0] * len(core):
            closers.setdefault(core, []).append(k)
    out, outside = list(lines), [True] * len(lines)
    k = 0
    while k < len(lines):
        line = lines[k]
        if line.startswith(("```", "~~~")):
            run = line[:len(line) - len(line.lstrip(line[0]))]
            same = closers.get(run, [])
            nxt = bisect_right(same, k)
            if _SIMPLE_INFO.fullmatch(line[len(run):].strip(" ")) and nxt < len(same):
                close = same[nxt]
                outside[k:close + 1] = [False] * (close + 1 - k)
                k = close + 1
                continue
            out[k] = _HIDE[line[0]] * len(run) + line[len(run):]
        k += 1
    return out, outside


def _open_tags(text: str) -> list[int]:
    """The '<' python-markdown's HTML reader would scan far from (no '>' within ``OPEN_TAG_REACH``),
    when there are more than ``OPEN_TAGS_MAX`` of them (html.parser rescans the rest per '<')."""
    closes = [m.start() for m in re.finditer(">", text)]
    far = []
    for m in re.finditer("<", text):
        k = bisect_right(closes, m.start())
        if k == len(closes) or closes[k] - m.start() > OPEN_TAG_REACH:
            far.append(m.start())
    return far if len(far) > OPEN_TAGS_MAX else []


def _defused(text: str) -> str | None:
    """``text`` as python-markdown can render it quickly, or None when it should be shown as
    plain text (longer than a section, or nested deeper than ``MAX_NESTING``)."""
    if len(text) > SECTION_MAX_BYTES:
        return None
    lines, outside = _markdown_fences(text.translate(_OWN).split("\n"))
    text = "\n".join(lines)
    if deepest_nesting(text, outside)[0] > MAX_NESTING:
        return None
    hide = set(bracket_report(text, MAX_BRACKET_DEPTH, outside)[1])
    hide.update(bracket_report(text, MAX_BRACKET_DEPTH, outside, "()")[1])
    hide.update(_open_tags(text))
    backticks = unmatched_backticks(text, outside)
    if len(backticks) > UNMATCHED_BACKTICKS_MAX:
        hide.update(backticks)
    if not hide:
        return text
    chars = list(text)
    for offset in hide:
        chars[offset] = _HIDE[chars[offset]]
    return "".join(chars)


def _as_text(text: str) -> str:
    return ('<p class="empty">Shown as written: too long or too deeply nested to format.</p>'
            f"<pre>{html.escape(text.translate(_OWN))}</pre>")


def render_html(text: str, links: Links | None = None, *, new_tab: bool = False) -> str:
    """Card Markdown as sanitized HTML, with ``#CODE`` and ``@name`` cross-links. Never raises on
    text: what cannot be formatted quickly is shown as written (see the module docstring)."""
    text = text if isinstance(text, str) else str(text or "")
    source = _defused(text)
    if source is None:
        return sanitize(_as_text(text), new_tab=new_tab)
    md = markdown.Markdown(
        extensions=["tables", "fenced_code", "sane_lists", "footnotes", _CrossLinks(links or Links())],
        output_format="html",
    )
    try:
        converted = md.convert(source)
    except RecursionError:
        return sanitize(_as_text(text), new_tab=new_tab)
    return sanitize(converted.translate(_SHOW), new_tab=new_tab)


def render_cell(text: str, links: Links | None = None) -> str:
    """A summary cell: a bare URL becomes a link, anything else renders as inline Markdown."""
    text = text.strip()
    if not text:
        return '<span class="empty">—</span>'
    if re.fullmatch(r"https?://\S+", text):
        text = f"<{text}>"
    rendered = render_html(text, links)
    if rendered.startswith("<p>") and rendered.endswith("</p>") and rendered.count("<p>") == 1:
        rendered = rendered[3:-4]
    return rendered


# --------------------------------------------------------------------------------------------
# Documents: the card as HTML (page body, printable export) and the stakeholder brief

CARD_CSS = """
.trl-card { font-family: inherit; line-height: 1.55; color: #1f2430; max-width: 960px; }
.trl-card a { color: #1d4ed8; }
.trl-card .title { font-size: 1.7rem; margin: 0 0 .8rem; padding: 0; font-weight: 700; }
.trl-card .img-alt { color: #6b7280; font-style: italic; }
.trl-card h3 { font-size: 1.2rem; border-bottom: 1px solid #e3e6ee; padding-bottom: .2rem; margin-top: 1.6rem; }
.trl-card table.summary { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
.trl-card table.summary th, .trl-card table.summary td { border: 1px solid #dfe3ea; padding: .35rem .6rem;
  text-align: left; vertical-align: top; }
.trl-card table.summary th { background: #f4f6fa; width: 30%; font-weight: 600; }
.trl-card table:not(.summary) { border-collapse: collapse; }
.trl-card table:not(.summary) td, .trl-card table:not(.summary) th { border: 1px solid #dfe3ea; padding: .2rem .5rem; }
.trl-card .tldr { background: #f4f6fa; border-left: 4px solid #4c78a8; padding: .6rem .9rem; margin: 1rem 0; }
.trl-card .question { font-weight: 600; margin: .8rem 0 .2rem; }
.trl-card .answer { margin-left: 1.4rem; }
.trl-card .empty { color: #8a90a0; font-style: italic; }
.trl-card .xref-unknown { color: #9a3412; background: #fff7ed; border-radius: 3px; padding: 0 .2rem; }
.trl-card .xref, .trl-card .person { font-weight: 600; }
.trl-card pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; }
.trl-card img { max-width: 100%; }
.trl-card .meta { color: #5b6275; font-size: .9rem; }
@media print { .trl-card { max-width: none; } .trl-card h3 { break-after: avoid; }
  .trl-card table, .trl-card pre { break-inside: avoid; } a { color: inherit; } }
"""

DIFF_CSS = """
.card-diff ins { background: #dcfce7; text-decoration: none; }
.card-diff del { background: #fee2e2; }
.card-diff .section { font-weight: 600; margin-top: .8rem; }
.card-diff .text { white-space: pre-wrap; font-family: ui-monospace, Menlo, monospace; font-size: .85rem;
  border: 1px solid #e3e6ee; border-radius: 4px; padding: .5rem; }
"""


def _register_html(register: Sequence[str]) -> str:
    if not register:
        return ""
    return ('<p class="meta">In the requirements register:</p><ul class="register">'
            + "".join(f"<li>{html.escape(line)}</li>" for line in register) + "</ul>")


def _evidence_html(lines: Sequence[str]) -> str:
    if not lines:
        return ""
    return ('<p class="meta">Evidence sent for this level (newest first):</p><ul class="register">'
            + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>")


def card_body_html(card: Card, header: CardHeader, links: Links | None = None, *, meta: str = "",
                   render: Callable[[str], str] | None = None, title_tag: str = "h1",
                   new_tab: bool = False, register: Sequence[str] = (), testing: Sequence[str] = ()) -> str:
    """The card as a document: title, summary table, TL;DR, sections, debrief (sanitized).

    ``render`` turns one Markdown text into safe HTML (default ``render_html`` with ``links``);
    the app passes a cached one so each section renders once per change. ``register`` lists the
    top-level requirements of the requirements register (one line each), shown under the card's
    own requirements text; ``testing`` the latest test evidence of the level (one line each), shown
    under its Testing status."""
    render = render or (lambda text: render_html(text, links))

    def _section_html(body: str, _links: Links | None) -> str:
        return render(body) if body else '<p class="empty">Not written yet.</p>'

    assert title_tag in ("h1", "h2")
    parts = [f'<div class="trl-card"><{title_tag} class="title">{html.escape(card.title or default_title(header))}'
             f'</{title_tag}>']
    if meta:
        parts.append(f'<p class="meta">{html.escape(meta)}</p>')
    parts.append('<table class="summary"><tbody>')
    for label, value in summary_rows(card, header):
        if label == ROW_TECH:
            cell = html.escape(f"{header.name} ({header.code})") + (
                " " + render_cell(card.id_note, links) if card.id_note else "")
        elif label == ROW_LEVEL and links is not None and links.level_card_href and header.level is not None:
            prior = [lv for lv in header.prior_levels if lv != header.level]
            cell = str(header.level)
            if prior:
                cell += " (prior level cards: " + ", ".join(
                    f'<a href="{html.escape(links.level_card_href(header.code, lv))}">{lv}</a>' for lv in prior) + ")"
        elif label in (ROW_OWNERS, ROW_REVIEWERS):
            cell = html.escape(value) if value else '<span class="empty">—</span>'
        elif label == ROW_ETHICS and card.ethics_status and card.ethics_url:
            cell = f"{html.escape(card.ethics_status)}: {render_cell(card.ethics_url, links)}"
        elif label == ROW_COUPLED and card.coupled:
            cell = ", ".join(_component_html(c, links) for c in card.coupled)
        else:
            cell = render_cell(value, links)
        parts.append(f"<tr><th>{html.escape(label)}</th><td>{cell}</td></tr>")
    parts.append("</tbody></table>")
    if card.notes:
        parts.append(render(card.notes))
    tldr = render_cell(card.tldr, links) if card.tldr else '<span class="empty">Not written yet.</span>'
    parts.append(f'<div class="tldr"><strong>TL;DR</strong> — {tldr}</div>')
    for key, section_heading, _ in SECTIONS:
        if key == "requirements" and register and not card.requirements:
            parts.append(f"<h3>{html.escape(section_heading)}</h3>{_register_html(register)}")
            continue
        if key == "testing" and testing and not card.testing:
            parts.append(f"<h3>{html.escape(section_heading)}</h3>{_evidence_html(testing)}")
            continue
        parts.append(f"<h3>{html.escape(section_heading)}</h3>{_section_html(getattr(card, key), links)}")
        if key == "requirements":
            parts.append(_register_html(register))
        if key == "testing":
            parts.append(_evidence_html(testing))
    parts.append(f"<h3>{DEBRIEF_HEADING}</h3>")
    if card.debrief_notes:
        parts.append(render(card.debrief_notes))
    for number, (key, question) in enumerate(DEBRIEF, start=1):
        parts.append(f'<p class="question">{number}. {html.escape(question)}</p>'
                     f'<div class="answer">{_section_html(getattr(card, key), links)}</div>')
    for extra_heading, body in card.extra_sections:
        parts.append(f"<h3>{html.escape(extra_heading)}</h3>{_section_html(body, links)}")
    parts.append("</div>")
    return sanitize_document("".join(parts), new_tab=new_tab)


def _component_html(component: str, links: Links | None) -> str:
    """A coupled component: a link when it is a known project code, else the text."""
    if links is not None and component in links.codes:
        if links.project_href is None:
            return f'<span class="xref">{html.escape(component)}</span>'
        return f'<a class="xref" href="{html.escape(links.project_href(component))}">{html.escape(component)}</a>'
    return html.escape(component)


def sanitize_document(fragment: str, *, new_tab: bool = False) -> str:
    """A fragment we assembled from already-sanitized pieces, through the allow-list once more
    with the card's own classes allowed."""
    classes = {**ALLOWED_CLASSES, "div": {"trl-card", "tldr", "answer", "footnote", "brief", "card-diff", "text"},
               "p": {"meta", "question", "empty", "section"},
               "span": {"xref-unknown", "xref", "person", "empty", "badge", "img-alt"},
               "table": {"summary"}, "h1": {"title"}, "h2": {"title"}}
    cleaned = nh3.clean(fragment, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, allowed_classes=classes,
                        url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow",
                        attribute_filter=_keep_attribute,
                        set_tag_attribute_values={"a": {"target": "_blank"}} if new_tab else None)
    return _drop_sourceless_images(cleaned)


def html_document(title: str, body: str, *, extra_css: str = "") -> str:
    """A self-contained, printable HTML page around sanitized ``body``."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title>"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<style>body { margin: 2rem auto; padding: 0 1.5rem; max-width: 960px;"
        " font-family: 'Source Sans 3', 'Segoe UI', Helvetica, Arial, sans-serif; }"
        f"{CARD_CSS}{extra_css}"
        "@page { margin: 18mm; }</style></head>\n"
        f"<body>{body}</body></html>\n"
    )


def to_html(card: Card, header: CardHeader, links: Links | None = None, *, meta: str = "",
            register: Sequence[str] = ()) -> str:
    """The card as one self-contained, styled, printable HTML page."""
    return html_document(card.title or default_title(header),
                         card_body_html(card, header, links, meta=meta, register=register))


def top_requirements(card: Card, limit: int = 5) -> list[str]:
    """The top-level requirements the card lists (its numbered items), first ``limit`` of them."""
    items = []
    for line in card.requirements.split("\n"):
        found = numbered(line)
        if found:
            items.append(found[1])
    return items[:limit]


# --------------------------------------------------------------------------------------------
# The stakeholder brief


@dataclass(frozen=True)
class BriefFacts:
    """What the one-page brief says besides the card: where the technology stands."""

    level_label: str  # "Level 4 · Proof of concept development" or "no level yet"
    phase: str
    status: str
    card_state: Staleness
    revision: str  # "revision 7, saved by ada on 2026-11-20"
    top_risks: tuple[str, ...] = ()
    next_review: str = ""
    register_requirements: tuple[str, ...] = ()  # the register's top-level requirements, one line each


def brief_html(card: Card, header: CardHeader, facts: BriefFacts, links: Links | None = None) -> str:
    """One printable page for stakeholders: level, phase, TL;DR, top requirements, top risks,
    next review, and how current the card is (sanitized HTML)."""
    esc = html.escape
    rows = [
        ("Level", facts.level_label), ("Phase", facts.phase), ("Status", facts.status),
        (ROW_OWNERS, ", ".join(card.owners) or "—"), (ROW_REVIEWERS, ", ".join(card.reviewers) or "—"),
        ("Card", f"{facts.revision} ({facts.card_state.reason})"),
        ("Next review", facts.next_review or "none scheduled"),
    ]
    parts = [f'<div class="trl-card brief"><h1>{esc(header.name)} ({esc(header.code)})</h1>',
             '<table class="summary"><tbody>']
    parts += [f"<tr><th>{esc(a)}</th><td>{esc(b)}</td></tr>" for a, b in rows]
    parts.append("</tbody></table>")
    tldr = render_cell(card.tldr, links) if card.tldr else '<span class="empty">No TL;DR written yet.</span>'
    parts.append(f'<div class="tldr"><strong>TL;DR</strong> — {tldr}</div>')
    reqs = top_requirements(card)
    parts.append("<h3>Top-level requirements</h3>")
    if facts.register_requirements:
        parts.append("<ul>" + "".join(f"<li>{esc(r)}</li>" for r in facts.register_requirements) + "</ul>")
    elif reqs:
        parts.append("<ol>" + "".join(f"<li>{render_cell(r, links)}</li>" for r in reqs) + "</ol>")
    else:
        parts.append('<p class="empty">None listed on the card yet.</p>')
    if facts.top_risks:
        parts.append("<h3>Top risks</h3><ol>" + "".join(f"<li>{esc(r)}</li>" for r in facts.top_risks) + "</ol>")
    parts.append("</div>")
    return sanitize_document("".join(parts))
