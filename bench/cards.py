"""The TRL card area: the card pages' checks and the card operations.

The pages: the TRL card page at ``card?code=T00042`` (the long card: read, history with the diff
of its last two revisions, brief, editor with previews, import form; the Markdown and HTML
downloads are exported on every run) and the Cards page (every technology's card state).

The operations, on the long card (``bench/cardgen.py``: ``T00042``, six 20-40 KB sections, 50
revisions), through the card service on a throwaway copy of the size's database (the cached one
is never written): ``card export md`` and ``card export html`` (``export_card``), ``card save``
(``save_card`` of the card with one paragraph rewritten, each save from the latest revision; the
next card is built untimed before each save) and ``card import`` (``import_card`` of the exported
Markdown, a new revision each time). Each timed call opens and closes its own session on one
engine, as a page run does. Card save and export are held to the page time target (no floor
ratio: they do not read the portfolio); card import is reported without a target.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench import cardgen, generate
from bench.common import PageSpec, copy_db, median_ms, profile_call


def _check_card(at, n: int, counts: dict) -> None:
    """The long card itself was drawn (its TL;DR inside the card's HTML), at its latest revision."""
    bodies = [h.value for h in at.html]
    assert any(cardgen.LONG_CARD_TLDR_MARKER in b and "Top-level requirements" in b for b in bodies), \
        f"the card page did not render the long card's TL;DR ({len(bodies)} html elements)"
    latest = f"Revision {counts['long_card_revisions']}, "
    assert any(str(c.value).startswith(latest) for c in at.caption), [c.value for c in at.caption][:5]


def _check_cards(at, n: int, counts: dict) -> None:
    """The overview counts every technology, and the ones with a card as up to date or stale."""
    metrics = {m.label: int(str(m.value).replace(",", "")) for m in at.metric}
    with_card = metrics["Cards up to date"] + metrics["Stale cards"]
    assert with_card == counts["cards"], (metrics, counts["cards"])
    assert with_card + metrics["Technologies without a card"] == counts["projects"], metrics
    assert len(at.dataframe[0].value) == counts["projects"], len(at.dataframe[0].value)


def measure_card_ops(db_path: Path, runs: int, size: str, log: Callable[[str], None],
                     profiling: bool) -> dict[str, dict]:
    """Export, save and import of the long card, on a throwaway copy of the database."""
    from sqlmodel import select

    from mltrl import db
    from mltrl.models import Project
    from mltrl.services import Actor
    from mltrl.services import cards as card_service

    code = cardgen.LONG_CARD_CODE
    actor = Actor("bench")
    items: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="mltrl-bench-cards-") as tmp:
        copy = copy_db(db_path, Path(tmp))
        engine = db.make_engine(f"sqlite:///{copy}")
        try:
            with db.session_scope(engine) as s:
                codes = cardgen.link_pool(sorted(s.exec(select(Project.code)).all()))
            exported: dict[str, str] = {}

            def timed(name: str, fn: Callable[[], object], before: Callable[[], object] | None = None,
                      targeted: bool = True) -> None:
                res = median_ms(fn, runs, before=before)
                items[name] = dict(kind="card-op", targeted=targeted, **res)
                log(f"{name} {res['median_ms']:.0f} ms")
                if profiling:
                    profile_call(fn, before, size, name)

            for fmt in ("md", "html"):
                def export(fmt: str = fmt) -> None:
                    with db.session_scope(engine) as s:
                        out = card_service.export_card(s, code, fmt=fmt)
                    assert cardgen.LONG_CARD_TLDR_MARKER in out, f"export {fmt}: no TL;DR"
                    exported[fmt] = out

                timed(f"card export {fmt}", export)

            rng = random.Random(7)
            pending: dict = {}

            def next_card() -> None:  # untimed: what the editor holds when Save is clicked
                with db.session_scope(engine) as s:
                    state = card_service.current_card(s, code)
                card, summary = cardgen.vary(state.card, rng, state.number + 1, codes, generate.OWNERS)
                pending.update(base=state.number, card=card, summary=summary)

            def save() -> None:
                with db.session_scope(engine) as s:
                    rev = card_service.save_card(session=s, actor=actor, code=code, card=pending["card"],
                                                 base_revision=pending["base"], summary=pending["summary"])
                assert rev.number == pending["base"] + 1, (rev.number, pending["base"])

            timed("card save", save, before=next_card)

            text = exported["md"]

            def import_md() -> None:
                with db.session_scope(engine) as s:
                    out = card_service.import_card(session=s, actor=actor, text=text)
                assert out.code == code and not out.created and not out.warnings, out

            timed("card import", import_md, targeted=False)
        finally:
            engine.dispose()
    return items


CARD_PAGE = f"card {cardgen.LONG_CARD_CODE}"

CARD_PAGES = [
    PageSpec(CARD_PAGE, "views/card.py",
             query_params=lambda n, c: {"code": cardgen.LONG_CARD_CODE}, check=_check_card),
    PageSpec("cards", "views/cards.py", check=_check_cards),
]
