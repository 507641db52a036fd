"""Synthetic TRL cards for the benchmark portfolio: realistic Markdown, deterministic from a seed.

* ``long_card(rng, ...)``: the designated long card (``LONG_CARD_CODE``): each of the six Markdown
  sections is 20-40 KB of Markdown with ``####`` sub-headings, paragraphs, bullet and numbered
  lists, pipe tables, links, fenced code, block quotes, ``#CODE`` cross-links (known and unknown
  codes) and ``@name`` mentions; the four debrief answers are 1.5-3 KB each.
* ``short_card(rng, ...)``: a card of a few KB, for the handful of other technologies with a card.
* ``vary(card, rng, revision)``: the same card with one paragraph of one section rewritten (the
  section rotates with the revision number): what a small edit looks like.

Sub-headings avoid the words the card parser takes for a standard section ("Data ...",
"Model ...", "... requirement ...", "Testing ..."), so an exported card imports back as it was.
This module only builds ``Card`` values; ``bench/generate.py`` writes them through the service.
"""

from __future__ import annotations

import random
from dataclasses import replace

from mltrl.domain.cards import DEBRIEF, SECTIONS, Card

LONG_CARD_CODE = "T00042"  # exists at every size (S has T00001..T00100); a system with components
LONG_CARD_REVISIONS = 50
LONG_SECTION_BYTES = (20_000, 40_000)
LONG_DEBRIEF_BYTES = (1_500, 3_000)
# The TL;DR of the long card starts with this (plain words: they survive Markdown rendering as is).
LONG_CARD_TLDR_MARKER = "Long benchmark card with fifty revisions of six long sections"

METRICS = ["AUROC", "F1", "recall at 1% FPR", "precision", "MAPE", "p95 latency", "calibration error",
           "top-5 accuracy", "NDCG@10", "word error rate", "coverage", "Brier score"]
DATASETS = ["GRID-LOAD v3.2", "RETAIL-TX 2024Q4", "CLIN-NOTES v1.7", "SAT-TILES v5", "ROUTES-EU v2.1",
            "CALLS-2025 sample", "PAY-EVENTS v9", "LINE-SENSORS v4.3", "CROP-YIELD v2", "TRANSIT-GTFS 2025"]
THINGS = ["evaluation harness", "feature pipeline", "serving API", "drift monitor", "labelling guide",
          "retraining job", "threshold calibration", "shadow deployment", "ablation study", "load test",
          "data contract", "fallback rule set", "model registry entry", "canary release"]
ASKS = ["a per-segment breakdown", "a second annotator pass", "a rollback plan", "tighter confidence intervals",
        "a fairness audit by region", "a cost estimate per 1,000 calls", "a documented owner for alerts",
        "a frozen test split", "a comparison against the rule-based baseline"]
CLAUSES = ["the gains held on the held-out months", "the effect disappears once seasonality is removed",
           "latency stays within budget up to four times today's traffic", "label noise explains most of the gap",
           "the baseline is still competitive on small sites", "recall drops on the rarest class",
           "the calibration drifts after a schema change upstream", "the partner team agreed to own the alerting",
           "retraining weekly is enough for the current drift rate", "two of the five edge cases are now covered"]
PARAMS = ["threshold", "window_days", "max_depth", "learning_rate", "batch_size", "top_k", "dropout", "horizon"]
MONTHS = ["January", "March", "May", "June", "September", "November"]
DOCS = ["design note", "V&V table", "runbook", "evaluation report", "data sheet", "review minutes", "ADR-14"]

SUBHEADINGS = {
    "requirements": ["Functional scope", "Service levels", "Verification plan", "Interfaces", "Open items",
                     "Acceptance criteria", "Traceability", "Non-functional goals"],
    "model": ["Architecture", "Training procedure", "Hyper-parameters", "Ablations", "Inference path",
              "Baselines", "Known limits of the method", "Reproducibility"],
    "intended_use": ["Primary users", "Out-of-scope uses", "Deployment context", "Decision support",
                     "Human oversight", "Misuse scenarios", "Operating envelope"],
    "testing": ["Unit and integration suites", "Offline evaluation", "Robustness checks", "Load and soak",
                "Advice for the next level", "Regression gates", "Shadow comparison"],
    "data": ["Sources and versions", "Label quality", "Imbalances", "Privacy", "Splits", "Acquisition assumptions",
             "Lineage", "Retention"],
    "caveats": ["Known edge cases", "Biases", "Technical debt", "Recommendations", "Failure modes",
                "Monitoring gaps", "Things later levels must keep"],
}


LINK_POOL_TECHNOLOGIES = 100  # cross-links go to T00001..T00100 and their components: at every size


def link_pool(codes: list[str]) -> list[str]:
    """The codes cards link to: those that exist at every size, so the long card is the same
    Markdown at S, M and L (only whether a code resolves depends on the portfolio)."""
    return [c for c in codes if c[:1] == "T" and c[1:6].isdigit() and int(c[1:6]) <= LINK_POOL_TECHNOLOGIES]


class _Writer:
    """Sentences and blocks of card Markdown with cross-links to ``codes`` and mentions of ``people``."""

    def __init__(self, rng: random.Random, codes: list[str], people: list[str]):
        self.rng = rng
        self.codes = codes
        self.handles = [p.split()[0] for p in people] + [p.replace(" ", "") for p in people]

    def code(self) -> str:
        r = self.rng.random()
        if r < 0.08:
            return f"#Q{self.rng.randint(10, 99)}.{self.rng.randint(1, 9)}"  # no such technology
        return "#" + self.rng.choice(self.codes)

    def person(self) -> str:
        return "@" + self.rng.choice(self.handles)

    def url(self) -> str:
        slug = self.rng.choice(["wiki", "git", "docs", "tracker"])
        return f"https://{slug}.example.org/mltrl/{self.rng.randint(100, 999)}/{self.rng.choice(THINGS).replace(' ', '-')}"

    def value(self) -> str:
        return f"{self.rng.uniform(0.5, 0.99):.3f}"

    def sentence(self) -> str:
        r = self.rng
        templates = [
            lambda: f"The {r.choice(THINGS)} was re-run on {r.choice(DATASETS)} and reached {r.choice(METRICS)} "
                    f"{self.value()}, against {self.value()} for the baseline in {self.code()}.",
            lambda: f"{self.person()} reviewed the {r.choice(THINGS)} and asked for {r.choice(ASKS)}; see the "
                    f"[{r.choice(DOCS)}]({self.url()}).",
            lambda: f"Results depend on `{r.choice(PARAMS)}` = {r.randint(2, 64)}: above {r.randint(65, 128)}, "
                    f"{r.choice(METRICS)} degraded by {r.randint(1, 12)}%.",
            lambda: f"**{r.choice(['Decision', 'Finding', 'Risk', 'Follow-up'])}**: {r.choice(CLAUSES)}.",
            lambda: f"This mirrors what {self.code()} found at level {r.randint(2, 7)}, where {r.choice(CLAUSES)}.",
            lambda: f"We keep the {r.choice(THINGS)} in sync with {self.code()} through a shared contract test.",
            lambda: f"Until {r.choice(MONTHS)} {r.randint(2021, 2025)} the {r.choice(THINGS)} relied on "
                    f"{r.choice(DATASETS)}; it now uses {r.choice(DATASETS)}.",
            lambda: f"{r.choice(CLAUSES).capitalize()}, which {self.person()} tracks in "
                    f"[issue {r.randint(100, 4999)}]({self.url()}).",
            lambda: f"In short, {r.choice(CLAUSES)}, and {r.choice(CLAUSES)}.",
        ]
        return r.choice(templates)()

    def requirement(self) -> str:
        r = self.rng
        return r.choice([
            lambda: f"keep {r.choice(METRICS)} at or above {self.value()} on {r.choice(DATASETS)} ({self.code()})",
            lambda: f"answer within {r.randint(50, 400)} ms at the 95th percentile under {r.randint(2, 20)}x today's load",
            lambda: f"log every decision with the inputs it used, for {r.randint(6, 36)} months",
            lambda: f"fall back to the rules of {self.code()} when the {r.choice(THINGS)} is unavailable",
            lambda: f"keep differences in {r.choice(METRICS)} across regions within {r.randint(2, 8)} points",
        ])()

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(3, 6)))

    def bullets(self) -> str:
        return "\n".join(f"- {self.sentence()}" for _ in range(self.rng.randint(3, 7)))

    def numbered(self, prefix: str = "") -> str:
        return "\n".join(f"{i}. {prefix}{self.sentence()}" for i in range(1, self.rng.randint(4, 8)))

    def table(self) -> str:
        r = self.rng
        rows = ["| Metric | Baseline | Current | Target | Owner |", "| --- | ---: | ---: | ---: | --- |"]
        for metric in r.sample(METRICS, r.randint(4, 8)):
            rows.append(f"| {metric} | {self.value()} | {self.value()} | {self.value()} | {self.person()} |")
        return "\n".join(rows)

    def code_block(self) -> str:
        r = self.rng
        body = [f"{p}: {r.randint(1, 500)}" for p in r.sample(PARAMS, r.randint(3, 6))]
        return "```yaml\n# evaluated with " + r.choice(DATASETS) + "\n" + "\n".join(body) + "\n```"

    def quote(self) -> str:
        return f"> {self.sentence()}\n>\n> — {self.person()}, review of {self.rng.choice(MONTHS)}"

    def links(self) -> str:
        return "\n".join(f"- [{(d := self.rng.choice(DOCS))[0].upper() + d[1:]}]({self.url()}) for {self.code()}"
                         for _ in range(self.rng.randint(2, 4)))

    def block(self) -> str:
        kind = self.rng.choices(["p", "ul", "ol", "table", "code", "quote", "links"],
                                weights=[45, 20, 10, 10, 5, 5, 5])[0]
        return {"p": self.paragraph, "ul": self.bullets, "ol": self.numbered, "table": self.table,
                "code": self.code_block, "quote": self.quote, "links": self.links}[kind]()

    def section(self, key: str, target_bytes: int) -> str:
        r = self.rng
        blocks: list[str] = []
        size = 0
        if key == "requirements":  # the top-level list the brief shows
            top = "\n".join(f"{i}. The system shall {self.requirement()}." for i in range(1, 13))
            blocks.append(top)
            size += len(top) + 2
        headings = list(SUBHEADINGS[key])
        r.shuffle(headings)
        n = 0
        while size < target_bytes:
            if n % 6 == 0:
                heading = f"#### {headings[(n // 6) % len(headings)]}" + (f" ({n // 6 // len(headings) + 1})" if n >= 6 * len(headings) else "")
                blocks.append(heading)
                size += len(heading) + 2
            block = self.block()
            blocks.append(block)
            size += len(block.encode("utf-8")) + 2
            n += 1
        return "\n\n".join(blocks)

    def answer(self, target_bytes: int) -> str:
        blocks: list[str] = []
        while sum(len(b) + 2 for b in blocks) < target_bytes:
            blocks.append(self.bullets() if self.rng.random() < 0.5 else self.paragraph())
        return "\n\n".join(blocks)


def _summary(rng: random.Random, code: str, owners: list[str], people: list[str], components: list[str]) -> dict:
    slug = code.lower()
    reviewers = [p for p in rng.sample(people, 3) if p not in owners][:2]
    return dict(
        owners=tuple(owners), reviewers=tuple(reviewers),
        project_url=f"https://wiki.example.org/mltrl/{slug}",
        requirements_url=f"https://wiki.example.org/mltrl/{slug}/requirements",
        code_url=f"https://git.example.org/ml/{slug}",
        ethics_status=rng.choice(["Yes", "WIP", "Not started"]),
        ethics_url=f"https://wiki.example.org/ethics/{slug}",
        coupled=tuple(components),
    )


def long_card(rng: random.Random, code: str, owners: list[str], people: list[str], codes: list[str],
              components: list[str]) -> Card:
    """The long card: six 20-40 KB sections and 1.5-3 KB debrief answers."""
    w = _Writer(rng, codes, people)
    tldr = (f"{LONG_CARD_TLDR_MARKER}: a stress test of the card pages. The technology is in active "
            f"development with its components {', '.join(components)}; owners {', '.join(owners)} keep it current.")
    return Card(
        **_summary(rng, code, owners, people, components),
        tldr=tldr,
        **{key: w.section(key, rng.randint(*LONG_SECTION_BYTES)) for key, _, _ in SECTIONS},
        **{key: w.answer(rng.randint(*LONG_DEBRIEF_BYTES)) for key, _ in DEBRIEF},
    )


def short_card(rng: random.Random, code: str, owners: list[str], people: list[str], codes: list[str],
               components: list[str]) -> Card:
    """A card of a few KB: a TL;DR, short sections (some left empty) and a short debrief."""
    w = _Writer(rng, codes, people)
    texts = {key: ("\n\n".join(w.block() for _ in range(rng.randint(1, 3))) if rng.random() < 0.85 else "")
             for key, _, _ in SECTIONS}
    return Card(
        **_summary(rng, code, owners, people, components),
        tldr=f"{w.sentence()} {w.sentence()}",
        **texts,
        **{key: w.paragraph() for key, _ in DEBRIEF if rng.random() < 0.6},
    )


def vary(card: Card, rng: random.Random, revision: int, codes: list[str], people: list[str]) -> tuple[Card, str]:
    """``card`` with one paragraph of one section rewritten; returns (card, change summary)."""
    key, heading, _ = SECTIONS[revision % len(SECTIONS)]
    w = _Writer(rng, codes, people)
    blocks = getattr(card, key).split("\n\n")
    plain = [i for i, b in enumerate(blocks) if b and b[0].isalpha() or b.startswith("**")]
    new = f"{w.paragraph()} (Revised in revision {revision}.)"
    if plain:
        blocks[rng.choice(plain)] = new
    else:
        blocks.append(new)
    return replace(card, **{key: "\n\n".join(blocks)}), f"Revision {revision}: rewrote a paragraph of {heading}"
