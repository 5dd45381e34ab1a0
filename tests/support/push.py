"""A scripted device for push tests: numbers mutations, stamps HLCs, sends batches."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from uuid_utils.compat import uuid7

from sync_protocol.hlc import HLC, system_ms
from sync_protocol.messages import Mutation, OutboxReport, PushRequest, PushResponse
from sync_protocol.mutations import MutationArgs
from tests.support.api_client import ApiClient
from tests.support.sync import read_body


def new_id() -> uuid.UUID:
    return uuid7()


@dataclass
class Device:
    """One phone: its id, its next seq and its HLC (wall time given explicitly or now).

    ``clock_offset_ms`` sets its clock that far from the true time: the default HLC
    and the ``device_time_ms`` it reports both carry it (explicit walls do not).
    """

    client: ApiClient
    device_id: uuid.UUID = field(default_factory=new_id)
    seq: int = 0
    counter: int = 0
    made: list[Mutation] = field(default_factory=list)
    clock_offset_ms: int = 0

    def hlc(self, wall_ms: int | None = None) -> HLC:
        self.counter += 1
        return HLC(
            wall_ms if wall_ms is not None else self.now(), self.counter, str(self.device_id)
        )

    def now(self) -> int:
        """The device's physical clock."""
        return system_ms() + self.clock_offset_ms

    def mutation(self, args: MutationArgs, *, wall_ms: int | None = None) -> Mutation:
        self.seq += 1
        made = Mutation(self.seq, self.hlc(wall_ms), args.name.value, args.to_json())
        self.made.append(made)
        return made

    def raw(self, name: str, args: dict[str, Any], *, wall_ms: int | None = None) -> Mutation:
        self.seq += 1
        made = Mutation(self.seq, self.hlc(wall_ms), name, args)
        self.made.append(made)
        return made

    def body(self, mutations: list[Mutation]) -> dict[str, Any]:
        request = PushRequest(
            self.device_id,
            tuple(mutations),
            device_time_ms=self.now(),
            outbox=OutboxReport(len(mutations), mutations[0].hlc if mutations else None),
        )
        return request.to_json()

    def push(self, mutations: list[Mutation], **kw: Any) -> Any:
        return self.client.post("/v1/sync/push", json=self.body(mutations), **kw)

    def push_ok(self, mutations: list[Mutation]) -> PushResponse:
        response = self.push(mutations)
        assert response.status_code == 200, response.get_data(as_text=True)
        return PushResponse.from_json(read_body(response))
