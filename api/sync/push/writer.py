"""Who is pushing: the authenticated actor, their device, their party, and the batch's clock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from api.auth.actor import Actor
from api.workorders.stamps import party_of_actor
from sync_protocol.hlc import HLC
from sync_protocol.workorder_status import Party


@dataclass
class Writer:
    """One device of one actor, for the length of one push.

    ``last_hlc`` is the device's last *effective* HLC (§ 7.3): admission keeps the
    effective HLCs of a device strictly increasing, across batches too.
    """

    actor: Actor
    device_id: uuid.UUID
    receive_ms: int
    last_hlc: HLC | None = None
    clamped: int = field(default=0)

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
