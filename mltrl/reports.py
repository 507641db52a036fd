"""The quarterly readiness review as a document: Markdown for stakeholders, a self-contained HTML
page (styles and the charts' script inline: it opens offline, attached to an e-mail), and the
JSON the CLI prints. Pure: it renders a ``QuarterReport`` and imports neither streamlit nor the
database. User text (titles, notes, comments) is escaped for Markdown tables, and for HTML by the
autoescaping Jinja2 templates in ``mltrl/templates/``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

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


_TEMPLATES = Environment(loader=PackageLoader("mltrl", "templates"), autoescape=True,
                         undefined=StrictUndefined, trim_blocks=False, lstrip_blocks=False)


def _badge(status: str) -> Markup:
    colour = charts.STATUS_COLOURS.get(status, "#5f6368")
    return Markup('<span class="status" style="background:{}">{}</span>').format(colour, status)


def _dash(value: object, suffix: str = "") -> str:
    return "—" if value is None or value == "" else f"{value}{suffix}"


def html_document(report: QuarterReport) -> str:
    """The review as one HTML page with everything inline (the charts' script once, at the top),
    from the autoescaping template ``templates/quarterly_report.html``: user text is escaped by
    construction; only our own markup (the plotly burn-up, the inline SVGs, badges) is marked safe."""
    rollups = []
    for by in ("owner", "phase"):
        table = report.rollup(by)
        if len(table):
            rollups.append((by, {"columns": [str(c) for c in table.columns],
                                 "rows": [[str(v) for v in row] for row in table.itertuples(index=False)]}))
    burnup = charts.burnup_chart(report.burnup)  # the one interactive chart: plotly's script goes in once
    objectives = []
    for view in report.objectives:
        o = view.objective
        objectives.append({"title": o.title, "owner": o.owner, "key_results": [{
            "label": line.label, "status": line.state.status.value, "level": _dash(line.state.level),
            "expected": expected_text(line), "probability": probability_text(line),
            "confidence": _dash(line.confidence, "/10"), "owner": _dash(line.owner), "note": line.note,
            "check_ins": line.check_ins[:5], "path": Markup(path_svg(report, line)),
        } for line in report.lines if line.objective_id == o.id]})
    return _TEMPLATES.get_template("quarterly_report.html").render(
        report=report, style=Markup(STYLE), badge=_badge, counts=list(summary(report).items()), rollups=rollups,
        burnup=Markup(burnup.to_html(full_html=False, include_plotlyjs=True, config={"displaylogo": False})),
        quarter_lines=[line[2:].replace("**", "") for line in _card_lines(report)], objectives=objectives)


def path_svg(report: QuarterReport, line: KeyResultLine, *, width: int = 640, height: int = 150) -> str:
    """A key result's technology path as a small inline SVG (``templates/key_result_path.svg``): its
    level as steps over the quarter (and the two months before it), the target as a dotted line,
    the due date as a dashed one. Drawn by hand, not with plotly: a quarter can have hundreds of key
    results, and the page must stay small and quick to write."""
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
    start, end = pd.Timestamp(report.start, tz="UTC"), pd.Timestamp(report.end, tz="UTC") + pd.Timedelta(days=1)
    return _TEMPLATES.get_template("key_result_path.svg").render(
        label=line.label, width=width, height=height, left=left, top=top, bottom=bottom,
        right_edge=width - right, plot_height=height - top - bottom,
        quarter={"x": x(start), "width": x(end) - x(start)},
        grid=[{"y": y(lv), "level": lv} for lv in range(0, 10, 3)],
        target={"level": line.target, "y": y(line.target), "label_y": y(line.target) + (12 if line.target >= 8 else -4)},
        due={"x": x(pd.Timestamp(line.due, tz="UTC") + pd.Timedelta(days=1)), "day": f"{line.due:%Y-%m-%d}"},
        since=f"{since:%Y-%m-%d}", points=points,
        colour=charts.STATUS_COLOURS.get(line.state.status.value, "#2F80ED"))
