"""mltrl.domain.fields: one home of "trimmed, required, at most N characters"."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mltrl.domain import fields
from mltrl.domain.errors import InvalidInput

CONTROL = [chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32), 127)]


@given(st.text(max_size=80), st.integers(min_value=1, max_value=60), st.booleans())
def test_one_line_folds_white_space_or_refuses_by_name(text, limit, required):
    try:
        value = fields.one_line(text, "title", limit, required=required)
    except InvalidInput as exc:
        assert exc.field == "title"
        folded = " ".join(text.split())
        assert (any(c in text for c in CONTROL) or len(folded) > limit or (required and not folded))
    else:
        assert value == " ".join(text.split()) and len(value) <= limit
        assert not (required and not value)


@given(st.text(max_size=80), st.integers(min_value=1, max_value=60))
def test_block_keeps_inner_lines_and_trims_the_ends(text, limit):
    try:
        value = fields.block(text, "note", limit)
    except InvalidInput as exc:
        assert exc.field == "note"
    else:
        assert value == value.strip() and "\r" not in value and len(value) <= limit


@pytest.mark.parametrize("value, message", [
    ("", "title: required"),
    ("   ", "title: required"),
    ("x" * 11, "title: at most 10 characters (got 11)"),
    (["a"], "title: expected text, got list"),
    (4.5, "title: expected text, got float"),
    ("a\x00b", "title: must not contain control characters (found U+0000)"),
    ("a\x1bb", "title: must not contain control characters (found U+001B)"),
])
def test_refusals_name_the_field_and_what_is_allowed(value, message):
    with pytest.raises(InvalidInput) as caught:
        fields.one_line(value, "title", 10, required=True)
    assert str(caught.value) == message


def test_none_is_empty_and_tabs_and_newlines_are_white_space():
    assert fields.one_line(None, "title", 10) == ""
    assert fields.one_line(" a\tb\n c ", "title", 10) == "a b c"
    assert fields.block(" a\r\nb \r c ", "note", 20) == "a\nb \n c"
