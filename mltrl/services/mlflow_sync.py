"""A technology linked to a registered model in an MLflow tracking server, and the sync that reads
it (the pure rules: ``mltrl.domain.registry``).

* ``link_model`` / ``unlink_model``: the link (tracking server, model name, the alias the team
  moves to the deployed version, the webhook's secret), audited with the secret masked.
* ``sync_model`` reads the registered model, its aliases, every version and each version's run
  (metrics, params) with MLflow's own client, first and all of it, then writes: each version once
  as evidence (``model-version``, status info, ``external_id`` ``mlflow:<model>:<version>``; a
  version's record keeps what its run held when it was first seen), the card's Model / algorithm
  info block (a new revision only when the table changed), and where the deployed alias points.
  When the alias moved to another version of a deployed (level 9) technology, the link holds a
  proposal of the embedded 9 -> 7: nothing is recorded until a person accepts it
  (``accept_proposal``, which records it through ``reviews.change_deployed_version``) or dismisses
  it (``dismiss_proposal``).
* A refused sync (no link, the server unreachable, no such model, the client not installed)
  writes nothing and names what was wrong. A sync a webhook started has nobody to tell, so the
  webhook route records the refusal on the link (``note_sync_error``); the next good sync clears it.
* ``receive_webhook`` checks one MLflow webhook delivery (signature, age) against the secrets of
  the links to its model and syncs each matching technology as the link's creator, via
  "mlflow webhook". The route is ``mltrl.api.webhooks``.

The client is ``mlflow-skinny`` (``pip install 'mltrl-dashboard[mlflow]'``), imported when a sync
runs: it takes seconds to import. A dead server must fail in seconds too, so unless the
environment says otherwise the client makes no retries and waits at most
``HTTP_TIMEOUT_SECONDS`` per request; MLflow's usage telemetry is turned off for it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mltrl.domain import cards as card_rules
from mltrl.domain import days
from mltrl.domain import registry as rules
from mltrl.domain.errors import Conflict, InvalidInput, MltrlError, NotFound, PermissionDenied, Unauthenticated
from mltrl.domain.permissions import Permission
from mltrl.models import ModelLink, Project, utcnow
from mltrl.services import cards
from mltrl.services._core import Actor, audit, check_version, snapshot, within, write_service
from mltrl.services.projects import get_project
from mltrl.services.reviews.deployed import change_deployed_version
from mltrl.services.reviews.evidence import add_evidence

log = logging.getLogger("mltrl.mlflow")

HTTP_TIMEOUT_SECONDS = 10
WEBHOOK_BODY_MAX = 1024 * 1024
PARAMS_MAX = 100
VALUE_MAX = 250
INSTALL_HINT = "pip install 'mltrl-dashboard[mlflow]'"
_KEEP = object()  # link_model's webhook_secret: leave the stored one as it is


# --- the link ---------------------------------------------------------------------------------------


def model_link(session: Session, code: str) -> ModelLink | None:
    """The technology's link, or ``None``."""
    project = get_project(session, code)
    return session.exec(select(ModelLink).where(ModelLink.project_id == project.id)).first()


def _link_of(session: Session, project: Project) -> ModelLink:
    link = session.exec(select(ModelLink).where(ModelLink.project_id == project.id)).first()
    if link is None:
        raise NotFound(f"{project.code} is not linked to an MLflow model: link it first "
                       f"(mltrl mlflow link {project.code} --tracking-uri URI --model NAME).")
    return link


def _masked(link: ModelLink, code: str) -> dict[str, Any]:
    """The link for the audit trail: ``snapshot`` masks the secret (``_core.SECRET_FIELDS``)."""
    return snapshot(link, code=code)


def link_record(session: Session, code: str) -> dict[str, Any] | None:
    """The link as JSON-ready data (the API's and the CLI's): never the secret, only whether
    there is one."""
    project = get_project(session, code)
    link = session.exec(select(ModelLink).where(ModelLink.project_id == project.id)).first()
    if link is None:
        return None
    return {"code": project.code, "tracking_uri": link.tracking_uri, "model_name": link.model_name,
            "deployed_alias": link.deployed_alias, "has_webhook_secret": bool(link.webhook_secret),
            "deployed_version": link.deployed_version, "proposal": dict(link.proposal) if link.proposal else None,
            "last_synced_at": _iso(link.last_synced_at), "last_sync_error": link.last_sync_error or None,
            "created_at": _iso(link.created_at), "created_by": link.created_by, "version": link.version,
            "model_url": f"{link.tracking_uri}/#/models/{link.model_name}"}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else days.as_utc(value).isoformat()


def linked_codes(session: Session) -> list[str]:
    """The codes of every linked technology, in code order."""
    rows = session.exec(select(Project.code).join(ModelLink, col(ModelLink.project_id) == col(Project.id))
                        .order_by(Project.code)).all()
    return list(rows)


@write_service(Permission.EDIT)
def link_model(*, session: Session, actor: Actor, code: str, tracking_uri: object, model_name: object,
               deployed_alias: object = None, webhook_secret: object = _KEEP,
               expected_version: int | None = None) -> ModelLink:
    """Link ``code`` to ``model_name`` in the tracking server at ``tracking_uri``, or change its
    link (``expected_version``: the link's version the person saw; a newer one is a ``Conflict``).
    ``webhook_secret``: left out keeps the stored one, empty text removes it. A link moved to
    another server or model forgets the deployed version and any pending proposal."""
    project = get_project(session, code)
    values = {"tracking_uri": rules.tracking_uri_of(tracking_uri), "model_name": rules.model_name_of(model_name),
              "deployed_alias": rules.alias_of(deployed_alias)}
    if webhook_secret is not _KEEP:
        values["webhook_secret"] = rules.secret_of(webhook_secret)
    link = session.exec(select(ModelLink).where(ModelLink.project_id == project.id)).first()
    if link is None:
        if expected_version not in (None, 0):
            raise Conflict(f"The MLflow link of {project.code} was removed since you opened it; nothing was saved.",
                           current_version=0)
        link = ModelLink(project_id=project.id, created_by=actor.name, **values)
        session.add(link)
        session.flush()
        audit(session, actor, entity="modellink", entity_id=link.id, action="create", before=None,
              after=_masked(link, project.code))
        return link
    check_version(link, expected_version, f"The MLflow link of {project.code}")
    before = _masked(link, project.code)
    moved = (values["tracking_uri"], values["model_name"]) != (link.tracking_uri, link.model_name)
    if moved:
        values.update(deployed_version=None, proposal=None, last_sync_error="")
    changed = {k: v for k, v in values.items() if getattr(link, k) != v}
    if not changed:
        return link
    for key, value in changed.items():
        setattr(link, key, value)
    session.add(link)
    session.flush()
    audit(session, actor, entity="modellink", entity_id=link.id, action="update", before=before,
          after=_masked(link, project.code))
    return link


@write_service(Permission.EDIT)
def unlink_model(*, session: Session, actor: Actor, code: str, expected_version: int | None = None) -> None:
    """Remove the link (the evidence and card revisions the syncs wrote stay)."""
    project = get_project(session, code)
    link = _link_of(session, project)
    check_version(link, expected_version, f"The MLflow link of {project.code}")
    before = _masked(link, project.code)
    session.delete(link)
    session.flush()
    audit(session, actor, entity="modellink", entity_id=before["id"], action="delete", before=before, after=None)


# --- reading the registry ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Registry:
    """What one read of the registry found for a model."""

    model_name: str
    aliases: Mapping[str, str]  # alias -> version
    tags: Mapping[str, str]
    versions: tuple[rules.Version, ...]


def _client(tracking_uri: str):
    try:
        from mlflow import MlflowClient
    except ImportError:
        raise InvalidInput("mlflow", f"the MLflow client is not installed on the dashboard's server: {INSTALL_HINT}") \
            from None
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(HTTP_TIMEOUT_SECONDS))
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def _refusal(exc: Exception, tracking_uri: str, model_name: str) -> MltrlError:
    code = getattr(exc, "error_code", None)
    if code == "RESOURCE_DOES_NOT_EXIST":
        return InvalidInput("model_name", f"the MLflow server at {tracking_uri} has no registered model "
                                          f"{model_name!r}")
    if code in ("PERMISSION_DENIED", "UNAUTHENTICATED"):
        return InvalidInput("tracking_uri", f"the MLflow server at {tracking_uri} refused the dashboard's access "
                                            f"({code}): give the server's credentials in its environment")
    reason = str(exc).split(" failed with exception ")[-1][:300]
    return InvalidInput("tracking_uri", f"cannot reach the MLflow server at {tracking_uri}: {reason}")


def _short(values: Mapping[str, object] | None) -> dict[str, str]:
    out = {}
    for key in sorted(values or {})[:PARAMS_MAX]:
        out[str(key)[:VALUE_MAX]] = str(values[key])[:VALUE_MAX]
    return out


def _filter(model_name: str) -> str:
    if "'" not in model_name:
        return f"name = '{model_name}'"
    if '"' not in model_name:
        return f'name = "{model_name}"'
    raise InvalidInput("model_name", "a model name holding both ' and \" cannot be searched for in MLflow")


def read_registry(tracking_uri: str, model_name: str) -> Registry:
    """Everything a sync needs from the registry, read before anything is written."""
    client = _client(tracking_uri)  # first: it says what to install when the client is missing
    from mlflow.exceptions import MlflowException

    try:
        model = client.get_registered_model(model_name)
        found = []
        token = None
        while True:
            page = client.search_model_versions(_filter(model_name), page_token=token)
            found.extend(page)
            token = getattr(page, "token", None)
            if not token:
                break
        aliases = {str(a): str(v) for a, v in (model.aliases or {}).items()}
        by_version: dict[str, list[str]] = {}
        for alias, number in aliases.items():
            by_version.setdefault(number, []).append(alias)
        versions = []
        for mv in found:
            if mv.name != model_name:
                continue
            metrics: dict[str, float] = {}
            params: dict[str, str] = {}
            if mv.run_id:
                try:
                    run = client.get_run(mv.run_id)
                    metrics, params = dict(run.data.metrics), dict(run.data.params)
                except MlflowException as exc:
                    if getattr(exc, "error_code", None) != "RESOURCE_DOES_NOT_EXIST":
                        raise
            number = str(mv.version)
            versions.append(rules.Version(
                number=number, created=datetime.fromtimestamp((mv.creation_timestamp or 0) / 1000, tz=UTC),
                run_id=mv.run_id or None, status=str(mv.status or ""), source=str(mv.source or ""),
                aliases=tuple(sorted(set(by_version.get(number, [])) | set(mv.aliases or []))),
                tags=_short(mv.tags), metrics=metrics, params=_short(params)))
    except MlflowException as exc:
        raise _refusal(exc, tracking_uri, model_name) from None
    except OSError as exc:  # a socket error that got past the client's own handling
        raise InvalidInput("tracking_uri", f"cannot reach the MLflow server at {tracking_uri}: {exc}") from None
    return Registry(model_name, aliases, _short(model.tags), tuple(sorted(versions, key=lambda v: rules.version_key(
        v.number))))


# --- the sync ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncResult:
    """What one sync found and did."""

    code: str
    model_name: str
    versions: tuple[str, ...]
    new_evidence: tuple[str, ...]  # the versions recorded as evidence by this sync
    card_changed: bool
    deployed_version: str | None
    proposal: dict[str, Any] | None

    def summary(self) -> str:
        new = f"{len(self.new_evidence)} new ({', '.join(self.new_evidence)})" if self.new_evidence else "none new"
        text = (f"{self.code}: {len(self.versions)} version(s) of {self.model_name} in MLflow, {new}; "
                f"card {'updated' if self.card_changed else 'unchanged'}")
        if self.proposal:
            text += (f"; the deployed version moved from {self.proposal['from']} to {self.proposal['to']}: "
                     "a change to level 7 is proposed")
        return text


def _evidence_of(version: rules.Version, registry: Registry, link: ModelLink) -> dict[str, Any]:
    metrics, left_out = rules.usable_metrics(version.metrics)
    details: dict[str, Any] = {"model": registry.model_name, "version": version.number, "run_id": version.run_id,
                               "status": version.status, "source": version.source[:VALUE_MAX],
                               "aliases": list(version.aliases), "tags": dict(version.tags),
                               "params": dict(version.params), "tracking_uri": link.tracking_uri}
    if left_out:
        details["metrics_left_out"] = left_out[:50]
    if len(json.dumps(details)) > 19_000:
        details["params"] = {}
        details["params_left_out"] = True
    aliases = f" ({', '.join(version.aliases)})" if version.aliases else ""
    return {"title": f"MLflow model {registry.model_name} version {version.number}{aliases}"[:200],
            "metrics": metrics, "details": details,
            "url": rules.version_url(link.tracking_uri, registry.model_name, version.number),
            "external_id": rules.external_id(registry.model_name, version.number),
            "produced_at": min(version.created, utcnow())}


@write_service(Permission.EDIT)
def sync_model(*, session: Session, actor: Actor, code: str) -> SyncResult:
    """Read the linked model from MLflow, then record what is new (see the module docstring).
    A refusal writes nothing."""
    project = get_project(session, code)
    link = _link_of(session, project)
    if project.level is None:
        raise InvalidInput("level", f"{project.code} has no level yet: record its start before syncing, so the "
                                    "model versions are evidence of a level")
    registry = read_registry(link.tracking_uri, link.model_name)
    syncing = Actor(actor.name, via=actor.via or "mlflow sync", role_cap=actor.role_cap)
    new = []
    for version in registry.versions:
        added = within(add_evidence)(session=session, actor=syncing, code=project.code, level=project.level,
                                     kind="model-version", status="info", source=f"MLflow {link.tracking_uri}"[:120],
                                     **_evidence_of(version, registry, link))
        if added.created:
            new.append(version.number)
    card_changed = _write_card(session, syncing, project.code, registry, link)
    now = utcnow()
    current = rules.deployed_version(registry.aliases, link.deployed_alias)
    before = _masked(link, project.code)
    link.proposal = rules.proposal(previous=link.deployed_version, current=current, level=project.level,
                                   seen_at=now, pending=link.proposal)
    link.deployed_version = current or link.deployed_version
    link.last_synced_at = now
    link.last_sync_error = ""
    session.add(link)
    session.flush()
    audit(session, syncing, entity="modellink", entity_id=link.id, action="sync", before=before,
          after=_masked(link, project.code) | {"new_versions": new, "card_changed": card_changed})
    return SyncResult(project.code, registry.model_name, tuple(v.number for v in registry.versions), tuple(new),
                      card_changed, link.deployed_version, dict(link.proposal) if link.proposal else None)


def _write_card(session: Session, actor: Actor, code: str, registry: Registry, link: ModelLink) -> bool:
    state = cards.current_card(session, code)
    block = rules.block(registry.versions, model_name=registry.model_name, deployed_alias=link.deployed_alias)
    updated = card_rules.canonical(replace(state.card, model=rules.with_block(state.card.model, block)))
    if updated.model == card_rules.canonical(state.card).model:
        return False
    within(cards.save_card)(session=session, actor=actor, code=code, card=updated, base_revision=state.number,
                            summary=f"MLflow sync: the registered versions of {registry.model_name}"[:200])
    return True


@write_service(Permission.EDIT)
def note_sync_error(*, session: Session, actor: Actor, code: str, error: str) -> None:
    """Keep on the link why a sync nobody watched (a webhook's) was refused."""
    project = get_project(session, code)
    link = _link_of(session, project)
    before = _masked(link, project.code)
    link.last_sync_error = str(error)[:2000]
    session.add(link)
    session.flush()
    audit(session, actor, entity="modellink", entity_id=link.id, action="sync-refused", before=before,
          after=_masked(link, project.code))


# --- the proposal -----------------------------------------------------------------------------------


def _pending(session: Session, code: str, expected_version: int | None) -> tuple[Project, ModelLink]:
    project = get_project(session, code)
    link = _link_of(session, project)
    check_version(link, expected_version, f"The MLflow link of {project.code}")
    if not link.proposal:
        raise InvalidInput("proposal", f"{project.code} has no pending proposal from MLflow")
    return project, link


@write_service(Permission.EDIT)
def accept_proposal(*, session: Session, actor: Actor, code: str, expected_version: int | None = None):
    """Record the proposed change to the deployed version: the embedded 9 -> 7 switchback, with a
    note naming the versions. Returns the level move's outcome."""
    project, link = _pending(session, code, expected_version)
    proposal = dict(link.proposal)
    note = (f"MLflow: the {link.deployed_alias} alias of {link.model_name} moved from version {proposal['from']} "
            f"to version {proposal['to']}")
    outcome = within(change_deployed_version)(session=session, actor=actor, code=project.code, note=note)
    before = _masked(link, project.code)
    link.proposal = None
    session.add(link)
    session.flush()
    audit(session, actor, entity="modellink", entity_id=link.id, action="accept-proposal", before=before,
          after=_masked(link, project.code))
    return outcome


@write_service(Permission.EDIT)
def dismiss_proposal(*, session: Session, actor: Actor, code: str, expected_version: int | None = None) -> None:
    """Drop the proposal: the technology stays at its level."""
    project, link = _pending(session, code, expected_version)
    before = _masked(link, project.code)
    link.proposal = None
    session.add(link)
    session.flush()
    audit(session, actor, entity="modellink", entity_id=link.id, action="dismiss-proposal", before=before,
          after=_masked(link, project.code))


# --- webhooks ---------------------------------------------------------------------------------------


class BadSignature(PermissionDenied):
    """A webhook delivery signed wrongly, too old or too new, or for no link that has a secret."""


@dataclass(frozen=True)
class WebhookOutcome:
    event: str
    model_name: str
    synced: tuple[str, ...]  # codes synced
    refused: tuple[tuple[str, str], ...]  # (code, why)
    ignored: bool  # an event the sync does not follow


def _delivery(body: bytes) -> tuple[str, dict[str, Any]]:
    if len(body) > WEBHOOK_BODY_MAX:
        raise InvalidInput("body", f"at most {WEBHOOK_BODY_MAX // 1024} KB")
    try:
        text = body.decode("utf-8")
        payload = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("body", "expected MLflow's webhook JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise InvalidInput("body", "expected MLflow's webhook JSON (entity, action, data)")
    return text, payload


def _sync_racing(session: Session, actor: Actor, code: str) -> SyncResult:
    """A sync for a webhook: MLflow may deliver two events at once (a new version and its alias),
    and two syncs of one technology then race; the one that loses (the same version recorded, or
    the card saved, by the other meanwhile) runs once more and finds the work done."""
    try:
        return sync_model(session=session, actor=actor, code=code)
    except (IntegrityError, Conflict):
        session.rollback()
        return sync_model(session=session, actor=actor, code=code)


def receive_webhook(session: Session, *, delivery_id: str | None, timestamp: str | None, signature: str | None,
                    body: bytes, now: datetime | None = None) -> WebhookOutcome:
    """Check one delivery and sync the technologies it is for. Unsigned: ``Unauthenticated``;
    signed wrongly, stale, or for a model no link with a secret follows: ``BadSignature`` (the
    same answer for all three, so a caller learns nothing about the links). Each sync is its own
    use case, acting as the link's creator via "mlflow webhook"."""
    if not (delivery_id and timestamp and signature):
        raise Unauthenticated("an MLflow webhook delivery must be signed: give the webhook a secret in MLflow "
                              "and the same secret on the technology's link")
    text, payload = _delivery(body)
    if not rules.fresh(timestamp, now or utcnow()):
        raise BadSignature("the delivery's timestamp is too far from now (a replay, or a clock out of step)")
    name = payload["data"].get("name")
    links = session.exec(select(ModelLink, Project.code).join(Project, col(Project.id) == col(ModelLink.project_id))
                         .where(ModelLink.model_name == name, col(ModelLink.webhook_secret).is_not(None))).all() \
        if isinstance(name, str) else []
    matching = [(code, link.created_by) for link, code in links
                if rules.signature_matches(link.webhook_secret, delivery_id, timestamp, text, signature)]
    if not matching:
        raise BadSignature("the delivery's signature matches no linked model's webhook secret")
    event = f"{payload.get('entity')}.{payload.get('action')}"
    if not rules.followed(payload.get("entity"), payload.get("action")):
        return WebhookOutcome(event, name, (), (), True)
    synced, refused = [], []
    for code, creator in matching:
        actor = Actor(creator, via="mlflow webhook")
        try:
            _sync_racing(session, actor, code)
            synced.append(code)
        except MltrlError as exc:
            refused.append((code, str(exc)))
            log.warning("MLflow webhook %s for %s: the sync of %s was refused: %s", event, name, code, exc)
            try:
                note_sync_error(session=session, actor=actor, code=code, error=str(exc))
            except MltrlError:
                pass  # the creator may no longer write: the warning above is all there is
    return WebhookOutcome(event, name, tuple(synced), tuple(refused), False)


__all__ = ["BadSignature", "Registry", "SyncResult", "WebhookOutcome", "accept_proposal", "dismiss_proposal",
           "link_model", "link_record", "linked_codes", "model_link", "note_sync_error", "read_registry",
           "receive_webhook", "sync_model", "unlink_model"]
