"""Hypothesis strategies for protocol values: HLCs, UUIDs, JSON, and whole messages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from sync_protocol.entities import Table, TombstoneReason
from sync_protocol.errors import CATALOGUE, Level
from sync_protocol.hlc import HLC, MAX_COUNTER, MAX_WALL_MS
from sync_protocol.merge import FieldOutcome, Outcome
from sync_protocol.messages import (
    Checkpoint,
    Mutation,
    OutboxReport,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    Receipt,
    RowUpsert,
    Tombstone,
)

nodes = st.from_regex(r"[0-9A-Za-z._-]{1,64}", fullmatch=True)
hlcs = st.builds(HLC, st.integers(0, MAX_WALL_MS), st.integers(0, MAX_COUNTER), nodes)
uuids = st.uuids()


def _v7(bits: int) -> uuid.UUID:
    bits &= ~(0xF << 76)
    bits |= 0x7 << 76
    bits &= ~(0x3 << 62)
    bits |= 0x2 << 62
    return uuid.UUID(int=bits)


uuid7s = st.integers(0, 2**128 - 1).map(_v7)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
texts = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40)
json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | texts
json_values = st.recursive(
    json_scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(texts, json_values, max_size=5)
scopes = st.just("taxonomy") | uuids.map(lambda u: f"technician:{u}")
seqs = st.integers(1, 2**53 - 1)
codes = st.sampled_from(sorted(CATALOGUE))
conflict_codes = st.sampled_from(
    sorted(code for code, info in CATALOGUE.items() if info.level is Level.CONFLICT)
)
outboxes = st.builds(OutboxReport, st.integers(0, 10_000), st.none() | hlcs)
mutations = st.builds(
    Mutation, seqs, hlcs, st.from_regex(r"[a-z_]{1,64}", fullmatch=True), json_objects
)


@st.composite
def push_requests(draw: Any) -> PushRequest:
    first = draw(st.integers(1, 1_000))
    count = draw(st.integers(0, 5))
    batch = tuple(
        Mutation(
            first + i, draw(hlcs), draw(st.sampled_from(["add_note", "x"])), draw(json_objects)
        )
        for i in range(count)
    )
    return PushRequest(
        draw(uuids),
        batch,
        draw(st.integers(1, 1_000)),
        draw(st.integers(1, 1_000_000)),
        draw(st.integers(0, MAX_WALL_MS)),
        draw(outboxes),
    )


@st.composite
def receipts(draw: Any) -> Receipt:
    status = draw(st.sampled_from(list(Outcome)))
    needs_code = status in (Outcome.REJECTED, Outcome.CONFLICT)
    code = draw(codes) if needs_code else draw(st.none() | codes)
    return Receipt(
        draw(seqs),
        status,
        draw(st.none() | hlcs),
        code,
        draw(st.none() | texts),
        draw(st.none() | texts),
        tuple(draw(st.lists(codes, max_size=3))),
        draw(st.dictionaries(texts, st.sampled_from(list(FieldOutcome)), max_size=3)),
        tuple(draw(st.lists(uuids, max_size=3))),
        draw(st.none() | uuids),
    )


push_responses = st.builds(
    PushResponse,
    hlcs,
    st.integers(0, 2**53 - 1),
    st.lists(receipts(), max_size=4).map(tuple),
    st.integers(1, 1_000),
)
pull_requests = st.builds(
    PullRequest,
    uuids,
    st.dictionaries(scopes, st.none() | texts.filter(bool), max_size=4),
    st.integers(1, 1_000),
    st.integers(1, 1_000),
    st.integers(1, 1_000_000),
    st.integers(0, MAX_WALL_MS),
    outboxes,
)


@st.composite
def changes(draw: Any) -> RowUpsert | Tombstone:
    ident = draw(uuids)
    head = (draw(scopes), draw(st.sampled_from(list(Table))), ident, draw(seqs))
    if draw(st.booleans()):
        return Tombstone(*head, draw(st.sampled_from(list(TombstoneReason))))
    return RowUpsert(*head, {**draw(json_objects), "id": str(ident)})


@st.composite
def checkpoints(draw: Any) -> Checkpoint:
    names = draw(st.lists(scopes, max_size=4, unique=True))
    return Checkpoint(
        {name: draw(texts.filter(bool)) for name in names},
        {name: draw(st.from_regex(r"[0-9a-f]{16}", fullmatch=True)) for name in names},
        {name: draw(st.integers(0, 10_000)) for name in names},
    )


@st.composite
def pull_responses(draw: Any) -> PullResponse:
    has_more = draw(st.booleans())
    return PullResponse(
        draw(hlcs),
        tuple(draw(st.lists(changes(), max_size=4))),
        draw(st.dictionaries(scopes, texts.filter(bool), max_size=3)),
        has_more,
        None if has_more else draw(checkpoints()),
        draw(st.integers(1, 1_000)),
    )


@st.composite
def perturbed(draw: Any, value: object) -> object:
    """``value`` with one random node replaced, dropped or given a stray sibling."""
    if isinstance(value, dict) and value and draw(st.integers(0, 3)):
        key = draw(st.sampled_from(sorted(value)))
        kind = draw(st.sampled_from(["descend", "drop", "add"]))
        copy = dict(value)
        if kind == "drop":
            del copy[key]
        elif kind == "add":
            copy[draw(texts)] = draw(json_values)
        else:
            copy[key] = draw(perturbed(value[key]))
        return copy
    if isinstance(value, list) and value and draw(st.integers(0, 3)):
        index = draw(st.integers(0, len(value) - 1))
        copy_list = list(value)
        copy_list[index] = draw(perturbed(value[index]))
        return copy_list
    return draw(json_values)
