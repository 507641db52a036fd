"""TRL card use cases against a real database (SQLite and PostgreSQL): revisions, no lost edits,
restore, cards of prior levels, import, staleness, a person's cards. Refusals leave the database
as it was."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from mltrl.domain import cards as card_rules
from mltrl.domain.cards import Card
from mltrl.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mltrl.models import AuditEntry, CardRevision, utcnow
from mltrl.services import Actor, cards, level_moves, portfolio, projects, users
from tests.factories import TESTER, everything, make_history, make_project

ANA, TOM = Actor("ana"), Actor("tom")
CARD = Card(owners=("Ana Ruiz",), reviewers=("Tom Berg",), tldr="Optimises mixed variables.",
            requirements="1. It shall optimise.\n2. It shall be fast.", model="A **GP** surrogate.")

HUMAN_CARD = """\
# My BO card

| Summary info | Content, links |
| --- | --- |
| Tech name (project ID) | Mixed-variable BO (R02.1) |
| Current Level | 4 (*link to prior level cards*) |
| Owner(s) | Gunes Kaya, Yara Gold |
| Reviewer(s) | Ines Park |
| Code repo & docs | https://git.example.org/mvbo |
| Ethics checks? | WIP: https://wiki.example.org/ethics/mvbo |

**TL;DR** — A BO variant for mixed discrete and continuous inputs.

### Intended use

Tuning convnets.

### MLTRL stage debrief

1. What was accomplished, and by who?

    Benchmarks.
"""


@pytest.fixture
def r02(session: Session) -> str:
    make_project(session, "R02.1", "Mixed-variable BO", owners=["Ana Ruiz"])
    return "R02.1"


def save(session, code="R02.1", card=CARD, base=0, actor=ANA, summary=""):
    return cards.save_card(session=session, actor=actor, code=code, card=card, base_revision=base, summary=summary)


def test_every_save_is_a_revision_with_author_time_summary_and_content(session, r02):
    first = save(session, summary="first cut")
    second = save(session, card=replace(CARD, tldr="Better."), base=1, actor=TOM)
    revs = cards.revisions(session, r02)
    assert [(r.number, r.author, r.summary, r.action) for r in revs] == [
        (2, "tom", "", "edit"), (1, "ana", "first cut", "edit")]
    assert Card.from_dict(revs[1].content) == card_rules.validate(CARD)
    assert first.at <= second.at
    audit = session.exec(select(AuditEntry).where(AuditEntry.entity == "cardrevision")).all()
    assert [(a.actor, a.after["number"], a.after["changed"]) for a in audit] == [
        ("ana", 1, ["Owner(s)", "Reviewer(s)", "TL;DR", "Top-level requirements", "Model / algorithm info"]),
        ("tom", 2, ["TL;DR"]),
    ]


def test_the_second_of_two_editors_is_refused_and_both_versions_survive(session, engine, r02):
    save(session)  # revision 1: both open it
    save(session, card=replace(CARD, tldr="Ana's words."), base=1, actor=ANA)
    before = everything(engine)
    with pytest.raises(cards.CardConflict) as refusal:
        save(session, card=replace(CARD, testing="Tom's tests."), base=1, actor=TOM)
    assert everything(engine) == before
    assert refusal.value.theirs_number == 2 and refusal.value.theirs_author == "ana"
    assert refusal.value.theirs.tldr == "Ana's words."
    assert "ana saved the card of R02.1 (revision 2" in str(refusal.value)
    # Tom merges by hand and saves on top of Ana's revision.
    merged = replace(CARD, tldr="Ana's words.", testing="Tom's tests.")
    save(session, card=merged, base=2, actor=TOM)
    contents = [Card.from_dict(r.content) for r in cards.revisions(session, r02)]
    assert [c.tldr for c in contents] == ["Ana's words.", "Ana's words.", CARD.tldr]
    assert contents[0].testing == "Tom's tests."


def test_two_saves_passing_the_check_at_once_cannot_both_land(session, engine, r02, monkeypatch):
    save(session)
    save(session, base=1)
    stale = cards.revision(session, r02, 1)
    monkeypatch.setattr(cards, "_latest", lambda s, pid: stale)  # as if revision 2 arrived unseen
    before = everything(engine)
    with pytest.raises(Conflict, match="at the same moment"):
        save(session, base=1)
    assert everything(engine) == before


def test_a_base_revision_that_does_not_exist_is_refused(session, r02):
    with pytest.raises(InvalidInput, match="no card revision 3"):
        save(session, base=3)


def test_restore_saves_an_old_revision_again(session, r02):
    save(session)
    save(session, card=replace(CARD, model="Something else."), base=1)
    restored = cards.restore_revision(session=session, actor=TOM, code=r02, number=1, base_revision=2)
    assert (restored.number, restored.action, restored.restored_from, restored.summary) == (
        3, "restore", 1, "Restored revision 1")
    assert cards.current_card(session, r02).card.model == CARD.model
    assert len(cards.revisions(session, r02)) == 3  # nothing edited or deleted


def test_restore_from_a_stale_view_is_a_conflict(session, r02):
    save(session)
    save(session, base=1)
    with pytest.raises(cards.CardConflict):
        cards.restore_revision(session=session, actor=TOM, code=r02, number=1, base_revision=1)


def test_card_owners_are_the_technologys_owners(session, r02):
    save(session, card=replace(CARD, owners=("Ana Ruiz", "Li Wei")))
    assert projects.owners_of(session, projects.get_project(session, r02).id) == ["Ana Ruiz", "Li Wei"]
    view = projects.view_project(session, r02)
    projects.update_project(session=session, actor=TESTER, code=r02, expected_version=view.project.version,
                            owners=["Li Wei"])
    assert cards.current_card(session, r02).card.owners == ("Li Wei",)


def test_leaving_a_level_freezes_the_card_as_it_stood(session, r02):
    make_history(session, r02, [("start", 3, None, "2026-01-05")])
    save(session)  # saved now, after the start
    rev = save(session, card=replace(CARD, tldr="At level 3."), base=1)
    level_moves.graduate(session=session, actor=ANA, code=r02)
    save(session, card=replace(CARD, tldr="Now at level 4."), base=2)
    frozen = cards.level_cards(session, r02)
    assert [(lc.level, lc.to_level, lc.move, lc.number) for lc in frozen] == [(3, 4, "graduation", rev.number)]
    card, header, _ = cards.card_of_level(session, r02, 3)
    assert card.tldr == "At level 3." and header.level == 3
    assert cards.current_card(session, r02).header.prior_levels == (3,)
    exported = cards.export_card(session, r02, level=3)
    assert "| Current Level | 3 |" in exported and "At level 3." in exported
    assert "| Current Level | 4 (prior level cards: 3) |" in cards.export_card(session, r02)


def test_a_level_left_before_any_card_has_no_frozen_card(session, r02):
    make_history(session, r02, [("start", 1, None, "2025-01-06"), ("graduation", None, None, "2025-03-03")])
    save(session)
    assert [(lc.level, lc.number) for lc in cards.level_cards(session, r02)] == [(1, None)]
    with pytest.raises(NotFound, match="No card had been saved"):
        cards.card_of_level(session, r02, 1)
    with pytest.raises(NotFound, match="has not left level 5"):
        cards.card_of_level(session, r02, 5)


def test_staleness_follows_level_changes_and_age(session, r02):
    assert cards.current_card(session, r02).staleness.state == "none"
    make_history(session, r02, [("start", 2, None, "2026-01-05")])
    save(session)
    assert cards.current_card(session, r02).staleness.state == "fresh"
    level_moves.graduate(session=session, actor=ANA, code=r02)
    state = cards.current_card(session, r02).staleness
    assert state.state == "stale" and "not saved since the level changed" in state.reason
    save(session, base=1)
    assert cards.current_card(session, r02, now=utcnow() + timedelta(days=91)).staleness.state == "stale"
    assert cards.current_card(session, r02, now=utcnow() + timedelta(days=91), max_days=120).staleness.state == "fresh"
    row = portfolio.portfolio_frame(session).set_index("code").loc[r02]
    assert (row["card"], row["card_revisions"]) == ("fresh", 2)


def test_import_creates_the_technology_with_its_level_and_owners(session):
    outcome = cards.import_card(session=session, actor=ANA, text=HUMAN_CARD)
    assert (outcome.code, outcome.created, outcome.number, outcome.warnings) == ("R02.1", True, 1, ())
    view = projects.view_project(session, "R02.1")
    assert view.project.name == "Mixed-variable BO" and view.owners == ["Gunes Kaya", "Yara Gold"]
    assert view.project.level == 4
    (start,) = level_moves.history(session, "R02.1")
    assert "imported card" in start.note
    state = cards.current_card(session, "R02.1")
    assert state.card.reviewers == ("Ines Park",) and state.card.code_url == "https://git.example.org/mvbo"
    assert state.card.accomplished == "Benchmarks." and state.card.title == "My BO card"
    assert cards.revisions(session, "R02.1")[0].action == "import"


def test_import_into_an_existing_technology_adds_a_revision_and_warns_of_differences(session, r02):
    make_history(session, r02, [("start", 5, None, "2026-01-05")])
    save(session)
    outcome = cards.import_card(session=session, actor=TOM, text=HUMAN_CARD.replace("Mixed-variable BO", "MVBO"))
    assert (outcome.created, outcome.number) == (False, 2)
    assert any("states level 4; R02.1 is at level 5" in w for w in outcome.warnings)
    assert any("keeps its name 'Mixed-variable BO'" in w for w in outcome.warnings)
    assert projects.get_project(session, r02).level == 5


def test_import_into_a_chosen_project(session, r02):
    make_project(session, "P07.1", "Other")
    outcome = cards.import_card(session=session, actor=ANA, text=HUMAN_CARD, code="P07.1")
    assert outcome.code == "P07.1"
    assert any("names R02.1; it was imported into P07.1" in w for w in outcome.warnings)


@pytest.mark.parametrize(("text", "field"), [
    ("# A card\n\n**TL;DR** — no table.\n", "Tech name (project ID)"),
    ("| Project ID | R77.1 |\n|---|---|\n", "Tech name (project ID)"),  # new project, no name
    (HUMAN_CARD.replace("https://git.example.org/mvbo", "javascript:alert(1)"), "Code repo & docs"),
    (HUMAN_CARD.replace("Tuning convnets.", "x" * (101 * 1024)), "Intended use"),
    (HUMAN_CARD.replace("Mixed-variable BO (R02.1)", "Mixed-variable BO (R02.1 bad)"), "Tech name (project ID)"),
])
def test_bad_imports_are_refused_by_field_and_write_nothing(session, engine, text, field):
    before = everything(engine)
    with pytest.raises(InvalidInput) as refusal:
        cards.import_card(session=session, actor=ANA, text=text)
    assert refusal.value.field == field
    assert everything(engine) == before


def test_bad_saves_are_refused_by_field_and_write_nothing(session, engine, r02):
    before = everything(engine)
    with pytest.raises(InvalidInput, match="Main project page: only http"):
        save(session, card=replace(CARD, project_url="javascript:alert(1)"))
    with pytest.raises(InvalidInput, match="Change summary"):
        save(session, summary="x" * 501)
    with pytest.raises(NotFound):
        save(session, code="NOPE")
    assert everything(engine) == before


def test_viewers_cannot_save_cards(session, engine, r02):
    users.create_first_admin(session=session, actor=Actor("x"), name="ada", password="pw-long-enough")
    users.add_user(session=session, actor=Actor("ada"), name="vic", role="viewer", password="pw-long-enough")
    before = everything(engine)
    with pytest.raises(PermissionDenied):
        save(session, actor=Actor("vic"))
    assert everything(engine) == before


def test_export_refuses_what_does_not_exist(session, r02):
    with pytest.raises(NotFound, match="no card yet"):
        cards.export_card(session, r02)
    save(session)
    with pytest.raises(InvalidInput, match="format"):
        cards.export_card(session, r02, fmt="pdf")
    assert cards.export_card(session, r02, number=1).startswith("# Mixed-variable BO (R02.1)")
    assert "<!DOCTYPE html>" in cards.export_card(session, r02, fmt="html")


def test_a_persons_cards_match_full_names_and_first_names(session, r02):
    save(session, card=replace(CARD, reviewers=("Tom Berg", "Li Wei")))
    make_project(session, "P09.1", owners=["Tom Berg"])
    assert [(r["code"], r["as"]) for r in cards.cards_of_person(session, "tom")] == [
        ("P09.1", "owner"), ("R02.1", "reviewer")]
    assert [r["code"] for r in cards.cards_of_person(session, "AnaRuiz")] == ["R02.1"]
    assert cards.cards_of_person(session, "nobody") == []


def test_revisions_are_append_only_rows(session, r02):
    save(session)
    save(session, base=1)
    numbers = session.exec(select(CardRevision.number).order_by(CardRevision.number)).all()
    assert numbers == [1, 2]


def test_brief_names_level_phase_and_top_requirements(session, r02):
    make_history(session, r02, [("start", 4, None, "2026-01-05")])
    save(session)
    brief = cards.brief_html(session, r02)
    assert "Level 4" in brief and "It shall optimise." in brief and "Optimises mixed variables." in brief


def test_the_register_feeds_the_card_and_the_brief(session, r02):
    from mltrl.services import risks

    make_history(session, r02, [("start", 4, None, "2026-01-05")])
    save(session)
    ana = Actor("ana")
    risks.add_requirement(session=session, actor=ana, code=r02, number="1", statement="Register says optimise.",
                          p_failure=0.5, value=8, verification_status="passed")
    risks.add_requirement(session=session, actor=ana, code=r02, number="1.1", statement="A sub-requirement.",
                          p_failure=0.5, value=8)
    risks.add_risk(session=session, actor=ana, code=r02, title="Drift", category="data", p_failure=0.5, value=8,
                   owner="ana")
    risks.add_risk(session=session, actor=ana, code=r02, title="Gone", category="data", p_failure=0.9, value=9,
                   status="closed")
    line = "1. Register says optimise. (verification passed, validation not started; risk 4.00)"
    assert cards.register_lines(session, r02) == (line,)  # top level only
    page = cards.export_card(session, r02, fmt="html")
    assert "In the requirements register" in page and "Register says optimise." in page and "sub-requirement" not in page
    assert "Register says optimise." not in cards.export_card(session, r02)  # the Markdown card is the card alone
    brief = cards.brief_html(session, r02)
    assert "Register says optimise." in brief and "It shall optimise." not in brief  # the register wins
    assert "Drift: data, risk 4.00 (high), open, owner ana" in brief and "Gone" not in brief


def test_every_demo_card_exports_to_html_and_round_trips_through_markdown(session):
    from mltrl.services import demo

    demo.load_demo(session=session, actor=Actor("demo"))
    with_cards = [code for code in projects.project_codes(session) if cards.current_card(session, code).number]
    assert len(with_cards) == 6
    for code in with_cards:
        page = cards.export_card(session, code, fmt="html")
        assert page.startswith("<!DOCTYPE html>") and "<script" not in page
        text = cards.export_card(session, code)
        parsed = card_rules.parse_markdown(text)
        assert parsed.card == replace(cards.current_card(session, code).card), code
        assert parsed.code == code
