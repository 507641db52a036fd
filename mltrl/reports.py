"""The quarterly readiness review as a document: Markdown for stakeholders, a self-contained HTML
page (styles and the charts' script inline: it opens offline, attached to an e-mail), and the
JSON the CLI prints. Pure: it renders a ``QuarterReport`` and imports neither streamlit nor the
database. User text (titles, notes, comments) is escaped for HTML and for Markdown tables.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from mltrl import charts
from mltrl.domain import days
from mltrl.domain.analytics import KeyResultStatus

if TYPE_CHECKING:
    from mltrl.services.okr_report import KeyResultLine, QuarterReport

STATUS_ORDER = [s.value for s in KeyResultStatus]


def _md(text: object) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def probability_text(line: KeyResultLine) -> str:
    """The forecast's probability of making the date, or why there is none."""
    f = line.forecast
    if f is None:
        return "—"
    if f.reason:
        return f"— ({f.reason})"
    return "—" if f.probability is None else f"{f.probability:.0%}"


def expected_text(line: KeyResultLine) -> str:
    """The forecast's expected date, "reached", or a dash."""
    if line.state.status in (KeyResultStatus.ACHIEVED, KeyResultStatus.LOST):
        return "reached"
    if line.state.status == KeyResultStatus.MISSED:
        return "—"
    if line.forecast is None:
        return "not started"
    if line.forecast.reason:
        return "—"
    return "reached" if line.forecast.reached else f"{line.expected_date:%Y-%m-%d}"


def summary(report: QuarterReport) -> dict[str, int]:
    return {s: report.count(KeyResultStatus(s)) for s in STATUS_ORDER}


def as_json(report: QuarterReport) -> dict[str, Any]:
    """What ``mltrl okr report --format json`` prints: the quarter, the as-of date, the counts per
    status and, per key result, its technology code, target level, date and status (with the
    level, the forecast and the latest confidence)."""
    return {
        "quarter": report.quarter, "as_of": report.as_of.isoformat(), "samples": report.samples, "seed": report.seed,
        "summary": summary(report),
        "key_results": [{
            "id": line.id, "objective_id": line.objective_id, "objective": line.objective, "code": line.code,
            "target_level": line.target, "date": line.due.isoformat(), "status": line.state.status.value,
            "level": line.state.level,
            "reached_at": line.state.reached_at.isoformat() if line.state.reached_at is not None else None,
            "expected_date": line.expected_date.isoformat() if line.expected_date else None,
            "probability": None if line.forecast is None else line.forecast.probability,
            "confidence": line.confidence, "owner": line.owner,
        } for line in report.lines],
    }


def _card_lines(report: QuarterReport) -> list[str]:
    card = report.card
    kinds = ", ".join(f"{n} {k}" for k, n in card.switchbacks.items() if n) or "none"
    out = [f"- Levels gained (graduations): **{card.levels_gained}**; levels given back by switchbacks: "
           f"**{card.levels_lost}** (switchbacks: {kinds})."]
    if len(card.improved):
        out.append("- Most improved: " + ", ".join(f"{r.code} ({r.level_before} → {r.level_after})"
                                                   for r in card.improved.itertuples()) + ".")
    if len(card.dropped):
        out.append("- Biggest drops: " + ", ".join(f"{r.code} ({r.level_before} → {r.level_after})"
                                                  for r in card.dropped.itertuples()) + ".")
    if len(card.held):
        held = list(card.held.itertuples())
        names = ", ".join(f"{r.code} (level {r.level})" for r in held[:12])
        more = f" and {len(held) - 12} more" if len(held) > 12 else ""
        when = "all quarter" if report.as_of >= days.day_end(report.end) else "so far this quarter"
        out.append(f"- Held at one level {when}: {len(held)} technologies: {names}{more}.")
    return out


def markdown(report: QuarterReport) -> str:
    """The review as Markdown."""
    counts = summary(report)
    lines = [f"# Quarterly readiness review {report.quarter}", "",
             f"As of {report.as_of:%Y-%m-%d %H:%M} UTC · quarter {report.start:%Y-%m-%d} to {report.end:%Y-%m-%d} · "
             f"forecasts from {report.samples:,} resampled paths (seed {report.seed}).", "",
             "## Roll-up", "", "| " + " | ".join(STATUS_ORDER) + " | total |",
             "|" + "---:|" * (len(STATUS_ORDER) + 1),
             "| " + " | ".join(str(counts[s]) for s in STATUS_ORDER) + f" | {len(report.lines)} |", "",
             "## The quarter", "", *_card_lines(report), ""]
    for view in report.objectives:
        o = view.objective
        lines += [f"## {_md(o.title)}", ""]
        if o.owner:
            lines += [f"Owner: {_md(o.owner)}", ""]
        mine = [line for line in report.lines if line.objective_id == o.id]
        if not mine:
            lines += ["_No key results._", ""]
            continue
        lines += ["| Key result | Status | Level | Expected | P(by date) | Confidence | Owner |",
                  "|---|---|---:|---|---:|---:|---|"]
        for line in mine:
            lines.append(f"| {_md(line.label)} | {line.state.status.value} | "
                         f"{'—' if line.state.level is None else line.state.level} | {expected_text(line)} | "
                         f"{probability_text(line)} | {'—' if line.confidence is None else f'{line.confidence}/10'} | "
                         f"{_md(line.owner) or '—'} |")
        lines.append("")
        for line in mine:
            notes = [f"  - Note: {_md(line.note)}"] if line.note else []
            notes += [f"  - {c.at:%Y-%m-%d} {_md(c.author)} ({c.confidence}/10): {_md(c.comment)}"
                      for c in line.check_ins[:3]]
            if notes:
                lines += [f"- **{_md(line.label)}**", *notes]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; color: #1f2430; max-width: 1100px;
       margin: 2rem auto; padding: 0 1.5rem; line-height: 1.45; }
h1 { margin-bottom: .2rem; } .meta { color: #5f6368; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0 1.2rem; font-size: .92rem; }
th, td { border-bottom: 1px solid #e6e6e6; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f6f4; } td.num, th.num { text-align: right; }
.status { display: inline-block; padding: .05rem .45rem; border-radius: .6rem; color: white; font-size: .82rem; }
.tiles { display: flex; gap: .8rem; flex-wrap: wrap; margin: .8rem 0; }
.tile { border: 1px solid #e6e6e6; border-radius: .5rem; padding: .5rem .9rem; min-width: 7rem; }
.tile b { font-size: 1.5rem; display: block; }
.kr { border: 1px solid #e6e6e6; border-radius: .5rem; padding: .4rem .8rem; margin: .6rem 0; }
.checkin { color: #3c4043; font-size: .9rem; margin: .1rem 0; }
"""


def _badge(status: str) -> str:
    return f'<span class="status" style="background:{charts.STATUS_COLOURS.get(status, "#5f6368")}">{status}</span>'


def html_document(report: QuarterReport) -> str:
    """The review as one HTML page with everything inline (the charts' script once, at the top)."""
    e = html.escape
    counts = summary(report)
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>Quarterly readiness review {e(report.quarter)}</title><style>{STYLE}</style></head><body>",
             f"<h1>Quarterly readiness review {e(report.quarter)}</h1>",
             f"<p class='meta'>As of {report.as_of:%Y-%m-%d %H:%M} UTC · quarter {report.start:%Y-%m-%d} to "
             f"{report.end:%Y-%m-%d} · forecasts from {report.samples:,} resampled paths (seed {report.seed}).</p>",
             "<h2>Roll-up</h2><div class='tiles'>"]
    parts += [f"<div class='tile'><b>{counts[s]}</b>{_badge(s)}</div>" for s in STATUS_ORDER]
    parts.append(f"<div class='tile'><b>{len(report.lines)}</b>key results</div></div>")
    for by in ("owner", "phase"):
        table = report.rollup(by)
        if len(table):
            parts.append(f"<h3>By {by}</h3><table><tr>" + "".join(
                f"<th{' class=num' if c != by else ''}>{e(str(c))}</th>" for c in table.columns) + "</tr>")
            for row in table.itertuples(index=False):
                parts.append("<tr>" + "".join(f"<td{' class=num' if k else ''}>{e(str(v))}</td>"
                                              for k, v in enumerate(row)) + "</tr>")
            parts.append("</table>")
    burnup = charts.burnup_chart(report.burnup)  # the one interactive chart: plotly's script goes in once
    parts.append("<h2>Key results achieved over the quarter</h2>"
                 + burnup.to_html(full_html=False, include_plotlyjs=True, config={"displaylogo": False}))
    parts.append("<h2>The quarter</h2><ul>" + "".join(
        f"<li>{e(line[2:]).replace('**', '')}</li>" for line in _card_lines(report)) + "</ul>")
    for view in report.objectives:
        o = view.objective
        parts.append(f"<h2>{e(o.title)}</h2>" + (f"<p class='meta'>Owner: {e(o.owner)}</p>" if o.owner else ""))
        mine = [line for line in report.lines if line.objective_id == o.id]
        if not mine:
            parts.append("<p><em>No key results.</em></p>")
        for line in mine:
            parts.append(f"<div class='kr'><p><b>{e(line.label)}</b> {_badge(line.state.status.value)}<br>"
                         f"Level: {'—' if line.state.level is None else line.state.level} · expected: "
                         f"{e(expected_text(line))} · P(by date): {e(probability_text(line))} · confidence: "
                         f"{'—' if line.confidence is None else f'{line.confidence}/10'} · owner: "
                         f"{e(line.owner) or '—'}</p>")
            if line.note:
                parts.append(f"<p class='checkin'>Note: {e(line.note)}</p>")
            parts += [f"<p class='checkin'>{c.at:%Y-%m-%d} {e(c.author)} ({c.confidence}/10): {e(c.comment)}</p>"
                      for c in line.check_ins[:5]]
            parts.append(path_svg(report, line) + "</div>")
    parts.append("</body></html>")
    return "\n".join(parts)


def path_svg(report: QuarterReport, line: KeyResultLine, *, width: int = 640, height: int = 150) -> str:
    """A key result's technology path as a small inline SVG: its level as steps over the quarter
    (and the two months before it), the target as a dotted line, the due date as a dashed one.
    Drawn by hand, not with plotly: a quarter can have hundreds of key results, and the page must
    stay small and quick to write."""
    import pandas as pd

    left, right, top, bottom = 34, 8, 8, 22
    since = pd.Timestamp(report.start, tz="UTC") - pd.Timedelta(days=60)
    until = max(pd.Timestamp(report.end, tz="UTC"), pd.Timestamp(line.due, tz="UTC")) + pd.Timedelta(days=1)
    now = max(min(pd.Timestamp(report.as_of), until), since)  # an as-of before the chart draws nothing
    span = (until - since).total_seconds()

    def x(t: pd.Timestamp) -> float:
        return left + (width - left - right) * max(0.0, min(1.0, (t - since).total_seconds() / span))

    def y(level: float) -> float:
        return top + (height - top - bottom) * (9 - level) / 9

    path = report.paths[line.id]
    at = pd.to_datetime(path["at"], utc=True)
    before = path.loc[at < since]
    points: list[tuple[float, float]] = []
    level = int(before["to_level"].iloc[-1]) if len(before) else None
    if level is not None:
        points.append((x(since), y(level)))
    for t, lv in zip(at[at >= since], path.loc[at >= since, "to_level"]):
        if t > now:
            break
        if level is not None:
            points.append((x(t), y(level)))
        level = int(lv)
        points.append((x(t), y(level)))
    if level is not None:
        points.append((x(now), y(level)))
    colour = charts.STATUS_COLOURS.get(line.state.status.value, "#2F80ED")
    grid = "".join(f"<line x1='{left}' x2='{width - right}' y1='{y(lv):.1f}' y2='{y(lv):.1f}' stroke='#eee'/>"
                   f"<text x='{left - 6}' y='{y(lv) + 4:.1f}' font-size='10' text-anchor='end' fill='#5f6368'>{lv}</text>"
                   for lv in range(0, 10, 3))
    quarter = (f"<rect x='{x(pd.Timestamp(report.start, tz='UTC')):.1f}' y='{top}' "
               f"width='{x(pd.Timestamp(report.end, tz='UTC') + pd.Timedelta(days=1)) - x(pd.Timestamp(report.start, tz='UTC')):.1f}' "
               f"height='{height - top - bottom}' fill='rgba(47,128,237,0.06)'/>")
    due_x = x(pd.Timestamp(line.due, tz="UTC") + pd.Timedelta(days=1))
    marks = (f"<line x1='{left}' x2='{width - right}' y1='{y(line.target):.1f}' y2='{y(line.target):.1f}' "
             f"stroke='#3c4043' stroke-dasharray='2 3'/>"
             f"<text x='{left + 4}' y='{y(line.target) + (12 if line.target >= 8 else -4):.1f}' font-size='10' "
             f"fill='#3c4043'>target {line.target}</text>"
             f"<line x1='{due_x:.1f}' x2='{due_x:.1f}' y1='{top}' y2='{height - bottom}' stroke='#EB5757' "
             f"stroke-dasharray='5 3'/>"
             f"<text x='{due_x - 4:.1f}' y='{height - 8}' font-size='10' text-anchor='end' fill='#EB5757'>"
             f"due {line.due:%Y-%m-%d}</text>"
             f"<text x='{left}' y='{height - 8}' font-size='10' fill='#5f6368'>{since:%Y-%m-%d}</text>")
    steps = ("<polyline fill='none' stroke-width='3' stroke='" + colour + "' points='"
             + " ".join(f"{px:.1f},{py:.1f}" for px, py in points) + "'/>") if points else (
        f"<text x='{width / 2:.0f}' y='{height / 2:.0f}' font-size='12' text-anchor='middle' fill='#5f6368'>"
        "no level yet</text>")
    label = html.escape(f"{line.label}: level over time")
    return (f"<svg role='img' aria-label='{label}' width='{width}' height='{height}' viewBox='0 0 {width} {height}' "
            f"xmlns='http://www.w3.org/2000/svg'>{quarter}{grid}{marks}{steps}</svg>")
