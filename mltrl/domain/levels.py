"""The MLTRL level engine: the ten levels as data and the rules for moving between them.

Pure: no database, no streamlit. Every page, service and CLI command reaches the rules through
this module, so a rule holds everywhere.

Rules (each has a short name that appears in refusals, see ``RuleViolation.rule``):

* ``level-range``   -- levels are whole numbers 0-9.
* ``start-first``   -- a technology's first event is its start; nothing moves before it.
* ``single-start``  -- a technology starts once, at any level.
* ``same-level``    -- a move must change the level.
* ``one-step-up``   -- upward moves are graduations of exactly one level.
* ``top-level``     -- nothing graduates beyond level 9.
* ``switchback-goes-down`` -- a switchback moves to a lower level.
* ``embedded-pairs`` -- only 4->2, 9->4 and 9->7 are embedded switchbacks.
* ``switchback-kind-required`` -- any other switchback must say whether it is discovery or review.
* ``chronological`` -- an event may not be dated before the technology's last event.

Warnings (the move is allowed, the user is told): a switchback to a level the technology never
held; an event dated in the future.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from mltrl.domain.errors import RuleViolation

MIN_LEVEL = 0
MAX_LEVEL = 9


class Phase(StrEnum):
    RESEARCH = "research"
    PROTOTYPING = "prototyping"
    PRODUCTIZATION = "productization"
    DEPLOYMENT = "deployment"


class EventKind(StrEnum):
    START = "start"
    GRADUATION = "graduation"
    SWITCHBACK = "switchback"


class SwitchbackKind(StrEnum):
    DISCOVERY = "discovery"
    REVIEW = "review"
    EMBEDDED = "embedded"


# Switchbacks the framework builds into the process (from level, to level).
EMBEDDED_SWITCHBACKS: frozenset[tuple[int, int]] = frozenset({(4, 2), (9, 4), (9, 7)})

SWITCHBACK_KIND_HELP: dict[SwitchbackKind, str] = {
    SwitchbackKind.DISCOVERY: (
        "The work itself turned up a gap: an experiment, a test or an integration shows that an "
        "earlier level's result does not hold, so the technology goes back to close it. Example: "
        "at level 3 the prototype exposes a modelling flaw and the team returns to level 2 testbeds."
    ),
    SwitchbackKind.REVIEW: (
        "A gated review sends the technology back, often for business or timing reasons rather "
        "than a technical fault. Example: a level 8 go/no-go review finds that the production "
        "environment changed and returns the system to level 7 for re-integration."
    ),
    SwitchbackKind.EMBEDDED: (
        "A loop the framework plans for: 4->2 (the proof of concept on real data sends the model "
        "back to testbeds to fix what the real data revealed), 9->4 (a deployed system's feedback "
        "calls for new proof-of-concept work) and 9->7 (any change to a deployed version is "
        "re-integrated and re-tested from level 7 before it ships)."
    ),
}


@dataclass(frozen=True)
class Level:
    """One MLTRL level, described in this project's own words."""

    number: int
    name: str
    phase: Phase
    summary: str
    data: str
    review: str
    panel: tuple[str, ...]
    decision: str | None = None
    code_quality: str | None = None

    @property
    def label(self) -> str:
        return f"{self.number} · {self.name}"


LEVELS: tuple[Level, ...] = (
    Level(
        0, "First principles", Phase.RESEARCH,
        summary=(
            "A new idea or question is worked out on paper: literature, mathematics, sketches of "
            "algorithms. The level ends with concrete, well-founded hypotheses and a research plan, "
            "and the technology's TRL card is opened."
        ),
        data=(
            "No data is required yet, but whether suitable data could exist (and how to get it into "
            "shape) should already be considered."
        ),
        review=(
            "Are the hypotheses mathematically sound, new or useful, and grounded in prior work? "
            "Code and end-to-end results are not expected."
        ),
        panel=("Research lead",),
    ),
    Level(
        1, "Goal-oriented research", Phase.RESEARCH,
        summary=(
            "Small, targeted experiments probe specific properties of the model or algorithm, "
            "rather than chasing a benchmark score. Versioning of code, models and data starts here."
        ),
        data=(
            "Sample data that stands for the real thing: a subset of real data, synthetic data, or "
            "both. Working with it early exposes how the full data could be collected and processed."
        ),
        review=(
            "Scientific rigour of the early experiments, good results or not, and pointers to "
            "related work; often several rounds of feedback."
        ),
        panel=("Research lead", "Research team peers"),
        code_quality=(
            "Research caliber: quick iteration, hacky code tolerated, but an organised code base "
            "and semantic versioning of code, models and data."
        ),
    ),
    Level(
        2, "Proof of principle", Phase.RESEARCH,
        summary=(
            "Active R&D in testbeds (simulated environments or data close to real conditions), "
            "driven by technical goals. The research requirements document, with verification and "
            "validation steps, is written at this level."
        ),
        data=(
            "Public benchmarks, semi-simulated data grown from the level 1 sample, or fully "
            "simulated data, chosen to expose corner cases and boundary conditions."
        ),
        review=(
            "The research claims made so far are backed by the proof-of-principle results, and the "
            "analyses are documented and reproducible."
        ),
        panel=("Research lead", "Research team peers"),
        decision=(
            "Prototype towards level 3, keep researching, or both: a bifurcation into an applied "
            "branch and a research branch is common."
        ),
    ),
    Level(
        3, "System development", Phase.PROTOTYPING,
        summary=(
            "Code is rebuilt for interoperability, reliability, maintainability and scale, with "
            "clear interfaces and data flow. Product engineering joins to start shaping SLAs/SLOs."
        ),
        data=(
            "Mostly as at level 2, plus dedicated test subsets of the experiment data and mocks "
            "for the scenarios the tests cover."
        ),
        review=(
            "Sound software practice, interfaces and documentation, version control of models and "
            "data, and the data-management standards of the domain."
        ),
        panel=("Research team", "Applied AI engineers", "Software engineers"),
        code_quality=(
            "Prototype caliber: designed and architected, covered by unit and integration tests, "
            "documented, following team style; still expected to be reworked for product."
        ),
    ),
    Level(
        4, "Proof of concept", Phase.PROTOTYPING,
        summary=(
            "The technology is shown working in a real scenario for one or more candidate "
            "applications. Metrics move from research scores to applied ones: model quality per "
            "data split, compute cost, and what matters to the end user. Ethics is discussed openly."
        ),
        data=(
            "Real, representative data is essential; pipelines from levels 1 and 3 are scaled up, "
            "and thought is given to how verification and validation measures will be obtained."
        ),
        review=(
            "Usefulness for practical applications with assumptions and limits stated, data "
            "readiness (quality, validity, availability), and security and privacy risks quantified "
            "in the requirements."
        ),
        panel=("Research team", "Applied AI engineers", "Software engineers",
               "Product managers", "Stakeholders"),
        decision=(
            "Push on into application development, or pause: many projects pass this review and "
            "wait for resources or are pulled into another project."
        ),
    ),
    Level(
        5, "ML capability", Phase.PROTOTYPING,
        summary=(
            "The model becomes a capability inside a larger real-world process, shared through "
            "demos, scripts or an API. This is the explicit hand-off from R&D to product, the "
            "'valley of death' where projects are often lost."
        ),
        data=(
            "As at level 4, but pipelines must scale to more users and automated tests, so data "
            "governance (ownership, silos, lifecycle control) becomes a real concern."
        ),
        review=(
            "All research verification and validation steps are complete, product requirements "
            "(with their own V&V) are drafted, and stakeholders agree on them."
        ),
        panel=("Interdisciplinary working group", "Product managers", "Stakeholders"),
        decision="Commit resources to take the technology through productization, or not.",
    ),
    Level(
        6, "Application development", Phase.PRODUCTIZATION,
        summary=(
            "Heavy software engineering brings the code to product grade and hardens the modules "
            "for the target use cases, including robustness to shifts between development and "
            "deployment data. The deployment setting is decided here."
        ),
        data=(
            "More data to harden the models: adversarial examples, meaning-preserving "
            "perturbations, and data from other sources to test generalisation."
        ),
        review=(
            "Code quality, the new product requirements, SLA/SLO requirements, the data pipeline "
            "specification, and a second ethics pass. Regulatory compliance review is mandatory."
        ),
        panel=("Interdisciplinary working group", "Product managers", "Stakeholders",
               "Compliance and legal"),
        decision=(
            "How and where the model is served (internal or external, cloud or on-premise, batch "
            "or streaming): decided now, neither too early nor too late."
        ),
        code_quality=(
            "Product caliber: precise specifications, comprehensive tests, well-defined APIs."
        ),
    ),
    Level(
        7, "Integrations", Phase.PRODUCTIZATION,
        summary=(
            "The technology is integrated into existing production systems by infrastructure and "
            "applied AI engineers together, with tests for critical scenarios and data slices, a "
            "golden dataset for CI/CD, metamorphic tests and data-intervention tests."
        ),
        data=(
            "Test-suite data, and quality assurance takes ownership of data governance: how data "
            "is obtained, managed, used and secured."
        ),
        review=(
            "The data pipelines and test suites (a rubric such as the ML Test Score helps), and "
            "ethics again while fixes are still cheap."
        ),
        panel=("Interdisciplinary working group", "Stakeholders", "QA engineers",
               "Infrastructure engineers"),
    ),
    Level(
        8, "Flight-ready", Phase.DEPLOYMENT,
        summary=(
            "The system is shown to work in its final form under expected conditions, with A/B, "
            "blue/green, shadow and canary tests, and CI/CD ready to stress-test it regularly."
        ),
        data=(
            "Logging of data distributions alongside model performance must be in place before "
            "anything ships."
        ),
        review=(
            "Every technical and product requirement is walked through together with its "
            "validation, before the full slate of stakeholders."
        ),
        panel=("All stakeholders",),
        decision="Go or no-go for deployment, and when.",
    ),
    Level(
        9, "Deployment", Phase.DEPLOYMENT,
        summary=(
            "The system is live. Work turns to maintenance: monitoring data quality, concept and "
            "data drift, continuous or delayed evaluation, and planning the next version. Any change "
            "to the deployed version goes back to level 7 or earlier."
        ),
        data=(
            "Logging and inspection of inputs, outputs and system metadata, and watching for "
            "shifts in data policy in regulated domains."
        ),
        review=(
            "Repeated at a regular cadence by owners and stakeholders, who may recommend a "
            "switchback; it keeps release cycles disciplined and catches stale models."
        ),
        panel=("Owners", "Stakeholders"),
        decision="Keep running, release an update through level 7, or switch back.",
    ),
)

PHASE_LEVELS: dict[Phase, tuple[int, ...]] = {
    phase: tuple(lv.number for lv in LEVELS if lv.phase is phase) for phase in Phase
}


def level(number: int) -> Level:
    """The level with this number; ``RuleViolation('level-range')`` outside 0-9."""
    check_level_number(number)
    return LEVELS[number]


def phase_of(number: int) -> Phase:
    return level(number).phase


def check_level_number(number: object) -> int:
    if isinstance(number, bool) or not isinstance(number, int) or not MIN_LEVEL <= number <= MAX_LEVEL:
        raise RuleViolation(
            "level-range", f"Level {number!r} does not exist: levels are whole numbers 0-9."
        )
    return number


def is_embedded(from_level: int, to_level: int) -> bool:
    return (from_level, to_level) in EMBEDDED_SWITCHBACKS


# --- transitions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """A requested level change. ``to_level`` is implied (+1) for a graduation when omitted."""

    kind: EventKind
    to_level: int | None = None
    switchback_kind: SwitchbackKind | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class Transition:
    """An accepted move, with everything the history records about it."""

    kind: EventKind
    from_level: int | None
    to_level: int
    switchback_kind: SwitchbackKind | None
    at: datetime | None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class LevelState:
    """What the engine needs to know of a technology's past."""

    current: int | None = None
    held: frozenset[int] = field(default_factory=frozenset)
    last_at: datetime | None = None

    @property
    def started(self) -> bool:
        return self.current is not None


def check_move(state: LevelState, move: Move, *, now: datetime | None = None) -> Transition:
    """Accept ``move`` from ``state`` as a ``Transition`` or raise ``RuleViolation``.

    ``now``, when given, turns an event dated after it into a warning.
    """
    warnings: list[str] = []
    if move.at is not None and state.last_at is not None and move.at < state.last_at:
        raise RuleViolation(
            "chronological",
            f"An event dated {move.at.date().isoformat()} would come before the technology's last "
            f"event ({state.last_at.date().isoformat()}): level history is recorded in order.",
        )
    if move.at is not None and now is not None and move.at > now:
        warnings.append(f"The event is dated in the future ({move.at.date().isoformat()}).")

    if move.kind is EventKind.START:
        if state.started:
            raise RuleViolation(
                "single-start",
                f"The technology already started (it is at level {state.current}); "
                "use a graduation or a switchback instead.",
            )
        to = check_level_number(move.to_level)
        if move.switchback_kind is not None:
            raise RuleViolation("embedded-pairs", "A start has no switchback kind.")
        return Transition(EventKind.START, None, to, None, move.at, tuple(warnings))

    if not state.started:
        raise RuleViolation(
            "start-first",
            "The technology has no level yet: record its start (at any level 0-9) first.",
        )
    current = state.current
    assert current is not None

    if move.kind is EventKind.GRADUATION:
        if move.switchback_kind is not None:
            raise RuleViolation("embedded-pairs", "A graduation has no switchback kind.")
        if move.to_level is None and current == MAX_LEVEL:
            raise RuleViolation("top-level", "Level 9 is the highest: there is nothing to graduate to.")
        to = current + 1 if move.to_level is None else check_level_number(move.to_level)
        if to == current:
            raise RuleViolation("same-level", f"The technology is already at level {current}.")
        if to < current:
            raise RuleViolation(
                "one-step-up",
                f"A graduation goes up; {current}->{to} goes down, so record it as a switchback.",
            )
        if to != current + 1:
            raise RuleViolation(
                "one-step-up",
                f"Graduations go up one level at a time: from level {current} the next is "
                f"{current + 1}, not {to}.",
            )
        return Transition(EventKind.GRADUATION, current, to, None, move.at, tuple(warnings))

    # switchback
    to = check_level_number(move.to_level)
    if to == current:
        raise RuleViolation("same-level", f"The technology is already at level {current}.")
    if to > current:
        raise RuleViolation(
            "switchback-goes-down",
            f"A switchback goes to a lower level; {current}->{to} goes up "
            + ("(a graduation)." if to == current + 1 else "(and upward moves are one level at a time)."),
        )
    kind = move.switchback_kind
    if kind is None:
        if not is_embedded(current, to):
            raise RuleViolation(
                "switchback-kind-required",
                f"Say what kind of switchback {current}->{to} is: discovery (a gap found in the "
                "work) or review (decided at a gated review). Only 4->2, 9->4 and 9->7 are embedded.",
            )
        kind = SwitchbackKind.EMBEDDED
    if kind is SwitchbackKind.EMBEDDED and not is_embedded(current, to):
        raise RuleViolation(
            "embedded-pairs",
            f"{current}->{to} is not an embedded switchback: only 4->2, 9->4 and 9->7 are. "
            "Call it discovery or review.",
        )
    if to not in state.held:
        warnings.append(
            f"The technology never held level {to} before: this switchback takes it to a level "
            "it skipped by starting higher."
        )
    return Transition(EventKind.SWITCHBACK, current, to, kind, move.at, tuple(warnings))


def advance(state: LevelState, transition: Transition) -> LevelState:
    """The state after an accepted transition."""
    last_at = transition.at if transition.at is not None else state.last_at
    return LevelState(transition.to_level, state.held | {transition.to_level}, last_at)


def replay(moves: Iterable[Move], *, now: datetime | None = None) -> tuple[LevelState, list[Transition]]:
    """Run a whole history through the rules; the first illegal move raises."""
    state = LevelState()
    transitions: list[Transition] = []
    for move in moves:
        transition = check_move(state, move, now=now)
        transitions.append(transition)
        state = advance(state, transition)
    return state, transitions


def state_from_levels(levels: Sequence[int], last_at: datetime | None = None) -> LevelState:
    """The state of a technology whose history visited ``levels`` in order."""
    if not levels:
        return LevelState(last_at=last_at)
    return LevelState(levels[-1], frozenset(levels), last_at)


# --- systems ---------------------------------------------------------------------------------

K = TypeVar("K", bound=Hashable)


def system_levels(parents: Mapping[K, K | None], levels: Mapping[K, int | None]) -> dict[K, int | None]:
    """For every node: the lowest level among it and all its descendants that have a level.

    ``parents`` maps each node to its parent (None at the root); ``levels`` maps nodes to their
    current level (None, or missing, before their start). A node none of whose subtree has a level
    gets None. Runs in time linear in the number of nodes; a parent loop raises ``ValueError``.
    """
    children: dict[K, list[K]] = {node: [] for node in parents}
    for node, parent in parents.items():
        if parent is not None and parent in children:
            children[parent].append(node)
    result: dict[K, int | None] = {}
    state: dict[K, int] = {}  # 1 = on the stack, 2 = done
    for root in parents:
        if root in state:
            continue
        stack: list[tuple[K, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                candidates = [levels.get(node)] + [result[c] for c in children[node]]
                present = [c for c in candidates if c is not None]
                result[node] = min(present) if present else None
                state[node] = 2
                continue
            if state.get(node) == 1:
                raise ValueError(f"component tree has a loop through {node!r}")
            if state.get(node) == 2:
                continue
            state[node] = 1
            stack.append((node, True))
            for child in children[node]:
                if state.get(child) == 1:
                    raise ValueError(f"component tree has a loop through {child!r}")
                if state.get(child) != 2:
                    stack.append((child, False))
    return result


def system_level(node: K, parents: Mapping[K, K | None], levels: Mapping[K, int | None]) -> int | None:
    """The system level of one node (see ``system_levels``)."""
    return system_levels(parents, levels)[node]


def tree_order(
    nodes: Sequence[Hashable], parents: Mapping[Hashable, Hashable | None]
) -> list[tuple[Hashable, int]]:
    """Nodes in display order for a component tree, each with its depth (0 at a root).

    Roots keep the order of ``nodes``; each node's components follow it directly, in the order
    of ``nodes``. A node whose parent is unknown is treated as a root.
    """
    known = set(nodes)
    children: dict[Hashable, list[Hashable]] = {n: [] for n in nodes}
    roots: list[Hashable] = []
    for node in nodes:
        parent = parents.get(node)
        if parent is None or parent not in known or parent == node:
            roots.append(node)
        else:
            children[parent].append(node)
    out: list[tuple[Hashable, int]] = []
    seen: set[Hashable] = set()
    for root in roots:
        stack = [(root, 0)]
        while stack:
            node, depth = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            out.append((node, depth))
            stack.extend((child, depth + 1) for child in reversed(children[node]))
    # Anything left sits on a parent loop; show it rather than lose it.
    out.extend((n, 0) for n in nodes if n not in seen)
    return out
