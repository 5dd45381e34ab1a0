"""Versions and resets, scope names and the reassignment grace, and replica checksums."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync_protocol.checksum import ScopeTally, row_digest, scope_checksum
from sync_protocol.entities import BlobState, blob_state
from sync_protocol.errors import ProtocolError
from sync_protocol.hlc import HLC
from sync_protocol.scopes import TAXONOMY, Scope, technician_scope, within_grace
from sync_protocol.versions import (
    PROTOCOL_VERSION,
    ServerVersions,
    Versions,
    check_versions,
    read_versions,
)
from tests.unit.sync_protocol.strategies import json_scalars

FAST = settings(max_examples=150, deadline=None)
SERVER = ServerVersions(protocols=frozenset({1}), schema=3, min_schema=2, min_push_schema=1)


def test_a_request_from_the_current_app_carries_on() -> None:
    assert check_versions(Versions(PROTOCOL_VERSION, 1), pushing=True) is None
    assert check_versions(Versions(1, 3), pushing=False, server=SERVER) is None


def test_an_unknown_protocol_is_refused_before_anything_is_parsed() -> None:
    versions = read_versions({"protocol": 2, "schema": 1, "whatever": ["future", "shape"]})
    with pytest.raises(ProtocolError) as refused:
        check_versions(versions, pushing=True)
    assert refused.value.code == "sync.protocol_unsupported"
    assert refused.value.extra["supported"] == [1]


def test_a_replica_newer_than_the_server_is_told_to_retry_later() -> None:
    with pytest.raises(ProtocolError) as refused:
        check_versions(Versions(1, 4), pushing=True, server=SERVER)
    assert refused.value.code == "sync.schema_too_new"


def test_an_old_replica_may_still_push_its_outbox_then_must_reset() -> None:
    assert check_versions(Versions(1, 1), pushing=True, server=SERVER) is None
    reset = check_versions(Versions(1, 1), pushing=False, server=SERVER)
    assert reset is not None
    assert (reset.reason, reset.push_first, reset.min_schema) == ("sync.schema_too_old", True, 2)


def test_a_replica_too_old_to_push_must_export_before_discarding() -> None:
    strict = ServerVersions(protocols=frozenset({1}), schema=3, min_schema=2, min_push_schema=2)
    reset = check_versions(Versions(1, 1), pushing=True, server=strict)
    assert reset is not None and reset.push_first is False


@pytest.mark.parametrize("body", [[], {"protocol": "1", "schema": 1}, {"schema": 1}])
def test_versions_that_cannot_be_read_are_input_errors(body: object) -> None:
    with pytest.raises(ProtocolError) as refused:
        read_versions(body)
    assert refused.value.code in ("sync.wrong_type", "sync.missing_field")


@FAST
@given(st.uuids())
def test_scope_names_round_trip(technician: uuid.UUID) -> None:
    scope = technician_scope(technician)
    assert Scope.parse(str(scope)) == scope
    assert Scope.parse("taxonomy") == TAXONOMY


@pytest.mark.parametrize(
    "text", ["", "technician", "technician:", "technician:ABC", "taxonomy:x", "everything"]
)
def test_unknown_scope_names_are_refused(text: str) -> None:
    with pytest.raises(ProtocolError):
        Scope.parse(text, "cursors")


def test_a_device_may_write_to_a_reassigned_order_until_it_has_been_told() -> None:
    told_at = HLC(5_000, 0, "server")
    assert within_grace(HLC(9_000, 0, "dev"), None)
    assert within_grace(HLC(4_999, 7, "dev"), told_at)
    assert not within_grace(HLC(5_000, 1, "dev"), told_at)


rows = st.lists(
    st.tuples(
        st.sampled_from(["work_orders", "assets"]),
        st.fixed_dictionaries(
            {"id": st.integers(0, 50).map(str)}, optional={"value": json_scalars}
        ),
    ),
    max_size=8,
    unique_by=lambda pair: (pair[0], pair[1]["id"]),
)


@FAST
@given(rows, st.randoms(use_true_random=False))
def test_a_scope_checksum_does_not_depend_on_row_order(
    pairs: list[tuple[str, dict[str, Any]]], rng: Any
) -> None:
    assert scope_checksum(pairs) == scope_checksum(rng.sample(pairs, len(pairs)))


@FAST
@given(rows, st.integers(0, 7))
def test_a_tally_kept_row_by_row_matches_a_fresh_checksum(
    pairs: list[tuple[str, dict[str, Any]]], drop: int
) -> None:
    tally = ScopeTally()
    for table, row in pairs:
        tally.add(table, row)
    if pairs:
        table, row = pairs[drop % len(pairs)]
        tally.remove(table, row)
        pairs = [p for p in pairs if p != (table, row)]
    assert (tally.checksum, tally.count) == (scope_checksum(pairs), len(pairs))


def test_a_changed_value_or_table_changes_the_digest() -> None:
    row = {"id": "x", "status": "completed"}
    assert row_digest("work_orders", row) != row_digest("work_orders", {**row, "status": "closed"})
    assert row_digest("work_orders", row) != row_digest("assets", row)
    assert len(scope_checksum([("assets", row)])) == 16
    assert scope_checksum([]) == "0" * 16


def test_a_photo_is_pending_until_its_bytes_arrive() -> None:
    assert blob_state(present=False) is BlobState.PENDING
    assert blob_state(present=True) is BlobState.READY
    assert blob_state(present=True, size_matches=False) is BlobState.INVALID
