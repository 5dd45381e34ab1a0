"""Per-field LWW registers of a work order (PROTOCOL.md § 8.2), stored in ``field_hlcs``.

Also the actuals a transition sets (:func:`write_actuals`), which are such writes.

Every write to a plain field, through any path (REST, sync, conflict
resolution), stamps the field with the writer's HLC and party, so a stale
offline edit is ordered against the office's later one. A field with no stamp
predates sync and counts as written at HLC 0 by the office.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from api.audit.changes import jsonable
from api.auth.actor import Actor
from api.auth.permissions import Role
from api.sync.syncables import wire_value
from api.workorders.models import WorkOrder
from api.workorders.states import Priority
from sync_protocol.errors import JSONValue
from sync_protocol.hlc import HLC
from sync_protocol.merge import FieldOutcome, FieldWrite, Stamped, merge_field
from sync_protocol.ownership import WORK_ORDER_FIELDS, ValueKind, WriteRight, write_right
from sync_protocol.wire import parse_timestamp
from sync_protocol.workorder_status import Action, Party, actual_writes

ORIGIN = HLC(0, 0, "server")


def party_of_actor(actor: Actor) -> Party:
    """Who writes, in the protocol's terms: technicians act as the assignee."""
    if actor.role is Role.TECHNICIAN:
        return Party.ASSIGNEE
    if actor.role is Role.CUSTOMER_CONTACT:
        return Party.CUSTOMER
    return Party.OFFICE


def stamp_fields(order: WorkOrder, names: Iterable[str], hlc: HLC, party: Party) -> None:
    stamps: dict[str, Any] = dict(order.field_hlcs or {})
    for name in names:
        stamps[name] = {"hlc": str(hlc), "party": party.value}
    order.field_hlcs = stamps  # a new dict, so the ORM sees the change


def column_value(field: str, value: JSONValue) -> Any:
    """A field's canonical protocol value (§ 3.2) as the work order column stores it."""
    if value is None:
        return None
    kind = WORK_ORDER_FIELDS[field].kind
    if kind is ValueKind.UUID:
        return uuid.UUID(str(value))
    if kind is ValueKind.TIMESTAMP:
        return parse_timestamp(str(value), field)
    if kind is ValueKind.PRIORITY:
        return Priority(str(value))
    return value


def registers(order: WorkOrder) -> dict[str, Stamped]:
    """Every declared field's current value and the write that set it."""
    stamps: dict[str, Any] = order.field_hlcs or {}
    found: dict[str, Stamped] = {}
    for name in WORK_ORDER_FIELDS:
        if not hasattr(order, name):
            continue
        stamp = stamps.get(name)
        hlc = HLC.parse(stamp["hlc"]) if stamp else ORIGIN
        party = Party(stamp["party"]) if stamp else Party.OFFICE
        found[name] = Stamped(wire_value(getattr(order, name)), hlc, party)
    return found


def write_actuals(
    order: WorkOrder, action: Action, at: datetime, hlc: HLC, party: Party
) -> dict[str, dict[str, Any]]:
    """Set the actuals a step taken at ``at`` sets (``workorder_status.ACTUALS``).

    Each is the technician's LWW field (§ 8.2), written at the step's HLC, so a
    correction the technician made later still wins. Returns the audit diff.
    """
    diff: dict[str, dict[str, Any]] = {}
    current = registers(order)
    for name, value in actual_writes(action, order.actual_start, order.actual_end, at).items():
        spec = WORK_ORDER_FIELDS[name]
        if write_right(spec, party) is not WriteRight.LWW:
            continue  # a customer's cancel: never while work is under way anyway
        write = FieldWrite(name, wire_value(value), hlc, party)
        if merge_field(spec, current[name], write).outcome is not FieldOutcome.APPLIED:
            continue
        before = getattr(order, name)
        setattr(order, name, value)
        stamp_fields(order, [name], hlc, party)
        if before != value:
            diff[name] = {"before": jsonable(before), "after": jsonable(value)}
    return diff
