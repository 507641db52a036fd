"""A technology's link to a model in an MLflow model registry: the pure rules.

* What a link may hold (``tracking_uri_of``, ``model_name_of``, ``alias_of``, ``secret_of``). The
  tracking URI must be an http(s) address of a tracking server: a link is typed by any editor on a
  web page and the sync runs on the dashboard's server, so a ``file:`` or ``sqlite:`` URI would have
  the server open files on its own disk. Credentials in the URI are refused too (they would be
  shown to every reader of the link); the server's environment gives them to the MLflow client
  (``MLFLOW_TRACKING_TOKEN``, or ``MLFLOW_TRACKING_USERNAME`` / ``MLFLOW_TRACKING_PASSWORD``).
* The block of the card's Model / algorithm info section the sync writes: a Markdown table of the
  registered versions between two HTML comments (``with_block`` replaces only what lies between
  them and keeps the team's text around it; the card renderer drops the comments).
* MLflow's webhook signature: HMAC-SHA256 with the webhook's secret over
  ``"{delivery id}.{timestamp}.{body}"``, base64, sent as ``v1,<signature>`` in
  ``X-MLflow-Signature`` (read in mlflow 3.x, ``mlflow/webhooks/delivery.py``), and the age a
  delivery may have (``FRESH_SECONDS``) before it is taken for a replay.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote, urlsplit

from mltrl.domain.errors import InvalidInput

URI_MAX = 500
MODEL_NAME_MAX = 200
ALIAS_MAX = 64
SECRET_MIN = 16
SECRET_MAX = 128
FRESH_SECONDS = 300  # a delivery older (or further ahead) than five minutes is refused as a replay
TABLE_VERSIONS_MAX = 50  # the card's table shows the newest 50 versions
TABLE_METRICS_MAX = 3  # and each version's first three metrics (by name)
DEFAULT_ALIAS = "champion"

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_HEADER = "X-MLflow-Delivery-Id"
SIGNATURE_VERSION = "v1"
# The registry events a sync follows: a new version, an alias set on a version or taken off it.
SYNC_EVENTS = frozenset({("model_version", "created"), ("model_version_alias", "created"),
                         ("model_version_alias", "deleted")})

BLOCK_START = "<!-- mlflow-versions: written by the MLflow sync; what lies between these two comments is replaced -->"
BLOCK_END = "<!-- /mlflow-versions -->"
_BLOCK = re.compile(re.escape("<!-- mlflow-versions") + r".*?-->.*?" + re.escape(BLOCK_END), re.DOTALL)
_ALIAS = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_RESERVED_ALIAS = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _text(raw: object, field: str) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise InvalidInput(field, f"expected text, got {type(raw).__name__}")
    text = raw.strip()
    if _CONTROL.search(text):
        raise InvalidInput(field, "one line of text, without control characters")
    return text


def tracking_uri_of(raw: object) -> str:
    """The tracking server's address: http(s), a host, no credentials, no query (see the module
    docstring for why nothing else is taken). A trailing slash is dropped."""
    text = _text(raw, "tracking_uri")
    if not text:
        raise InvalidInput("tracking_uri", "the tracking server's address is required (http://host:5000)")
    if len(text) > URI_MAX:
        raise InvalidInput("tracking_uri", f"at most {URI_MAX} characters (got {len(text)})")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidInput("tracking_uri", f"{text[:80]!r} is not a valid address") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidInput("tracking_uri", f"{text[:80]!r}: give the tracking server's http(s) address; file and "
                                           "database URIs are not accepted, since the sync runs on the dashboard's "
                                           "server")
    if not parts.hostname:
        raise InvalidInput("tracking_uri", f"{text[:80]!r} names no host")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("tracking_uri", "leave credentials out of the address: set MLFLOW_TRACKING_TOKEN (or "
                                           "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD) on the server")
    if parts.query or parts.fragment:
        raise InvalidInput("tracking_uri", "the address of the server only, without ? or #")
    del port
    return text.rstrip("/")


def model_name_of(raw: object) -> str:
    text = _text(raw, "model_name")
    if not text:
        raise InvalidInput("model_name", "the registered model's name is required")
    if len(text) > MODEL_NAME_MAX:
        raise InvalidInput("model_name", f"at most {MODEL_NAME_MAX} characters (got {len(text)})")
    return text


def alias_of(raw: object) -> str:
    """The alias the team moves to the deployed version (default ``champion``)."""
    text = _text(raw, "deployed_alias") or DEFAULT_ALIAS
    if not _ALIAS.match(text):
        raise InvalidInput("deployed_alias", f"{text[:70]!r}: 1-{ALIAS_MAX} letters, digits, _ and -")
    if _RESERVED_ALIAS.match(text):
        raise InvalidInput("deployed_alias", f"{text!r} is reserved by MLflow (latest, v1, v2...): choose another")
    return text


def secret_of(raw: object) -> str | None:
    """The webhook's secret, or ``None`` for none (an empty text)."""
    text = _text(raw, "webhook_secret")
    if not text:
        return None
    if not SECRET_MIN <= len(text) <= SECRET_MAX or any(c.isspace() for c in text):
        raise InvalidInput("webhook_secret", f"{SECRET_MIN}-{SECRET_MAX} characters without spaces "
                                             "(the same secret given to MLflow's webhook)")
    return text


def version_url(tracking_uri: str, model_name: str, version: str) -> str:
    """The tracking server's web page of one model version."""
    return f"{tracking_uri.rstrip('/')}/#/models/{quote(model_name, safe='')}/versions/{quote(str(version), safe='')}"


def external_id(model_name: str, version: str) -> str:
    return f"mlflow:{model_name}:{version}"[:200]


# --- what a sync reads --------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """One registered version as read from the registry, with its run's metrics and params."""

    number: str
    created: datetime
    run_id: str | None
    status: str
    source: str
    aliases: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)


def version_key(number: str) -> tuple[int, str]:
    """Versions sort by their number (MLflow's are whole numbers kept as text)."""
    return (int(number), "") if str(number).isdigit() else (2**62, str(number))


_METRIC_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-/ :@]{0,63}$")


def usable_metrics(metrics: Mapping[str, object], limit: int = 50) -> tuple[dict[str, float], list[str]]:
    """The metrics an evidence record can hold (finite numbers under names it accepts, the first
    ``limit`` by name) and the names left out."""
    kept: dict[str, float] = {}
    left: list[str] = []
    for name in sorted(metrics):
        value = metrics[name]
        ok = (isinstance(name, str) and _METRIC_NAME.match(name) and isinstance(value, (int, float))
              and not isinstance(value, bool) and math.isfinite(value))
        if ok and len(kept) < limit:
            kept[name] = float(value)
        else:
            left.append(str(name))
    return kept, left


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def _number(value: float) -> str:
    return f"{value:.4g}"


def versions_table(versions: Sequence[Version], deployed_alias: str) -> str:
    """The Markdown table the card shows: newest version first, its aliases (the deployed one in
    bold), the day it was registered and its first metrics."""
    ordered = sorted(versions, key=lambda v: version_key(v.number), reverse=True)
    shown = ordered[:TABLE_VERSIONS_MAX]
    lines = ["| Version | Aliases | Registered (UTC) | Main metrics |", "| --- | --- | --- | --- |"]
    for v in shown:
        aliases = ", ".join(f"**{a}**" if a == deployed_alias else a for a in sorted(v.aliases)) or "-"
        metrics = ", ".join(f"{_cell(k)} {_number(v.metrics[k])}" for k in sorted(v.metrics)[:TABLE_METRICS_MAX])
        lines.append(f"| {_cell(v.number)} | {aliases} | {v.created:%Y-%m-%d} | {metrics or '-'} |")
    if len(ordered) > len(shown):
        lines.append("")
        lines.append(f"The {len(ordered) - len(shown)} older versions are in the registry.")
    return "\n".join(lines)


def block(versions: Sequence[Version], *, model_name: str, deployed_alias: str) -> str:
    """The card's block: the two markers around a line naming the model and the table."""
    if versions:
        body = f"Registered versions of **{_cell(model_name)}** in MLflow:\n\n" + versions_table(versions,
                                                                                                 deployed_alias)
    else:
        body = f"**{_cell(model_name)}** has no registered version in MLflow yet."
    return f"{BLOCK_START}\n{body}\n{BLOCK_END}"


def with_block(text: str, new_block: str) -> str:
    """``text`` with the sync's block replaced by ``new_block`` (the first block; the team's text
    before and after it kept as it was), or with ``new_block`` appended when it has none."""
    found = _BLOCK.search(text or "")
    if found is None:
        base = (text or "").rstrip()
        return f"{base}\n\n{new_block}" if base else new_block
    return text[:found.start()] + new_block + text[found.end():]


# --- the deployed version ------------------------------------------------------------------------


def deployed_version(aliases: Mapping[str, str], alias: str) -> str | None:
    """The version ``alias`` points at (MLflow's registered model aliases: alias -> version)."""
    value = aliases.get(alias)
    return None if value is None else str(value)


def proposal(*, previous: str | None, current: str | None, level: int | None, seen_at: datetime,
             pending: Mapping[str, object] | None) -> dict[str, object] | None:
    """What the sync proposes after reading where the deployed alias points: a deployed (level 9)
    technology whose alias moved from one version to another gets the embedded 9 -> 7 proposed
    (the pending proposal keeps its ``from`` when the alias moves again). Otherwise the pending
    proposal stays as it is; ``None`` when there is none."""
    moved = previous is not None and current is not None and previous != current
    if moved and level == 9:
        start = str(pending["from"]) if pending and pending.get("from") else previous
        if start == current:
            return None  # moved back to where it was: nothing to propose any more
        return {"from": start, "to": current, "seen_at": seen_at.isoformat()}
    return dict(pending) if pending else None


# --- webhook signatures --------------------------------------------------------------------------


def signature(secret: str, delivery_id: str, timestamp: str, payload: str) -> str:
    """MLflow's signature of a delivery: ``v1,`` + base64 of HMAC-SHA256 over ``id.timestamp.body``."""
    digest = hmac.new(secret.encode("utf-8"), f"{delivery_id}.{timestamp}.{payload}".encode(),
                      hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signature_matches(secret: str, delivery_id: str, timestamp: str, payload: str, given: str) -> bool:
    """Whether ``given`` (the header; several space-separated signatures are allowed) is the
    signature ``secret`` makes, compared in constant time."""
    expected = signature(secret, delivery_id, timestamp, payload).encode()
    return any(hmac.compare_digest(expected, part.encode()) for part in given.split() if part)


def fresh(timestamp: str, now: datetime) -> bool:
    """Whether a delivery's Unix timestamp lies within ``FRESH_SECONDS`` of now."""
    if not timestamp.isdigit() or len(timestamp) > 12:
        return False
    return abs(now.timestamp() - int(timestamp)) <= FRESH_SECONDS


def followed(entity: object, action: object) -> bool:
    return (entity, action) in SYNC_EVENTS
