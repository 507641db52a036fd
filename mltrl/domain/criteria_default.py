"""Default exit checklists: what must be true before a technology graduates out of each level.

``DEFAULT_CRITERIA`` maps every level 0-9 to a tuple of ``(key, criterion, guidance)`` triples:

* ``key``       -- a short slug, stable and unique within its level, so recorded answers survive
                   edits to the wording;
* ``criterion`` -- one sentence saying what must hold before the gated review can graduate it;
* ``guidance``  -- what evidence shows the criterion is met, and what to do when it is not.

``SCORED_FROM_EVIDENCE`` names the criteria the built-in set scores from evidence rather than by
hand: those a test report says best (prototype tests at level 3, the applied metrics on real data at
level 4, the deployment tests at level 8). Their score is the latest pass or fail evidence sent for
them (``mltrl.domain.evidence``); an admin can change which criteria are scored so.

Level 9 has no level to graduate to: its list is the checklist for the review a deployed system
goes through again and again, at a cadence set by its owners.

The facts follow the MLTRL framework (Lavin et al., Nature Communications 2022); the wording is
this project's own. Organisations start from these defaults and adapt them.

Pure data: no imports beyond ``__future__``.
"""

from __future__ import annotations

DEFAULT_CRITERIA: dict[int, tuple[tuple[str, str, str], ...]] = {
    0: (
        (
            "hypotheses",
            (
                "The hypotheses the research will test are written down, each concrete enough for "
                "an experiment to support or refute it."
            ),
            (
                "Point to the list in the research plan. A hypothesis that no experiment could "
                "settle needs sharpening, or dropping, before level 1 starts."
            ),
        ),
        (
            "maths-checked",
            (
                "The mathematical formulation behind the idea has been checked by the research "
                "lead and holds up."
            ),
            (
                "A derivation, proof sketch or worked example the lead has signed off. Gaps found "
                "now cost only thinking time, so close them before any code is written."
            ),
        ),
        (
            "lit-review",
            (
                "Related work has been surveyed, and what is new or useful about this idea "
                "compared with it is stated."
            ),
            (
                "An annotated reading list with a short paragraph on the contribution. If a close "
                "prior method turns up, say why the idea is still worth pursuing, or stop here."
            ),
        ),
        (
            "data-readiness",
            (
                "The team has considered whether suitable data exists or can be obtained, and how "
                "it would be brought into usable shape."
            ),
            (
                "A note on candidate sources, access and likely shortfalls. Purely theoretical "
                "work may record that no data is needed yet, but it must say so rather than stay "
                "silent."
            ),
        ),
        (
            "research-plan",
            (
                "A research plan names the first experiments, who will run them and roughly how "
                "long they should take."
            ),
            (
                "The plan is linked from the TRL card. Without one, the level 1 review has nothing "
                "to measure progress against; write it even if it is half a page."
            ),
        ),
        (
            "trl-card",
            (
                "The technology's TRL card is open, with its summary table filled in and the "
                "insights gathered so far."
            ),
            (
                "The card exists in the dashboard with owner, reviewer and a one-line summary. "
                "Open it now: level 1 needs somewhere to record versions and results."
            ),
        ),
    ),
    1: (
        (
            "targeted-experiments",
            (
                "Experiments aimed at specific properties of the model or algorithm have been run, "
                "and their results are recorded whether they were encouraging or not."
            ),
            (
                "Experiment notes tied to each hypothesis from level 0. A single benchmark score "
                "does not count; design a targeted experiment for each property still untested."
            ),
        ),
        (
            "sample-data",
            (
                "A sample dataset that stands in for the eventual real data (a real subset, "
                "synthetic data or both) is in use, and how it differs from the real thing is "
                "described."
            ),
            (
                "The sample's source, size and known gaps are on the TRL card. Where real data is "
                "slow to obtain, for example for privacy reasons, generate synthetic data rather "
                "than wait."
            ),
        ),
        (
            "data-blueprint",
            (
                "Working with the sample has produced a first sketch of how the full data would be "
                "collected and processed, including whether collecting it is feasible at all."
            ),
            (
                "A short document or diagram of sources, processing steps and blockers such as "
                "access, privacy or lead times. If full collection looks infeasible, raise it now, "
                "not at level 4."
            ),
        ),
        (
            "versioning",
            (
                "Code, models and datasets carry semantic versions, and the versions behind each "
                "reported result are noted on the TRL card."
            ),
            (
                "Anyone can tell which code, model and data produced a given figure. If versioning "
                "is missing, add it before graduating: reconstructing it later is slow and "
                "error-prone."
            ),
        ),
        (
            "organised-code",
            (
                "The research code is organised well enough that a teammate can find and rerun any "
                "reported experiment."
            ),
            (
                "A peer reruns one experiment from the repository. Quick, rough code and low test "
                "coverage are acceptable here; fix the layout and instructions, not the internals."
            ),
        ),
        (
            "peer-review",
            (
                "Research peers have reviewed the experiments and their foundations for rigour, "
                "and every point they raised has been answered."
            ),
            (
                "Review notes with each comment resolved or answered. Several rounds are normal; a "
                "point that needs another experiment keeps the technology at level 1 until it is "
                "run."
            ),
        ),
    ),
    2: (
        (
            "research-requirements",
            (
                "A research requirements document exists, and every requirement in it has "
                "verification and validation steps."
            ),
            (
                "The document is linked from the TRL card and no requirement lacks a V&V entry. "
                "Rewrite any requirement that cannot be checked before asking to graduate."
            ),
        ),
        (
            "requirement-risks",
            (
                "Each requirement carries a risk score (probability of failure times value), and "
                "the plan for testing the jump from simulation to real conditions is written down."
            ),
            (
                "Risk scores appear in the requirements table, with the highest ones discussed at "
                "review. A missing sim-to-real test plan is a common source of later surprises: "
                "add one."
            ),
        ),
        (
            "testbeds",
            (
                "The model has been developed and run in testbeds (simulated environments, or data "
                "built to resemble real conditions) against model-specific technical goals."
            ),
            (
                "Testbed results are recorded per technical goal. Product goals are not expected "
                "yet; a goal with no testbed result is still open."
            ),
        ),
        (
            "corner-cases",
            (
                "The testbed data was chosen to bring out corner cases and boundary conditions, "
                "and the model's behaviour there is characterised."
            ),
            (
                "A list of the edge conditions tried (from benchmarks, semi-simulated or fully "
                "simulated data) with the model's behaviour on each. If none were tried, add data "
                "that probes them."
            ),
        ),
        (
            "claims-supported",
            (
                "Every research claim made at earlier levels is backed by proof-of-principle "
                "evidence, in numbers or in documented observations."
            ),
            (
                "A claim-by-claim table pointing to the result that supports it. Withdraw or "
                "weaken any claim the results do not support, and say so on the TRL card."
            ),
        ),
        (
            "reproducible",
            (
                "The analyses are documented and someone other than their author has reproduced "
                "them from versioned code and data."
            ),
            (
                "A note of who reproduced which analysis and with which versions. If it could not "
                "be reproduced, find out why before going further."
            ),
        ),
        (
            "path-decision",
            (
                "The team has decided whether the work moves on to prototyping, continues as "
                "research, or splits into both, and the decision is recorded."
            ),
            (
                "The decision and its reasons are in the review notes. A split is common: track "
                "the applied branch and the research branch as separate technologies."
            ),
        ),
    ),
    3: (
        (
            "prototype-code",
            (
                "The code has been rebuilt to prototype standard: designed data flow and "
                "interfaces, the team's style rules followed, and enough documentation for the "
                "next engineer."
            ),
            (
                "An engineer outside the research team can read the design notes and find their "
                "way around. The code may still be replaced for product later; that is expected."
            ),
        ),
        (
            "tests",
            "Unit and integration tests cover the main paths through the code.",
            (
                "A test run in CI with coverage of the core modules. Paths with no tests are "
                "either tested now or listed as known debt on the TRL card."
            ),
        ),
        (
            "test-data",
            (
                "Set-aside slices of the experiment data are the tests' default inputs, and mock "
                "data exists for the specific scenarios the tests exercise."
            ),
            (
                "The test subsets and mocks are versioned and named in the test code. Tests that "
                "pull whatever data is at hand are brittle; pin them to these sets."
            ),
        ),
        (
            "model-data-versioning",
            "Models and datasets are under version control alongside the code.",
            (
                "Any test or result can be traced to exact model and data versions. If not, set "
                "this up before the data grows at level 4."
            ),
        ),
        (
            "data-standards",
            (
                "Any domain or organisational rules for managing data (for example tracking and "
                "compliance rules in healthcare) have been identified."
            ),
            (
                "A short list of the rules that apply, or an explicit note that none do. Ask the "
                "reviewers from engineering or compliance if unsure."
            ),
        ),
        (
            "engineering-review",
            (
                "Applied AI and software engineers have reviewed the code, interfaces and "
                "documentation, and their findings are fixed or logged as known debt."
            ),
            (
                "Review notes with each finding closed or ticketed. Unreviewed code should not go "
                "on to a proof of concept that other teams will see."
            ),
        ),
        (
            "product-engineering",
            (
                "Product engineering has joined the working group and begun shaping the service "
                "levels (SLAs and SLOs) the eventual production system must meet."
            ),
            (
                "Named product engineers and a first draft of the service targets. If nobody from "
                "product is involved yet, invite them before the level 4 proof of concept starts."
            ),
        ),
    ),
    4: (
        (
            "real-data",
            (
                "The proof of concept runs on real data representative of the target use, and the "
                "team knows how it will obtain verification and validation measures from that "
                "data."
            ),
            (
                "Results on real data, with its source and version on the TRL card. If the real "
                "data exposes problems that testbed work must fix, the planned route is the 4->2 "
                "switchback."
            ),
        ),
        (
            "applied-metrics",
            (
                "Results are reported with applied metrics: model quality across data splits, "
                "compute cost, and at least one measure that matters to the end user."
            ),
            (
                "A results table with all three kinds of metric. Research scores alone do not show "
                "whether the technology is useful; add the missing kinds before review."
            ),
        ),
        (
            "applications",
            (
                "The technology has been demonstrated on one or more candidate applications, each "
                "tried on more than one dataset, with its assumptions and limitations stated."
            ),
            (
                "Demo write-ups naming the application, datasets, assumptions and known limits. A "
                "demo without stated limits invites over-promising to new stakeholders."
            ),
        ),
        (
            "data-readiness",
            (
                "The real data has been judged for quality, validity and availability, and an "
                "early data pipeline resembling the future inference path exists."
            ),
            (
                "A data-readiness note and a working pipeline from intended sources to features to "
                "model. Shortfalls go into the requirements with risk scores."
            ),
        ),
        (
            "security-privacy",
            (
                "Security and privacy risks are written into the requirements document, each with "
                "a risk score."
            ),
            (
                "Entries in the requirements table covering data access, storage and exposure. If "
                "there are none, the review cannot judge them: add them."
            ),
        ),
        (
            "ethics",
            (
                "An ethics conversation has been held, covering how the data was collected and "
                "whether the model could cause harm or treat groups unfairly, and it is recorded."
            ),
            (
                "The ethics checklist is filled in and linked from the TRL card. Now that the "
                "capability and data are known, open concerns must have owners before graduation."
            ),
        ),
        (
            "go-decision",
            (
                "The review has recorded whether application development goes ahead now, waits for "
                "resources, or moves into another project."
            ),
            (
                "The decision and its reasons are in the review notes. Pausing after a passed "
                "review is a legitimate outcome; record it so the technology is not forgotten."
            ),
        ),
    ),
    5: (
        (
            "research-vv-complete",
            (
                "Every verification and validation step from the research requirements has been "
                "completed and its result recorded."
            ),
            (
                "The research requirements table shows a result against every V&V step. Any open "
                "step must be finished, or the requirement formally retired, before hand-off to "
                "product."
            ),
        ),
        (
            "product-requirements",
            (
                "Product requirements are drafted, each with its own verification and validation "
                "steps and a risk score."
            ),
            (
                "A product requirements document linked from the TRL card. Draft it with product "
                "managers; requirements written by the research team alone tend to miss user "
                "needs."
            ),
        ),
        (
            "stakeholder-alignment",
            "Stakeholders have reviewed the product requirements and agree on them.",
            (
                "Recorded sign-off, or a list of disagreements with owners. Settle them now: this "
                "is the cheapest point in productization to change course."
            ),
        ),
        (
            "capability",
            (
                "The model works as a capability inside a larger real-world process, not only as "
                "an isolated model."
            ),
            (
                "A demonstration of the capability in the context of the process it serves. If it "
                "only runs standalone, wire it into that process first."
            ),
        ),
        (
            "handoff",
            (
                "An interdisciplinary working group owns the technology, and others can use it "
                "through demos, example scripts or an API without its original developers."
            ),
            (
                "Named group members beyond ML, and someone outside R&D who has used it unaided. "
                "Knowledge held by one developer is a hand-off risk; document and share it."
            ),
        ),
        (
            "data-governance",
            (
                "A data governance plan covers ownership, access, duplication and control of the "
                "data over its lifecycle as more people and automated tests start using it."
            ),
            (
                "A named owner per dataset and rules for access and change. Without it, silos and "
                "unclear responsibilities grow as the pipelines scale."
            ),
        ),
        (
            "commit-resources",
            (
                "Decision-makers have committed the people, budget and roadmap to take the "
                "technology through productization."
            ),
            (
                "A recorded commitment with names and dates. Graduation here should be hard: "
                "without a real commitment, hold the technology at level 5 rather than let it "
                "stall at 6."
            ),
        ),
    ),
    6: (
        (
            "product-code",
            (
                "The code meets product standard: precise specifications, comprehensive tests and "
                "well-defined APIs."
            ),
            (
                "Specifications, test coverage reports and API documentation. Prototype code that "
                "survived unchanged needs review against this standard before users depend on it."
            ),
        ),
        (
            "robustness-shift",
            (
                "The model and its pipeline have been tested for robustness to differences between "
                "development and deployment data, using adversarial examples, meaning-preserving "
                "perturbations and data from other sources."
            ),
            (
                "Results per kind of hardening data, with the failures found and fixed. Where "
                "deployment data is hard to access, these tests matter more, not less."
            ),
        ),
        (
            "explanations",
            (
                "If the use case needs explanations, they are built and validated with the people "
                "who will read them, and shown to reflect the model's actual decisions."
            ),
            (
                "Validation results with end users, or a note that the use case needs none. "
                "Explanations tuned only for ML engineers do not meet this criterion."
            ),
        ),
        (
            "deployment-setting",
            (
                "The deployment setting is decided and written into the product requirements: "
                "internal or external, cloud or on-premise (or a mix), streaming or batch, and any "
                "limits on data access."
            ),
            (
                "A deployment section in the product requirements. Deciding later risks rework or "
                "delays; if it is still open, make the call at this review."
            ),
        ),
        (
            "service-and-pipeline-specs",
            (
                "The service-level requirements (SLAs and SLOs) and the data pipeline "
                "specification are written and reviewed."
            ),
            (
                "Both documents linked from the TRL card with reviewer comments closed. "
                "Integration at level 7 needs them as its contract."
            ),
        ),
        (
            "regulatory-review",
            (
                "A regulatory compliance review, covering data privacy and security law for the "
                "target use, has been completed with compliance or legal staff."
            ),
            (
                "The review's findings and sign-off. This review is mandatory for graduation; "
                "compliance gaps found later can sink the project."
            ),
        ),
        (
            "ethics-revisit",
            "The ethics checklist has been revisited for the concrete use case now defined.",
            (
                "An updated checklist with changes since level 4 noted. New concerns get owners "
                "and, where needed, requirements with risk scores."
            ),
        ),
    ),
    7: (
        (
            "integrated",
            (
                "The technology runs inside the existing production systems, integrated by "
                "infrastructure and applied AI engineers working together."
            ),
            (
                "A working integration in a production-like environment. Integration done by "
                "software engineers alone tends to miss hidden model assumptions; involve applied "
                "AI engineers."
            ),
        ),
        (
            "critical-scenarios",
            (
                "Tests cover the use case's critical scenarios and data slices, chosen from the "
                "risk table."
            ),
            (
                "Each high-risk requirement maps to at least one scenario or slice test. Gaps in "
                "that mapping are the first thing to close."
            ),
        ),
        (
            "golden-dataset",
            (
                "A golden dataset is fixed, and CI/CD scores every model version against it so "
                "each successor is measured on the same footing."
            ),
            (
                "The dataset is versioned and CI reports each model's score on it. Without it, a "
                "new model version cannot be compared fairly with the current one."
            ),
        ),
        (
            "metamorphic-tests",
            "Metamorphic relations between inputs and outputs are written down and tested.",
            (
                "A codified list of relations with passing tests. Start from the domain "
                "assumptions the model must respect, such as outputs that should not change under "
                "a given edit."
            ),
        ),
        (
            "data-intervention-tests",
            (
                "Data intervention tests look for data errors at ingestion and at the consumers of "
                "the pipeline's output, using data-validation checks rather than model scores."
            ),
            (
                "Tests at both ends of the pipeline that catch injected data faults. Model "
                "accuracy is a poor proxy for data quality; add explicit checks where they are "
                "missing."
            ),
        ),
        (
            "qa-data-governance",
            (
                "Quality assurance owns data governance: where data comes from, how it is handled, "
                "who uses it and how it is protected, including privacy, security and audit "
                "trails."
            ),
            (
                "Named QA owners and documented data processes. QA keeps this role through level "
                "9, so agree its scope now."
            ),
        ),
        (
            "test-rubric-ethics",
            (
                "The pipelines and test suites have been scored against a testing rubric such as "
                "the ML Test Score, and the ethics checklist has been gone through again."
            ),
            (
                "The scorecard and updated checklist are linked from the TRL card. Ethics fixes "
                "are cheaper now, with test suites in place, than just before shipping."
            ),
        ),
    ),
    8: (
        (
            "final-form",
            (
                "The system has been shown working in its final form under the conditions it is "
                "expected to meet."
            ),
            (
                "Results from the final build in a production-equivalent setting. Anything still "
                "changing goes back to level 7 before this review."
            ),
        ),
        (
            "deployment-tests",
            "Deployment tests have run: A/B, blue/green, shadow or canary, as fits the system.",
            (
                "Results of each test with its duration and traffic share. A shadow run of some "
                "length is the best way to see how real data stresses the model and "
                "infrastructure."
            ),
        ),
        (
            "ci-stress",
            (
                "CI/CD is ready to stress-test the whole system and its ML components on a regular "
                "schedule."
            ),
            (
                "Scheduled stress runs in the pipeline with recent results. Real-world data will "
                "change in ways nobody foresees; regular stress tests catch regressions early."
            ),
        ),
        (
            "distribution-logging",
            (
                "Input distributions and model performance are logged automatically, side by side, "
                "from the first day of go-live."
            ),
            (
                "Dashboards or logs showing input distributions and performance from the shadow or "
                "canary runs. Nothing ships without this."
            ),
        ),
        (
            "requirements-walkthrough",
            (
                "Every technical and product requirement has been walked through with its "
                "validation, before a panel representing all stakeholders."
            ),
            (
                "The requirements table with a validation result against every row, and the "
                "attendee list. A requirement without validation blocks the go decision."
            ),
        ),
        (
            "go-no-go",
            "A go or no-go decision for deployment, and its timing, is recorded.",
            (
                "The decision, date and reasons in the review notes. A no-go names what must "
                "change and which level the work returns to."
            ),
        ),
    ),
    9: (
        (
            "data-quality-monitoring",
            (
                "Inputs, predictions, model metadata and system metadata are logged, and "
                "data-quality monitoring raises alerts that someone acts on."
            ),
            (
                "Alert history since the last review, with the action taken on each. Alerts nobody "
                "reads count as no monitoring."
            ),
        ),
        (
            "drift-monitoring",
            (
                "Data drift, concept drift and training-serving skew are monitored, with "
                "thresholds that tell the team when to retrain."
            ),
            (
                "Drift charts and threshold settings, plus any retraining they triggered. If drift "
                "tests are missing, this system should not be running unattended."
            ),
        ),
        (
            "evaluation",
            (
                "Model outputs are recorded and evaluated: continuously where ground truth arrives "
                "promptly, after the fact where it arrives late."
            ),
            (
                "Performance since the last review against the golden dataset and live outcomes. "
                "Hidden degradation is the usual failure here; look for it in slices, not only in "
                "totals."
            ),
        ),
        (
            "changes-via-7",
            (
                "Every change to the deployed version since the last review went back through "
                "level 7 or earlier before it shipped."
            ),
            (
                "The release log matched against the technology's level history. A change that "
                "skipped integration testing is a finding for this review."
            ),
        ),
        (
            "user-feedback",
            (
                "User feedback has a clear route to the product and research teams, and what "
                "arrived since the last review has been triaged."
            ),
            (
                "A feedback log with outcomes. Feedback that never reaches research is lost "
                "insight; fix the route if it is blocked."
            ),
        ),
        (
            "data-policy",
            (
                "Owners have checked for changes in data policy or regulation that affect the "
                "system, especially in regulated fields like healthcare or finance."
            ),
            (
                "A dated note of what was checked and what changed. A relevant change may call for "
                "a compliance review and a switchback."
            ),
        ),
        (
            "review-outcome",
            (
                "The review records its outcome: keep running, ship an update through level 7, or "
                "switch back to an earlier level, and the date of the next review."
            ),
            (
                "The outcome and next date in the review notes. Skipping reviews is how stale "
                "models stay in service; set the cadence to suit the domain."
            ),
        ),
    ),
}

# The criteria the built-in set scores from evidence (a CI job's test report, say), by level.
SCORED_FROM_EVIDENCE: dict[int, tuple[str, ...]] = {3: ("tests",), 4: ("applied-metrics",), 8: ("deployment-tests",)}
