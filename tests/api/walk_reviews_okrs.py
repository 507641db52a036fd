"""One request per write service that ``/api/v1`` exposes for reviews, checklists and OKRs, each
known to succeed for a suitably-roled token against the demo portfolio
(``mltrl.services.demo.load_demo(session=..., actor=Actor("demo"))``); an admin's token succeeds
for all of them (``test_reviews.test_every_walk_entry_succeeds_for_an_admin_on_the_demo``).

``walk(session)`` looks the ids and versions up in the database when called, so call it after
the demo is loaded and before any entry runs. Each entry is ``(service, method, path, kwargs)``:
``path`` is under ``/api/v1`` (as in ``walk_projects``: ``"/api/v1" + path``) and ``kwargs`` go
to the test client's ``request`` (``json`` and, for versioned things, an ``If-Match`` header).

**Order.** Run the entries in the order listed. They touch different rows so that each stands
alone, with one exception: ``cast_vote`` comes after ``set_panel``, which empties the panel of
R10.1's open review (a member votes only when the panel names them, or when it is empty: the
token's owner is on no demo panel). Refused requests write nothing, so a walk of refusals
(viewer, expired, revoked, no token) can run the entries in any order on one database.

``ROLE`` names the least role each service needs (``editor`` or ``reviewer``; ``admin`` holds
both).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from mltrl.services import okrs, projects, reviews

ROLE: dict[Callable[..., Any], str] = {
    reviews.open_review: "editor",
    reviews.set_panel: "editor",
    reviews.cast_vote: "reviewer",
    reviews.answer_ethics: "editor",
    reviews.decide: "reviewer",
    reviews.cancel_review: "editor",
    reviews.score_criterion: "editor",
    reviews.add_evidence: "editor",
    reviews.add_junit_report: "editor",
    okrs.add_objective: "editor",
    okrs.edit_objective: "editor",
    okrs.delete_objective: "editor",
    okrs.copy_objective: "editor",
    okrs.add_key_result: "editor",
    okrs.edit_key_result: "editor",
    okrs.delete_key_result: "editor",
    okrs.check_in: "editor",
}

Entry = tuple[Callable[..., Any], str, str, dict[str, Any]]
JUNIT_REPORT = b'<testsuite name="eval"><testcase classname="eval" name="recall_on_plant_data"/></testsuite>'


def _if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


def _open_reviews(session: Session) -> dict[str, Any]:
    return {code: review for review, code in reviews.reviews(session, status="open", limit=None)}


def _objective(session: Session, title: str) -> okrs.ObjectiveView:
    for quarter in okrs.quarters(session):
        for view in okrs.objectives(session, quarter):
            if view.objective.title == title:
                return view
    raise LookupError(f"the demo has no objective {title!r}: was the demo portfolio loaded?")


def _key_result(view: okrs.ObjectiveView, code: str) -> Any:
    return next(k.key_result for k in view.key_results if k.code == code)


def walk(session: Session) -> list[Entry]:
    """Every exposed write of reviews, checklists and OKRs as one request known to succeed on
    the demo portfolio (see the module docstring for the order and the roles)."""
    open_now = _open_reviews(session)
    r10, p16, r17 = open_now["R10.1"], open_now["P16.1"], open_now["R17.1"]
    ethics_key = reviews.ethics_keys(r10.ethics)[0]
    r12_level = projects.get_project(session, "R12.1").level
    criterion = reviews.level_criteria(session, r12_level)[1][0].key

    gates = _objective(session, "Get the support and pricing models through their gates")
    research = _objective(session, "Start the next research bets")
    telemetry = _objective(session, "Prove the telemetry detector on plant data")
    fleet = _objective(session, "Keep the deployed fleet healthy")
    p16_kr = _key_result(gates, "P16.1")
    r10_kr = _key_result(gates, "R10.1")
    r18_kr = _key_result(telemetry, "R18.1")

    return [
        # reviews (P03.1, at level 7, has no open review in the demo)
        (reviews.open_review, "POST", "/projects/P03.1/reviews",
         {"json": {"panel": ["Chloe Okafor"]}}),
        (reviews.set_panel, "PUT", f"/reviews/{r10.id}/panel",
         {"json": {"panel": []}, "headers": _if_match(r10.version)}),
        (reviews.cast_vote, "POST", f"/reviews/{r10.id}/votes",  # after set_panel
         {"json": {"vote": "not yet", "comment": "The data pipeline needs another pass."}}),
        (reviews.answer_ethics, "POST", f"/reviews/{r10.id}/ethics",
         {"json": {"answers": {ethics_key: "Discussed with the data owners; no personal data is used."}}}),
        (reviews.decide, "POST", f"/reviews/{p16.id}/decision",
         {"json": {"decision": "hold", "note": "One more month of pilots.",
                   "tasks": [{"task": "Pilot with two more customers", "owner": "Ben Tanaka"}]},
          "headers": _if_match(p16.version)}),
        (reviews.cancel_review, "POST", f"/reviews/{r17.id}/cancel",
         {"json": {"reason": "The panel could not meet this quarter."}}),
        (reviews.score_criterion, "POST", f"/projects/R12.1/checklist/{r12_level}/{criterion}",
         {"json": {"percent": 80, "evidence": "https://example.org/evidence", "comment": "Nearly there."}}),
        # evidence (what a CI job posts with its token)
        (reviews.add_evidence, "POST", "/projects/R17.1/evidence",
         {"json": {"level": 4, "criterion": "applied-metrics", "kind": "test-report", "status": "pass",
                   "title": "Evaluation on 2,000 tickets", "metrics": {"invented_facts_rate": 0.015}}}),
        (reviews.add_junit_report, "POST", "/projects/R18.1/evidence/junit?level=4&criterion=applied-metrics",
         {"content": JUNIT_REPORT, "headers": {"Content-Type": "application/xml"}}),
        # OKRs
        (okrs.add_objective, "POST", "/okrs/objectives",
         {"json": {"quarter": gates.objective.quarter, "title": "Harden the CAMS pipeline", "owner": "Ada"}}),
        (okrs.edit_objective, "PATCH", f"/okrs/objectives/{gates.objective.id}",
         {"json": {"title": "Get support and pricing through their gates"},
          "headers": _if_match(gates.objective.version)}),
        (okrs.copy_objective, "POST", f"/okrs/objectives/{research.objective.id}/copy", {"json": {}}),
        (okrs.delete_objective, "DELETE", f"/okrs/objectives/{fleet.objective.id}",
         {"headers": _if_match(fleet.objective.version)}),
        (okrs.add_key_result, "POST", f"/okrs/objectives/{gates.objective.id}/key-results",
         {"json": {"code": "P03.1", "target_level": 8, "owner": "Ada", "note": "Integration tests first."}}),
        (okrs.edit_key_result, "PATCH", f"/okrs/key-results/{p16_kr.id}",
         {"json": {"owner": "Ben Tanaka", "note": "Pricing model first."}, "headers": _if_match(p16_kr.version)}),
        (okrs.delete_key_result, "DELETE", f"/okrs/key-results/{r18_kr.id}",
         {"headers": _if_match(r18_kr.version)}),
        (okrs.check_in, "POST", f"/okrs/key-results/{r10_kr.id}/check-ins",
         {"json": {"comment": "Flight tests booked.", "confidence": 6}}),
    ]
