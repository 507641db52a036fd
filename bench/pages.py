"""What the benchmark runs through ``AppTest`` and the CLI: the list of pages (``PAGES``), the CLI
commands (``CLI_OPS``), the floor's SQL, and the harness hooks for the page runs.

Each area module (``bench/cards.py``, ``bench/registers.py``, ``bench/reviews.py``,
``bench/analytics.py``) gives its pages with their checks; this module adds the portfolio, the
sample project, the evidence-heavy technology's project page (``reviews.EVIDENCE_PROJECT_PAGE``)
and the level guide, and keeps the pages in the order the table lists them. Later
capabilities add their pages to ``PAGES`` (or to their area's list) and their commands to
``CLI_OPS``.
"""

from __future__ import annotations

import json

from bench import analytics, cards, generate, registers, reviews
from bench.common import PageSpec


def _check_portfolio(at, n: int, counts: dict) -> None:
    shown = [c.value for c in at.caption if str(c.value).startswith("Showing ")]
    assert shown and f"of {counts['projects']} technologies" in shown[0], shown


def _check_project(at, n: int, counts: dict) -> None:
    code = generate.sample_system_code(n)
    assert at.header and at.header[0].value.startswith(f"{code} "), [h.value for h in at.header]
    assert "Components" in [s.value for s in at.subheader], "the sample project shows no components"


PAGES = [
    PageSpec("portfolio", "views/portfolio.py", check=_check_portfolio),
    PageSpec("project", "views/project.py",
             query_params=lambda n, c: {"code": generate.sample_system_code(n)}, check=_check_project),
    reviews.EVIDENCE_PROJECT_PAGE,
    *cards.CARD_PAGES,
    *registers.REGISTER_PAGES,
    *reviews.REVIEW_PAGES,
    *analytics.ANALYTICS_PAGES,
    PageSpec("level guide", "views/level_guide.py", reads_portfolio=False),
]


def _check_project_list(stdout: str, counts: dict) -> None:
    records = json.loads(stdout)
    assert len(records) == counts["projects"], (len(records), counts["projects"])


CLI_OPS = [
    ("mltrl project list --json", ["project", "list", "--json"], _check_project_list),
]

FLOOR_SQL = [
    "SELECT id, code, name, parent_id, status, level, level_since, summary, version FROM project",
    "SELECT project_id, name FROM projectowner ORDER BY project_id, position",
]
LATEST_EVENT_SQL = (
    "SELECT p.id, (SELECT e.to_level FROM levelevent e WHERE e.project_id = p.id "
    "ORDER BY e.at DESC, e.id DESC LIMIT 1) FROM project p"
)


def share_script_cache() -> None:
    """Compile app.py and the pages once, as a server does.

    AppTest builds a new ``ScriptCache`` on every run, so each run re-reads, rewrites (magic) and
    compiles app.py and the page: 10-60 ms that a running server spends once per file, not per
    rerun. One shared cache takes that harness cost out of the page times
    (``BENCH_SCRIPT_CACHE=fresh`` keeps AppTest's behaviour).
    """
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    shared = ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared


def profile_hook():
    """Let one AppTest run be profiled: AppTest runs the script in its own thread."""
    import cProfile

    from streamlit.testing.v1.local_script_runner import LocalScriptRunner

    state: dict[str, cProfile.Profile | None] = {"prof": None}
    original = LocalScriptRunner._run_script_thread

    def run_script_thread(self) -> None:
        prof = state["prof"]
        if prof is None:
            return original(self)
        prof.enable()
        try:
            return original(self)
        finally:
            prof.disable()

    LocalScriptRunner._run_script_thread = run_script_thread
    return state
