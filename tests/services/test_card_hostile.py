"""Hostile input at the card services (issue 14), on SQLite and PostgreSQL: importing a card file,
saving a card, restoring and exporting give a result or a named refusal (``MltrlError``), never
another exception, and a refusal leaves every table as it was.

No timing: the 100 KB inputs that stalled the old parser for hours run under a watchdog that turns
a stall into a failure.
"""

from __future__ import annotations

import signal
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from mltrl.domain import cards as card_rules
from mltrl.domain.cards import Card
from mltrl.domain.errors import InvalidInput, MltrlError, NotFound
from mltrl.models import CardRevision
from mltrl.services import Actor, cards, projects
from tests.factories import everything, make_project

ANA = Actor("ana")
KB100 = 100_000
TABLE = "| Summary info | Content, links |\n| --- | --- |\n| Tech name (project ID) | Hostile model (H01.1) |\n"


@pytest.fixture(autouse=True)
def watchdog():
    def stalled(signum, frame):
        raise AssertionError("still running after 300 s")

    previous = signal.signal(signal.SIGALRM, stalled)
    signal.alarm(300)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def refused_or_done(engine, call):
    """``call()``'s result, or its refusal after checking that no table changed."""
    before = everything(engine)
    try:
        return call()
    except MltrlError as refusal:
        assert str(refusal)
        assert everything(engine) == before, "a refusal wrote something"
        return refusal


HOSTILE_FILES = {
    "heading": "# a" + " " * (KB100 - 4) + "b",
    "tldr": TABLE + " " * (KB100 - 1) + "x",
    "separator": "| a | b |\n|--" + " " * (KB100 - 14) + "x",
    "brackets": TABLE + "\n### Intended use\n\n" + "[" * 40_000 + "x" + "]" * 40_000,
    "list": TABLE + "\n### Intended use\n\n" + "- " * 40_000 + "x",
    "level -1": TABLE + "| Current Level | -1 |\n",
    "level 4.5": TABLE + "| Current Level | 4.5 |\n",
    "level 99": TABLE + "| Current Level | 99 |\n",
    "level IX": TABLE + "| Current Level | IX |\n",
    "over 2 MB": TABLE + ("x" * 1000 + "\n") * 2200,
    "a line over 100 KB": TABLE + "\n### Testing status\n\n" + "x" * (KB100 + 2_000),
    "NUL": TABLE + "\n### Testing status\n\nnul\x00here\n",
    "lone surrogate": TABLE + "\n### Testing status\n\n\ud800\n",
}


@pytest.mark.parametrize("name", list(HOSTILE_FILES))
def test_hostile_card_files_are_imported_or_refused_and_a_refusal_writes_nothing(session, engine, name):
    out = refused_or_done(engine, lambda: cards.import_card(session=session, actor=ANA, text=HOSTILE_FILES[name]))
    if not isinstance(out, MltrlError):
        assert projects.find_project(session, out.code) is not None
        card_rules.to_html(cards.current_card(session, out.code).card, cards.current_card(session, out.code).header)


@pytest.mark.parametrize("cell", ["-1", "4.5", "99", "10", "IX"])
def test_a_level_that_is_no_level_starts_no_technology(session, engine, cell):
    before = everything(engine)
    with pytest.raises(InvalidInput) as refusal:
        cards.import_card(session=session, actor=ANA, text=TABLE + f"| Current Level | {cell} |\n")
    assert refusal.value.field == "Current Level"
    assert everything(engine) == before
    assert projects.find_project(session, "H01.1") is None


def test_a_card_with_an_unclosed_fence_round_trips_through_export_and_import(session):
    make_project(session, "R02.1", "Mixed-variable BO", owners=["Ana Ruiz"])
    card = Card(owners=("Ana Ruiz",), model="```python\nfit(x)", intended_use="Tuning.",
                extra_sections=(("Bindings for C#", "A C# wrapper."),))
    cards.save_card(session=session, actor=ANA, code="R02.1", card=card, base_revision=0)
    text = cards.export_card(session, "R02.1")
    outcome = cards.import_card(session=session, actor=ANA, text=text)
    assert (outcome.code, outcome.number) == ("R02.1", 2)
    revs = cards.revisions(session, "R02.1")
    assert Card.from_dict(revs[0].content) == Card.from_dict(revs[1].content)
    assert Card.from_dict(revs[0].content).extra_sections == (("Bindings for C#", "A C# wrapper."),)


def test_a_stored_card_the_old_rules_let_in_still_exports_and_renders(session):
    """A list nested 300 deep was stored by the old rules; its page and export show it as text."""
    project = make_project(session, "R02.1", "Mixed-variable BO")
    deep = Card(model="- " * 1000 + "x", testing="[" * 30_000 + "x" + "]" * 30_000)
    session.add(CardRevision(project_id=project.id, number=1, author="old", summary="", action="edit",
                             level=None, content=deep.to_dict()))
    session.commit()
    page = cards.export_card(session, "R02.1", fmt="html")
    assert page.startswith("<!DOCTYPE html>") and "<pre>" in page and "Shown as written" in page
    state = cards.current_card(session, "R02.1")
    assert "<pre>" in card_rules.card_body_html(state.card, state.header)
    assert "- - - " in cards.export_card(session, "R02.1")


# --- random and hostile values into every argument ---------------------------------------------

PIECES = st.sampled_from([
    "#", "# ", " ", "|", "-", "- ", "> ", "[", "]", "(", "`", "```", "\n", "\r", "\x00", "\x1f", "TL;DR", "**",
    "<", "x", "é", "\ud800", "| Current Level | ", "| Tech name (project ID) | A (H01.1) |\n| --- | --- |\n",
    "### Intended use\n", "### MLTRL stage debrief\n", "1. What was learned?\n", "9", "-1", "4.5",
])
hostile_text = st.lists(st.tuples(PIECES, st.integers(1, 300)), max_size=12).map(
    lambda parts: "".join(piece * count for piece, count in parts))
hostile_value = st.one_of(hostile_text, st.none(), st.integers(-2**70, 2**70), st.booleans(),
                          st.lists(st.text(max_size=5), max_size=3), st.sampled_from(["R02.1", "", "  ", "H01.1"]))


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=hostile_text, code=hostile_value, summary=hostile_value)
def test_hostile_imports_are_done_or_refused_and_a_refusal_writes_nothing(session: Session, engine, text, code,
                                                                           summary):
    refused_or_done(engine, lambda: cards.import_card(session=session, actor=ANA, text=text, code=code,
                                                      summary=summary))
    session.rollback()


FIELD_NAMES = ["title", "owners", "reviewers", "project_url", "ethics_status", "coupled", "extra_rows", "tldr",
               "model", "learned", "notes", "extra_sections"]


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(FIELD_NAMES), value=st.one_of(hostile_value, st.tuples(hostile_text, hostile_text).map(
    lambda pair: (pair,))), base=hostile_value, summary=hostile_value)
def test_hostile_saves_are_done_or_refused_and_a_refusal_writes_nothing(session: Session, engine, field, value,
                                                                         base, summary):
    if projects.find_project(session, "R02.1") is None:
        make_project(session, "R02.1", "Mixed-variable BO", owners=["Ana Ruiz"])
    card = replace(Card(owners=("Ana Ruiz",)), **{field: value})
    refused_or_done(engine, lambda: cards.save_card(session=session, actor=ANA, code="R02.1", card=card,
                                                    base_revision=base, summary=summary))
    session.rollback()


@pytest.mark.parametrize(("call", "refusal"), [
    (lambda s: cards.restore_revision(session=s, actor=ANA, code="R02.1", number=2**40, base_revision=1), NotFound),
    (lambda s: cards.restore_revision(session=s, actor=ANA, code="R02.1", number="1", base_revision=1), InvalidInput),
    (lambda s: cards.restore_revision(session=s, actor=ANA, code=None, number=1, base_revision=1), InvalidInput),
    (lambda s: cards.save_card(session=s, actor=ANA, code=42, card=Card(), base_revision=1), InvalidInput),
    (lambda s: cards.save_card(session=s, actor=ANA, code="R02.1", card="text", base_revision=1), InvalidInput),
    (lambda s: cards.save_card(session=s, actor=ANA, code="R02.1", card=Card(), base_revision=2**70), InvalidInput),
    (lambda s: cards.save_card(session=s, actor=ANA, code="R\x0002.1", card=Card(), base_revision=1), NotFound),
    (lambda s: cards.current_card(s, "no such code!"), NotFound),
    (lambda s: cards.export_card(s, "R02.1", number=2**63), NotFound),
    (lambda s: cards.export_card(s, ["R02.1"]), InvalidInput),
])
def test_hostile_arguments_are_refused_by_name(session, engine, call, refusal):
    make_project(session, "R02.1", "Mixed-variable BO", owners=["Ana Ruiz"])
    cards.save_card(session=session, actor=ANA, code="R02.1", card=Card(owners=("Ana Ruiz",)), base_revision=0)
    before = everything(engine)
    with pytest.raises(refusal):
        call(session)
    assert everything(engine) == before
