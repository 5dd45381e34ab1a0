"""Cursors round-trip, and no string a client can send crashes their parser."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.errors.common import InvalidCursor
from api.http.pagination import decode_cursor, encode_cursor


@given(st.lists(st.uuids(), min_size=1, max_size=3))
def test_a_cursor_decodes_to_what_was_encoded(values: list[uuid.UUID]) -> None:
    assert decode_cursor(encode_cursor(list(values)), len(values)) == [str(v) for v in values]


@given(st.text(max_size=200))
def test_any_client_string_is_either_a_cursor_or_invalid_cursor(raw: str) -> None:
    try:
        decoded = decode_cursor(raw, 1)
    except InvalidCursor:
        return
    assert isinstance(decoded, list) and len(decoded) == 1


def test_a_cursor_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(encode_cursor(["a", "b"]), 1)
