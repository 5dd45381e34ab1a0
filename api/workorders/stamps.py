"""Per-field LWW registers of a work order (PROTOCOL.md § 8.2), stored in ``field_hlcs``.

Every write to a plain field, through any path (REST, sync, conflict
resolution), stamps the field with the writer's HLC and party, so a stale
offline edit is ordered against the office's later one. A field with no stamp
predates sync and counts as written at HLC 0 by the office.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from api.auth.actor import Actor
from api.auth.permissions import Role
from api.sync.syncables import wire_value
from api.workorders.models import WorkOrder
from api.workorders.states import Priority
from sync_protocol.errors import JSONValue
from sync_protocol.hlc import HLC
from sync_protocol.merge import Stamped
from sync_protocol.ownership import WORK_ORDER_FIELDS, ValueKind
from sync_protocol.wire import parse_timestamp
from sync_protocol.workorder_status import Party

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
