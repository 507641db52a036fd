"""/api/v1 registers: requirements and risks (list, one, add, edit, delete, review, accept), CSV
export and import, the 5x5 matrix, with every refusal kind and the walk of every write."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from mltrl.domain import csvcells, days
from mltrl.models import AuditEntry, RiskEvent
from mltrl.services import Actor, demo, level_moves, risks
from tests.api.conftest import auth, problem
from tests.api.walk_registers import walk
from tests.factories import everything, make_project

API = "/api/v1/projects"
FUTURE = (days.today() + timedelta(days=60)).isoformat()


@pytest.fixture
def tech(session):
    """R01.1 at level 3, with no register yet, added before the team exists."""
    make_project(session, "R01.1", actor=Actor("setup"))
    level_moves.record_start(session=session, actor=Actor("setup"), code="R01.1", level=3)
    return "R01.1"


def _requirement(client, number="1", code="R01.1", **extra):
    body = {"number": number, "statement": f"Requirement {number} holds.", "p_failure": 0.3, "value": 8, **extra}
    response = client.post(f"{API}/{code}/requirements", json=body)
    assert response.status_code == 201, response.text
    return response


def _risk(client, title="Data drift", code="R01.1", **extra):
    body = {"title": title, "category": "data", "p_failure": 0.5, "value": 8, **extra}
    response = client.post(f"{API}/{code}/risks", json=body)
    assert response.status_code == 201, response.text
    return response


# --- requirements -------------------------------------------------------------------------------


def test_add_read_edit_and_delete_a_requirement(tech, client, session):
    added = _requirement(client, "1.2", p_failure="40%", verification_method="Unit tests")
    assert added.headers["location"] == f"{API}/R01.1/requirements/1.2"
    assert added.headers["etag"] == '"1"'
    body = added.json()
    assert body["number"] == "1.2" and body["p_failure"] == 0.4 and body["value"] == 8
    assert body["risk"] == 3.2 and body["grade"] == "high" and body["version"] == 1
    assert body["kind"] == "research" and body["level"] == 3  # by the technology's level
    assert body["verification_status"] == "not started" and body["created_by"] == "eve"
    assert body["created_at"].endswith("+00:00")

    one = client.get(f"{API}/R01.1/requirements/1.2")
    assert one.json() == body and one.headers["etag"] == '"1"'

    edited = client.patch(f"{API}/R01.1/requirements/1.2", json={"statement": "Now sharper.", "value": 10},
                          headers={"If-Match": '"1"'})
    assert edited.status_code == 200, edited.text
    assert edited.headers["etag"] == '"2"'
    assert edited.json()["statement"] == "Now sharper." and edited.json()["risk"] == 4.0
    renumbered = client.patch(f"{API}/R01.1/requirements/1.2", json={"number": "2", "version": 2})
    assert renumbered.json()["number"] == "2" and renumbered.json()["version"] == 3

    assert client.delete(f"{API}/R01.1/requirements/2", headers={"If-Match": '"3"'}).status_code == 204
    assert problem(client.get(f"{API}/R01.1/requirements/2"), 404)
    assert risks.requirements(session, "R01.1") == []
    actions = [a.action for a in session.exec(select(AuditEntry).where(AuditEntry.entity == "requirement"))]
    assert actions == ["create", "update", "update", "delete"]


def test_requirements_are_listed_in_number_order_in_pages(tech, client):
    for number in ["2", "1.10", "1.2", "1"]:
        _requirement(client, number)
    whole = client.get(f"{API}/R01.1/requirements").json()
    assert [r["number"] for r in whole["items"]] == ["1", "1.2", "1.10", "2"]
    assert whole["total"] == 4 and whole["limit"] == 500 and "next" not in whole

    first = client.get(f"{API}/R01.1/requirements", params={"limit": 3})
    assert [r["number"] for r in first.json()["items"]] == ["1", "1.2", "1.10"]
    assert "offset=3" in first.json()["next"] and 'rel="next"' in first.headers["link"]
    rest = client.get(first.json()["next"]).json()
    assert [r["number"] for r in rest["items"]] == ["2"] and "prev" in rest
    assert problem(client.get(f"{API}/R01.1/requirements", params={"limit": 501}), 422)["field"] == "limit"


# --- risks --------------------------------------------------------------------------------------


def test_add_read_edit_review_and_accept_a_risk(tech, client, session):
    _requirement(client, "1")
    added = _risk(client, requirement="1", owner="Ines", mitigation="Monitor")
    risk_id = added.json()["id"]
    assert added.headers["location"] == f"{API}/R01.1/risks/{risk_id}"
    assert added.headers["etag"] == '"1"'
    body = added.json()
    assert body["risk"] == 4.0 and body["grade"] == "high" and body["status"] == "open"
    assert body["requirement"] == "1" and body["component"] is None and body["owner"] == "Ines"
    assert body["next_review"] > body["last_reviewed_at"] and body["review_overdue"] is False
    assert body["accepted_until"] is None

    _risk(client, "Tiny", p_failure=0.1, value=1)
    listed = client.get(f"{API}/R01.1/risks").json()
    assert [r["title"] for r in listed["items"]] == ["Data drift", "Tiny"] and listed["total"] == 2
    assert client.get(f"{API}/R01.1/risks/{risk_id}").json() == body

    edited = client.patch(f"{API}/R01.1/risks/{risk_id}", json={"p_failure": "90%", "status": "mitigating"},
                          headers={"If-Match": '"1"'})
    assert edited.status_code == 200, edited.text
    assert edited.headers["etag"] == '"2"' and edited.json()["grade"] == "critical"
    assert edited.json()["status"] == "mitigating" and edited.json()["requirement"] == "1"

    reviewed = client.post(f"{API}/R01.1/risks/{risk_id}/reviewed", headers={"If-Match": '"2"'})
    assert reviewed.status_code == 200 and reviewed.json()["version"] == 3
    accepted = client.post(f"{API}/R01.1/risks/{risk_id}/accept",
                           json={"reason": "Cheaper to live with", "until": FUTURE, "version": 3})
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["status"] == "accepted" and body["accepted_by"] == "eve"
    assert body["accepted_reason"] == "Cheaper to live with"
    assert body["accepted_until"] == f"{FUTURE}T23:59:59.999999+00:00"  # until the end of that day
    assert body["next_review"] <= body["accepted_until"]

    history = client.get(f"{API}/R01.1/risks/{risk_id}/history").json()
    assert [(e["action"], e["status"], e["p_failure"]) for e in history] == [
        ("create", "open", 0.5), ("update", "mitigating", 0.9), ("review", "mitigating", 0.9),
        ("accept", "accepted", 0.9)]
    assert {e.actor for e in session.exec(select(RiskEvent))} == {"eve"}


# --- refusals -----------------------------------------------------------------------------------


def test_bad_fields_are_422_naming_the_field_and_write_nothing(tech, client, engine):
    _requirement(client, "1")
    risk_id = _risk(client, requirement="1").json()["id"]
    before = everything(engine)
    requirements = f"{API}/R01.1/requirements"
    cases = [
        (client.post(requirements, json={"number": "2", "statement": "x", "p_failure": 1.5, "value": 3}), "p_failure"),
        (client.post(requirements, json={"number": "2", "statement": "x", "p_failure": True, "value": 3}), "p_failure"),
        (client.post(requirements, json={"number": "2", "statement": "x", "p_failure": 0.1, "value": 11}), "value"),
        (client.post(requirements, json={"number": "2.x", "statement": "x", "p_failure": 0.1, "value": 3}), "number"),
        (client.post(requirements, json={"number": "1", "statement": "dup", "p_failure": 0.1, "value": 3}), "number"),
        (client.post(requirements, json={"number": "2", "statement": " ", "p_failure": 0.1, "value": 3}), "statement"),
        (client.post(requirements, json={"number": "2", "statement": "x", "p_failure": 0.1, "value": 3,
                                         "kind": "dream"}), "kind"),
        (client.post(requirements, json={"number": "2", "statement": "x", "p_failure": 0.1, "value": 3,
                                         "colour": "red"}), "colour"),
        (client.post(requirements, json={"number": "2", "p_failure": 0.1, "value": 3}), "statement"),
        (client.patch(f"{requirements}/1", json={"level": 12}), "level"),
        (client.patch(f"{requirements}/1", json={"statement": None}), "statement"),
        (client.patch(f"{requirements}/1", json={"value": 3}, headers={"If-Match": "yesterday"}), "If-Match"),
        (client.delete(f"{requirements}/1"), "number"),  # a risk is linked to it
        (client.post(f"{API}/R01.1/risks", json={"title": "x", "category": "weather", "p_failure": 0.1,
                                                 "value": 2}), "category"),
        (client.post(f"{API}/R01.1/risks", json={"title": "x", "category": "data", "p_failure": 0.1,
                                                 "value": 2, "status": "accepted"}), "status"),
        (client.post(f"{API}/R01.1/risks", json={"title": "x", "category": "data", "p_failure": 0.1,
                                                 "value": 2, "requirement": "9"}), "requirement"),
        (client.post(f"{API}/R01.1/risks", json={"title": "x", "category": "data", "p_failure": 0.1,
                                                 "value": 2, "component": "NOPE"}), "component"),
        (client.patch(f"{API}/R01.1/risks/{risk_id}", json={"status": "accepted"}), "status"),
        (client.patch(f"{API}/R01.1/risks/{risk_id}", json={"value": "ten"}), "value"),
        (client.post(f"{API}/R01.1/risks/{risk_id}/accept", json={"reason": "ok", "until": "2001-01-01"}), "until"),
        (client.post(f"{API}/R01.1/risks/{risk_id}/accept", json={"reason": "ok", "until": "soon"}), "until"),
        (client.post(f"{API}/R01.1/risks/{risk_id}/accept", json={"reason": " ", "until": FUTURE}), "reason"),
        (client.post(f"{API}/R01.1/risks/{risk_id}/accept", json={"until": FUTURE}), "reason"),
        (client.post(f"{API}/R01.1/risks/{risk_id}/reviewed", json={"version": 1},
                     headers={"If-Match": '"2"'}), "version"),
    ]
    for response, field in cases:
        assert problem(response, 422)["field"] == field, (field, response.text)
    assert everything(engine) == before


def test_unknown_codes_numbers_and_ids_are_404(tech, client, session):
    _requirement(client, "1")
    risk_id = _risk(client).json()["id"]
    make_project(session, "R02.1", actor=Actor("eve"))
    assert "NOPE" in problem(client.get(f"{API}/NOPE/requirements"), 404)["detail"]
    assert problem(client.get(f"{API}/NOPE/risks"), 404)
    assert problem(client.post(f"{API}/NOPE/risks", json={"title": "x", "category": "data", "p_failure": 0.1,
                                                          "value": 2}), 404)
    assert problem(client.get(f"{API}/NOPE/risk-matrix"), 404)
    assert problem(client.get(f"{API}/NOPE/risks.csv"), 404)
    assert problem(client.post(f"{API}/NOPE/requirements/import", content="number,statement,p_failure,value\n"), 404)
    assert "no requirement 7" in problem(client.get(f"{API}/R01.1/requirements/7"), 404)["detail"]
    assert problem(client.patch(f"{API}/R01.1/requirements/7", json={"value": 3}), 404)
    assert problem(client.delete(f"{API}/R01.1/requirements/7"), 404)
    assert problem(client.get(f"{API}/R01.1/risks/{risk_id + 100}"), 404)
    assert problem(client.patch(f"{API}/R01.1/risks/{risk_id + 100}", json={"value": 3}), 404)
    assert problem(client.post(f"{API}/R01.1/risks/{risk_id + 100}/reviewed"), 404)
    assert problem(client.post(f"{API}/R01.1/risks/{risk_id + 100}/accept", json={"reason": "r", "until": FUTURE}), 404)
    assert problem(client.get(f"{API}/R02.1/risks/{risk_id}"), 404)  # a risk of another technology
    assert problem(client.patch(f"{API}/R02.1/risks/{risk_id}", json={"value": 3}), 404)
    assert problem(client.get(f"{API}/R02.1/risks/{risk_id}/history"), 404)
    assert problem(client.get(f"{API}/R01.1/risks/first"), 422)["field"] == "risk_id"


def test_a_stale_if_match_is_409_with_the_current_version_and_writes_nothing(tech, client, engine):
    _requirement(client, "1")
    risk_id = _risk(client).json()["id"]
    client.patch(f"{API}/R01.1/requirements/1", json={"value": 9}).raise_for_status()
    client.patch(f"{API}/R01.1/risks/{risk_id}", json={"value": 9}).raise_for_status()
    before = everything(engine)
    stale = {"If-Match": '"1"'}
    for response in [
        client.patch(f"{API}/R01.1/requirements/1", json={"value": 3}, headers=stale),
        client.patch(f"{API}/R01.1/requirements/1", json={"value": 3, "version": 1}),
        client.delete(f"{API}/R01.1/requirements/1", headers=stale),
        client.patch(f"{API}/R01.1/risks/{risk_id}", json={"value": 3}, headers=stale),
        client.post(f"{API}/R01.1/risks/{risk_id}/reviewed", headers=stale),
        client.post(f"{API}/R01.1/risks/{risk_id}/accept", json={"reason": "r", "until": FUTURE}, headers=stale),
    ]:
        body = problem(response, 409)
        assert body["current_version"] == 2 and "version 1 -> 2" in body["detail"], response.text
    assert everything(engine) == before


def test_roles_and_tokens(tech, bare_client, team, session, engine):
    eve = Actor("eve")
    risks.add_requirement(session=session, actor=eve, code="R01.1", number="1", statement="x", p_failure=0.1, value=3)
    risk_id = risks.add_risk(session=session, actor=eve, code="R01.1", title="x", category="data", p_failure=0.1,
                             value=3).id
    viewer = auth(team.viewer)
    assert bare_client.get(f"{API}/R01.1/requirements", headers=viewer).json()["total"] == 1
    assert bare_client.get(f"{API}/R01.1/risks/{risk_id}", headers=viewer).status_code == 200
    assert bare_client.get("/api/v1/risk-matrix", headers=viewer).status_code == 200
    before = everything(engine)  # after the viewer's token was first used (its last use is kept)
    writes = [
        ("POST", f"{API}/R01.1/requirements", {"json": {"number": "2", "statement": "x", "p_failure": 0.1, "value": 3}}),
        ("PATCH", f"{API}/R01.1/requirements/1", {"json": {"value": 3}}),
        ("DELETE", f"{API}/R01.1/requirements/1", {}),
        ("POST", f"{API}/R01.1/risks", {"json": {"title": "x", "category": "data", "p_failure": 0.1, "value": 2}}),
        ("PATCH", f"{API}/R01.1/risks/{risk_id}", {"json": {"value": 3}}),
        ("POST", f"{API}/R01.1/risks/{risk_id}/reviewed", {}),
        ("POST", f"{API}/R01.1/risks/{risk_id}/accept", {"json": {"reason": "r", "until": FUTURE}}),
        ("POST", f"{API}/R01.1/requirements/import", {"content": "number,statement,p_failure,value\n2,x,0.1,3\n"}),
        ("POST", f"{API}/R01.1/risks/import", {"content": "title,category,p_failure,value\nx,data,0.1,3\n"}),
    ]
    for method, path, kwargs in writes:
        denied = problem(bare_client.request(method, path, headers=viewer, **kwargs), 403)
        assert "viewer" in denied["detail"], path
        missing = bare_client.request(method, path, **kwargs)
        assert problem(missing, 401) and missing.headers["www-authenticate"].startswith("Bearer")
    assert problem(bare_client.get(f"{API}/R01.1/risks"), 401)
    assert problem(bare_client.get(f"{API}/R01.1/requirements.csv", headers=auth("mltrl_forged")), 401)
    assert everything(engine) == before


# --- CSV files ----------------------------------------------------------------------------------


def test_import_and_export_the_registers_as_csv(tech, client, session):
    _requirement(client, "1")
    text = ("number,statement,p_failure,value,verification_status\n"
            "1,Updated by the file.,0.2,4,passed\n"
            "2,Added by the file.,30%,7,\n")
    imported = client.post(f"{API}/R01.1/requirements/import", content=text, headers={"Content-Type": "text/csv"})
    assert imported.status_code == 200, imported.text
    assert imported.json() == {"added": 1, "updated": 1}
    rows = {r.number: r for r in risks.requirements(session, "R01.1")}
    assert rows["1"].statement == "Updated by the file." and rows["1"].verification_status == "passed"
    assert rows["2"].p_failure == 0.3

    risks_text = ("title,category,p_failure,value,requirement,status,accepted_by,accepted_reason,accepted_until\n"
                  "Label noise,data,0.4,6,2,,,,\n"
                  f"Vendor lock-in,project/business,0.2,3,,accepted,Grace,Cheap to leave,{FUTURE}\n")
    imported = client.post(f"{API}/R01.1/risks/import", content=risks_text.encode(),
                           headers={"Content-Type": "text/csv; charset=utf-8"})
    assert imported.json() == {"added": 2, "updated": 0}, imported.text
    listed = {r["title"]: r for r in client.get(f"{API}/R01.1/risks").json()["items"]}
    assert listed["Label noise"]["requirement"] == "2"
    assert listed["Vendor lock-in"]["status"] == "accepted" and listed["Vendor lock-in"]["accepted_by"] == "Grace"

    exported = client.get(f"{API}/R01.1/requirements.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    assert 'filename="R01.1-requirements.csv"' in exported.headers["content-disposition"]
    assert exported.text == risks.export_requirements(session, "R01.1")
    assert exported.text.splitlines()[0].startswith("number,kind,statement")
    risk_file = client.get(f"{API}/R01.1/risks.csv").text
    assert "Vendor lock-in" in risk_file and FUTURE in risk_file
    again = client.post(f"{API}/R01.1/risks/import", content=risk_file, headers={"Content-Type": "text/csv"})
    assert again.json() == {"added": 0, "updated": 2}
    assert client.get(f"{API}/R01.1/risks.csv").text == risk_file


def test_a_bad_file_is_422_listing_every_row_and_nothing_is_written(tech, client, engine, monkeypatch):
    _requirement(client, "1")
    before = everything(engine)
    text = ("number,statement,p_failure,value\n"
            "2,Fine.,0.2,4\n"
            "3,Too likely.,1.7,4\n"
            "4,,0.2,4\n"
            "2,Twice.,0.2,4\n")
    body = problem(client.post(f"{API}/R01.1/requirements/import", content=text,
                               headers={"Content-Type": "text/csv"}), 422)
    assert body["field"] == "requirements file" and "nothing was imported" in body["detail"]
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(3, "p_failure"), (4, "statement"), (5, "number")]
    assert all(e["reason"] for e in body["errors"])

    bad_risks = "title,category,p_failure,value\nA,weather,0.2,4\nB,data,0.2,99\n"
    body = problem(client.post(f"{API}/R01.1/risks/import", content=bad_risks), 422)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(2, "category"), (3, "value")]

    assert "colour" in problem(client.post(f"{API}/R01.1/requirements/import", content="colour\nred\n"),
                               422)["detail"]
    assert problem(client.post(f"{API}/R01.1/requirements/import", content=""), 422)["field"] == "requirements file"
    assert problem(client.post(f"{API}/R01.1/requirements/import", content=b"number\n\xff\xfe\n"),
                   422)["field"] == "requirements file"
    wrong_type = client.post(f"{API}/R01.1/requirements/import", json={"text": "number\n1\n"})
    assert problem(wrong_type, 422)["field"] == "Content-Type"
    monkeypatch.setattr(csvcells, "FILE_MAX_BYTES", 64)
    too_big = problem(client.post(f"{API}/R01.1/risks/import", content="title,category,p_failure,value\n" + "x" * 100),
                      422)
    assert too_big["field"] == "risks file" and "MB" in too_big["detail"]
    assert everything(engine) == before


# --- the matrix ---------------------------------------------------------------------------------


def test_matrix_counts_of_a_technology_and_of_the_portfolio(tech, client, session):
    make_project(session, "R02.1", actor=Actor("eve"))
    level_moves.record_start(session=session, actor=Actor("eve"), code="R02.1", level=7)
    _risk(client, "A", p_failure=0.9, value=10)
    _risk(client, "B", p_failure=0.9, value=9, category="ethics")
    closed = _risk(client, "C", p_failure=0.1, value=1).json()["id"]
    client.patch(f"{API}/R01.1/risks/{closed}", json={"status": "closed"}).raise_for_status()
    _risk(client, "D", code="R02.1", p_failure=0.1, value=2)
    _requirement(client, "1", p_failure=0.5, value=5)

    mine = client.get(f"{API}/R01.1/risk-matrix").json()
    assert mine["code"] == "R01.1" and mine["total"] == 2 and len(mine["cells"]) == 25
    assert mine["axes"]["p_band"]["labels"][4] == "0.8-1" and mine["axes"]["value_band"]["name"] == "value"
    top = next(c for c in mine["cells"] if (c["p_band"], c["value_band"]) == (5, 5))
    assert top == {"p_band": 5, "value_band": 5, "count": 2, "grade": "critical"}
    assert client.get(f"{API}/R01.1/risk-matrix", params={"category": "Ethics"}).json()["total"] == 1

    req = client.get(f"{API}/R01.1/risk-matrix", params={"requirements_matrix": "true"}).json()
    assert req["total"] == 1 and req["of"] == "requirements"
    assert next(c for c in req["cells"] if c["count"])["p_band"] == 3

    portfolio = client.get("/api/v1/risk-matrix").json()
    assert portfolio["code"] is None and portfolio["total"] == 3
    assert client.get("/api/v1/risk-matrix", params={"level": [7]}).json()["total"] == 1
    assert client.get("/api/v1/risk-matrix", params={"phase": "prototyping"}).json()["total"] == 2
    assert client.get("/api/v1/risk-matrix", params={"phase": "research", "level": 7}).json()["total"] == 1
    assert problem(client.get("/api/v1/risk-matrix", params={"category": "weather"}), 422)["field"] == "category"
    assert problem(client.get("/api/v1/risk-matrix", params={"phase": "dreaming"}), 422)["field"].startswith("phase")
    assert problem(client.get("/api/v1/risk-matrix", params={"level": 10}), 422)["field"].startswith("level")


# --- the walk and the document ------------------------------------------------------------------


@pytest.fixture
def demo_client(session, request):
    """The demo portfolio loaded before the team exists (it loads in single-user mode), and the
    editor's client."""
    demo.load_demo(session=session, actor=Actor("demo"))
    return request.getfixturevalue("client")


def test_the_walk_succeeds_for_an_editor(demo_client, session):
    steps = walk(session)
    assert {service.__name__ for service, *_ in steps} == {
        "add_requirement", "update_requirement", "delete_requirement", "add_risk", "update_risk", "review_risk",
        "accept_risk", "import_requirements", "import_risks"}
    for service, method, path, kwargs in steps:
        response = demo_client.request(method, "/api/v1" + path, **kwargs)
        assert 200 <= response.status_code < 300, (service.__name__, response.text)
    assert [r.number for r in risks.requirements(session, "P03.1")] == ["1", "1.1", "2", "3", "4"]
    assert {r.number for r in risks.requirements(session, "R10.1")} == {"1", "2", "2.1", "3"}


def test_the_openapi_document_lists_the_registers(bare_client):
    document = bare_client.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    for path in ("/projects/{code}/requirements", "/projects/{code}/requirements/{number}",
                 "/projects/{code}/requirements/import", "/projects/{code}/requirements.csv",
                 "/projects/{code}/risks", "/projects/{code}/risks/{risk_id}", "/projects/{code}/risks/{risk_id}/history",
                 "/projects/{code}/risks/{risk_id}/reviewed", "/projects/{code}/risks/{risk_id}/accept",
                 "/projects/{code}/risks/import", "/projects/{code}/risks.csv", "/projects/{code}/risk-matrix",
                 "/risk-matrix"):
        assert path in paths, path
    assert "text/csv" in paths["/projects/{code}/risks/import"]["post"]["requestBody"]["content"]
    summaries = [op["summary"] for p in paths.values() for op in p.values() if "registers" in op.get("tags", [])]
    assert all(len(s) <= 90 for s in summaries), summaries
