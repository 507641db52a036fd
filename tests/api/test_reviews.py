"""/api/v1/reviews and the exit checklist: a review's life through the API, pages, and every
refusal kind with nothing written; and the walk of every exposed write on the demo portfolio."""

from __future__ import annotations

import pytest
from sqlmodel import select

from mltrl.models import AuditEntry
from mltrl.services import Actor, level_moves, projects, reviews
from mltrl.services.demo import load_demo
from tests.api.conftest import auth, problem
from tests.api.walk_reviews_okrs import ROLE, walk
from tests.factories import everything, make_project

ADMIN = Actor("ada")


def _tech(session, code: str, level: int) -> None:
    make_project(session, code, actor=ADMIN)
    level_moves.record_start(session=session, actor=ADMIN, code=code, level=level)


def _open(client, code: str, panel=()) -> dict:
    response = client.post(f"/api/v1/projects/{code}/reviews", json={"panel": list(panel)})
    assert response.status_code == 201, response.text
    return response.json()


def _warm(bare_client, *tokens: str) -> None:
    """Use each token once: its first use of the minute notes when it was last used (a write), so
    a snapshot taken after this compares only what the requests under test wrote."""
    for token in tokens:
        assert bare_client.get("/api/v1/reviews", headers=auth(token)).status_code == 200


def test_a_review_opened_voted_on_and_decided_graduates_the_technology(client, team, session):
    _tech(session, "R01.1", 3)
    opened = client.post("/api/v1/projects/R01.1/reviews", json={"panel": ["rey", "ada"]})
    assert opened.status_code == 201, opened.text
    review = opened.json()
    assert opened.headers["location"] == f"/api/v1/reviews/{review['id']}"
    assert opened.headers["etag"] == f'"{review["version"]}"'
    assert review["status"] == "open" and review["level"] == 3 and review["panel"] == ["rey", "ada"]
    assert review["technology"] == {"code": "R01.1", "name": "Technology R01.1", "level": 3, "status": "active"}
    assert review["criteria"] and all(c["percent"] is None for c in review["criteria"])
    assert review["ethics"] and review["votes"] == [] and review["event"] is None

    rid = review["id"]
    vote = client.post(f"/api/v1/reviews/{rid}/votes", json={"vote": "not-yet", "comment": "tests first"},
                       headers=auth(team.reviewer))
    assert vote.status_code == 201, vote.text
    assert vote.json()["voter"] == "rey" and vote.json()["vote"] == "not yet"
    client.post(f"/api/v1/reviews/{rid}/votes", json={"vote": "graduate"},
                headers=auth(team.reviewer)).raise_for_status()

    key = review["ethics"][0]["key"]
    answered = client.post(f"/api/v1/reviews/{rid}/ethics", json={"answers": {key: "No personal data."}})
    assert answered.status_code == 200 and answered.json()["changed"] == 1
    assert answered.json()["review"]["ethics"][0]["answer"] == "No personal data."

    shown = client.get(f"/api/v1/reviews/{rid}")
    body = shown.json()
    assert shown.headers["etag"] == f'"{body["version"]}"'
    assert [v["vote"] for v in body["votes"]] == ["not yet", "graduate"]
    assert body["latest_votes"]["rey"]["vote"] == "graduate"

    decided = client.post(f"/api/v1/reviews/{rid}/decision", json={"decision": "graduate", "note": "ready"},
                          headers={**auth(team.reviewer), "If-Match": f'"{body["version"]}"'})
    assert decided.status_code == 200, decided.text
    out = decided.json()
    assert out["review"]["status"] == "decided" and out["review"]["decision"] == "graduate"
    assert out["event"]["from_level"] == 3 and out["event"]["to_level"] == 4 and out["debrief"] is True
    assert out["review"]["scores_as_of"] == "decision" and out["review"]["event"]["id"] == out["event"]["id"]
    assert decided.headers["etag"] == f'"{out["review"]["version"]}"'
    assert projects.get_project(session, "R01.1").level == 4
    votes = session.exec(select(AuditEntry).where(AuditEntry.entity == "review", AuditEntry.action == "vote")).all()
    assert {(a.actor, a.via) for a in votes} == {("rey", "token rey-script")}


def test_hold_switch_back_and_cancel(client, team, session):
    for code in ("H1", "S1", "C1"):
        _tech(session, code, 4)
    hold = _open(client, "H1")
    out = client.post(f"/api/v1/reviews/{hold['id']}/decision", headers=auth(team.reviewer), json={
        "decision": "hold", "tasks": [{"task": "More data", "owner": "eve", "due": "2030-01-31"}]}).json()
    assert out["review"]["tasks"] == [{"number": 1, "task": "More data", "owner": "eve", "due": "2030-01-31"}]
    assert out["event"] is None

    back = _open(client, "S1")
    out = client.post(f"/api/v1/reviews/{back['id']}/decision", headers=auth(team.reviewer),
                      json={"decision": "switch_back", "target_level": 2, "note": "embedded"}).json()
    assert out["event"]["to_level"] == 2 and out["review"]["target_level"] == 2
    assert out["review"]["switchback_kind"] == "embedded"

    cancel = _open(client, "C1")
    cancelled = client.post(f"/api/v1/reviews/{cancel['id']}/cancel", json={"reason": "wrong level"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["note"] == "wrong level"


def test_set_panel_with_if_match_and_a_stale_one_is_409(client, engine, session):
    _tech(session, "R01.1", 2)
    review = _open(client, "R01.1", ["ada"])
    changed = client.put(f"/api/v1/reviews/{review['id']}/panel", json={"panel": ["rey", "Rey", " eve "]},
                         headers={"If-Match": f'"{review["version"]}"'})
    assert changed.status_code == 200 and changed.json()["panel"] == ["rey", "eve"]
    assert changed.headers["etag"] == f'"{review["version"] + 1}"'

    before = everything(engine)
    stale = problem(client.put(f"/api/v1/reviews/{review['id']}/panel", json={"panel": []},
                               headers={"If-Match": f'"{review["version"]}"'}), 409)
    assert stale["current_version"] == review["version"] + 1
    stale = problem(client.put(f"/api/v1/reviews/{review['id']}/panel",
                               json={"panel": [], "version": review["version"]}), 409)
    assert stale["current_version"] == review["version"] + 1
    assert everything(engine) == before


def test_a_stale_decision_is_409_and_nothing_moves(client, team, engine, session, bare_client):
    _tech(session, "R01.1", 2)
    review = _open(client, "R01.1")
    client.put(f"/api/v1/reviews/{review['id']}/panel", json={"panel": ["rey"]}).raise_for_status()
    _warm(bare_client, team.reviewer)
    before = everything(engine)
    body = problem(bare_client.post(f"/api/v1/reviews/{review['id']}/decision", json={"decision": "graduate"},
                                    headers={**auth(team.reviewer), "If-Match": f'"{review["version"]}"'}), 409)
    assert body["current_version"] == review["version"] + 1
    assert everything(engine) == before
    assert projects.get_project(session, "R01.1").level == 2


def test_list_reviews_with_filters_and_pages(client, session):
    for n in range(1, 6):
        _tech(session, f"P{n}", n)
        _open(client, f"P{n}")
    p2 = client.get("/api/v1/reviews", params={"code": "P2"}).json()["items"][0]["id"]
    client.post(f"/api/v1/reviews/{p2}/cancel", json={"reason": "duplicate"}).raise_for_status()

    first = client.get("/api/v1/reviews", params={"limit": 2})
    body = first.json()
    assert body["total"] == 5 and [r["code"] for r in body["items"]] == ["P5", "P4"]
    assert "offset=2" in body["next"] and 'rel="next"' in first.headers["link"] and "prev" not in body
    assert set(body["items"][0]) >= {"id", "code", "level", "status", "panel", "decision", "version", "opened_at"}
    last = client.get("/api/v1/reviews", params={"limit": 2, "offset": 4}).json()
    assert [r["code"] for r in last["items"]] == ["P1"] and "next" not in last and "prev" in last

    assert [r["code"] for r in client.get("/api/v1/reviews", params={"status": "cancelled"}).json()["items"]] == ["P2"]
    assert client.get("/api/v1/reviews", params={"status": "open"}).json()["total"] == 4
    assert [r["level"] for r in client.get("/api/v1/reviews", params={"code": "P3"}).json()["items"]] == [3]
    assert problem(client.get("/api/v1/reviews", params={"status": "pending"}), 422)["field"] == "status"
    assert problem(client.get("/api/v1/reviews", params={"limit": 0}), 422)["field"] == "limit"
    assert "NOPE" in problem(client.get("/api/v1/reviews", params={"code": "NOPE"}), 404)["detail"]


def test_refusals_name_the_field_or_the_rule_and_write_nothing(client, team, engine, session, bare_client):
    _tech(session, "R01.1", 2)
    _tech(session, "L5", 5)
    make_project(session, "NEW", actor=ADMIN)
    review = _open(client, "R01.1", ["rey"])
    gated = _open(client, "L5")
    rid = review["id"]
    _warm(bare_client, team.reviewer, team.editor)
    before = everything(engine)
    r = auth(team.reviewer)

    assert problem(client.post("/api/v1/projects/R01.1/reviews", json={}), 422)["field"] == "review"
    assert problem(client.post("/api/v1/projects/NEW/reviews", json={}), 422)["field"] == "level"
    assert problem(client.post("/api/v1/projects/R01.1/reviews", json={"panel": "rey"}), 422)["field"] == "panel"
    assert problem(client.post("/api/v1/projects/R01.1/reviews", json={"chair": "x"}), 422)["field"] == "chair"
    assert problem(client.post(f"/api/v1/reviews/{rid}/votes", json={"vote": "maybe"}, headers=r),
                   422)["field"] == "vote"
    assert problem(client.post(f"/api/v1/reviews/{rid}/votes", json={}, headers=r), 422)["field"] == "vote"
    assert problem(client.post(f"/api/v1/reviews/{rid}/ethics", json={"answers": {"before:nope": "x"}}),
                   422)["field"] == "answers"
    assert problem(client.post(f"/api/v1/reviews/{rid}/decision", json={"decision": "adjourn"}, headers=r),
                   422)["field"] == "decision"
    assert problem(client.post(f"/api/v1/reviews/{rid}/decision", json={"decision": "hold"}, headers=r),
                   422)["field"] == "tasks"
    assert problem(client.post(f"/api/v1/reviews/{rid}/decision", json={"decision": "switch back"}, headers=r),
                   422)["field"] == "target_level"
    assert problem(client.post(f"/api/v1/reviews/{rid}/decision", headers=r,
                               json={"decision": "graduate", "target_level": 1}), 422)["field"] == "target_level"
    assert problem(client.post(f"/api/v1/reviews/{rid}/decision", headers=r,
                               json={"decision": "graduate", "at": "someday"}), 422)["field"] == "at"
    assert problem(client.post(f"/api/v1/reviews/{rid}/decision", headers={**r, "If-Match": "v1"},
                               json={"decision": "graduate"}), 422)["field"] == "If-Match"
    assert problem(client.post(f"/api/v1/reviews/{rid}/decision", headers=r, json={
        "decision": "hold", "tasks": [{"task": "x", "owner": ""}]}), 422)["field"] == "task 1 owner"
    assert problem(client.post(f"/api/v1/reviews/{rid}/cancel", json={"reason": " "}), 422)["field"] == "reason"
    assert problem(client.post(f"/api/v1/reviews/{rid}/cancel", json={}), 422)["field"] == "reason"
    rule = problem(client.post(f"/api/v1/reviews/{gated['id']}/decision", json={"decision": "graduate"},
                               headers=r), 422)
    assert rule["rule"] == "gate" and "rule" in rule["type"]
    assert everything(engine) == before


def test_roles_tokens_and_unknown_reviews(bare_client, team, engine, session):
    _tech(session, "R01.1", 2)
    review = reviews.open_review(session=session, actor=ADMIN, code="R01.1")
    rid = review.id
    _warm(bare_client, team.viewer, team.editor, team.reviewer)
    before = everything(engine)
    writes = [("POST", "/api/v1/projects/R01.1/reviews", {}), ("PUT", f"/api/v1/reviews/{rid}/panel", {"panel": []}),
              ("POST", f"/api/v1/reviews/{rid}/votes", {"vote": "graduate"}),
              ("POST", f"/api/v1/reviews/{rid}/ethics", {"answers": {}}),
              ("POST", f"/api/v1/reviews/{rid}/decision", {"decision": "pause"}),
              ("POST", f"/api/v1/reviews/{rid}/cancel", {"reason": "x"}),
              ("POST", "/api/v1/projects/R01.1/checklist/2/x", {"percent": 10})]
    for method, path, body in writes:
        denied = problem(bare_client.request(method, path, json=body, headers=auth(team.viewer)), 403)
        assert "viewer" in denied["detail"], path
        assert problem(bare_client.request(method, path, json=body), 401)
    # a vote and a decision are a reviewer's: an editor is refused, naming the role
    for method, path, body in (writes[2], writes[4]):
        assert "reviewer" in problem(bare_client.request(method, path, json=body, headers=auth(team.editor)),
                                     403)["detail"]
    for path in (f"/api/v1/reviews/{rid}", "/api/v1/reviews", "/api/v1/projects/R01.1/checklist/2"):
        missing = bare_client.get(path)
        assert problem(missing, 401) and missing.headers["www-authenticate"].startswith("Bearer")
    for rid_gone in (rid + 1000, 2**40, -3):
        assert problem(bare_client.get(f"/api/v1/reviews/{rid_gone}", headers=auth(team.viewer)), 404)
        assert problem(bare_client.post(f"/api/v1/reviews/{rid_gone}/votes", json={"vote": "graduate"},
                                        headers=auth(team.reviewer)), 404)
    assert problem(bare_client.get("/api/v1/reviews/abc", headers=auth(team.viewer)), 422)["field"] == "review_id"
    assert bare_client.get(f"/api/v1/reviews/{rid}", headers=auth(team.viewer)).status_code == 200
    assert everything(engine) == before


def test_a_voter_off_the_panel_is_refused(bare_client, team, engine, session):
    _tech(session, "R01.1", 2)
    review = reviews.open_review(session=session, actor=ADMIN, code="R01.1", panel=["someone else"])
    _warm(bare_client, team.reviewer)
    before = everything(engine)
    body = problem(bare_client.post(f"/api/v1/reviews/{review.id}/votes", json={"vote": "graduate"},
                                    headers=auth(team.reviewer)), 422)
    assert body["field"] == "voter" and "not on the panel" in body["detail"]
    assert everything(engine) == before


def test_the_checklist_scored_read_and_refused(client, engine, session):
    _tech(session, "R01.1", 4)
    shown = client.get("/api/v1/projects/R01.1/checklist/4").json()
    assert shown["level"] == 4 and shown["current_level"] == 4 and shown["open_review"] is None
    assert shown["readiness"]["average"] == 0 and shown["readiness"]["ready"] is False
    key = shown["criteria"][0]["key"]

    scored = client.post(f"/api/v1/projects/R01.1/checklist/4/{key}",
                         json={"percent": "80%", "evidence": "https://x.test/e", "comment": "almost"})
    assert scored.status_code == 200, scored.text
    criterion = next(c for c in scored.json()["criteria"] if c["key"] == key)
    assert (criterion["percent"], criterion["evidence"], criterion["comment"]) == (80, "https://x.test/e", "almost")
    assert scored.json()["readiness"]["scored"] == 1 and scored.json()["readiness"]["average"] > 0

    review = _open(client, "R01.1")
    assert client.get("/api/v1/projects/R01.1/checklist/4").json()["open_review"] == review["id"]
    assert next(c for c in client.get(f"/api/v1/reviews/{review['id']}").json()["criteria"]
                if c["key"] == key)["percent"] == 80
    other = client.get("/api/v1/projects/R01.1/checklist/5").json()
    assert other["level"] == 5 and other["open_review"] is None and {g["key"] for g in other["gates"]} == {
        "research-vv", "product-requirements"}
    assert other["refusing_gates"]

    before = everything(engine)
    url = f"/api/v1/projects/R01.1/checklist/4/{key}"
    assert problem(client.post(url, json={"percent": 120}), 422)["field"] == "percent"
    assert problem(client.post(url, json={"percent": "lots"}), 422)["field"] == "percent"
    assert problem(client.post(url, json={}), 422)["field"] == "percent"
    assert problem(client.post(url, json={"percent": 5, "evidence": "my drive"}), 422)["field"] == "evidence"
    assert problem(client.post("/api/v1/projects/R01.1/checklist/4/no-such-key", json={"percent": 5}),
                   422)["field"] == "key"
    assert problem(client.post(f"/api/v1/projects/R01.1/checklist/10/{key}", json={"percent": 5}),
                   422)["field"] == "level"
    assert problem(client.get("/api/v1/projects/R01.1/checklist/-1"), 422)["field"] == "level"
    assert problem(client.post(f"/api/v1/projects/NOPE/checklist/4/{key}", json={"percent": 5}), 404)
    assert problem(client.get("/api/v1/projects/NOPE/checklist/4"), 404)
    assert everything(engine) == before


def test_the_openapi_document_lists_the_review_endpoints(bare_client):
    paths = bare_client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/reviews", "/reviews/{review_id}", "/projects/{code}/reviews", "/reviews/{review_id}/votes",
                 "/reviews/{review_id}/decision", "/reviews/{review_id}/cancel", "/reviews/{review_id}/panel",
                 "/reviews/{review_id}/ethics", "/projects/{code}/checklist/{level}",
                 "/projects/{code}/checklist/{level}/{key}"):
        assert path in paths, path
        assert all(op.get("summary") for op in paths[path].values()), path


# --- the walk: every exposed write, known good ----------------------------------------------------


@pytest.fixture
def demo_team(session, request):
    """The demo portfolio, then the team (the demo loads into a database without accounts)."""
    load_demo(session=session, actor=Actor("demo"))
    return request.getfixturevalue("team")


def test_every_walk_entry_succeeds_for_an_admin_on_the_demo(demo_team, bare_client, session):
    entries = walk(session)
    session.rollback()  # end the read: the API's writes are seen by the next one
    names = {service.__name__ for service, *_ in entries}
    assert names == {f.__name__ for f in ROLE} and len(entries) == len(ROLE)
    exposed = {"open_review", "set_panel", "cast_vote", "answer_ethics", "decide", "cancel_review", "score_criterion",
               "add_evidence", "add_junit_report",
               "add_objective", "edit_objective", "delete_objective", "copy_objective", "add_key_result",
               "edit_key_result", "delete_key_result", "check_in"}
    assert names == exposed
    for service, method, path, kwargs in entries:
        headers = {**kwargs.get("headers", {}), **auth(demo_team.admin)}
        response = bare_client.request(method, "/api/v1" + path, **{**kwargs, "headers": headers})
        assert 200 <= response.status_code < 300, (service.__name__, response.text)
        written = session.exec(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
        session.rollback()
        assert (written.actor, written.via) == ("ada", "token ada-script"), service.__name__
