"""The quarterly readiness review as a document: Markdown for stakeholders, a self-contained HTML
page (styles and static SVG charts inline: it opens offline, attached to an e-mail, and weighs
kilobytes, not megabytes), and the JSON the CLI prints. Pure: it renders a ``QuarterReport`` and
imports neither streamlit nor the database. User text (titles, notes, comments) is escaped for Markdown tables, and for HTML by the
autoescaping Jinja2 templates in ``mltrl/templates/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
svg.chart { display: block; max-width: 100%; height: auto; margin: .5rem 0; }
"""


_TEMPLATES = Environment(loader=PackageLoader("mltrl", "templates"), autoescape=True,
                         undefined=StrictUndefined, trim_blocks=False, lstrip_blocks=False)


def _badge(status: str) -> Markup:
    colour = charts.STATUS_COLOURS.get(status, "#5f6368")
    return Markup('<span class="status" style="background:{}">{}</span>').format(colour, status)


def _dash(value: object, suffix: str = "") -> str:
    return "—" if value is None or value == "" else f"{value}{suffix}"


def html_document(report: QuarterReport) -> str:
    """The review as one HTML page with everything inline, from the autoescaping template
    ``templates/quarterly_report.html``: user text is escaped by construction; only our own markup
    (the inline SVG charts, badges) is marked safe.

    The charts are static SVG drawn here (``burnup_svg``, ``path_svg``), not plotly: plotly's
    script alone weighs 4.6 MB, while an SVG chart is a few kilobytes of text that opens offline,
    prints sharp at any size, and is written in well under a millisecond, so a quarter with
    hundreds of key results still makes a small page quickly."""
    rollups = []
    for by in ("owner", "phase"):
        table = report.rollup(by)
        if len(table):
            rollups.append((by, {"columns": [str(c)[:1].upper() + str(c)[1:] for c in table.columns],
                                 "rows": [[str(v) for v in row] for row in table.itertuples(index=False)]}))
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
        burnup=Markup(burnup_svg(report)),
        quarter_lines=[line[2:].replace("**", "") for line in _card_lines(report)], objectives=objectives)


# --- static SVG charts: one frame (axes, ticks, titles) for both --------------------------------------

CHART_WIDTH = 880  # the report's text column; the SVG shrinks with a narrower window (max-width: 100%)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class _Frame:
    """Where a chart's plot area sits in its SVG, and the scales from data to pixels: x from a
    time span [since, until), y from [low, high]."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    since: datetime
    until: datetime
    low: float
    high: float

    @property
    def right_edge(self) -> int:
        return self.width - self.right

    @property
    def base(self) -> int:
        return self.height - self.bottom

    def x(self, t: datetime) -> float:
        fraction = (t - self.since).total_seconds() / max((self.until - self.since).total_seconds(), 1.0)
        return self.left + (self.right_edge - self.left) * max(0.0, min(1.0, fraction))

    def y(self, value: float) -> float:
        fraction = (value - self.low) / ((self.high - self.low) or 1.0)
        return self.base - (self.base - self.top) * max(0.0, min(1.0, fraction))

    def axes(self, *, y_ticks: list[tuple[float, str]], x_title: str, y_title: str) -> dict[str, Any]:
        """What ``templates/svg_axes.svg`` draws: grid lines and labels of ``y_ticks`` (value,
        label), a tick per month (every few months over a long span) and both axis titles."""
        months = []
        year, month = self.since.year, self.since.month
        while True:
            t = datetime(year, month, 1, tzinfo=UTC)
            if t > self.until:
                break
            if t >= self.since:
                months.append(t)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        step = max(1, -(-len(months) // 8))
        x_ticks = []
        for k, t in enumerate(months[::step]):
            label = _MONTHS[t.month - 1] + (f" {t.year}" if k == 0 or t.month <= step else "")
            x_ticks.append({"x": self.x(t), "label": label})
        return {"left": self.left, "right_edge": self.right_edge, "top": self.top, "base": self.base,
                "width": self.width, "height": self.height,
                "y_ticks": [{"y": self.y(v), "label": label} for v, label in y_ticks],
                "x_ticks": x_ticks, "x_title": x_title, "y_title": y_title,
                "middle_x": (self.left + self.right_edge) / 2, "middle_y": (self.top + self.base) / 2}


def _points(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def path_svg(report: QuarterReport, line: KeyResultLine, *, width: int = CHART_WIDTH, height: int = 280) -> str:
    """A key result's technology path as an inline SVG (``templates/key_result_path.svg``): its
    level (0-9, every level marked) as steps over the quarter (shaded) and the two months before
    it, up to the as-of moment; the target level as a dotted line and the due date as a dashed
    one, each labelled; axis titles "Date" and "Level". Plain Python over the path's rows: a
    quarter can hold hundreds of key results."""
    import pandas as pd

    since = _day(report.start) - timedelta(days=60)
    until = max(_day(report.end), _day(line.due)) + timedelta(days=1)
    frame = _Frame(width, height, left=64, right=44, top=28, bottom=52, since=since, until=until, low=0, high=9)
    now = max(min(report.as_of, until), since)  # an as-of before the chart draws nothing

    path = report.paths[line.id]
    moments = [t.to_pydatetime() for t in pd.to_datetime(path["at"], utc=True)]
    points: list[tuple[float, float]] = []
    level: int | None = None  # the level held at the moment reached
    started = False  # past the chart's left edge
    for t, lv in zip(moments, path["to_level"].tolist()):
        if t < since:
            level = int(lv)
            continue
        if not started:
            started = True
            if level is not None:
                points.append((frame.x(since), frame.y(level)))
        if t > now:
            break
        if level is not None:
            points.append((frame.x(t), frame.y(level)))
        level = int(lv)
        points.append((frame.x(t), frame.y(level)))
    if not started and level is not None:
        points.append((frame.x(since), frame.y(level)))
    if level is not None:
        points.append((frame.x(now), frame.y(level)))
    start, end = _day(report.start), _day(report.end) + timedelta(days=1)
    due_x = frame.x(_day(line.due) + timedelta(days=1))
    return _TEMPLATES.get_template("key_result_path.svg").render(
        label=line.label, axes=frame.axes(y_ticks=[(lv, str(lv)) for lv in range(10)], x_title="Date",
                                          y_title="Level"),
        quarter={"x": frame.x(start), "width": frame.x(end) - frame.x(start), "name": report.quarter},
        target={"y": frame.y(line.target), "text": f"target: level {line.target}"},
        due={"x": due_x, "text": f"due {line.due:%Y-%m-%d}", "anchor": "end" if due_x > frame.left + 120 else "start",
             "text_x": due_x - 6 if due_x > frame.left + 120 else due_x + 6},
        points=_points(points), end=points[-1] if points else None,
        colour=charts.STATUS_COLOURS.get(line.state.status.value, "#2F80ED"))


def _day(d: Any) -> datetime:
    """A calendar day's first instant, UTC."""
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def burnup_svg(report: QuarterReport, *, width: int = CHART_WIDTH, height: int = 300) -> str:
    """The quarter's burn-up as an inline SVG (``templates/burnup.svg``): key results achieved at
    the end of each day, as steps up to the as-of date, under the dashed count of key results;
    axis titles "Key results" and "Date"."""
    import pandas as pd

    burnup = report.burnup
    since, until = _day(report.start), _day(report.end) + timedelta(days=1)
    top = int(burnup["total"].max()) if len(burnup) else 0
    step = max(1, -(-top // 6))
    high = max(step * -(-max(top, 1) // step), 1)
    frame = _Frame(width, height, left=64, right=44, top=28, bottom=52, since=since, until=until, low=0, high=high)
    days_ = [_day(d) for d in burnup["day"]]
    total = _steps(frame, [(t, int(n)) for t, n in zip(days_, burnup["total"])])
    achieved = _steps(frame, [(t, int(n)) for t, n in zip(days_, burnup["achieved"]) if not pd.isna(n)])
    area = ([(achieved[0][0], frame.base), *achieved, (achieved[-1][0], frame.base)] if achieved else [])
    return _TEMPLATES.get_template("burnup.svg").render(
        quarter=report.quarter,
        axes=frame.axes(y_ticks=[(v, str(v)) for v in range(0, high + 1, step)], x_title="Date",
                        y_title="Key results"),
        total=_points(total), achieved=_points(achieved), area=_points(area),
        total_label={"x": frame.right_edge - 4, "y": frame.y(top) - 6, "text": f"{top} key results"},
        achieved_label=_end_label(frame, achieved[-1], f"{int(burnup['achieved'].dropna().iloc[-1])} achieved")
        if achieved else None)


def _steps(frame: _Frame, days_values: list[tuple[datetime, int]]) -> list[tuple[float, float]]:
    """A value held from each day's start to the next day's, as the corners of a step line."""
    points: list[tuple[float, float]] = []
    for k, (t, value) in enumerate(days_values):
        if k == 0 or value != days_values[k - 1][1]:
            if points:
                points.append((frame.x(t), points[-1][1]))
            points.append((frame.x(t), frame.y(value)))
    if days_values:
        points.append((frame.x(days_values[-1][0] + timedelta(days=1)), points[-1][1]))
    return points


def _end_label(frame: _Frame, end: tuple[float, float], text: str) -> dict[str, Any]:
    """A label beside a line's last point, kept inside the plot area."""
    near_edge = end[0] > frame.right_edge - 110
    return {"x": end[0] - 6 if near_edge else end[0] + 6, "y": max(end[1] - 8, frame.top + 12), "text": text,
            "anchor": "end" if near_edge else "start"}
