"""The mutation catalogue: every mutation parses, round-trips, and refuses bad arguments by code."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync_protocol.entities import EvidenceKind
from sync_protocol.errors import ProtocolError
from sync_protocol.hlc import HLC
from sync_protocol.merge import EvidenceSet, Outcome
from sync_protocol.mutations import (
    AddNote,
    AttachPhoto,
    MutationName,
    PatchWorkOrder,
    TransitionWorkOrder,
    evidence_item,
    parse_args,
)
from sync_protocol.workorder_status import Action, Party, Status
from tests.unit.sync_protocol.strategies import json_objects, perturbed

FAST = settings(max_examples=150, deadline=None)
ORDER = "01958e00-0000-7000-8000-000000000001"
NEW_ID = "01958f40-1111-7000-8000-000000000777"
OTHER = "01958d00-0000-7000-8000-0000000000aa"

EXAMPLES: dict[MutationName, dict[str, Any]] = {
    MutationName.CREATE_WORK_ORDER: {
        "id": NEW_ID,
        "title": "Boiler leaks",
        "customer_id": OTHER,
        "site_id": OTHER,
        "priority": "high",
        "requested_start": "2025-03-12T08:00:00Z",
        "asset_ids": [ORDER],
    },
    MutationName.TRANSITION_WORK_ORDER: {
        "work_order_id": ORDER,
        "action": "complete",
        "base_status": "in_progress",
        "resolution": "Seals replaced",
    },
    MutationName.PATCH_WORK_ORDER: {
        "work_order_id": ORDER,
        "fields": {"resolution": "Done", "actual_start": "2025-03-12T09:03:00.500Z"},
    },
    MutationName.ADD_NOTE: {"id": NEW_ID, "work_order_id": ORDER, "body": "Replaced both seals"},
    MutationName.RECORD_PART: {
        "id": NEW_ID,
        "work_order_id": ORDER,
        "description": "Valve seal",
        "quantity": "2",
        "unit": "pcs",
    },
    MutationName.RECORD_READING: {
        "id": NEW_ID,
        "work_order_id": ORDER,
        "metric": "pressure",
        "value": "-3.25",
        "unit": "bar",
        "taken_at": "2025-03-12T09:20:00Z",
    },
    MutationName.ADD_TIME_ENTRY: {
        "id": NEW_ID,
        "work_order_id": ORDER,
        "activity": "travel",
        "started_at": "2025-03-12T08:31:10Z",
        "ended_at": "2025-03-12T09:02:45Z",
    },
    MutationName.ATTACH_PHOTO: {
        "id": NEW_ID,
        "work_order_id": ORDER,
        "sha256": "ab" * 32,
        "content_type": "image/jpeg",
        "size": 1_843_220,
    },
    MutationName.VOID_EVIDENCE: {
        "evidence": "note",
        "id": NEW_ID,
        "work_order_id": ORDER,
        "reason": "Wrong order",
    },
    MutationName.SIGN_OFF: {
        "id": NEW_ID,
        "work_order_id": ORDER,
        "outcome": "signed",
        "signer_name": "王芳",
        "signer_role": "site manager",
        "consent_text": "I confirm the work described was done.",
        "drawing": {
            "width": 300,
            "height": 100,
            "strokes": [[[10, 10, 0, 0.5], [90, 40, 30, 0.6]]],
        },
        "position": {"lat": 31.23, "lon": 121.47, "accuracy_m": 8},
    },
    MutationName.SCAN_CODE: {
        "id": NEW_ID,
        "work_order_id": ORDER,
        "code": "(01)09501101530003(21)SN9",
        "symbology": "data_matrix",
    },
    MutationName.ANSWER_OFFER: {
        "offer_id": NEW_ID,
        "work_order_id": ORDER,
        "answer": "decline",
        "reason": "车坏了",
    },
}
S = MutationName.SIGN_OFF


def test_the_examples_cover_the_whole_catalogue() -> None:
    assert set(EXAMPLES) == set(MutationName)


@pytest.mark.parametrize("name", list(MutationName))
def test_every_mutation_parses_and_round_trips(name: MutationName) -> None:
    args = parse_args(name.value, EXAMPLES[name])
    assert args.name is name
    assert parse_args(name.value, args.to_json()) == args
    assert str(args.work_order_id) in (ORDER, NEW_ID)


def test_patch_values_are_canonicalised() -> None:
    args = parse_args("patch_work_order", EXAMPLES[MutationName.PATCH_WORK_ORDER])
    assert isinstance(args, PatchWorkOrder)
    assert args.fields["actual_start"] == "2025-03-12T09:03:00.5Z"
    writes = args.writes(HLC(1, 0, "d"), Party.ASSIGNEE)
    assert [w.field for w in writes] == ["actual_start", "resolution"]


def test_an_unknown_mutation_is_its_own_code_so_it_can_be_quarantined() -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_args("teleport_technician", {})
    assert (refused.value.code, refused.value.field) == ("sync.unknown_mutation", "name")


def with_(name: MutationName, **changes: Any) -> dict[str, Any]:
    args = dict(EXAMPLES[name])
    for key, value in changes.items():
        if value is ...:
            args.pop(key)
        else:
            args[key] = value
    return args


T, P, N = MutationName.TRANSITION_WORK_ORDER, MutationName.PATCH_WORK_ORDER, MutationName.ADD_NOTE


@pytest.mark.parametrize(
    ("name", "args", "code", "field"),
    [
        (S, with_(S, drawing=...), "sync.missing_field", "args.drawing"),
        (S, with_(S, refusal_reason="No"), "sync.invalid_value", "args.refusal_reason"),
        (
            S,
            with_(S, outcome="refused", drawing=None, consent_text=...),
            "sync.missing_field",
            "args.refusal_reason",
        ),
        (S, with_(S, position={"lat": 91, "lon": 0}), "sync.invalid_value", "args.position.lat"),
        (S, with_(S, position={"lat": "1", "lon": 0}), "sync.wrong_type", "args.position.lat"),
        (S, with_(S, signer_name=" "), "sync.invalid_value", "args.signer_name"),
        (N, with_(N, id="6f1c2f0e-8c6b-4b8e-9d53-0a8a4f0e9d11"), "sync.invalid_uuid", "args.id"),
        (N, with_(N, body="   "), "sync.invalid_value", "args.body"),
        (N, with_(N, body="x" * 10_001), "sync.too_long", "args.body"),
        (N, with_(N, visibility="public"), "sync.invalid_value", "args.visibility"),
        (N, with_(N, author="me"), "sync.unknown_field", "args.author"),
        (T, with_(T, resolution=...), "sync.missing_field", "args.resolution"),
        (
            T,
            with_(T, action="accept", base_status="assigned"),
            "sync.invalid_value",
            "args.resolution",
        ),
        (T, with_(T, action="pause", resolution=None), "sync.missing_field", "args.reason"),
        (T, with_(T, action="fly"), "sync.invalid_value", "args.action"),
        (T, with_(T, base_status="lost"), "sync.invalid_value", "args.base_status"),
        (P, with_(P, fields={}), "sync.invalid_value", "args.fields"),
        (P, with_(P, fields={"status": "completed"}), "sync.field_read_only", "args.fields.status"),
        (P, with_(P, fields={"number": "WO-1"}), "sync.field_read_only", "args.fields.number"),
        (P, with_(P, fields={"colour": "red"}), "sync.unknown_field", "args.fields.colour"),
        (P, with_(P, fields={"title": None}), "sync.invalid_value", "args.fields.title"),
        (P, with_(P, fields={"priority": "asap"}), "sync.invalid_value", "args.fields.priority"),
        (P, with_(P, fields={"title": 5}), "sync.wrong_type", "args.fields.title"),
        (
            MutationName.RECORD_PART,
            with_(MutationName.RECORD_PART, quantity="0.000"),
            "sync.invalid_value",
            "args.quantity",
        ),
        (
            MutationName.RECORD_PART,
            with_(MutationName.RECORD_PART, quantity=2),
            "sync.wrong_type",
            "args.quantity",
        ),
        (
            MutationName.ADD_TIME_ENTRY,
            with_(MutationName.ADD_TIME_ENTRY, ended_at="2025-03-12T08:00:00Z"),
            "sync.invalid_value",
            "args.ended_at",
        ),
        (
            MutationName.ATTACH_PHOTO,
            with_(MutationName.ATTACH_PHOTO, sha256="AB" * 32),
            "sync.invalid_value",
            "args.sha256",
        ),
        (
            MutationName.ATTACH_PHOTO,
            with_(MutationName.ATTACH_PHOTO, size=0),
            "sync.invalid_value",
            "args.size",
        ),
        (
            MutationName.CREATE_WORK_ORDER,
            with_(MutationName.CREATE_WORK_ORDER, title=...),
            "sync.missing_field",
            "args.title",
        ),
        (
            MutationName.CREATE_WORK_ORDER,
            with_(MutationName.CREATE_WORK_ORDER, asset_ids=[ORDER, ORDER]),
            "sync.invalid_value",
            "args.asset_ids[1]",
        ),
        (
            MutationName.CREATE_WORK_ORDER,
            with_(MutationName.CREATE_WORK_ORDER, status="closed"),
            "sync.unknown_field",
            "args.status",
        ),
    ],
)
def test_bad_arguments_are_refused_with_code_and_path(
    name: MutationName, args: dict[str, Any], code: str, field: str
) -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_args(name.value, args)
    assert (refused.value.code, refused.value.field) == (code, field)


@FAST
@given(st.data(), st.sampled_from(sorted(MutationName)))
def test_perturbed_arguments_parse_or_are_refused_with_a_protocol_error(
    data: st.DataObject, name: MutationName
) -> None:
    junk = data.draw(perturbed(EXAMPLES[name]))
    try:
        parse_args(name.value, junk)
    except ProtocolError as refused:
        assert refused.code.startswith("sync.")
        assert refused.field is None or refused.field.startswith(("args", "name"))


@FAST
@given(json_objects, st.sampled_from(sorted(MutationName)))
def test_arbitrary_arguments_are_refused_with_a_protocol_error(
    junk: dict[str, Any], name: MutationName
) -> None:
    with pytest.raises(ProtocolError):
        parse_args(name.value, junk)


def test_a_completion_carries_its_resolution_for_the_field_merge() -> None:
    args = parse_args("transition_work_order", EXAMPLES[T])
    assert isinstance(args, TransitionWorkOrder)
    assert (args.action, args.base_status, args.resolution) == (
        Action.COMPLETE,
        Status.IN_PROGRESS,
        "Seals replaced",
    )


def test_evidence_mutations_become_evidence_set_members() -> None:
    note = parse_args("add_note", EXAMPLES[N])
    photo = parse_args("attach_photo", EXAMPLES[MutationName.ATTACH_PHOTO])
    assert isinstance(note, AddNote) and isinstance(photo, AttachPhoto)
    item = evidence_item(note, author_id=None, party=Party.ASSIGNEE, hlc=HLC(1, 0, "d"))
    assert item.kind is EvidenceKind.NOTE and item.content["body"] == "Replaced both seals"
    added = EvidenceSet().add(item)
    assert added.outcome is Outcome.APPLIED
    assert added.evidence.add(item).outcome is Outcome.DUPLICATE


def test_a_decline_needs_a_reason_and_an_accept_does_not() -> None:
    base = {"offer_id": NEW_ID, "work_order_id": ORDER}
    with pytest.raises(ProtocolError) as refused:
        parse_args("answer_offer", base | {"answer": "decline", "reason": "  "})
    assert refused.value.field == "args.reason"
    accepted = parse_args("answer_offer", base | {"answer": "accept"})
    assert accepted.to_json()["reason"] is None
