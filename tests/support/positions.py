"""A tracked technician for position tests: hired and with a device first synced yesterday."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, update

from api.db import utcnow
from api.sync.models import SyncDevice
from api.technicians.models import Technician
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.factories.core import World

ALWAYS = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
# People's Square, Shanghai, and points walking east from it.
LAT, LON = 31.2304, 121.4737


def fix(minutes_ago: float, east_m: float = 0.0, **extra: Any) -> dict[str, Any]:
    at = utcnow() - timedelta(minutes=minutes_ago)
    return {
        "fixed_at": at.isoformat().replace("+00:00", "Z"),
        "lat": LAT,
        "lon": LON + east_m / 95_000,  # ~95 km per degree of longitude here
        "accuracy_m": 8.0,
        **extra,
    }


class Tracked:
    """A technician hired and a device first synced yesterday."""

    def __init__(
        self, client: ApiClient, factories: Factories, engine: Engine, **technician: Any
    ) -> None:
        self.world: World = factories.tenant()
        self.technician, _, token = factories.technician_user(self.world, **technician)
        self.api = client.as_(token)
        self.device = str(uuid.uuid4())
        self.admin = client.as_(self.world.admin_token)
        self.send()  # registers the device
        with engine.begin() as connection:
            yesterday = utcnow() - timedelta(days=1)
            connection.execute(
                update(SyncDevice)
                .where(SyncDevice.id == uuid.UUID(self.device))
                .values(created_at=yesterday)
            )
            connection.execute(
                update(Technician)
                .where(Technician.id == self.technician.id)
                .values(created_at=yesterday)
            )

    def send(self, *fixes: dict[str, Any]) -> dict[str, Any]:
        response = self.api.post(
            "/v1/sync/positions", {"device_id": self.device, "fixes": list(fixes)}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        body: dict[str, Any] = response.get_json()
        return body

    def trail(self, **query: Any) -> Any:
        start = (utcnow() - timedelta(hours=2)).isoformat().replace("+00:00", "Z")
        end = (utcnow() + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
        return self.admin.get(
            f"/v1/technicians/{self.technician.id}/trail",
            query_string={"from": start, "to": end, **query},
        )
