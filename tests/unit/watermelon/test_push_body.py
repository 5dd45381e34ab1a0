"""Both push bodies WatermelonDB apps send read the same, and no body crashes the reader."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.sync.watermelon.push import read_push
from api.sync.watermelon.translate import Synthetic
from sync_protocol.errors import ProtocolError

IDS = st.from_regex(r"[A-Za-z0-9_.-]{1,20}", fullmatch=True)
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.text(max_size=8))
RECORDS = st.builds(
    lambda i, cols: {"id": i, **cols},
    IDS,
    st.dictionaries(st.sampled_from(["body", "work_order_id", "_status", "bogus"]), VALUES),
)
LISTS = st.fixed_dictionaries(
    {"created": st.lists(RECORDS, max_size=3), "updated": st.lists(RECORDS, max_size=3),
     "deleted": st.lists(IDS, max_size=3)}
)  # fmt: skip
CHANGES = st.dictionaries(st.sampled_from(["notes", "work_orders", "drafts", "quarantine"]), LISTS)
JSON = st.recursive(
    VALUES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner)
)


def _said(refused: tuple[Synthetic, ...]) -> list[tuple[str, Any, Any]]:
    return [(r.name, r.args, r.refusal and r.refusal.to_json()) for r in refused]


def _body(value: Any) -> bytes:
    return json.dumps(value).encode()


@given(CHANGES, st.integers(1, 2**53 - 1))
def test_the_changes_alone_read_as_the_wrapped_body(changes: dict[str, Any], at: int) -> None:
    bare = read_push(_body(changes), {"last_pulled_at": str(at)})
    wrapped = read_push(_body({"changes": changes, "lastPulledAt": at}), {})
    assert (bare.last_pulled_at, bare.changes) == (wrapped.last_pulled_at, wrapped.changes)
    # A refusal's reason is an exception, equal only to itself: compare what it says.
    assert _said(bare.refused) == _said(wrapped.refused)
    assert bare.last_pulled_at == at
    assert set(bare.changes) <= {"notes", "work_orders"}  # unknown and read-only tables dropped


@given(JSON, st.sampled_from([{}, {"last_pulled_at": "3"}, {"last_pulled_at": "null"}]))
def test_any_json_body_is_read_or_refused_with_a_sync_code(
    body: Any, query: dict[str, str]
) -> None:
    try:
        read_push(_body(body), query)
    except ProtocolError as error:
        assert error.code.startswith("sync.")


def test_a_query_that_disagrees_with_the_body_is_refused() -> None:
    with pytest.raises(ProtocolError) as refused:
        read_push(_body({"changes": {}, "lastPulledAt": 4}), {"last_pulled_at": "5"})
    assert (refused.value.code, refused.value.field) == ("sync.invalid_value", "last_pulled_at")
