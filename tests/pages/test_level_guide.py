"""The Level guide page under AppTest."""

from mltrl.domain import levels

PAGE = "views/level_guide.py"


def test_level_guide_shows_all_ten_levels_and_the_switchback_kinds(open_page):
    at = open_page(PAGE)
    assert at.title[0].value == "Level guide"
    overview = at.dataframe[0].value
    assert list(overview["Level"]) == list(range(10))
    assert list(overview["Name"]) == [lv.name for lv in levels.LEVELS]
    labels = [e.label for e in at.expander]
    assert len(labels) == 10 and "**4 · Proof of concept**" in labels
    text = " ".join(m.value for m in at.markdown)
    for kind in ("Discovery", "Review", "Embedded"):
        assert f"**{kind}**" in text
    assert "4→2" in at.info[0].value and "9→7" in at.info[0].value


def test_level_guide_works_on_an_empty_database(open_page):
    at = open_page(PAGE)
    assert not at.exception
    assert len(at.expander) == 10
