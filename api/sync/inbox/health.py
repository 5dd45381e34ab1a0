"""A device's sync health as a dispatcher reads it (PROTOCOL.md § 13, ``records.DeviceHealth``).

The device row holds what the device last reported (outbox size and oldest
entry, versions) and the server's own observations (last push and pull, the
last five clock-skew samples, clamped HLCs); the counts of parked mutations,
open conflicts and photos still waiting for their bytes are read alongside.
The skew is ``hlc.estimate_skew`` over the stored samples, so the verdict
(``ok``/``skewed``/``wrong``) is the one § 7.3 defines.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.http.pagination import Page
from api.sync.inbox import queries
from api.sync.inbox.queries import DeviceCounts
from api.sync.models import SyncDevice
from sync_protocol.hlc import HLC, estimate_skew
from sync_protocol.records import DeviceHealth


@dataclass(frozen=True)
class DeviceView:
    """§ 13's record plus who the device belongs to and whether it was retired."""

    health: DeviceHealth
    user_id: uuid.UUID | None
    retired_at: datetime | None
    created_at: datetime

    def __getattr__(self, name: str) -> Any:
        return getattr(self.health, name)


def list_health(
    session: Session,
    actor: Actor,
    *,
    limit: int,
    cursor: str | None,
    technician_id: uuid.UUID | None = None,
) -> Page:
    page = queries.list_devices(
        session, actor, limit=limit, cursor=cursor, technician_id=technician_id
    )
    devices: list[SyncDevice] = list(page.items)
    counts = queries.device_counts(session, actor.tenant_id, [d.id for d in devices])
    return Page([device_view(d, counts[d.id]) for d in devices], page.next_cursor)


def read_health(session: Session, actor: Actor, device_id: uuid.UUID) -> DeviceView:
    device = queries.access_device(session, actor, device_id)
    counts = queries.device_counts(session, actor.tenant_id, [device.id])
    return device_view(device, counts[device.id])


def device_view(device: SyncDevice, counts: DeviceCounts) -> DeviceView:
    skew = estimate_skew([int(s) for s in device.skew_samples or []])
    health = DeviceHealth(
        device_id=device.id,
        technician_id=device.technician_id,
        last_push_at=device.last_push_at,
        last_pull_at=device.last_pull_at,
        last_seq=device.last_seq,
        # Every push and pull records these with the device row; 0 would mean "never said".
        pending=device.pending or 0,
        oldest_pending=HLC.parse(device.oldest_pending) if device.oldest_pending else None,
        skew_ms=skew.skew_ms,
        clock=skew.verdict,
        clamped=device.clamped,
        quarantined=counts.quarantined,
        open_conflicts=counts.open_conflicts,
        pending_blobs=counts.pending_blobs,
        protocol=device.protocol or 0,
        schema=device.schema or 0,
    )
    return DeviceView(health, device.user_id, device.retired_at, device.created_at)
