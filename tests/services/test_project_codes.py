"""Project codes from hostile callers (issue 14): text of a code's form, or a named refusal."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mltrl.domain.errors import InvalidInput, NotFound
from mltrl.services import projects


@pytest.mark.parametrize("code", [["R01.1"], 12, 4.5, {"code": "R01.1"}, b"R01.1"])
def test_a_code_that_is_not_text_is_refused_by_name(session, code):
    with pytest.raises(InvalidInput, match="^code: expected a project code as text"):
        projects.get_project(session, code)
    with pytest.raises(InvalidInput, match="^code: expected a project code as text"):
        projects.clean_code(code)


@pytest.mark.parametrize("code", ["R01'; DROP TABLE project;--", "R01 1", "R01\x00", "-R01", "R01/1", "x" * 41])
def test_a_malformed_code_is_refused_naming_what_is_allowed(code):
    with pytest.raises(InvalidInput, match="is not a valid code: use up to"):
        projects.clean_code(code)


@given(st.text(max_size=45))
def test_clean_code_keeps_a_code_of_the_documented_form_or_refuses(text):
    try:
        code = projects.clean_code(text)
    except InvalidInput as exc:
        assert exc.field == "code"
    else:
        assert code == text.strip() and projects.CODE_PATTERN.fullmatch(code) and len(code) <= projects.CODE_MAX


def test_an_unknown_code_is_not_found(session):
    with pytest.raises(NotFound, match="No project with code 'Z9'"):
        projects.get_project(session, " Z9 ")
