"""Reading card Markdown line by line: headings, code fences, TL;DR and question lines, table
separators, labels, and the two measures of structure the card's limits bound (how deep lists and
quotes nest, how deep link brackets nest). Pure.

Everything here is plain string code, or a pattern with one way to match each character, so each
function runs in time linear in its input: a hostile line of 100 KB (spaces, ``#``, ``|``, ``-``,
``[``...) costs milliseconds, never the cubic or quadratic backtracking the earlier regular
expressions had. ``tests/unit/test_card_hostile.py`` holds them to that.
"""

from __future__ import annotations

import re
from bisect import bisect_right

# --------------------------------------------------------------------------------------------
# Headings and fences

_WS = " \t"


def heading(line: str) -> tuple[int, str] | None:
    """(depth, text) of an ATX heading line (``### Text``), or None.

    As in CommonMark: 1-6 hashes at the start of the line, then white space; a closing run of
    hashes counts only after white space (``Bindings for C#`` keeps its ``#``)."""
    if not line.startswith("#"):
        return None
    rest = line.lstrip("#")
    depth = len(line) - len(rest)
    if depth > 6 or not rest or not rest[0].isspace():
        return None
    text = rest.strip()
    body = text.rstrip("#")
    if body != text and (not body or body[-1].isspace()):
        text = body.rstrip()
    return depth, text


def heading_line(depth: int, text: str) -> str:
    """A heading line that ``heading`` reads back as ``text`` (a text ending in ``#`` gets a
    closing sequence, so its own hashes are not taken for one)."""
    line = "#" * depth + " " + text
    return line + " " + "#" * depth if text.endswith("#") else line


def fence_marker(line: str) -> str | None:
    """The fence a line opens or closes (```` ``` ```` or ``~~~``, indented at most 3 spaces)."""
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3:
        return None
    for marker in ("```", "~~~"):
        if stripped.startswith(marker):
            return marker
    return None


def fence_run(line: str) -> str:
    """The whole run of fence characters a fence line starts with (```` ```` ```` for four)."""
    stripped = line.strip()
    return stripped[: len(stripped) - len(stripped.lstrip(stripped[0]))] if stripped else ""


def outside_fences(lines: list[str]) -> list[bool]:
    """For each line, whether it is outside a fenced code block (fence lines count as inside)."""
    out = []
    fence: str | None = None
    for line in lines:
        marker = fence_marker(line)
        if fence is None and marker:
            fence = marker
            out.append(False)
        elif fence is not None:
            if marker and line.strip().startswith(fence):
                fence = None
            out.append(False)
        else:
            out.append(True)
    return out


# --------------------------------------------------------------------------------------------
# Lines of the layout


def strip_html_comments(text: str) -> str:
    """``text`` without ``<!-- ... -->`` comments (an unclosed one stays as written)."""
    out = []
    i = 0
    while True:
        start = text.find("<!--", i)
        if start < 0:
            break
        end = text.find("-->", start + 4)
        if end < 0:
            break
        out.append(text[i:start])
        i = end + 3
    out.append(text[i:])
    return "".join(out)


def _skip_ws(line: str, i: int) -> int:
    n = len(line)
    while i < n and line[i].isspace():
        i += 1
    return i


def _skip_bold(line: str, i: int) -> int:
    return i + 2 if line.startswith(("**", "__"), i) else i


def tldr_prefix(line: str) -> int | None:
    """Where the text of a ``**TL;DR:** —`` line starts, or None when the line is no TL;DR.

    The prefix: white space, optional ``**``/``__``, ``TL``, optional ``;``, ``DR`` (any case),
    optional ``:``, optional closing ``**``/``__``, dashes or colons, white space."""
    i = _skip_bold(line, _skip_ws(line, 0))
    i = _skip_ws(line, i)
    if line[i:i + 2].lower() != "tl":
        return None
    i += 2
    if line[i:i + 1] == ";":
        i += 1
    i = _skip_ws(line, i)
    if line[i:i + 2].lower() != "dr":
        return None
    i = _skip_ws(line, i + 2)
    if line[i:i + 1] == ":":
        i = _skip_ws(line, i + 1)
    i = _skip_ws(line, _skip_bold(line, i))
    while i < len(line) and line[i] in ":—–-":
        i += 1
    return _skip_ws(line, i)


def numbered(line: str) -> tuple[str, str] | None:
    """(number, text) of a numbered line (``2. What was punted?``), text without its ends' white
    space; None when the line is not one or its text is empty."""
    j = 0
    while j < len(line) and line[j].isdecimal():
        j += 1
    if j == 0 or j >= len(line) or line[j] not in ".)" or j + 1 >= len(line) or not line[j + 1].isspace():
        return None
    text = line[j + 1:].strip()
    return (line[:j], text) if text else None


def is_table_separator(line: str) -> bool:
    """A pipe table's separator row: cells of ``---`` (at least two dashes, optional colons)."""
    core = line.strip()
    core = core.removeprefix("|")
    if core.endswith("|"):
        core = core[:-1]
    for cell in core.split("|"):
        cell = cell.strip()
        cell = cell.removeprefix(":").removesuffix(":")
        if len(cell) < 2 or cell.strip("-"):
            return False
    return True


# --------------------------------------------------------------------------------------------
# Labels: which summary row, section or debrief question a person's words name

_EMPHASIS = str.maketrans("", "", "*_`")
_LABEL_CHARS = re.compile(r"[^a-z0-9&;]+")


def norm(label: str) -> str:
    return _LABEL_CHARS.sub(" ", label.translate(_EMPHASIS).lower()).strip()


def summary_key(label: str) -> str | None:
    n = norm(label)
    if not n:
        return None
    if "tech name" in n or n in ("project id", "project", "name", "technology", "project name"):
        return "tech"
    if "level" in n and ("current" in n or n in ("level", "trl", "mltrl level")):
        return "level"
    if n.startswith("owner"):
        return "owners"
    if n.startswith("reviewer"):
        return "reviewers"
    if "ethic" in n:
        return "ethics"
    if "coupled" in n:
        return "coupled"
    if "main project" in n or n in ("project page", "wiki", "project wiki"):
        return "project_url"
    if n.startswith(("req s", "reqs ")) or n in ("reqs", "req s") or "requirement" in n or "v&v" in n or " v v " in f" {n} ":
        return "requirements_url"
    if n.startswith("code"):
        return "code_url"
    return None


_MODEL_HEADINGS = ("model", "algorithm", "model info", "algorithm info", "model details", "method", "model card")


def section_key(heading_text: str) -> str | None:
    n = norm(heading_text)
    if n.startswith(("tl;dr", "tl dr", "tldr")):
        return "tldr"
    if "requirement" in n:
        return "requirements"
    if ("model" in n and "algorithm" in n) or n in _MODEL_HEADINGS:
        return "model"
    if "intended use" in n:
        return "intended_use"
    if n.startswith("testing status") or n in ("testing", "tests", "test status", "testing and validation"):
        return "testing"
    if n.startswith("data consideration") or n in ("data", "datasets", "data notes"):
        return "data"
    if n.startswith("caveat"):
        return "caveats"
    if "debrief" in n:
        return "debrief"
    return None


def question_key(question: str) -> str | None:
    n = norm(question)
    if "accomplish" in n or "achieved" in n:
        return "accomplished"
    if "punt" in n or "scope" in n:
        return "punted"
    if "learn" in n:
        return "learned"
    if "debt" in n:
        return "tech_debt"
    return None


# --------------------------------------------------------------------------------------------
# Structure: how deep lists and quotes nest, how deep link brackets nest


def line_nesting(line: str) -> int:
    """How deep a line sits in lists and quotes: its list markers (``-``, ``*``, ``+``, ``1.``)
    and quote markers (``>``) at the start, plus one per four columns of indentation among them
    (the space after a list marker is part of the marker); a line with no marker, such as an
    indented code block, is at depth 0."""
    depth = columns = 0
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c == " ":
            columns += 1
        elif c == "\t":
            columns += 4
        elif c == ">":
            depth += 1
        elif c in "-*+" and i + 1 < n and line[i + 1] in _WS:
            depth += 1
            i += 1  # the marker's own space is no indentation
        elif c.isdigit():
            j = i
            while j < n and j - i < 9 and line[j].isdigit():
                j += 1
            if j < n and line[j] in ".)" and (j + 1 == n or line[j + 1] in _WS):
                depth += 1
                i = j + 1
            else:
                break
        else:
            break
        i += 1
    return depth + columns // 4 if depth else 0


def deepest_nesting(text: str, outside: list[bool] | None = None) -> tuple[int, int]:
    """(depth, line number from 1) of the most deeply nested line outside code fences (``outside``:
    which lines are, by default ``outside_fences``)."""
    lines = text.split("\n")
    outside = outside_fences(lines) if outside is None else outside
    best = (0, 0)
    for number, (line, out) in enumerate(zip(lines, outside, strict=True), start=1):
        if out:
            depth = line_nesting(line)
            if depth > best[0]:
                best = (depth, number)
    return best


_BACKTICKS = re.compile(r"\\.|`+", re.S)  # an escape (skipped) or a run of backticks
_BRACKETS = {"[]": re.compile(r"\\.|[\[\]]", re.S), "()": re.compile(r"\\.|[()]", re.S)}


def _backtick_runs(paragraph: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(code spans, unmatched backtick runs) of a paragraph: a run of N backticks opens a span
    that the next run of exactly N closes; found in one pass plus a binary search per run."""
    runs = [(m.start(), len(m.group())) for m in _BACKTICKS.finditer(paragraph) if m.group()[0] == "`"]
    by_length: dict[int, list[int]] = {}
    for k, (_, length) in enumerate(runs):
        by_length.setdefault(length, []).append(k)
    spans, unmatched = [], []
    k = 0
    while k < len(runs):
        start, length = runs[k]
        same = by_length[length]
        nxt = bisect_right(same, k)
        if nxt < len(same):
            close = same[nxt]
            spans.append((start, runs[close][0] + length))
            k = close + 1
        else:
            unmatched.append(runs[k])
            k += 1
    return spans, unmatched


def unmatched_backticks(text: str, outside: list[bool] | None = None) -> list[int]:
    """The offsets of every backtick in runs no later run of the same length closes, paragraph by
    paragraph outside code (python-markdown scans the rest of the paragraph for each)."""
    out = []
    for start, end in _paragraphs(text, outside):
        paragraph = text[start:end]
        if "`" in paragraph:
            for run_start, length in _backtick_runs(paragraph)[1]:
                out.extend(range(start + run_start, start + run_start + length))
    return out


def _paragraphs(text: str, outside: list[bool] | None) -> list[tuple[int, int]]:
    """(start, end) offsets of the runs of non-blank lines outside code fences."""
    out = []
    offset = 0
    start: int | None = None
    lines = text.split("\n")
    outside = outside_fences(lines) if outside is None else outside
    for line, out_of_code in zip(lines, outside, strict=True):
        if out_of_code and line.strip():
            if start is None:
                start = offset
        elif start is not None:
            out.append((start, offset - 1))
            start = None
        offset += len(line) + 1
    if start is not None:
        out.append((start, len(text)))
    return out


def bracket_report(text: str, max_depth: int, outside: list[bool] | None = None,
                   pair: str = "[]") -> tuple[int, list[int]]:
    """(deepest nesting of closed ``[...]`` pairs, offsets of the brackets to neutralise) over
    ``text``'s paragraphs outside code. To neutralise: the brackets more than ``max_depth`` deep
    (counting those still open; each with its ``]``), and every ``[`` left open at its paragraph's
    end once more than ``max_depth`` of them are. ``outside`` says which lines are outside code (by
    default ``outside_fences``); ``pair`` is the opening and closing character (``"()"`` for
    parentheses)."""
    opening, closing = pair
    deepest = 0
    escape: list[int] = []
    events: list[tuple[int, int]] = []  # (offset, +1 or -1) of every closed pair's ends
    for start, end in _paragraphs(text, outside):
        paragraph = text[start:end]
        if opening not in paragraph:
            continue
        spans = _backtick_runs(paragraph)[0] if "`" in paragraph else []
        s = 0
        stack: list[int] = []
        for m in _BRACKETS[pair].finditer(paragraph):
            i = m.start()
            while s < len(spans) and spans[s][1] <= i:
                s += 1
            if (s < len(spans) and spans[s][0] <= i) or len(m.group()) == 2:
                continue  # in a code span, or escaped
            if m.group() == opening:
                stack.append(i)
                if len(stack) > max_depth:
                    escape.append(start + i)
            elif stack:
                events += [(start + stack.pop(), 1), (start + i, -1)]
                if len(stack) >= max_depth:
                    escape.append(start + i)
        if len(stack) > max_depth:
            escape.extend(start + k for k in stack[:max_depth])
    depth = 0
    for _, step in sorted(events):
        depth += step
        deepest = max(deepest, depth)
    return deepest, sorted(set(escape))
