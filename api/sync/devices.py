"""The device registry (PROTOCOL.md § 1, § 13): who owns a ``device_id``, its sync health,
and when it was told that orders left its scope (§ 5.3).

A device is registered by its first push or pull, to the user who made it;
nobody else may speak for it afterwards (``sync.device_mismatch``, whatever
the token). A login bound to a ``device_id`` may only speak for that device.
During a push the device's row is locked (``SELECT … FOR UPDATE``), so two
pushes of one device run one after the other and each sees the other's
``last_seq``.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.auth.models import AuthSession
from api.db import UnitOfWorkFactory, utcnow
from api.sync.models import SyncDeparture, SyncDevice
from sync_protocol.entities import Table, TombstoneReason
from sync_protocol.errors import ProtocolError
from sync_protocol.hlc import SKEW_SAMPLES, skew_sample
from sync_protocol.messages import (
    Change,
    OutboxReport,
    PullRequest,
    PullResponse,
    RowUpsert,
    Tombstone,
)
from sync_protocol.records import ResetRequired
from sync_protocol.versions import MIN_SCHEMA_VERSION

HEALTH_INTERVAL = timedelta(seconds=30)

_MISMATCH = "This device belongs to another login"


def lock_device(session: Session, actor: Actor, device_id: uuid.UUID) -> SyncDevice:
    """The caller's device row, created on first use and locked until commit."""
    check_binding(session, actor, device_id)
    device = _registered_and_locked(session, actor, device_id)
    if device.user_id != actor.user_id:
        raise ProtocolError("sync.device_mismatch", _MISMATCH, "device_id")
    return device


def _registered_and_locked(session: Session, actor: Actor, device_id: uuid.UUID) -> SyncDevice:
    register(session, actor, device_id)
    return session.scalars(
        select(SyncDevice)
        .where(SyncDevice.tenant_id == actor.tenant_id, SyncDevice.id == device_id)
        .with_for_update()
    ).one()


def find_device(session: Session, actor: Actor, device_id: uuid.UUID) -> SyncDevice | None:
    """The caller's device if registered (no lock); another login's is ``sync.device_mismatch``."""
    check_binding(session, actor, device_id)
    device = session.get(SyncDevice, (actor.tenant_id, device_id))
    if device is not None and device.user_id != actor.user_id:
        raise ProtocolError("sync.device_mismatch", _MISMATCH, "device_id")
    return device


def register(session: Session, actor: Actor, device_id: uuid.UUID) -> None:
    """Insert the device for the caller unless it exists (concurrent first uses are fine)."""
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        make(SyncDevice)
        .values(
            tenant_id=actor.tenant_id,
            id=device_id,
            user_id=actor.user_id,
            technician_id=actor.technician_id,
            last_seq=0,
            skew_samples=[],
            clamped=0,
        )
        .on_conflict_do_nothing()
    )


def check_binding(session: Session, actor: Actor, device_id: uuid.UUID) -> None:
    """Only people sync, and a login made on a device speaks only for that device."""
    if actor.user_id is None:
        raise ProtocolError("sync.device_mismatch", "Only a person's device syncs", "device_id")
    if actor.session_id is None:
        return
    bound = session.scalar(select(AuthSession.device_id).where(AuthSession.id == actor.session_id))
    check_bound(actor, device_id, bound)


def check_bound(actor: Actor, device_id: uuid.UUID, bound: str | None) -> None:
    """:func:`check_binding` on the login's device binding read elsewhere (``bound``)."""
    if actor.user_id is None:
        raise ProtocolError("sync.device_mismatch", "Only a person's device syncs", "device_id")
    if actor.session_id is not None and bound is not None and bound != str(device_id):
        raise ProtocolError(
            "sync.device_mismatch", "This login belongs to another device", "device_id"
        )


def check_owner(actor: Actor, owner: uuid.UUID | None) -> None:
    """A registered device speaks only for the login that registered it."""
    if owner != actor.user_id:
        raise ProtocolError("sync.device_mismatch", _MISMATCH, "device_id")


def record_contact(
    device: SyncDevice,
    *,
    device_time_ms: int,
    receive_ms: int,
    outbox: OutboxReport,
    protocol: int,
    schema: int,
) -> None:
    """What every push or pull tells us: the device's queue, its clock, its versions."""
    samples = [*list(device.skew_samples or []), skew_sample(device_time_ms, receive_ms)]
    device.skew_samples = samples[-SKEW_SAMPLES:]
    device.pending = outbox.pending
    device.oldest_pending = str(outbox.oldest) if outbox.oldest else None
    device.protocol = protocol
    device.schema = schema


def retired() -> ResetRequired:
    return ResetRequired(
        "sync.device_retired",
        "An administrator retired this device; export its data and sign in again",
        push_first=False,
        min_schema=MIN_SCHEMA_VERSION,
    )


def record_pull(
    uow: UnitOfWorkFactory,
    actor: Actor,
    request: PullRequest,
    page: PullResponse,
    receive_ms: int,
    device: SyncDevice | None,
) -> None:
    """After a pull page: the device's health, and which orders it has now been told left.

    The ``server_time`` of the page that first delivers a work order's ``left_scope``
    tombstone is the grace limit of § 5.3; an order that comes back clears it. To
    keep no-op pulls cheap, health is written at most every
    :data:`HEALTH_INTERVAL` unless the device's report changed.
    """
    departed = {c.id for c in page.changes if _order_tombstone(c)}
    returned = {
        c.id for c in page.changes if isinstance(c, RowUpsert) and c.table is Table.WORK_ORDERS
    }
    if device is not None and not departed and not returned and not _stale(device, request):
        return
    with uow() as unit:
        session = unit.session
        found = lock_device(session, actor, request.device_id)
        found.last_pull_at = utcnow()
        record_contact(
            found,
            device_time_ms=request.device_time_ms,
            receive_ms=receive_ms,
            outbox=request.outbox,
            protocol=request.protocol,
            schema=request.schema,
        )
        _departures(session, actor, request.device_id, departed - returned, str(page.server_time))
        if returned:
            session.execute(
                delete(SyncDeparture).where(
                    SyncDeparture.tenant_id == actor.tenant_id,
                    SyncDeparture.device_id == request.device_id,
                    SyncDeparture.work_order_id.in_(sorted(returned)),
                )
            )
        unit.commit()


def _order_tombstone(change: Change) -> bool:
    return (
        isinstance(change, Tombstone)
        and change.table is Table.WORK_ORDERS
        and change.reason is TombstoneReason.LEFT_SCOPE
    )


def _stale(device: SyncDevice, request: PullRequest) -> bool:
    if device.last_pull_at is None or utcnow() - device.last_pull_at > HEALTH_INTERVAL:
        return True
    oldest = str(request.outbox.oldest) if request.outbox.oldest else None
    return (device.pending, device.oldest_pending, device.protocol, device.schema) != (
        request.outbox.pending,
        oldest,
        request.protocol,
        request.schema,
    )


def _departures(
    session: Session, actor: Actor, device_id: uuid.UUID, orders: set[uuid.UUID], at: str
) -> None:
    if not orders:
        return
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        make(SyncDeparture)
        .values(
            [
                {
                    "tenant_id": actor.tenant_id,
                    "device_id": device_id,
                    "work_order_id": order_id,
                    "delivered_hlc": at,
                }
                for order_id in sorted(orders)
            ]
        )
        .on_conflict_do_nothing()  # the first delivery is the limit
    )


def app_device(session: Session, actor: Actor, device_id: uuid.UUID) -> SyncDevice | None:
    """A WatermelonDB app's device row, registered on first use and locked until commit.

    WatermelonDB does not name its device; :func:`api.sync.watermelon.apply.device_of`
    derives a stable ID from the login, so the binding check of :func:`lock_device`
    does not apply. None when the ID is another login's (the app then syncs without
    health, as it did before this device existed).
    """
    if actor.user_id is None:
        return None
    device = _registered_and_locked(session, actor, device_id)
    return device if device.user_id == actor.user_id else None


def record_app_pull(uow: UnitOfWorkFactory, actor: Actor, device_id: uuid.UUID) -> bool:
    """Note a technician app's pull (at most every :data:`HEALTH_INTERVAL`); False if retired.

    Office roles read through this endpoint (a named technician's scope) but are
    not devices that replicate: they are not registered."""
    if actor.user_id is None or actor.technician_id is None:
        return True
    with uow.reader() as reader:
        known = reader.session.get(SyncDevice, (actor.tenant_id, device_id))
        if known is not None:
            if known.retired_at is not None:
                return False
            recent = known.last_pull_at and utcnow() - known.last_pull_at <= HEALTH_INTERVAL
            if recent or known.user_id != actor.user_id:
                return True
    with uow() as unit:
        device = app_device(unit.session, actor, device_id)
        if device is not None:
            device.last_pull_at = utcnow()
        unit.commit()
    return True
