"""The device registry (PROTOCOL.md § 1, § 13): who owns a ``device_id``, and its sync health.

A device is registered by its first push or pull, to the user who made it;
nobody else may speak for it afterwards (``sync.device_mismatch``, whatever
the token). A login bound to a ``device_id`` may only speak for that device.
During a push the device's row is locked (``SELECT … FOR UPDATE``), so two
pushes of one device run one after the other and each sees the other's
``last_seq``.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.auth.models import AuthSession
from api.sync.models import SyncDevice
from sync_protocol.errors import ProtocolError
from sync_protocol.hlc import SKEW_SAMPLES, skew_sample
from sync_protocol.messages import OutboxReport

_MISMATCH = "This device belongs to another login"


def lock_device(session: Session, actor: Actor, device_id: uuid.UUID) -> SyncDevice:
    """The caller's device row, created on first use and locked until commit."""
    check_binding(session, actor, device_id)
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
    device = session.scalars(
        select(SyncDevice)
        .where(SyncDevice.tenant_id == actor.tenant_id, SyncDevice.id == device_id)
        .with_for_update()
    ).one()
    if device.user_id != actor.user_id:
        raise ProtocolError("sync.device_mismatch", _MISMATCH, "device_id")
    return device


def check_binding(session: Session, actor: Actor, device_id: uuid.UUID) -> None:
    """Only people sync, and a login made on a device speaks only for that device."""
    if actor.user_id is None:
        raise ProtocolError("sync.device_mismatch", "Only a person's device syncs", "device_id")
    if actor.session_id is None:
        return
    bound = session.scalar(select(AuthSession.device_id).where(AuthSession.id == actor.session_id))
    if bound is not None and bound != str(device_id):
        raise ProtocolError(
            "sync.device_mismatch", "This login belongs to another device", "device_id"
        )


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
