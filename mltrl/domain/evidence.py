"""Evidence: the facts a gated review is judged on, arriving from the tools a team already uses
(a CI run's test report, an MLflow model version and its run's metrics, a model card, a
dashboard, a document). Pure: no streamlit, no database.

* A record belongs to a technology and a level, optionally to one exit criterion of that level or
  to one requirement; it has a kind (``KINDS``), a status (pass, fail or info), a title, a link,
  named metrics with numeric values, the system it came from and when it was produced.
* A criterion an admin marks as **scored from evidence** takes its score from the latest pass or
  fail record sent for it: pass is 100%, fail 0% (``score_from``); an info record never scores. The
  team's own score of that criterion is kept apart and shown beside it, never mixed in. With no
  pass or fail record yet the criterion is unscored (it counts 0, as any unscored criterion).
* A record is **stale** (``stale_reason``) when it was produced before the technology reached its
  current level (it describes an earlier state of the technology) or when it is older than the
  organisation's setting (``evidence_stale_days``). A stale record still scores; the review shows
  that it is stale, and why.
* ``read_junit`` reads a JUnit XML report (pytest, Maven Surefire, Jest, Go's gotestsum and most
  CI runners write it) into one summary: tests, passed, failed, errors, skipped, and the time.
  The file is size-checked before it is read and parsed with defusedxml (no entity expansion, no
  external entities).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from mltrl.domain import days
from mltrl.domain.errors import InvalidInput

KINDS: dict[str, str] = {
    "ci-run": "CI run",
    "test-report": "Test report",
    "mlflow-run": "MLflow run",
    "model-version": "Model version",
    "model-card": "Model card",
    "document": "Document",
    "dashboard": "Dashboard",
    "other": "Other",
}
STATUSES: dict[str, str] = {"pass": "pass", "fail": "fail", "info": "info"}
STATUS_PERCENT = {"pass": 100, "fail": 0}

TITLE_MAX = 200
URL_MAX = 2_000
SOURCE_MAX = 120
METRIC_NAME_MAX = 64
METRICS_MAX = 50
EXTERNAL_ID_MAX = 200
JUNIT_MAX_BYTES = 20 * 1024 * 1024
_METRIC_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-/ :@]{0,63}$")
_URL = re.compile(r"^https?://[^\s]+$")


def kind_of(raw: object, *, field: str = "kind") -> str:
    """A kind of evidence: one of ``KINDS``'s keys (its label is read too)."""
    text = raw.strip().lower() if isinstance(raw, str) else ""
    by_label = {label.lower(): key for key, label in KINDS.items()}
    value = text if text in KINDS else by_label.get(text)
    if value is None:
        raise InvalidInput(field, f"{raw!r} is not a kind of evidence: one of {', '.join(KINDS)}")
    return value


def status_of(raw: object, *, field: str = "status") -> str:
    """pass, fail or info (``passed``/``failed`` are read too)."""
    text = raw.strip().lower() if isinstance(raw, str) else ""
    value = {"passed": "pass", "failed": "fail", "failure": "fail"}.get(text, text)
    if value not in STATUSES:
        raise InvalidInput(field, f"{raw!r} is not a status: one of {', '.join(STATUSES)}")
    return value


def url_of(raw: object, *, field: str = "url") -> str:
    """An http(s) link, or empty."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise InvalidInput(field, f"expected a link as text, got {type(raw).__name__}")
    text = raw.strip()
    if not text:
        return ""
    if len(text) > URL_MAX:
        raise InvalidInput(field, f"at most {URL_MAX} characters (got {len(text)})")
    if not _URL.match(text):
        raise InvalidInput(field, f"{text[:60]!r} is not a link: give an http(s) URL, or leave it empty")
    return text


def metric_value(raw: object, name: str, *, field: str = "metrics") -> float:
    """A metric's value: a finite number (``0.93``, ``93%`` is read as 93)."""
    if isinstance(raw, bool):
        raise InvalidInput(field, f"{name}: {raw!r} is not a number")
    if isinstance(raw, (int, float)):
        value = float(raw)
    else:
        text = raw.strip().rstrip("%").strip() if isinstance(raw, str) else ""
        try:
            value = float(text)
        except ValueError:
            raise InvalidInput(field, f"{name}: {raw!r} is not a number") from None
    if not math.isfinite(value):
        raise InvalidInput(field, f"{name}: {raw!r} is not a finite number")
    return value


def metrics_of(raw: Mapping[str, object] | Iterable[str] | None, *, field: str = "metrics") -> dict[str, float]:
    """Named metrics, from a mapping (name -> number) or from ``name=value`` texts (the CLI's
    ``--metric``): at most ``METRICS_MAX``, names of at most 64 letters, digits and ``_ . - / : @``
    (and spaces), values finite numbers. A name given twice is refused."""
    if raw is None:
        return {}
    pairs: list[tuple[object, object]]
    if isinstance(raw, Mapping):
        pairs = list(raw.items())
    elif isinstance(raw, (list, tuple)):
        pairs = []
        for item in raw:
            if not isinstance(item, str) or "=" not in item:
                raise InvalidInput(field, f"{item!r} is not name=value (for example accuracy=0.93)")
            name, _, value = item.partition("=")
            pairs.append((name, value))
    else:
        raise InvalidInput(field, f"expected name -> number pairs, got {type(raw).__name__}")
    if len(pairs) > METRICS_MAX:
        raise InvalidInput(field, f"at most {METRICS_MAX} metrics per record (got {len(pairs)})")
    out: dict[str, float] = {}
    for name, value in pairs:
        label = name.strip() if isinstance(name, str) else None
        if not label or not _METRIC_NAME.match(label):
            raise InvalidInput(field, f"{name!r} is not a metric name: 1-{METRIC_NAME_MAX} letters, digits, "
                                      "spaces and _ . - / : @, starting with a letter, digit or _")
        if label in out:
            raise InvalidInput(field, f"{label} is given twice")
        out[label] = metric_value(value, label, field=field)
    return out


# --- scoring and staleness ------------------------------------------------------------------------


@dataclass(frozen=True)
class Proof:
    """What a score and a review need of one evidence record."""

    id: int
    status: str
    title: str
    url: str
    source: str
    produced_at: datetime
    stale: str | None = None  # why it is stale, or None


def score_from(proof: Proof | None) -> int | None:
    """The percent a criterion scored from evidence takes from its latest pass or fail record:
    pass 100, fail 0; ``None`` with no record (unscored)."""
    if proof is None:
        return None
    return STATUS_PERCENT.get(proof.status)


def latest_scoring(records: Iterable[Proof]) -> Proof | None:
    """The newest pass or fail record (by when it was produced, then by id): the one that scores.
    An info record never scores."""
    scoring = [r for r in records if r.status in STATUS_PERCENT]
    return max(scoring, key=lambda r: (r.produced_at, r.id)) if scoring else None


def stale_reason(produced_at: datetime, *, level: int | None, level_since: datetime | None, now: datetime,
                 max_days: int) -> str | None:
    """Why a record produced at ``produced_at`` no longer speaks for the technology, or ``None``:
    produced before it reached its current level ``level`` (at ``level_since``), or older than
    ``max_days``."""
    if level_since is not None and produced_at < level_since:
        return f"produced before the technology reached level {level} on {level_since.date().isoformat()}"
    age = (now - produced_at).days
    if age > max_days:
        return f"{age} days old (evidence is stale after {max_days} days)"
    return None


# --- JUnit XML --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JUnitSummary:
    """A JUnit XML report in numbers."""

    tests: int
    failures: int
    errors: int
    skipped: int
    seconds: float
    suites: tuple[str, ...]
    produced_at: datetime | None  # the earliest suite timestamp, when the report gives one
    failed_cases: tuple[str, ...]  # the first few failing cases, "suite › name"

    @property
    def passed(self) -> int:
        return self.tests - self.failures - self.errors - self.skipped

    @property
    def status(self) -> str:
        return "pass" if self.failures == 0 and self.errors == 0 else "fail"

    def metrics(self) -> dict[str, float]:
        return {"tests": self.tests, "passed": self.passed, "failures": self.failures, "errors": self.errors,
                "skipped": self.skipped, "duration_s": round(self.seconds, 3)}

    def title(self) -> str:
        counts = f"{self.passed} passed, {self.failures + self.errors} failed"
        return f"{counts}, {self.skipped} skipped" if self.skipped else counts


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _seconds(raw: str | None) -> float:
    try:
        value = float((raw or "0").replace(",", ""))
    except ValueError:
        return 0.0
    return value if math.isfinite(value) and value >= 0 else 0.0


def _timestamp(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return days.as_utc(datetime.fromisoformat(raw.strip().replace("Z", "+00:00")))
    except (ValueError, InvalidInput):
        return None


def read_junit(data: bytes | str, *, field: str = "report") -> JUnitSummary:
    """A JUnit XML report (root ``testsuites`` or ``testsuite``) counted from its test cases: a
    case with a ``failure`` is failed, with an ``error`` errored, with ``skipped`` skipped (Maven's
    ``flakyFailure``/``rerunFailure`` of a case that passed in the end do not fail it). Refused,
    naming what is wrong, when it is too big, not XML, not JUnit, or holds no test case."""
    if isinstance(data, str):
        raw = data.encode("utf-8", errors="replace")
    elif isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
    else:
        raise InvalidInput(field, f"expected the report's XML as text or bytes, got {type(data).__name__}")
    if len(raw) > JUNIT_MAX_BYTES:
        raise InvalidInput(field, f"at most {JUNIT_MAX_BYTES // (1024 * 1024)} MB (got {len(raw) / 1024 / 1024:.1f} MB)")
    try:
        root = fromstring(raw, forbid_dtd=True)
    except ParseError as exc:
        raise InvalidInput(field, f"is not well-formed XML ({exc})") from None
    except DefusedXmlException as exc:
        raise InvalidInput(field, f"uses XML features refused for safety ({type(exc).__name__}): "
                                  "no DTDs or entities in a test report") from None
    if _local(root.tag) not in ("testsuites", "testsuite"):
        raise InvalidInput(field, f"is not a JUnit report: its root element is <{_local(root.tag)}>, "
                                  "expected <testsuites> or <testsuite>")
    suites = [e for e in root.iter() if _local(e.tag) == "testsuite"]  # the root too, and nested ones
    tests = failures = errors = skipped = 0
    seconds = 0.0
    failed: list[str] = []
    stamps: list[datetime] = []
    names: list[str] = []
    for suite in suites:
        names.append(suite.get("name") or "")
        stamp = _timestamp(suite.get("timestamp"))
        if stamp is not None:
            stamps.append(stamp)
        cases = _cases(suite)
        seconds += sum(_seconds(c.get("time")) for c in cases)
        for case in cases:
            tests += 1
            children = {_local(child.tag) for child in case}
            if "error" in children:
                errors += 1
            elif "failure" in children:
                failures += 1
            elif "skipped" in children:
                skipped += 1
            else:
                continue
            if "skipped" not in children or children & {"error", "failure"}:
                if len(failed) < 10:
                    failed.append(f"{case.get('classname') or suite.get('name') or ''} › {case.get('name') or ''}"
                                  .strip(" ›"))
    if tests == 0:
        raise InvalidInput(field, "holds no test cases (<testcase> elements): nothing to report")
    return JUnitSummary(tests, failures, errors, skipped, seconds, tuple(n for n in names if n),
                        min(stamps) if stamps else None, tuple(failed))


def _cases(suite: Element) -> Sequence[Element]:
    """The test cases directly in ``suite`` (nested suites are counted on their own)."""
    return [child for child in suite if _local(child.tag) == "testcase"]


def describe(record: Mapping[str, Any]) -> str:
    """One line naming a record: its kind, status and title."""
    return f"{KINDS.get(record.get('kind', ''), 'Evidence')} ({record.get('status', '')}): {record.get('title', '')}"
