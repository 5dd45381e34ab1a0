"""Who is pushing: the authenticated actor, their device, their party, and the batch's clock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from api.auth.actor import Actor
from api.workorders.models import WorkOrder
from api.workorders.stamps import party_of_actor
from sync_protocol.hlc import HLC, field_time
from sync_protocol.workorder_status import Party

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


@dataclass
class Writer:
    """One device of one actor, for the length of one push.

    ``last_hlc`` is the device's last *effective* HLC (§ 7.3): admission keeps the
    effective HLCs of a device strictly increasing, across batches too.
    ``skew_ms`` is the device's estimated clock skew, for :meth:`occurred_at`.
    """

    actor: Actor
    device_id: uuid.UUID
    receive_ms: int
    last_hlc: HLC | None = None
    skew_ms: int = 0
    clamped: int = field(default=0)
    # Per batch: orders already locked (dropped whenever a savepoint rolls back,
    # which releases its locks), and evidence IDs known to exist, by table, with
    # (tenant, content digest): one query per table instead of one per mutation.
    locked: dict[uuid.UUID, WorkOrder] = field(default_factory=dict)
    known: dict[str, dict[uuid.UUID, tuple[uuid.UUID, str | None]]] = field(default_factory=dict)

    def forget_locks(self) -> None:
        self.locked.clear()

    def occurred_at(self, sent: HLC, floor: datetime | None = None) -> datetime:
        """When a mutation stamped ``sent`` happened, in server time (§ 7.3 field time)."""
        # Rounded up: a floor of 10:00:00.0004 must not let the step sort before it.
        floor_ms = -(-(floor - _EPOCH) // _MS) if floor is not None else None
        ms = field_time(sent, self.receive_ms, skew_ms=self.skew_ms, floor_ms=floor_ms)
        return _EPOCH + ms * _MS

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.actor.tenant_id

    @property
    def party(self) -> Party:
        return party_of_actor(self.actor)

    @property
    def technician_id(self) -> uuid.UUID | None:
        return self.actor.technician_id

    @property
    def is_office(self) -> bool:
        return self.actor.is_office
