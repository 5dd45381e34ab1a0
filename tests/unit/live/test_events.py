"""The events' wire form between processes: every event survives the trip, in order,
and no payload is too long for PostgreSQL's NOTIFY (or a datagram)."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.live.events import MAX_PAYLOAD_BYTES, LiveEvent, decode, encode

_facts = st.dictionaries(
    st.sampled_from(["status", "lat", "lon", "fixed_at", "table", "state"]),
    st.one_of(st.text(max_size=40), st.floats(allow_nan=False, allow_infinity=False), st.none()),
    max_size=4,
)
_events = st.builds(
    LiveEvent,
    tenant_id=st.uuids(),
    kind=st.sampled_from(["work_order", "position", "conflict", "evidence", "visit"]),
    id=st.uuids(),
    work_order_id=st.none() | st.uuids(),
    technician_id=st.none() | st.uuids(),
    data=_facts,
)


# Generating a few hundred events is slow on a busy machine; that is not the code's fault.
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(_events, max_size=120))
def test_every_event_survives_the_wire_in_order_within_the_notify_limit(
    events: list[LiveEvent],
) -> None:
    payloads = list(encode(events))
    assert all(len(payload) < MAX_PAYLOAD_BYTES for payload in payloads)
    decoded = [event for payload in payloads for event in decode(payload)]
    assert [(e.key, e.tenant_id, e.work_order_id, e.technician_id, e.data) for e in decoded] == [
        (e.key, e.tenant_id, e.work_order_id, e.technician_id, e.data) for e in events
    ]


@given(st.binary(max_size=200))
def test_whatever_arrives_on_the_socket_never_raises(payload: bytes) -> None:
    assert isinstance(decode(payload), list)


def test_a_malformed_item_is_skipped_and_the_rest_kept() -> None:
    good = LiveEvent(uuid.uuid4(), "work_order", uuid.uuid4())
    (payload,) = encode([good])
    mixed = b'[{"t": "not-a-uuid", "k": "x", "i": 1},' + payload[1:]
    assert [e.key for e in decode(mixed)] == [good.key]
