"""/api/v1/projects: technologies, level moves and cards, with every refusal kind."""

from __future__ import annotations

import re

from sqlmodel import select

from mltrl.models import AuditEntry, LevelEvent
from mltrl.services import Actor, level_moves, projects, reviews
from tests.api.conftest import auth, problem
from tests.factories import everything, make_project


def _add(client, code="R01.1", **extra):
    body = {"code": code, "name": f"Tech {code}", **extra}
    response = client.post("/api/v1/projects", json=body)
    assert response.status_code == 201, response.text
    return response


def test_add_then_read_a_project_with_its_system_level_and_components(client, session):
    added = _add(client, "S1", owners=["Ada", "Eve"])
    assert added.headers["location"] == "/api/v1/projects/S1"
    assert added.headers["etag"] == '"1"'
    _add(client, "S1.a", parent="S1")
    client.post("/api/v1/projects/S1/level/start", json={"level": 5}).raise_for_status()
    client.post("/api/v1/projects/S1.a/level/start", json={"level": 3}).raise_for_status()

    body = client.get("/api/v1/projects/S1").json()
    assert body["level"] == 5 and body["system_level"] == 3
    assert body["owners"] == ["Ada", "Eve"]
    assert body["components"] == [{"code": "S1.a", "name": "Tech S1.a", "level": 3}]
    assert projects.view_project(session, "S1").project.level == 5


def test_list_filters_and_pages(client):
    for n in range(1, 8):
        _add(client, f"P{n}", owners=["Ada"] if n % 2 else ["Bob"])
        client.post(f"/api/v1/projects/P{n}/level/start", json={"level": n}).raise_for_status()

    first = client.get("/api/v1/projects", params={"limit": 3})
    body = first.json()
    assert [r["code"] for r in body["items"]] == ["P1", "P2", "P3"]
    assert body["total"] == 7 and body["next"].endswith("limit=3&offset=3") or "offset=3" in body["next"]
    assert 'rel="next"' in first.headers["link"]
    last = client.get("/api/v1/projects", params={"limit": 3, "offset": 6}).json()
    assert [r["code"] for r in last["items"]] == ["P7"] and "next" not in last and "prev" in last

    assert [r["code"] for r in client.get("/api/v1/projects", params={"min_level": 3, "max_level": 4})
            .json()["items"]] == ["P3", "P4"]
    assert [r["code"] for r in client.get("/api/v1/projects", params={"owner": "bob"}).json()["items"]] == \
        ["P2", "P4", "P6"]
    assert client.get("/api/v1/projects", params={"q": "p5"}).json()["total"] == 1


def test_a_bad_query_parameter_is_a_problem_naming_it(client):
    body = problem(client.get("/api/v1/projects", params={"limit": 0}), 422)
    assert body["field"] == "limit"
    body = problem(client.get("/api/v1/projects", params={"level": "ten"}), 422)
    assert body["field"] == "level"


def test_edit_with_if_match_and_a_stale_version_is_409_with_the_current_version(client, engine):
    _add(client, "R01.1")
    changed = client.patch("/api/v1/projects/R01.1", json={"name": "Renamed"}, headers={"If-Match": '"1"'})
    assert changed.status_code == 200 and changed.json()["name"] == "Renamed"
    assert changed.headers["etag"] == '"2"'

    before = everything(engine)
    stale = problem(client.patch("/api/v1/projects/R01.1", json={"name": "Again"}, headers={"If-Match": '"1"'}), 409)
    assert stale["current_version"] == 2
    assert "version 1 -> 2" in stale["detail"]
    assert everything(engine) == before
    bad = problem(client.patch("/api/v1/projects/R01.1", json={"name": "x"}, headers={"If-Match": "yesterday"}), 422)
    assert bad["field"] == "If-Match"


def test_refusals_name_the_field_or_the_rule_and_write_nothing(client, engine):
    _add(client, "R01.1")
    before = everything(engine)
    assert problem(client.post("/api/v1/projects", json={"code": "R01.1", "name": "Dup"}), 422)["field"] == "code"
    assert problem(client.post("/api/v1/projects", json={"code": "bad code!", "name": "x"}), 422)["field"] == "code"
    assert problem(client.post("/api/v1/projects", json={"code": "X", "name": "x", "colour": "red"}),
                   422)["field"] == "colour"
    assert problem(client.post("/api/v1/projects", json={"name": "x"}), 422)["field"] == "code"
    assert problem(client.patch("/api/v1/projects/R01.1", json={"status": "sleeping"}), 422)["field"] == "status"
    rule = problem(client.post("/api/v1/projects/R01.1/level/graduate", json={}), 422)
    assert rule["rule"] and "rule" in rule["type"]
    assert problem(client.post("/api/v1/projects/R01.1/level/start", json={"level": 3, "at": "someday"}),
                   422)["field"] == "at"
    assert everything(engine) == before


def test_unknown_things_are_404_problems(client):
    assert "NOPE" in problem(client.get("/api/v1/projects/NOPE"), 404)["detail"]
    assert "/api/v1/docs" in problem(client.get("/api/v1/nothing-here"), 404)["detail"]
    assert problem(client.delete("/api/v1/projects"), 405)


def test_level_moves_are_recorded_and_audited_under_the_tokens_owner(client, session):
    _add(client, "R02.1")
    assert client.post("/api/v1/projects/R02.1/level/start", json={"level": 8, "at": "2026-01-05"}).status_code == 200
    moved = client.post("/api/v1/projects/R02.1/level/graduate", json={"note": "shipped"})
    assert moved.json()["event"]["to_level"] == 9 and moved.json()["project"]["level"] == 9
    back = client.post("/api/v1/projects/R02.1/level/deployed-change", json={"note": "v2"}).json()
    assert back["event"]["kind"] == "embedded" and back["project"]["level"] == 7
    client.post("/api/v1/projects/R02.1/level/switchback", json={"level": 5, "kind": "review"}).raise_for_status()
    history = client.get("/api/v1/projects/R02.1/history").json()
    assert [(e["from_level"], e["to_level"]) for e in history] == [(None, 8), (8, 9), (9, 7), (7, 5)]
    assert history[0]["at"].startswith("2026-01-05")

    rows = session.exec(select(AuditEntry).where(AuditEntry.entity == "levelevent")).all()
    assert {(a.actor, a.via) for a in rows} == {("eve", "token eve-script")}
    forked = client.post("/api/v1/projects/R02.1/fork", json={"new_code": "R02.2", "name": "Fork"})
    assert forked.status_code == 201 and forked.json()["level"] == 5


def test_a_level_move_with_a_stale_if_match_is_refused(client, engine):
    _add(client, "R01.1")
    client.post("/api/v1/projects/R01.1/level/start", json={"level": 2}).raise_for_status()
    before = everything(engine)
    assert problem(client.post("/api/v1/projects/R01.1/level/graduate", json={}, headers={"If-Match": '"1"'}),
                   409)["current_version"] == 2
    assert everything(engine) == before


def test_the_card_saved_read_as_json_markdown_a_revision_and_a_prior_level(client, session):
    _add(client, "R03.1")
    client.post("/api/v1/projects/R03.1/level/start", json={"level": 2}).raise_for_status()
    assert problem(client.get("/api/v1/projects/R03.1/card", params={"format": "markdown"}), 404)
    empty = client.get("/api/v1/projects/R03.1/card")
    assert empty.json()["revision"] == 0 and empty.headers["etag"] == '"0"'

    saved = client.put("/api/v1/projects/R03.1/card", json={"card": {"tldr": "First words."}, "summary": "init"},
                       headers={"If-Match": '"0"'})
    assert saved.status_code == 200 and saved.json()["revision"] == 1 and saved.headers["etag"] == '"1"'
    client.post("/api/v1/projects/R03.1/level/graduate", json={}).raise_for_status()
    client.put("/api/v1/projects/R03.1/card", json={"card": {"tldr": "Second words."}, "base_revision": 1})

    current = client.get("/api/v1/projects/R03.1/card").json()
    assert current["card"]["tldr"] == "Second words." and current["revision"] == 2
    markdown = client.get("/api/v1/projects/R03.1/card", params={"format": "markdown"})
    assert markdown.headers["content-type"].startswith("text/markdown") and "Second words." in markdown.text
    assert client.get("/api/v1/projects/R03.1/card", params={"revision": 1}).json()["card"]["tldr"] == "First words."
    prior = client.get("/api/v1/projects/R03.1/card", params={"level": 2}).json()
    assert prior["card"]["tldr"] == "First words." and prior["level"] == 2
    assert [r["revision"] for r in client.get("/api/v1/projects/R03.1/card/revisions").json()] == [2, 1]


def test_a_card_saved_on_a_stale_revision_is_409_and_nothing_is_saved(client, engine):
    _add(client, "R03.1")
    client.put("/api/v1/projects/R03.1/card", json={"card": {"tldr": "a"}, "base_revision": 0}).raise_for_status()
    client.put("/api/v1/projects/R03.1/card", json={"card": {"tldr": "b"}, "base_revision": 1}).raise_for_status()
    before = everything(engine)
    body = problem(client.put("/api/v1/projects/R03.1/card", json={"card": {"tldr": "c"}},
                              headers={"If-Match": '"1"'}), 409)
    assert body["current_version"] == 2 and "eve saved the card" in body["detail"]
    assert problem(client.put("/api/v1/projects/R03.1/card", json={"card": {"colour": "x"}}),
                   422)["field"] == "card.colour"
    assert everything(engine) == before


def test_roles_and_tokens(bare_client, team, engine, session):
    make_project(session, "R01.1", actor=Actor("eve"))
    level_moves.record_start(session=session, actor=Actor("eve"), code="R01.1", level=2)
    assert bare_client.get("/api/v1/projects", headers=auth(team.viewer)).json()["total"] == 1
    before = everything(engine)
    denied = problem(bare_client.post("/api/v1/projects/R01.1/level/graduate", json={},
                                      headers=auth(team.viewer)), 403)
    assert "viewer" in denied["detail"]
    missing = bare_client.get("/api/v1/projects")
    assert problem(missing, 401) and missing.headers["www-authenticate"].startswith("Bearer")
    assert problem(bare_client.get("/api/v1/projects", headers=auth("mltrl_forged")), 401)
    assert problem(bare_client.get("/api/v1/projects", headers={"Authorization": "Basic abc"}), 401)
    assert everything(engine) == before


def test_the_api_needs_a_token_in_single_user_mode_too(bare_client, session, engine):
    make_project(session, "R01.1", actor=Actor("me"))
    body = problem(bare_client.get("/api/v1/projects"), 401)
    assert "token" in body["detail"]
    assert session.exec(select(LevelEvent)).all() == []


def test_the_openapi_document_lists_every_endpoint(bare_client):
    document = bare_client.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    for path in ("/projects", "/projects/{code}", "/projects/{code}/history", "/projects/{code}/level/start",
                 "/projects/{code}/level/graduate", "/projects/{code}/level/switchback",
                 "/projects/{code}/level/deployed-change", "/projects/{code}/fork", "/projects/{code}/card",
                 "/projects/{code}/card/revisions"):
        assert path in paths, path
    assert document["components"]["securitySchemes"]["API token"] == {
        "type": "http", "scheme": "bearer",
        "description": "An API token (mltrl_...) from My account or `mltrl token create`."}
    assert paths["/projects"]["get"]["security"] == [{"API token": []}]
    docs = bare_client.get("/api/v1/docs")
    assert docs.status_code == 200 and "/api/v1/openapi.json" in docs.text
    assert "cdn" not in docs.text.lower()  # the UI's files come from this server
    for asset in re.findall(r'(?:src|href)="(/api/v1/docs-static/[^"]+)"', docs.text):
        assert bare_client.get(asset).status_code == 200, asset
    assert len(re.findall(r'"/api/v1/docs-static/', docs.text)) >= 2


CARD = """| Tech name (project ID) | Imported tech (N9.1) |
|---|---|
| Current Level | 2 |

## TL;DR
Arrived through the API.
"""


def test_import_a_card_as_markdown_and_restore_an_old_revision(client, session, engine):
    imported = client.post("/api/v1/cards/import", content=CARD.encode(), headers={"Content-Type": "text/markdown"})
    assert imported.status_code == 200, imported.text
    assert imported.json() == {"code": "N9.1", "created": True, "revision": 1, "warnings": [], "evidence_added": 0}
    assert projects.view_project(session, "N9.1").project.level == 2
    client.put("/api/v1/projects/N9.1/card", json={"card": {"tldr": "Rewritten."}}).raise_for_status()
    restored = client.post("/api/v1/projects/N9.1/card/revisions/1/restore", json={}, headers={"If-Match": '"2"'})
    assert restored.json()["revision"] == 3 and restored.headers["etag"] == '"3"'
    assert client.get("/api/v1/projects/N9.1/card").json()["card"]["tldr"] == "Arrived through the API."

    before = everything(engine)
    assert problem(client.post("/api/v1/cards/import", content=b""), 422)["field"] == "card"
    assert problem(client.post("/api/v1/cards/import", content=b"\xff\xfe"), 422)["field"] == "card"
    nameless = problem(client.post("/api/v1/cards/import", content=b"## TL;DR\nno table\n"), 422)
    assert nameless["field"] == "Tech name (project ID)"
    assert problem(client.post("/api/v1/projects/N9.1/card/revisions/9/restore", json={}), 404)
    assert everything(engine) == before


def test_a_hugging_face_model_card_out_and_back_in_through_the_api(client, session, engine):
    """format=hf gives the card as a Hugging Face model card (the evidence's metrics in its
    model-index); posting it to /cards/import saves the next revision and records no metric twice."""
    _add(client, "R03.1")
    client.post("/api/v1/projects/R03.1/level/start", json={"level": 4}).raise_for_status()
    client.put("/api/v1/projects/R03.1/card", json={"card": {"tldr": "First words."}}).raise_for_status()
    reviews.add_evidence(session=session, actor=Actor("eve"), code="R03.1", level=4, kind="mlflow-run", status="info",
                         title="Run 7", metrics={"accuracy": 0.93})
    model_card = client.get("/api/v1/projects/R03.1/card", params={"format": "hf"})
    assert model_card.status_code == 200 and model_card.headers["content-type"].startswith("text/markdown")
    assert model_card.text.startswith("---\n") and "value: 0.93" in model_card.text
    assert "First words." in model_card.text
    imported = client.post("/api/v1/cards/import", content=model_card.text.encode(),
                           headers={"Content-Type": "text/markdown"})
    assert imported.json() == {"code": "R03.1", "created": False, "revision": 2, "warnings": [], "evidence_added": 0}
    bad = model_card.text.replace("model-index:", "model-index: 7\nx:", 1)
    before = everything(engine)
    assert problem(client.post("/api/v1/cards/import", content=bad.encode()), 422)["field"] == "model-index"
    assert everything(engine) == before
