"""Every row a realistic pull delivers matches ``sync_protocol/replica_schema.json``, the
schema a client team builds its local tables from (PROTOCOL.md § 5.4)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from jsonschema import Draft202012Validator

from api.db import utcnow
from api.dispatching.models import Offer
from api.sync import replica_schema
from api.sync.syncables import BY_TABLE
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.push import Device, new_id
from tests.support.sync import Replica

AT = "2025-03-12T09:00:00Z"


def _validators() -> dict[str, Draft202012Validator]:
    document = json.loads(replica_schema.PATH.read_text(encoding="utf-8"))
    return {
        table: Draft202012Validator(
            document | {"$ref": f"#/$defs/{table}"},
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        for table in document["$defs"]
    }


def _job(device: Device, order_id: str, asset_id: str) -> list[Any]:
    """An offline job: steps, every kind of evidence, a void, an office field, a bad note."""
    part = str(new_id())
    step = {"work_order_id": order_id, "reason": None, "resolution": None, "assignee_id": None}
    return [
        device.raw("transition_work_order", step | {"action": "accept", "base_status": "assigned"}),
        device.raw("add_note", {"id": str(new_id()), "work_order_id": order_id, "body": "到场",
                                "visibility": "customer"}),
        device.raw("record_part", {"id": part, "work_order_id": order_id, "description": "密封圈",
                                   "quantity": "2.5", "unit": "pcs", "asset_id": asset_id}),
        device.raw("record_reading", {"id": str(new_id()), "work_order_id": order_id,
                                      "metric": "pressure", "value": "-3.4", "unit": "bar",
                                      "taken_at": AT}),
        device.raw("add_time_entry", {"id": str(new_id()), "work_order_id": order_id,
                                      "activity": "work", "started_at": AT,
                                      "ended_at": "2025-03-12T10:30:00.25Z"}),
        device.raw("attach_photo", {"id": str(new_id()), "work_order_id": order_id,
                                    "sha256": "ab" * 32, "content_type": "image/jpeg",
                                    "size": 1_843_220, "taken_at": AT}),
        device.raw("void_evidence", {"evidence": "part", "id": part, "work_order_id": order_id,
                                     "reason": "记错了"}),
        device.raw("patch_work_order", {"work_order_id": order_id,
                                        "fields": {"title": "技师改的标题", "actual_start": AT}}),
        device.raw("add_note", {"id": "not-a-uuid", "work_order_id": order_id, "body": "x"}),
    ]  # fmt: skip


def test_every_pulled_row_matches_the_published_replica_schema(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world = scene.world
    asset = factories.asset(world, scene.site, installed_on=date(2020, 5, 1))
    categories = factories.category_path(world)
    factories.contact(world, scene.customer)
    factories.work_order(world, scene.customer, scene.site, asset_ids=[asset.id])  # history
    order = factories.work_order(
        world, scene.customer, scene.site, asset_ids=[asset.id], category_id=categories[-1].id
    )
    factories.transition(world, order, "assign", assignee_id=scene.technician.id)
    offered = factories.work_order(world, scene.customer, scene.site)
    with factories.uow() as uow:  # a job offered to the technician (auto-dispatch)
        now = utcnow()
        uow.session.add(
            Offer(tenant_id=world.tenant_id, work_order_id=offered.id,
                  technician_id=scene.technician.id, attempt=1, state="pending",
                  number=offered.number, title=offered.title, site_address="世纪大道 1 号",
                  distance_m=812, travel_s=300, score=91.25, offered_at=now,
                  expires_at=now + timedelta(minutes=5))
        )  # fmt: skip
        uow.commit()
    tech = client.as_(scene.technician_token)
    device = Device(tech)
    receipts = device.push_ok(_job(device, str(order.id), str(asset.id))).receipts
    assert [r.status.value for r in receipts][-2:] == ["conflict", "rejected"]

    scope = f"technician:{scene.technician.id}"
    replica = Replica(tech, {scope: None, "taxonomy": None}, device_id=device.device_id)
    replica.sync()

    validators = _validators()
    assert {table for _, table, _ in replica.rows} == {t.value for t in BY_TABLE}
    for (_, table, row_id), row in sorted(replica.rows.items()):
        errors = [e.message for e in validators[table].iter_errors(row)]
        assert errors == [], f"{table} {row_id}: {errors}"
