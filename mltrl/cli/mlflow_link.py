"""``mltrl mlflow``: link a technology to a registered model in an MLflow tracking server (link,
unlink, show), read it (sync: every linked technology when no code is given), and act on a
proposed change of the deployed version (accept records the embedded 9 -> 7; dismiss drops it).

    mltrl mlflow link R02.1 --tracking-uri http://mlflow:5000 --model churn --deployed-alias champion
    mltrl mlflow sync R02.1

With ``MLTRL_SERVER`` and ``MLTRL_TOKEN`` set, ``link``, ``show``, ``unlink`` and ``sync CODE`` act
through the dashboard's API (``/api/v1/projects/{code}/mlflow``); ``sync`` without a code, ``accept``
and ``dismiss`` act on the local database only (a person decides a proposal on the page or on the
server) and say so when a server is set. The services (and the MLflow client) are imported when a
command runs: start-up stays light.
"""

from __future__ import annotations

from typing import Annotated

import typer

from urllib.parse import quote

from mltrl.domain.errors import MltrlError
from mltrl.cli.common import JsonOption, actor, noun, remote_client, say, say_json, session

app = noun("A technology's link to a model in an MLflow registry: link, sync, show, accept, dismiss.")

CodeArgument = Annotated[str, typer.Argument(help="Project ID.")]


def _path(code: str) -> str:
    return f"/projects/{quote(code, safe='')}/mlflow"


def _record(code: str) -> dict | None:
    client = remote_client()
    if client is not None:
        from mltrl.cli.remote import RemoteRefusal

        try:
            return client.request("GET", _path(code))
        except RemoteRefusal as exc:
            if exc.status == 404 and "is not linked" in str(exc):
                return None
            raise
    from mltrl.services import mlflow_sync

    with session() as s:
        return mlflow_sync.link_record(s, code)


def _show(code: str, as_json: bool) -> None:
    record = _record(code)
    if as_json:
        say_json(record)
        return
    if record is None:
        say(f"{code}: not linked to an MLflow model")
        return
    say(f"{record['code']}: {record['model_name']} at {record['tracking_uri']} (deployed alias "
        f"{record['deployed_alias']}, webhook secret {'set' if record['has_webhook_secret'] else 'not set'})")
    say(f"  deployed version: {record['deployed_version'] or '-'}; last sync: {record['last_synced_at'] or 'never'}")
    if record["last_sync_error"]:
        say(f"  last webhook sync refused: {record['last_sync_error']}")
    if record["proposal"]:
        p = record["proposal"]
        say(f"  proposed: the deployed version moved from {p['from']} to {p['to']}; change to level 7? "
            f"(mltrl mlflow accept {record['code']} | mltrl mlflow dismiss {record['code']})")


@app.command("link")
def mlflow_link(
    code: CodeArgument,
    tracking_uri: Annotated[str, typer.Option("--tracking-uri", help="The tracking server's http(s) address.")],
    model: Annotated[str, typer.Option("--model", help="The registered model's name.")],
    deployed_alias: Annotated[str, typer.Option("--deployed-alias", help="The alias on the deployed version.")]
    = "champion",
    webhook_secret: Annotated[str | None, typer.Option(
        "--webhook-secret", help="The secret MLflow's webhook signs with (16-128 characters; '' removes it; "
                                 "left out: kept as it is).", show_default=False)] = None,
    as_json: JsonOption = False,
) -> None:
    """Link a technology to a registered model, or change its link."""
    extra = {} if webhook_secret is None else {"webhook_secret": webhook_secret}
    client = remote_client()
    if client is not None:
        client.request("PUT", _path(code), body={"tracking_uri": tracking_uri, "model_name": model,
                                                 "deployed_alias": deployed_alias, **extra})
        _show(code, as_json)
        return
    from mltrl.services import mlflow_sync

    with session() as s:
        mlflow_sync.link_model(session=s, actor=actor(), code=code, tracking_uri=tracking_uri, model_name=model,
                               deployed_alias=deployed_alias, **extra)
    _show(code, as_json)


@app.command("unlink")
def mlflow_unlink(code: CodeArgument) -> None:
    """Remove a technology's link (what the syncs recorded stays)."""
    client = remote_client()
    if client is not None:
        client.request("DELETE", _path(code))
    else:
        from mltrl.services import mlflow_sync

        with session() as s:
            mlflow_sync.unlink_model(session=s, actor=actor(), code=code)
    say(f"{code}: MLflow link removed")


@app.command("show")
def mlflow_show(code: CodeArgument, as_json: JsonOption = False) -> None:
    """A technology's link, its last sync and any pending proposal."""
    _show(code, as_json)


@app.command("sync")
def mlflow_sync_command(
    code: Annotated[str | None, typer.Argument(help="Project ID (default: every linked technology).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Read the linked model from MLflow: new versions become evidence, the card's table is updated."""
    client = remote_client()
    if client is not None and code:
        results = [client.request("POST", _path(code) + "/sync", body={})]
    else:
        from mltrl.services import mlflow_sync

        with session() as s:
            codes = [code] if code else mlflow_sync.linked_codes(s)
        results = []
        refused = 0
        for one in codes:  # each its own use case: one refused sync leaves the others' done
            try:
                with session() as s:
                    r = mlflow_sync.sync_model(session=s, actor=actor(), code=one)
            except MltrlError as exc:
                if code:
                    raise
                refused += 1
                say(f"{one}: refused: {exc}", err=True)
                continue
            results.append({"code": r.code, "model_name": r.model_name, "versions": list(r.versions),
                            "new_evidence": list(r.new_evidence), "card_changed": r.card_changed,
                            "deployed_version": r.deployed_version, "proposal": r.proposal})
        if refused:
            _said(results, as_json)
            raise typer.Exit(1)
    _said(results, as_json)


def _said(results: list[dict], as_json: bool) -> None:
    if as_json:
        say_json(results)
        return
    if not results:
        say("no technology synced (none is linked to an MLflow model, or every sync was refused)")
    for r in results:
        say(_summary(r))


def _summary(r: dict) -> str:
    """One sync in a line (the service's ``SyncResult.summary``, from the API's record too)."""
    new = r["new_evidence"]
    found = f"{len(new)} new ({', '.join(new)})" if new else "none new"
    text = (f"{r['code']}: {len(r['versions'])} version(s) of {r['model_name']} in MLflow, {found}; "
            f"card {'updated' if r['card_changed'] else 'unchanged'}")
    if r["proposal"]:
        text += (f"; the deployed version moved from {r['proposal']['from']} to {r['proposal']['to']}: "
                 "a change to level 7 is proposed")
    return text


@app.command("accept")
def mlflow_accept(code: CodeArgument) -> None:
    """Record the proposed change of the deployed version: the embedded switchback 9 -> 7."""
    from mltrl.services import mlflow_sync

    with session() as s:
        outcome = mlflow_sync.accept_proposal(session=s, actor=actor(), code=code)
        level = outcome.event.to_level
    say(f"{code}: the change of the deployed version is recorded; now at level {level}")


@app.command("dismiss")
def mlflow_dismiss(code: CodeArgument) -> None:
    """Drop the proposed change: the technology stays at its level."""
    from mltrl.services import mlflow_sync

    with session() as s:
        mlflow_sync.dismiss_proposal(session=s, actor=actor(), code=code)
    say(f"{code}: the proposal is dismissed; the level is unchanged")
