"""/api/v1/okrs and /api/v1/analytics: objectives, key results, check-ins, copies, the quarterly
report and time per level, with every refusal kind and nothing written on refusal."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd

from mltrl.api.okrs import plain
from mltrl.services import Actor, level_moves, okrs
from tests.api.conftest import auth, problem
from tests.factories import everything, make_project

ADMIN = Actor("ada")


def _history(session, code: str, steps: list[tuple[str, int | None, str]]) -> None:
    """(kind, level, ISO day) steps: start / graduation."""
    make_project(session, code, actor=ADMIN)
    for kind, level, when in steps:
        at = datetime.fromisoformat(when).replace(tzinfo=UTC)
        if kind == "start":
            level_moves.record_start(session=session, actor=ADMIN, code=code, level=level, at=at)
        else:
            level_moves.graduate(session=session, actor=ADMIN, code=code, at=at)


def _objective(client, quarter="2027-Q1", title="Ship it", **extra) -> dict:
    response = client.post("/api/v1/okrs/objectives", json={"quarter": quarter, "title": title, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def _key_result(client, objective_id: int, code="R01.1", level=4, **extra) -> dict:
    response = client.post(f"/api/v1/okrs/objectives/{objective_id}/key-results",
                           json={"code": code, "target_level": level, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def _warm(bare_client, *tokens: str) -> None:
    """Use each token once: the first use of the minute is noted (a write) before a snapshot."""
    for token in tokens:
        assert bare_client.get("/api/v1/okrs/quarters", headers=auth(token)).status_code == 200


def test_objectives_key_results_and_check_ins(client, session):
    make_project(session, "R01.1", actor=ADMIN)
    added = client.post("/api/v1/okrs/objectives", json={"quarter": " 2027-q1 ", "title": "Ship it", "owner": "Ada"})
    assert added.status_code == 201, added.text
    objective = added.json()
    assert added.headers["location"] == f"/api/v1/okrs/objectives/{objective['id']}"
    assert added.headers["etag"] == '"1"'
    assert objective["quarter"] == "2027-Q1" and objective["key_results"] == [] and objective["created_by"] == "eve"

    kr_response = client.post(f"/api/v1/okrs/objectives/{objective['id']}/key-results",
                              json={"code": "R01.1", "target_level": 4, "owner": "Bo", "note": "first"})
    assert kr_response.status_code == 201
    kr = kr_response.json()
    assert kr_response.headers["location"] == f"/api/v1/okrs/key-results/{kr['id']}"
    assert (kr["code"], kr["target_level"], kr["due"], kr["version"]) == ("R01.1", 4, "2027-03-31", 1)
    late = _key_result(client, objective["id"], level=5, due="2027-02-15")
    assert late["due"] == "2027-02-15" and late["position"] == 1

    checked = client.post(f"/api/v1/okrs/key-results/{kr['id']}/check-ins",
                          json={"comment": "Going well", "confidence": 7, "at": "2026-01-15"})
    assert checked.status_code == 201, checked.text
    assert checked.json()["confidence"] == 7 and checked.json()["author"] == "eve"
    assert checked.json()["at"].startswith("2026-01-15")
    client.post(f"/api/v1/okrs/key-results/{kr['id']}/check-ins", json={"comment": "Slower", "confidence": 4})

    assert client.get("/api/v1/okrs/quarters").json() == ["2027-Q1"]
    listed = client.get("/api/v1/okrs", params={"quarter": "2027-Q1"}).json()
    assert [o["id"] for o in listed] == [objective["id"]]
    assert [k["id"] for k in listed[0]["key_results"]] == [kr["id"], late["id"]]
    assert [c["confidence"] for c in listed[0]["key_results"][0]["check_ins"]] == [4, 7]  # newest first
    assert client.get("/api/v1/okrs").json() == listed
    assert client.get("/api/v1/okrs", params={"quarter": "2030-Q4"}).json() == []
    one = client.get(f"/api/v1/okrs/objectives/{objective['id']}")
    assert one.headers["etag"] == '"1"' and one.json() == listed[0]
    got = client.get(f"/api/v1/okrs/key-results/{kr['id']}")
    assert got.headers["etag"] == '"1"' and len(got.json()["check_ins"]) == 2


def test_edits_with_if_match_stale_ones_409_and_deletes(client, engine, session):
    make_project(session, "R01.1", actor=ADMIN)
    objective = _objective(client)
    kr = _key_result(client, objective["id"])

    edited = client.patch(f"/api/v1/okrs/objectives/{objective['id']}", json={"title": "Ship it well", "owner": ""},
                          headers={"If-Match": '"1"'})
    assert edited.status_code == 200 and edited.json()["title"] == "Ship it well" and edited.headers["etag"] == '"2"'
    same = client.patch(f"/api/v1/okrs/objectives/{objective['id']}", json={"title": "Ship it well"})
    assert same.json()["version"] == 2  # nothing changed, nothing written
    changed = client.patch(f"/api/v1/okrs/key-results/{kr['id']}", json={"target_level": 5, "due": "2027-03-01"},
                           headers={"If-Match": 'W/"1"'})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["target_level"], changed.json()["due"], changed.json()["version"]) == (5, "2027-03-01", 2)

    before = everything(engine)
    stale = problem(client.patch(f"/api/v1/okrs/objectives/{objective['id']}", json={"title": "x"},
                                 headers={"If-Match": '"1"'}), 409)
    assert stale["current_version"] == 2
    assert problem(client.patch(f"/api/v1/okrs/key-results/{kr['id']}", json={"note": "x", "version": 1}),
                   409)["current_version"] == 2
    assert problem(client.delete(f"/api/v1/okrs/key-results/{kr['id']}", headers={"If-Match": '"1"'}),
                   409)["current_version"] == 2
    assert problem(client.delete(f"/api/v1/okrs/objectives/{objective['id']}", headers={"If-Match": '"1"'}),
                   409)["current_version"] == 2
    assert problem(client.patch(f"/api/v1/okrs/objectives/{objective['id']}", json={"title": "x"},
                                headers={"If-Match": '"1", "2"'}), 422)["field"] == "If-Match"
    assert everything(engine) == before

    copied = client.post(f"/api/v1/okrs/objectives/{objective['id']}/copy", json={})
    assert copied.status_code == 201, copied.text
    copy = copied.json()
    assert copy["quarter"] == "2027-Q2" and copy["copied_from"] == objective["id"]
    assert [(k["code"], k["target_level"], k["due"]) for k in copy["key_results"]] == [("R01.1", 5, "2027-05-30")]
    assert client.post(f"/api/v1/okrs/objectives/{objective['id']}/copy",
                       json={"quarter": "2028-Q1"}).json()["quarter"] == "2028-Q1"

    gone = client.delete(f"/api/v1/okrs/key-results/{kr['id']}", headers={"If-Match": '"2"'})
    assert gone.status_code == 204 and gone.content == b""
    assert problem(client.get(f"/api/v1/okrs/key-results/{kr['id']}"), 404)
    assert client.delete(f"/api/v1/okrs/objectives/{objective['id']}", headers={"If-Match": '"2"'}).status_code == 204
    assert problem(client.get(f"/api/v1/okrs/objectives/{objective['id']}"), 404)
    assert client.get(f"/api/v1/okrs/objectives/{copy['id']}").json()["copied_from"] is None


def test_refusals_name_the_field_and_write_nothing(client, engine, session):
    make_project(session, "R01.1", actor=ADMIN)
    objective = _objective(client)
    kr = _key_result(client, objective["id"])
    oid, kid = objective["id"], kr["id"]
    before = everything(engine)

    def field(response) -> str:
        return problem(response, 422)["field"]

    assert field(client.post("/api/v1/okrs/objectives", json={"quarter": "2027-Q5", "title": "x"})) == "quarter"
    assert field(client.post("/api/v1/okrs/objectives", json={"quarter": "2027-Q1", "title": " "})) == "title"
    assert field(client.post("/api/v1/okrs/objectives", json={"quarter": "2027-Q1"})) == "title"
    assert field(client.post("/api/v1/okrs/objectives", json={"quarter": "2027-Q1", "title": "x",
                                                              "deadline": "soon"})) == "deadline"
    assert field(client.patch(f"/api/v1/okrs/objectives/{oid}", json={"title": ""})) == "title"
    assert field(client.post(f"/api/v1/okrs/objectives/{oid}/copy", json={"quarter": "next"})) == "quarter"
    kr_url = f"/api/v1/okrs/objectives/{oid}/key-results"
    assert field(client.post(kr_url, json={"code": "R01.1", "target_level": 12})) == "target_level"
    assert field(client.post(kr_url, json={"code": "R01.1", "target_level": "ten"})) == "target_level"
    assert field(client.post(kr_url, json={"code": "R01.1", "target_level": 4})) == "target_level"  # a twin
    assert field(client.post(kr_url, json={"code": "R01.1", "target_level": 6, "due": "March"})) == "due"
    assert field(client.patch(f"/api/v1/okrs/key-results/{kid}", json={"due": "2027-02-30"})) == "due"
    ci_url = f"/api/v1/okrs/key-results/{kid}/check-ins"
    assert field(client.post(ci_url, json={"comment": "ok", "confidence": 11})) == "confidence"
    assert field(client.post(ci_url, json={"comment": " ", "confidence": 5})) == "comment"
    assert field(client.post(ci_url, json={"comment": "ok", "confidence": 5, "at": "2199-01-01"})) == "at"
    assert field(client.post(ci_url, json={"comment": "ok", "confidence": 5, "at": "yesterday"})) == "at"
    assert field(client.get("/api/v1/okrs", params={"quarter": "Q1"})) == "quarter"
    assert field(client.get("/api/v1/okrs/objectives/first")) == "objective_id"

    assert "NOPE" in problem(client.post(kr_url, json={"code": "NOPE", "target_level": 3}), 404)["detail"]
    for missing in (oid + 100, 2**40, 0):
        assert problem(client.get(f"/api/v1/okrs/objectives/{missing}"), 404)
        assert problem(client.patch(f"/api/v1/okrs/objectives/{missing}", json={"title": "x"}), 404)
        assert problem(client.post(f"/api/v1/okrs/objectives/{missing}/key-results",
                                   json={"code": "R01.1", "target_level": 3}), 404)
        assert problem(client.post(f"/api/v1/okrs/key-results/{missing}/check-ins",
                                   json={"comment": "x", "confidence": 1}), 404)
        assert problem(client.delete(f"/api/v1/okrs/key-results/{missing}"), 404)
    assert everything(engine) == before


def test_roles_and_tokens(bare_client, team, engine, session):
    make_project(session, "R01.1", actor=ADMIN)
    objective = okrs.add_objective(session=session, actor=ADMIN, quarter="2027-Q1", title="Ship it")
    kr = okrs.add_key_result(session=session, actor=ADMIN, objective_id=objective.id, code="R01.1", target_level=4)
    _warm(bare_client, team.viewer)
    before = everything(engine)
    writes = [("POST", "/api/v1/okrs/objectives", {"quarter": "2027-Q1", "title": "x"}),
              ("PATCH", f"/api/v1/okrs/objectives/{objective.id}", {"title": "y"}),
              ("DELETE", f"/api/v1/okrs/objectives/{objective.id}", None),
              ("POST", f"/api/v1/okrs/objectives/{objective.id}/copy", {}),
              ("POST", f"/api/v1/okrs/objectives/{objective.id}/key-results", {"code": "R01.1", "target_level": 5}),
              ("PATCH", f"/api/v1/okrs/key-results/{kr.id}", {"owner": "x"}),
              ("DELETE", f"/api/v1/okrs/key-results/{kr.id}", None),
              ("POST", f"/api/v1/okrs/key-results/{kr.id}/check-ins", {"comment": "x", "confidence": 3})]
    for method, path, body in writes:
        denied = problem(bare_client.request(method, path, json=body, headers=auth(team.viewer)), 403)
        assert "viewer" in denied["detail"] and "editor" in denied["detail"], path
        assert problem(bare_client.request(method, path, json=body), 401)
        assert problem(bare_client.request(method, path, json=body, headers=auth("mltrl_forged")), 401)
    for path in ("/api/v1/okrs", "/api/v1/okrs/quarters", f"/api/v1/okrs/objectives/{objective.id}",
                 f"/api/v1/okrs/key-results/{kr.id}", "/api/v1/okrs/report?quarter=2027-Q1",
                 "/api/v1/analytics/time-per-level"):
        missing = bare_client.get(path)
        assert problem(missing, 401) and missing.headers["www-authenticate"].startswith("Bearer"), path
        assert bare_client.get(path, headers=auth(team.viewer)).status_code == 200, path
    assert everything(engine) == before


def _report_portfolio(session) -> None:
    _history(session, "A", [("start", 2, "2025-10-01"), ("grad", None, "2025-11-01"), ("grad", None, "2025-12-15")])
    _history(session, "B", [("start", 2, "2025-10-10"), ("grad", None, "2025-11-20"), ("grad", None, "2026-01-20")])
    _history(session, "C", [("start", 2, "2026-01-05")])


def test_the_quarterly_report_as_plain_json(client, session):
    _report_portfolio(session)
    objective = _objective(client, quarter="2026-Q1", title="Reach proof of concept", owner="Ada")
    achieved = _key_result(client, objective["id"], code="B", level=4)
    forecast = _key_result(client, objective["id"], code="C", level=4)
    unknown = _key_result(client, objective["id"], code="A", level=5, owner="Bo")
    client.post(f"/api/v1/okrs/key-results/{forecast['id']}/check-ins",
                json={"comment": "On it", "confidence": 6, "at": "2026-01-20"}).raise_for_status()

    response = client.get("/api/v1/okrs/report", params={"quarter": "2026-Q1", "as_of": "2026-02-01", "seed": 7})
    assert response.status_code == 200, response.text
    report = response.json()
    assert json.loads(response.text) == report  # plain JSON, no NaN
    assert (report["quarter"], report["start"], report["end"]) == ("2026-Q1", "2026-01-01", "2026-03-31")
    assert report["as_of"].startswith("2026-02-01T00:00:00") and report["seed"] == 7 and report["total"] == 3
    lines = {line["id"]: line for line in report["key_results"]}
    assert lines[achieved["id"]]["status"] == "achieved" and lines[achieved["id"]]["forecast"] is None
    assert lines[achieved["id"]]["reached_at"].startswith("2026-01-20")
    middle = lines[forecast["id"]]
    assert middle["status"] in ("on track", "at risk") and middle["confidence"] == 6 and middle["level"] == 2
    assert isinstance(middle["probability"], float) and 0 <= middle["probability"] <= 1
    assert middle["forecast"]["probability"] == middle["probability"] and middle["forecast"]["reason"] is None
    assert middle["expected_date"] and middle["version"] == 1 and middle["phase"] == "research"
    far = lines[unknown["id"]]
    assert far["probability"] is None and far["expected_date"] is None and far["owner"] == "Bo"
    assert "no completed stay at level 4" in far["forecast"]["reason"]
    assert sum(report["summary"].values()) == 3
    burnup = report["burnup"]
    assert len(burnup) == 90 and burnup[0]["day"] == "2026-01-01" and burnup[0]["total"] == 3
    assert burnup[30]["achieved"] == 1 and burnup[31]["achieved"] is None  # after the as-of day: null, not NaN
    assert report["card"]["levels_gained"] == 1 and report["objectives"][0]["title"] == "Reach proof of concept"

    again = client.get("/api/v1/okrs/report", params={"quarter": "2026-Q1", "as_of": "2026-02-01", "seed": 7}).json()
    assert again == report  # same data, date and seed: the same report


def test_report_and_time_per_level_refusals(client):
    def field(response) -> str:
        return problem(response, 422)["field"]

    assert field(client.get("/api/v1/okrs/report")) == "quarter"
    assert field(client.get("/api/v1/okrs/report", params={"quarter": "2026-Q9"})) == "quarter"
    assert field(client.get("/api/v1/okrs/report", params={"quarter": "2026-Q1", "as_of": "soon"})) == "as_of"
    assert field(client.get("/api/v1/okrs/report", params={"quarter": "2026-Q1", "as_of": "1066-10-14"})) == "as_of"
    assert field(client.get("/api/v1/okrs/report", params={"quarter": "2026-Q1", "samples": 5})) == "samples"
    assert field(client.get("/api/v1/okrs/report", params={"quarter": "2026-Q1", "seed": -1})) == "seed"
    assert field(client.get("/api/v1/analytics/time-per-level", params={"as_of": "someday"})) == "as_of"
    empty = client.get("/api/v1/okrs/report", params={"quarter": "2026-Q1"}).json()
    assert empty["key_results"] == [] and empty["total"] == 0


def test_time_per_level(client, session):
    _report_portfolio(session)
    records = client.get("/api/v1/analytics/time-per-level", params={"as_of": "2026-02-01"}).json()
    by = {(r["code"], r["level"]): r for r in records}
    assert [(r["code"], r["level"]) for r in records] == sorted(by)
    assert by[("A", 2)]["days"] == 31.0 and by[("A", 2)]["completed_days"] == 31.0 and by[("A", 2)]["intervals"] == 1
    assert by[("C", 2)]["ongoing_days"] == 27.0 and by[("C", 2)]["completed_days"] == 0.0
    assert all(isinstance(r["days"], float) for r in records)
    now = client.get("/api/v1/analytics/time-per-level").json()
    assert {(r["code"], r["level"]) for r in now} == set(by)


def test_plain_turns_numpy_and_pandas_values_into_json():
    value = {"i": np.int64(3), "f": np.float32(0.5), "nan": float("nan"), "inf": np.inf, "na": pd.NA, "nat": pd.NaT,
             "b": np.bool_(True), "ts": pd.Timestamp("2026-01-02T03:04:05", tz="UTC"), "d": date(2026, 1, 2),
             "naive": datetime(2026, 1, 2, 3), "frame": pd.DataFrame({"x": pd.array([1, None], dtype="Int64")}),
             "tuple": (np.int32(1), None)}
    out = plain(value)
    assert out == {"i": 3, "f": 0.5, "nan": None, "inf": None, "na": None, "nat": None, "b": True,
                   "ts": "2026-01-02T03:04:05+00:00", "d": "2026-01-02", "naive": "2026-01-02T03:00:00+00:00",
                   "frame": [{"x": 1}, {"x": None}], "tuple": [1, None]}
    assert type(out["i"]) is int and type(out["b"]) is bool and not any(
        isinstance(v, float) and math.isnan(v) for v in out.values())
    json.dumps(out, allow_nan=False)


def test_the_openapi_document_lists_the_okr_endpoints(bare_client):
    paths = bare_client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/okrs", "/okrs/quarters", "/okrs/objectives", "/okrs/objectives/{objective_id}",
                 "/okrs/objectives/{objective_id}/copy", "/okrs/objectives/{objective_id}/key-results",
                 "/okrs/key-results/{key_result_id}", "/okrs/key-results/{key_result_id}/check-ins",
                 "/okrs/report", "/analytics/time-per-level"):
        assert path in paths, path
        assert all(op.get("summary") for op in paths[path].values()), path
