"""Gated reviews: how a technology moves between levels through its review panel.

* **Exit criteria** of each level come from a versioned criteria set (version 1 is the built-in
  ``mltrl.domain.criteria_default``; an admin's edit is a new version). The team scores them (percent
  complete, evidence link, comment) at any time, before a review too; the average against the
  readiness threshold (an admin setting) says whether the level is ready for review. A criterion
  the criteria set marks as scored from evidence takes its score from the latest pass or fail
  evidence sent for it (a CI report, an MLflow run), the team's own score kept apart.
* **Gates** (``mltrl.domain.gates``) read the requirements register; an admin may override a blocked gate
  with a justification and an optional expiry. Overrides are kept (append-only).
* **A review** is opened at the technology's current level. It copies the level's criteria and the
  ethics template it uses, so later edits never re-grade it. Panel members vote (every vote is
  kept); the team answers the ethics checklist; a reviewer decides: graduate (the level event names
  the review; the card of the level left is the last revision before it), hold (tasks with owners),
  switch back (kind ``review``, or ``embedded`` for the embedded pairs) or pause.
* **Level 9** is reviewed again every ``deployed_review_days``; "change to the deployed version"
  records the embedded 9 -> 7 switchback.
* **Forks** (bifurcation): a new technology linked to its parent, starting at the parent's level,
  with a copy of its card and owners; the parent's history before the fork is shown as its past.

One module per use case; callers use the package (``from mltrl.services import reviews;
reviews.open_review(...)``), which re-exports every public name. Importing the package imports
every module, so each ``@write_service`` is registered in ``WRITE_SERVICES``:

* ``checklists`` -- criteria sets and ethics templates (versions), the team's checklist scores
* ``evidence``   -- evidence records (CI, MLflow, model cards, documents) and the scores of the
  criteria scored from evidence
* ``gates``      -- gates, an admin's overrides, a technology's standing against leaving its level
* ``decisions``  -- open a review, its panel, votes, ethics answers, the decision, cancelling
* ``reading``    -- one review in full, lists, counts, the reviews waiting for someone's vote
* ``records``    -- a review as JSON-ready records (the CLI's ``--json`` and the API's answers)
* ``deployed``   -- level 9: the review cadence and a change to the deployed version
* ``forks``      -- forks and the past they inherit
"""

from mltrl.services.reviews.checklists import (
    BUILT_IN_VERSION,
    ETHICS_PARTS,
    TemplateVersion,
    _check_items,  # the checklist items' rule, also applied to restored backups (services.backup_rows)
    criteria_set,
    ethics_keys,
    ethics_template,
    level_criteria,
    score_criteria,
    score_criterion,
    score_versions,
    scores_of,
    template_versions,
    update_criteria,
    update_ethics_template,
)
from mltrl.services.reviews.evidence import (
    Added,
    add_evidence,
    add_junit_report,
    count_evidence,
    CriterionEvidence,
    criteria_at,
    criterion_evidence,
    evidence_by_id,
    evidence_counts,
    evidence_of,
    evidence_record,
    proof_of,
    proofs,
    scores_in_force,
    stale_reason,
)
from mltrl.services.reviews.decisions import (
    DecisionOutcome,
    answer_ethics,
    cancel_review,
    cast_vote,
    decide,
    open_review,
    set_panel,
)
from mltrl.services.reviews.deployed import DeployedDue, change_deployed_version, deployed_reviews
from mltrl.services.reviews.forks import fork, lineage_events
from mltrl.services.reviews.gates import Standing, gates_of, override_gate, overrides_of, requirement_facts, standing
from mltrl.services.reviews.records import (
    checklist_record,
    choice_word,
    criteria_records,
    event_record,
    gate_record,
    readiness_record,
    review_record,
    review_summary,
    vote_record,
)
from mltrl.services.reviews.reading import (
    ReviewView,
    count_reviews,
    review_number,
    review_view,
    reviews,
    reviews_by_id,
    waiting_for,
)

__all__ = [
    "Added",
    "add_evidence",
    "add_junit_report",
    "count_evidence",
    "CriterionEvidence",
    "criteria_at",
    "criterion_evidence",
    "evidence_by_id",
    "evidence_counts",
    "evidence_of",
    "evidence_record",
    "proof_of",
    "proofs",
    "scores_in_force",
    "stale_reason",
    "checklist_record",
    "choice_word",
    "criteria_records",
    "event_record",
    "gate_record",
    "readiness_record",
    "review_record",
    "review_summary",
    "vote_record",
    "_check_items",
    "BUILT_IN_VERSION",
    "ETHICS_PARTS",
    "DecisionOutcome",
    "DeployedDue",
    "ReviewView",
    "Standing",
    "TemplateVersion",
    "answer_ethics",
    "cancel_review",
    "cast_vote",
    "change_deployed_version",
    "count_reviews",
    "criteria_set",
    "decide",
    "deployed_reviews",
    "ethics_keys",
    "ethics_template",
    "fork",
    "gates_of",
    "level_criteria",
    "lineage_events",
    "open_review",
    "override_gate",
    "overrides_of",
    "requirement_facts",
    "review_number",
    "review_view",
    "reviews",
    "reviews_by_id",
    "score_criteria",
    "score_criterion",
    "score_versions",
    "scores_of",
    "template_versions",
    "set_panel",
    "standing",
    "update_criteria",
    "update_ethics_template",
    "waiting_for",
]
