"""Wire messages: every shape round-trips through JSON text; junk is only ever a ProtocolError."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync_protocol.entities import Table
from sync_protocol.errors import ProtocolError
from sync_protocol.hlc import HLC, ClockVerdict
from sync_protocol.merge import Outcome
from sync_protocol.messages import (
    MAX_BATCH,
    Mutation,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    Receipt,
)
from sync_protocol.records import (
    ConflictRecord,
    ConflictSide,
    DeviceHealth,
    QuarantineEntry,
    ResetRequired,
)
from sync_protocol.status_merge import Kept
from sync_protocol.wire import canonical_json, decode
from sync_protocol.workorder_status import Party
from tests.unit.sync_protocol.strategies import (
    conflict_codes,
    hlcs,
    json_values,
    moments,
    mutations,
    perturbed,
    pull_requests,
    pull_responses,
    push_requests,
    push_responses,
    seqs,
    uuids,
)

FAST = settings(max_examples=100, deadline=None)
MESSAGES: list[Any] = [PushRequest, PushResponse, PullRequest, PullResponse]
DEVICE = uuid.UUID("01958f3a-7c00-7a1e-9c1a-3f5e2b7d4c01")
HLC_TEXT = "001741768200000-00000-01958f3a-7c00-7a1e-9c1a-3f5e2b7d4c01"


def through_text(message: Any) -> Any:
    return type(message).from_json(decode(json.dumps(message.to_json())))


@FAST
@given(push_requests())
def test_push_requests_round_trip(message: PushRequest) -> None:
    assert through_text(message) == message


@FAST
@given(push_responses)
def test_push_responses_round_trip(message: PushResponse) -> None:
    assert through_text(message) == message


@FAST
@given(pull_requests)
def test_pull_requests_round_trip(message: PullRequest) -> None:
    assert through_text(message) == message


@FAST
@given(pull_responses())
def test_pull_responses_round_trip(message: PullResponse) -> None:
    assert through_text(message) == message


conflict_sides = st.builds(
    ConflictSide,
    json_values,
    st.none() | hlcs,
    st.none() | st.sampled_from(list(Party)),
    st.none() | uuids,
    st.none() | uuids,
    st.none() | seqs,
)
conflict_records = st.builds(
    ConflictRecord,
    uuids,
    conflict_codes,
    st.sampled_from(list(Table)),
    uuids,
    st.from_regex(r"[a-z_]{1,64}", fullmatch=True),
    conflict_sides,
    conflict_sides,
    st.sampled_from(list(Kept)),
    moments,
)
health = st.builds(
    DeviceHealth,
    uuids,
    st.none() | uuids,
    st.none() | moments,
    st.none() | moments,
    st.integers(0, 10**9),
    st.integers(0, 10**6),
    st.none() | hlcs,
    st.integers(-(10**12), 10**12),
    st.sampled_from(list(ClockVerdict)),
    *[st.integers(0, 10**6)] * 4,
    st.integers(1, 9),
    st.integers(1, 9),
)


@FAST
@given(conflict_records)
def test_conflict_records_round_trip(record: ConflictRecord) -> None:
    assert through_text(record) == record


@FAST
@given(health)
def test_device_health_round_trips(record: DeviceHealth) -> None:
    assert through_text(record) == record


@FAST
@given(uuids, uuids, mutations, moments)
def test_quarantine_entries_round_trip(
    ident: uuid.UUID, device: uuid.UUID, mutation: Mutation, at: datetime
) -> None:
    entry = QuarantineEntry(ident, device, mutation, "sync.not_in_scope", "gone", at, "args.id")
    assert through_text(entry) == entry


def test_reset_required_round_trips_and_only_takes_reset_reasons() -> None:
    reset = ResetRequired("sync.cursor_expired", "90 days", True, 1, ("taxonomy",))
    assert through_text(reset) == reset
    body = reset.to_json()["reset_required"]
    assert isinstance(body, dict) and body["title"]
    with pytest.raises(ProtocolError):
        ResetRequired("sync.seq_gap", "not a reset", True, 1)


def test_conflict_records_only_take_conflict_codes() -> None:
    side = ConflictSide("x")
    with pytest.raises(ProtocolError):
        ConflictRecord(
            DEVICE, "sync.seq_gap", Table.WORK_ORDERS, DEVICE, "title", side, side, Kept.SERVER,
            datetime(2025, 1, 1, tzinfo=UTC),
        )  # fmt: skip


@FAST
@given(st.data(), st.sampled_from(range(len(MESSAGES))))
def test_perturbed_messages_are_read_or_refused_with_a_protocol_error(
    data: st.DataObject, which: int
) -> None:
    kind = MESSAGES[which]
    strategy: st.SearchStrategy[Any] = {
        PushRequest: push_requests(),
        PushResponse: push_responses,
        PullRequest: pull_requests,
        PullResponse: pull_responses(),
    }[kind]
    valid = data.draw(strategy).to_json()
    junk = data.draw(perturbed(valid))
    try:
        kind.from_json(junk)
    except ProtocolError as refused:
        assert refused.code.startswith("sync.")


@FAST
@given(json_values, st.sampled_from(range(len(MESSAGES))))
def test_arbitrary_json_is_refused_with_a_protocol_error(junk: object, which: int) -> None:
    with pytest.raises(ProtocolError):
        MESSAGES[which].from_json(junk)


def push(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "protocol": 1,
        "schema": 1,
        "device_id": str(DEVICE),
        "device_time_ms": 1,
        "outbox": {"pending": 1, "oldest": None},
        "mutations": [{"seq": 1, "hlc": HLC_TEXT, "name": "add_note", "args": {}}],
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        (push(extra=1), "sync.unknown_field", "extra"),
        (push(device_id="not-a-uuid"), "sync.invalid_uuid", "device_id"),
        (push(device_id=None), "sync.missing_field", "device_id"),
        (
            push(mutations=[{"seq": -1, "hlc": HLC_TEXT, "name": "x", "args": {}}]),
            "sync.invalid_value",
            "mutations[0].seq",
        ),
        (
            push(mutations=[{"seq": True, "hlc": HLC_TEXT, "name": "x", "args": {}}]),
            "sync.wrong_type",
            "mutations[0].seq",
        ),
        (
            push(mutations=[{"seq": 1, "hlc": "yesterday", "name": "x", "args": {}}]),
            "sync.invalid_hlc",
            "mutations[0].hlc",
        ),
        (
            push(mutations=[{"seq": 1, "hlc": HLC_TEXT, "name": "x", "args": []}]),
            "sync.wrong_type",
            "mutations[0].args",
        ),
        (push(outbox={"pending": -1, "oldest": None}), "sync.invalid_value", "outbox.pending"),
        (
            push(
                mutations=[{"seq": 1, "hlc": HLC_TEXT, "name": "x", "args": {}}] * (MAX_BATCH + 1)
            ),
            "sync.batch_too_large",
            "mutations",
        ),
    ],
)
def test_malformed_push_requests_name_the_code_and_the_field(
    body: dict[str, object], code: str, field: str
) -> None:
    with pytest.raises(ProtocolError) as refused:
        PushRequest.from_json(body)
    assert (refused.value.code, refused.value.field) == (code, field)


def test_a_rejected_receipt_must_say_why() -> None:
    body = Receipt(1, Outcome.APPLIED).to_json() | {"status": "rejected"}
    with pytest.raises(ProtocolError) as refused:
        Receipt.read(body, "receipts[0]")
    assert (refused.value.code, refused.value.field) == ("sync.missing_field", "receipts[0].code")


def test_the_last_pull_page_and_only_it_carries_a_checkpoint() -> None:
    page = PullResponse(HLC(1, 0, "server"), (), {}, has_more=True, checkpoint=None).to_json()
    with pytest.raises(ProtocolError):
        PullResponse.from_json(page | {"has_more": False})


def test_an_upsert_row_must_be_the_row_it_names() -> None:
    change = {
        "op": "upsert",
        "scope": "taxonomy",
        "table": "categories",
        "id": str(DEVICE),
        "version": 3,
        "row": {"id": "01958f3a-7c00-7a1e-9c1a-3f5e2b7d4c02"},
    }
    body = PullResponse(HLC(1, 0, "server"), (), {}, True, None).to_json() | {"changes": [change]}
    with pytest.raises(ProtocolError) as refused:
        PullResponse.from_json(body)
    assert refused.value.field == "changes[0].row"


def test_pull_cursors_name_real_scopes() -> None:
    body = PullRequest(DEVICE, {}).to_json() | {"cursors": {"everything": None}}
    with pytest.raises(ProtocolError) as refused:
        PullRequest.from_json(body)
    assert refused.value.field == "cursors.everything"


def test_a_mutation_digest_ignores_key_order_but_not_content() -> None:
    a = Mutation(1, HLC(1, 0, "d"), "add_note", {"body": "x", "id": "1"})
    b = Mutation(1, HLC(1, 0, "d"), "add_note", {"id": "1", "body": "x"})
    c = Mutation(1, HLC(1, 0, "d"), "add_note", {"id": "1", "body": "y"})
    assert a.digest() == b.digest() != c.digest()


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"a": float("nan")}, "args.a"),
        ({"a": "x\x00y"}, "args.a"),
        ({"a": ["\ud800"]}, "args.a[0]"),
        ({"k\x00": 1}, "args"),
        (
            {"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]},
            "args.a" + "[0]" * 32,
        ),
    ],
)
def test_a_bad_value_inside_args_marks_that_mutation_not_the_request(
    args: dict[str, object], field: str
) -> None:
    good = {"seq": 1, "hlc": HLC_TEXT, "name": "add_note", "args": {"body": "ok"}}
    bad = {"seq": 2, "hlc": HLC_TEXT, "name": "add_note", "args": args}
    request = PushRequest.from_json(push(mutations=[good, bad]))
    assert request.mutations[0].invalid is None
    invalid = request.mutations[1].invalid
    assert invalid is not None and invalid.code == "sync.invalid_value"
    assert invalid.field == field
    # What is kept of it is storable and has a stable digest of its own.
    canonical_json(request.mutations[1].to_json()).decode("utf-8")
    assert (
        request.mutations[1].digest()
        == PushRequest.from_json(push(mutations=[good, bad])).mutations[1].digest()
    )
