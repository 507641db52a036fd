"""The CLI as a client of a running dashboard: with ``MLTRL_SERVER`` and ``MLTRL_TOKEN`` (or
``--server`` and ``--token``) the commands below act through the HTTP API (``/api/v1``) instead of
a local database file, so a CI job can ``pip install`` the package and run
``mltrl level graduate R02.1`` against the team's server. The token decides who acts (its owner,
never above its role); ``--as`` and ``MLTRL_USER`` are not used.

Remote: ``project list|add``, ``fork``, ``level start|graduate|switchback|deployed-change|history``,
``card export`` (Markdown) ``|import|history``, ``requirements|risks import|export``,
``risks matrix``, ``review open|vote``, ``okr add|kr|checkin``. The other commands administer the
server's own database (``db``, ``demo``, ``user``, ``token``, ``export``/``import``, ...) and
refuse with a clear message when a server is set: run them on the server.

Refusals come back as the server's problem answers and are reported like local ones: the same
message, exit 1. Only the standard library is used (``urllib``), so start-up stays light.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from mltrl.domain.errors import InvalidInput, MltrlError

TIMEOUT = 60  # seconds for one request: a level move or a card save takes milliseconds

class RemoteRefusal(MltrlError):
    """The server refused the request; ``status`` is its HTTP status, the message its ``detail``."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class NotRemote(MltrlError):
    """A command that works on a local database only was run with a server set."""


@dataclass(frozen=True)
class Client:
    server: str
    token: str

    def request(self, method: str, path: str, *, body: Any = None, text: str | None = None,
                content_type: str = "application/json", params: dict[str, Any] | None = None,
                raw: bool = False) -> Any:
        url = self.server + "/api/v1" + path
        query = {k: v for k, v in (params or {}).items() if v is not None}
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json, text/*",
                   "User-Agent": "mltrl-cli"}
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        elif text is not None:
            data = text.encode("utf-8")
            headers["Content-Type"] = content_type
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
                payload = answer.read()
                kind = answer.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            raise _refusal(exc) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise MltrlError(f"cannot reach the dashboard at {self.server}: {reason}") from None
        if raw or not kind.startswith("application/json"):
            return payload.decode("utf-8")
        return json.loads(payload) if payload else None


def _refusal(exc: urllib.error.HTTPError) -> MltrlError:
    try:
        body = json.loads(exc.read() or b"{}")
    except ValueError:
        body = {}
    detail = body.get("detail") if isinstance(body, dict) else None
    if not detail:
        detail = f"the server answered {exc.code} {exc.reason}"
        if exc.code == 404:
            detail += " (is MLTRL_SERVER the dashboard's address?)"
    return RemoteRefusal(str(detail), exc.code)


def _check_server(value: str) -> str:
    parts = urllib.parse.urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput("--server", f"{value!r} is not a dashboard address: give http(s)://host[:port]")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def configured(server: str | None = None, token: str | None = None) -> Client | None:
    """The client when a server is set (``--server`` or ``MLTRL_SERVER``), else ``None``."""
    server = server or os.environ.get("MLTRL_SERVER") or ""
    if not server.strip():
        return None
    token = token or os.environ.get("MLTRL_TOKEN") or ""
    if not token.strip():
        raise InvalidInput("--token", "a server is set (MLTRL_SERVER or --server) but no API token: set "
                                      "MLTRL_TOKEN (create one on My account or with `mltrl token create`)")
    return Client(_check_server(server), token.strip())


def local_only(command: str = "this command") -> NotRemote:
    return NotRemote(f"{command} works on a local database only and a server is set (MLTRL_SERVER or --server): "
                     "run it on the server, or unset MLTRL_SERVER")


# --- results shaped like the services' ------------------------------------------------------------

_DATETIME_KEYS = {"at", "saved_at", "created_at", "updated_at", "level_since", "left_at", "decided_at", "opened_at"}


def _value(key: str, value: Any) -> Any:
    if isinstance(value, str) and (key in _DATETIME_KEYS or key.endswith("_at")):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    if key == "due" and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def shaped(data: Any) -> Any:
    """A JSON answer as attributes (``row.id``, ``outcome.event.to_level``), dates parsed."""
    if isinstance(data, dict):
        return SimpleNamespace(**{k: shaped(_value(k, v)) for k, v in data.items()})
    if isinstance(data, list):
        return [shaped(v) for v in data]
    return data


def _event(data: dict[str, Any]) -> SimpleNamespace:
    label = data["kind"]
    switchback = label not in ("start", "graduation")
    return SimpleNamespace(at=datetime.fromisoformat(data["at"]), from_level=data["from_level"],
                           to_level=data["to_level"], note=data.get("note"),
                           kind="switchback" if switchback else label,
                           switchback_kind=label if switchback else None)


def _moved(answer: dict[str, Any]) -> SimpleNamespace:
    return SimpleNamespace(event=_event(answer["event"]), warnings=tuple(answer.get("warnings", ())))


def _at(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def _q(code: str) -> str:
    return urllib.parse.quote(str(code), safe="")


# --- writes: one request per use case --------------------------------------------------------------


def write(client: Client, name: str, kw: dict[str, Any]) -> Any:
    """Run the write use case ``name`` with the CLI's keyword arguments through the API."""
    code = _q(kw["code"]) if "code" in kw and kw["code"] is not None else None
    if name == "add_project":
        return shaped(client.request("POST", "/projects", body={
            "code": kw["code"], "name": kw["name"], "summary": kw.get("summary", ""),
            "parent": kw.get("parent_code"), "owners": list(kw.get("owners") or [])}))
    if name == "record_start":
        return _moved(client.request("POST", f"/projects/{code}/level/start", body={
            "level": kw["level"], "at": _at(kw.get("at")), "note": kw.get("note")}))
    if name == "graduate":
        return _moved(client.request("POST", f"/projects/{code}/level/graduate", body={
            "at": _at(kw.get("at")), "note": kw.get("note")}))
    if name == "switch_back":
        return _moved(client.request("POST", f"/projects/{code}/level/switchback", body={
            "level": kw["level"], "kind": kw.get("kind"), "at": _at(kw.get("at")), "note": kw.get("note")}))
    if name == "change_deployed_version":
        return _moved(client.request("POST", f"/projects/{code}/level/deployed-change",
                                     body={"note": kw.get("note", "")}))
    if name == "fork":
        return shaped(client.request("POST", f"/projects/{code}/fork", body={
            "new_code": kw["new_code"], "name": kw["name"], "note": kw.get("note", "")}))
    if name == "import_card":
        answer = client.request("POST", "/cards/import", text=kw["text"], content_type="text/markdown",
                                params={"project": kw.get("code") or None, "summary": kw.get("summary") or None})
        return SimpleNamespace(code=answer["code"], created=answer["created"], number=answer["revision"],
                               warnings=tuple(answer["warnings"]),
                               evidence_added=answer.get("evidence_added", 0))
    if name in ("import_requirements", "import_risks"):
        register = "requirements" if name == "import_requirements" else "risks"
        return shaped(client.request("POST", f"/projects/{code}/{register}/import", text=kw["text"],
                                     content_type="text/csv"))
    if name == "open_review":
        return shaped(client.request("POST", f"/projects/{code}/reviews", body={"panel": list(kw.get("panel") or [])}))
    if name == "cast_vote":
        return shaped(client.request("POST", f"/reviews/{int(kw['review_id'])}/votes",
                                     body={"vote": kw["vote"], "comment": kw.get("comment", "")}))
    if name == "add_objective":
        return shaped(client.request("POST", "/okrs/objectives", body={
            "quarter": kw["quarter"], "title": kw["title"], "owner": kw.get("owner", "")}))
    if name == "add_key_result":
        return shaped(client.request("POST", f"/okrs/objectives/{int(kw['objective_id'])}/key-results", body={
            "code": kw["code"], "target_level": kw["target_level"], "due": _at(kw.get("due")),
            "owner": kw.get("owner", ""), "note": kw.get("note", "")}))
    if name == "check_in":
        return shaped(client.request("POST", f"/okrs/key-results/{int(kw['key_result_id'])}/check-ins", body={
            "comment": kw["comment"], "confidence": kw["confidence"], "at": _at(kw.get("at"))}))
    raise local_only()
