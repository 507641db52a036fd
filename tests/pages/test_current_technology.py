"""The current technology (``mltrl.ui.current``) under AppTest: chosen on one page, it follows to
every page that shows one technology, and into the URL; a link's ``?code=`` wins; an unknown code
is said so; with nothing chosen, pages open on the technology with the most to show."""

from __future__ import annotations

import pytest

from mltrl.services import portfolio

CARD, RISKS, PROJECT, REVIEWS, TIMELINES = (f"views/{p}.py" for p in ("card", "risks", "project", "reviews",
                                                                        "timelines"))
PICKERS = {CARD: "card_code", RISKS: "risk_code", PROJECT: "project_code"}


def from_sidebar(at, page: str):
    """Open ``page`` as the sidebar's link does: a page switch with no query string."""
    at.query_params.clear()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def shown(at, page: str) -> str:
    return at.selectbox(key=PICKERS[page]).value


def url_code(at) -> str | None:
    value = at.query_params.get("code")
    return value[-1] if isinstance(value, list) else value


def test_a_technology_picked_on_the_card_follows_to_the_other_pages(open_page, demo_db):
    at = open_page(CARD)
    at.selectbox(key="card_code").set_value("R17.1").run()
    assert not at.exception, at.exception
    assert url_code(at) == "R17.1"
    for page in (RISKS, PROJECT, CARD):
        from_sidebar(at, page)
        assert shown(at, page) == "R17.1", page
        assert url_code(at) == "R17.1", page  # the page puts it back in the URL: a refresh keeps it
    from_sidebar(at, PROJECT)
    assert at.header[0].value.startswith("R17.1 · ")
    # The single-technology parts of Reviews and Timelines follow too.
    at.session_state["reviews_tab"] = "Checklist"
    from_sidebar(at, REVIEWS)
    assert at.selectbox(key="checklist_code").value == "R17.1" and url_code(at) == "R17.1"
    from_sidebar(at, TIMELINES)
    assert at.selectbox(key="tl_code").value == "R17.1" and url_code(at) == "R17.1"


def test_picking_another_on_any_page_changes_it_everywhere(open_page, demo_db):
    at = open_page(RISKS, code="R17.1")
    at.selectbox(key="risk_code").set_value("P05.1").run()
    assert url_code(at) == "P05.1"
    assert shown(from_sidebar(at, CARD), CARD) == "P05.1"
    at.session_state["tl_tab"] = "Technology"
    from_sidebar(at, TIMELINES)
    at.selectbox(key="tl_code").set_value("P03.1").run()
    assert shown(from_sidebar(at, PROJECT), PROJECT) == "P03.1"


def test_a_link_with_a_code_wins_over_the_remembered_one(open_page, demo_db):
    at = open_page(CARD, code="R17.1")
    at.query_params["code"] = "P05.1"  # e.g. the Project page's own links, or a link pasted in
    at.switch_page(RISKS).run()
    assert shown(at, RISKS) == "P05.1"
    assert shown(from_sidebar(at, PROJECT), PROJECT) == "P05.1"  # and it becomes the current one


def test_a_new_session_with_a_code_in_the_url_opens_on_it(open_page, demo_db):
    """A refresh or a new tab is a new session: only the URL carries the technology."""
    for page, key in PICKERS.items():
        at = open_page(page, code="R17.1")
        assert at.selectbox(key=key).value == "R17.1" and url_code(at) == "R17.1"


def test_an_unknown_code_says_so_and_falls_back(open_page, demo_db, session):
    telling = portfolio.most_telling(session)
    at = open_page(RISKS, code="X99.9")
    assert not at.exception
    assert at.warning[0].value == f"No technology has the code `X99.9`: showing **{telling}** instead."
    assert shown(at, RISKS) == telling and url_code(at) == telling
    # With a technology already chosen in this session, it falls back to that one.
    at.selectbox(key="risk_code").set_value("R17.1").run()
    at.query_params["code"] = "P99.9"
    at.switch_page(CARD).run()
    assert "`P99.9`" in at.warning[0].value and "showing **R17.1**" in at.warning[0].value
    assert shown(at, CARD) == "R17.1" and url_code(at) == "R17.1"


@pytest.mark.parametrize("asked", ["<script>alert(1)</script>", "**bold** [x](javascript:alert(1))"])
def test_a_code_that_is_not_a_code_is_not_echoed(open_page, demo_db, session, asked):
    at = open_page(PROJECT, code=asked)
    assert not at.exception
    assert at.warning[0].value == (f"The link's code is not a technology code: showing "
                                   f"**{portfolio.most_telling(session)}** instead.")


def test_with_nothing_chosen_pages_open_on_the_most_telling_technology(open_page, demo_db, session):
    telling = portfolio.most_telling(session)
    assert telling != "P02.1"  # the first code, with no card and no register
    at = open_page(PROJECT)
    assert shown(at, PROJECT) == telling and url_code(at) == telling
    assert at.header[0].value.startswith(f"{telling} · ")
    at = open_page(CARD)
    assert shown(at, CARD) == telling
    text = " ".join(m.value for m in at.markdown)
    assert "no card yet" not in text and ("card up to date" in text or "card stale" in text)
    at = open_page(RISKS)
    assert shown(at, RISKS) == telling
    assert not any("Nothing to count yet" in i.value for i in at.info)
    assert at.get("plotly_chart"), "the risk matrix is drawn"
