"""Strict JSON reading and canonical writing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync_protocol.errors import ProtocolError
from sync_protocol.wire import (
    ObjectReader,
    canonical_json,
    check_json,
    decode,
    format_timestamp,
    parse_timestamp,
    read_uuid,
)
from tests.unit.sync_protocol.strategies import json_values, moments

FAST = settings(max_examples=200, deadline=None)


@FAST
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_decoding_arbitrary_bytes_yields_json_or_a_protocol_error(body: bytes | str) -> None:
    try:
        decode(body)
    except ProtocolError as refused:
        assert refused.code == "sync.malformed_json"


@pytest.mark.parametrize("body", ["NaN", '{"a": Infinity}', b"\xff", "[" * 100_000, "{"])
def test_bodies_that_are_not_strict_json_are_malformed(body: str | bytes) -> None:
    with pytest.raises(ProtocolError) as refused:
        decode(body)
    assert refused.value.code == "sync.malformed_json"


@FAST
@given(json_values)
def test_canonical_json_is_stable_under_key_order_and_decodes_to_the_same_value(
    value: object,
) -> None:
    checked = check_json(value, "v")
    text = canonical_json(checked)
    assert json.loads(text) == checked
    if isinstance(checked, dict):
        reordered = dict(reversed(list(checked.items())))
        assert canonical_json(reordered) == text


def test_canonical_json_is_sorted_compact_and_unescaped() -> None:
    assert canonical_json({"b": [1, "é"], "a": None}) == '{"a":null,"b":[1,"é"]}'.encode()


@FAST
@given(moments)
def test_timestamps_round_trip(moment: datetime) -> None:
    assert parse_timestamp(format_timestamp(moment)) == moment


@pytest.mark.parametrize(
    "text",
    [
        "2025-03-12T08:30:00",  # no zone
        "2025-03-12T08:30:00+08:00",  # not UTC
        "2025-03-12 08:30:00Z",
        "2025-02-30T08:30:00Z",  # no such day
        "2025-03-12T08:30:00.1234567Z",
        "２025-03-12T08:30:00Z",
    ],
)
def test_timestamps_other_than_rfc3339_utc_are_refused(text: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_timestamp(text, "args.taken_at")
    assert (refused.value.code, refused.value.field) == ("sync.invalid_timestamp", "args.taken_at")


def test_timestamps_are_written_in_utc_with_z_and_trimmed_fractions() -> None:
    assert format_timestamp(datetime(2025, 3, 12, 8, 30, tzinfo=UTC)) == "2025-03-12T08:30:00Z"
    moment = datetime(2025, 3, 12, 8, 30, 0, 250_000, tzinfo=UTC)
    assert format_timestamp(moment) == "2025-03-12T08:30:00.25Z"


@pytest.mark.parametrize(
    "text",
    [
        "01958F3A-7C00-7A1E-9C1A-3F5E2B7D4C01",
        "{01958f3a-7c00-7a1e-9c1a-3f5e2b7d4c01}",
        "01958f3a7c007a1e9c1a3f5e2b7d4c01",
        "urn:uuid:01958f3a-7c00-7a1e-9c1a-3f5e2b7d4c01",
    ],
)
def test_only_canonical_uuids_are_read(text: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        read_uuid(text, "id")
    assert refused.value.code == "sync.invalid_uuid"


def test_client_ids_must_be_uuid7() -> None:
    assert read_uuid("01958f3a-7c00-7a1e-9c1a-3f5e2b7d4c01", "id", v7=True).version == 7
    with pytest.raises(ProtocolError, match="UUIDv7"):
        read_uuid("6f1c2f0e-8c6b-4b8e-9d53-0a8a4f0e9d11", "id", v7=True)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ({"n": True}, "sync.wrong_type"),
        ({"n": 4.0}, "sync.wrong_type"),
        ({"n": -1}, "sync.invalid_value"),
        ({}, "sync.missing_field"),
        ({"n": None}, "sync.missing_field"),
        ({"n": 1, "extra": 1}, "sync.unknown_field"),
        ([], "sync.wrong_type"),
    ],
)
def test_the_reader_names_the_problem_and_the_path(value: object, code: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        ObjectReader(value, "outer", frozenset({"n"})).integer("n", minimum=0, maximum=9)
    assert refused.value.code == code
    assert refused.value.field and refused.value.field.startswith("outer")


@pytest.mark.parametrize("text", ["a\x00b", "\ud800"])
def test_text_the_database_cannot_store_is_refused(text: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        ObjectReader({"t": text}, "", frozenset({"t"})).text("t", max_len=10)
    assert refused.value.code == "sync.invalid_value"


def test_free_form_json_is_bounded_in_depth_and_finite() -> None:
    deep: object = 1
    for _ in range(40):
        deep = [deep]
    for bad in (deep, float("nan"), {1: 2}, {"s": {1, 2}}):
        with pytest.raises(ProtocolError):
            check_json(bad, "args")
