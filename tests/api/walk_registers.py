"""Every write of ``/api/v1``'s registers endpoints, as one request that succeeds for an editor on
the demo portfolio (``mltrl.services.demo.load_demo``), to check that each is refused for a
viewer and for an expired, revoked or missing token.

``walk(session)`` gives the steps ``(service, method, path, request_kwargs)``: the service the
endpoint calls, and the arguments of ``client.request(method, "/api/v1" + path, **request_kwargs)``
(as in ``walk_projects``). Risks are named by id in their paths, so the steps are built from the
loaded demo (requirements by number, technologies by code); ``walk`` writes nothing. An import
sends its CSV as ``content`` with a ``Content-Type: text/csv`` header: a caller adds its
``Authorization`` to those headers.

Each step succeeds on a freshly loaded demo, and all of them in this order on one database
(``tests/api/test_registers.py::test_the_walk_succeeds_for_an_editor`` runs them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from mltrl.domain import days
from mltrl.services import risks

Step = tuple[Callable[..., Any], str, str, dict[str, Any]]

CSV = {"Content-Type": "text/csv"}
REQUIREMENTS_CSV = ("number,statement,p_failure,value,verification_status\n"
                    "2.1,A failed worker loses at most one batch of traces.,0.2,5,passed\n"
                    "3,Results are reproducible from the pinned simulator version.,0.3,6,\n")
RISKS_CSV = ("title,category,p_failure,value,owner\n"
             "Proposal network overfits the benchmark,science,30%,6,Chloe Okafor\n")


def _risk_id(session: Session, code: str, title: str) -> int:
    found = [r.id for r in risks.risks(session, code) if r.title == title]
    if len(found) != 1:
        raise LookupError(f"the demo has no single risk {title!r} in {code}: was it loaded?")
    return found[0]


def walk(session: Session) -> list[Step]:
    """The register writes, one request each, against the demo loaded in ``session``'s database."""
    regulatory = _risk_id(session, "P03.1", "Regulatory submission slips")
    patient_data = _risk_id(session, "P03.1", "Patient data leaves the hospital network")
    allocation = _risk_id(session, "R10.1", "Cluster allocation cut")
    until = (days.today() + timedelta(days=90)).isoformat()
    return [
        (risks.add_requirement, "POST", "/projects/P03.1/requirements",
         {"json": {"number": "4", "statement": "Every flagged region links to the slide it came from.",
                   "p_failure": 0.1, "value": 6}}),
        (risks.update_requirement, "PATCH", "/projects/P03.1/requirements/2",
         {"json": {"validation_status": "passed"}}),
        (risks.delete_requirement, "DELETE", "/projects/P03.1/requirements/3.1", {}),
        (risks.add_risk, "POST", "/projects/P05.1/risks",
         {"json": {"title": "Camera firmware update changes colours", "category": "sim-to-real",
                   "p_failure": "20%", "value": 5, "owner": "Sam Lee"}}),
        (risks.update_risk, "PATCH", f"/projects/P03.1/risks/{regulatory}",
         {"json": {"p_failure": 0.5, "mitigation": "Consultant engaged; submission file reviewed weekly"}}),
        (risks.review_risk, "POST", f"/projects/P03.1/risks/{patient_data}/reviewed", {"json": {}}),
        (risks.accept_risk, "POST", f"/projects/R10.1/risks/{allocation}/accept",
         {"json": {"reason": "A smaller network fits the reduced allocation", "until": until}}),
        (risks.import_requirements, "POST", "/projects/R10.1/requirements/import",
         {"content": REQUIREMENTS_CSV, "headers": CSV}),
        (risks.import_risks, "POST", "/projects/R10.1/risks/import", {"content": RISKS_CSV, "headers": CSV}),
    ]
