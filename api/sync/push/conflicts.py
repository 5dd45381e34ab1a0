"""Conflict records (PROTOCOL.md § 6.5): both sides of a clash, kept for a dispatcher.

A record is written in the mutation's savepoint, so it exists exactly when the
mutation's receipt says ``conflict``. The device side names the device, seq and
HLC, and keeps the whole mutation (a completion's resolution text, say), so a
dispatcher's ``take_device`` can carry out what the technician did.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.sync.models import SyncConflict
from api.sync.push.writer import Writer
from api.workorders.models import StatusChange, WorkOrder
from sync_protocol.entities import Table
from sync_protocol.errors import JSONValue
from sync_protocol.hlc import HLC
from sync_protocol.merge import FieldConflict
from sync_protocol.records import ConflictSide
from sync_protocol.status_merge import StatusConflict
from sync_protocol.workorder_status import Party


def record_status_conflict(
    session: Session,
    writer: Writer,
    order: WorkOrder,
    clash: StatusConflict,
    hlc: HLC,
    mutation: dict[str, Any],
) -> uuid.UUID:
    """A status (or assignee) clash of § 8.1; the server side is the order's last transition."""
    last = session.scalars(
        select(StatusChange)
        .where(StatusChange.tenant_id == order.tenant_id, StatusChange.work_order_id == order.id)
        .order_by(StatusChange.recorded_at.desc(), StatusChange.id.desc())  # the last applied
        .limit(1)
    ).one_or_none()
    server = ConflictSide(
        clash.server_value,
        HLC.parse(order.status_hlc) if order.status_hlc else None,
        _party_of_kind(last.actor_kind) if last else None,
        last.actor_id if last else None,
    )
    return _record(
        session,
        writer,
        order,
        clash.code,
        clash.field,
        server,
        clash.device_value,
        hlc,
        mutation,
        kept=clash.kept.value,
    )


def record_proposal(
    session: Session,
    writer: Writer,
    order: WorkOrder,
    proposal: FieldConflict,
    mutation: dict[str, Any],
) -> uuid.UUID:
    """A write to a field the writer does not own (§ 8.2): never applied, kept for the office."""
    current = proposal.server
    server = ConflictSide(
        current.value if current else None,
        current.hlc if current else None,
        current.party if current else None,
    )
    return _record(
        session,
        writer,
        order,
        proposal.code,
        proposal.field,
        server,
        proposal.device.value,
        proposal.device.hlc,
        mutation,
        kept="server",
    )


def _record(
    session: Session,
    writer: Writer,
    order: WorkOrder,
    code: str,
    field: str,
    server: ConflictSide,
    device_value: JSONValue,
    hlc: HLC,
    mutation: dict[str, Any],
    *,
    kept: str,
) -> uuid.UUID:
    device = ConflictSide(
        device_value,
        hlc,
        writer.party,
        writer.technician_id or writer.actor.principal_id,
        writer.device_id,
        mutation.get("seq"),
    )
    conflict = SyncConflict(
        tenant_id=writer.tenant_id,
        code=code,
        table_name=Table.WORK_ORDERS.value,
        entity_id=order.id,
        field=field,
        server=server.to_json(),
        device=device.to_json(),
        kept=kept,
        mutation=mutation,
        device_id=writer.device_id,
        technician_id=writer.technician_id,
    )
    session.add(conflict)
    session.flush()  # the id goes into the receipt
    return conflict.id


def _party_of_kind(kind: str) -> Party | None:
    # History rows name users and API keys; a technician's own steps are synced as
    # the assignee, which the conflict's device side shows; here it is the office.
    return Party.OFFICE if kind in ("user", "api_key") else None
