"""Use cases of the inbox: resolve a conflict, settle a parked mutation, retire a device.

Each owns one unit of work and audits what it did. They are ordinary writes:
the resolved conflict, the settled quarantine entry and the order a resolution
changed are captured into the change log at commit (:mod:`api.sync.capture`),
so the technician's devices pull them like any other change.

Conflict records carry no version and take no ``If-Match``: a record changes
exactly once (open → resolved) and the rows are locked while it does, so a
second resolution, however stale the dispatcher's screen, is refused with
``sync_conflict.already_resolved``, never applied over the first.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from api.audit import services as audit
from api.auth.actor import Actor
from api.db import UnitOfWork, utcnow
from api.sync.inbox import queries, resolve
from api.sync.inbox.errors import ConflictAlreadyResolved, QuarantineEntrySettled
from api.sync.inbox.health import DeviceView, device_view
from api.sync.inbox.queries import ConflictItem
from api.sync.models import SyncConflict, SyncQuarantine
from api.workorders.queries import access_work_order
from sync_protocol.records import ConflictState, QuarantineState, Resolution


def resolve_conflict(
    uow: UnitOfWork, actor: Actor, conflict_id: uuid.UUID, command: Mapping[str, Any]
) -> ConflictItem:
    """Settle the inbox item holding ``conflict_id``; ``take_device`` takes that record's value.

    Every open record of the item is resolved together with the same resolution
    and resolved value: the dispatcher decided the field, not one proposal.
    """
    resolution = Resolution(command["resolution"])
    with uow:
        session = uow.session
        record = queries.access_conflict(session, actor, conflict_id, for_update=True)
        if record.state != ConflictState.OPEN.value:
            raise ConflictAlreadyResolved()
        group = queries.conflict_group(session, record, for_update=True)
        order = access_work_order(session, actor, record.entity_id, for_update=True)
        if resolution is Resolution.KEEP_SERVER:
            value = resolve.current_value(order, record.field)
        elif resolution is Resolution.TAKE_DEVICE:
            value = resolve.write_value(session, actor, order, record, record.device["value"])
        else:
            wanted = resolve.check_value(record.field, command.get("value"))
            value = resolve.write_value(session, actor, order, record, wanted)
        resolved_at = utcnow()
        for member in group:
            _close(member, actor, resolution, value, resolved_at)
            audit.record(session, actor, "resolve", "sync_conflict", member.id, _diff(member))
        item = ConflictItem(record, group)
        uow.commit()
        return item


def discard_entry(uow: UnitOfWork, actor: Actor, entry_id: uuid.UUID) -> SyncQuarantine:
    """The technician whose device parked it, or the office, acknowledges a parked mutation."""
    return _settle(uow, actor, entry_id, QuarantineState.DISCARDED)


def mark_reapplied(uow: UnitOfWork, actor: Actor, entry_id: uuid.UUID) -> SyncQuarantine:
    """The office carried out the parked mutation's intent by hand."""
    return _settle(uow, actor, entry_id, QuarantineState.REAPPLIED)


def retire_device(uow: UnitOfWork, actor: Actor, device_id: uuid.UUID) -> DeviceView:
    """Refuse the device's later pushes and pulls (``sync.device_retired``). Idempotent."""
    with uow:
        session = uow.session
        device = queries.access_device(session, actor, device_id, for_update=True)
        if device.retired_at is None:
            device.retired_at = utcnow()
            diff = {"retired_at": {"before": None, "after": device.retired_at.isoformat()}}
            audit.record(session, actor, "retire", "sync_device", device.id, diff)
        counts = queries.device_counts(session, actor.tenant_id, [device.id])
        view = device_view(device, counts[device.id])
        uow.commit()
        return view


def _settle(
    uow: UnitOfWork, actor: Actor, entry_id: uuid.UUID, state: QuarantineState
) -> SyncQuarantine:
    with uow:
        session = uow.session
        entry = queries.access_entry(session, actor, entry_id, for_update=True)
        if entry.state != QuarantineState.PARKED.value:
            raise QuarantineEntrySettled()
        entry.state = state.value
        entry.settled_by = actor.principal_id
        entry.settled_at = utcnow()
        diff = {"state": {"before": QuarantineState.PARKED.value, "after": state.value}}
        audit.record(session, actor, "settle", "sync_quarantine", entry.id, diff)
        uow.commit()
        return entry


def _close(record: SyncConflict, actor: Actor, resolution: Resolution, value: Any, at: Any) -> None:
    record.state = ConflictState.RESOLVED.value
    record.resolution = resolution.value
    record.resolved_value = value
    record.resolved_by = actor.principal_id
    record.resolved_at = at


def _diff(record: SyncConflict) -> dict[str, Any]:
    return {
        "state": {"before": ConflictState.OPEN.value, "after": record.state},
        "resolution": {"after": record.resolution},
        "resolved_value": {"after": record.resolved_value},
    }
