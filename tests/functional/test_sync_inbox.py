"""The conflict inbox, parked mutations and device health (PROTOCOL.md § 6.5–6.7, § 8.6, § 13):
dispatchers see every clash with both sides, resolve it with an office write that syncs
back to the technician, and see which phones are stuck, offline or wrong about the time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from api.db import UnitOfWorkFactory
from api.workorders.models import StatusChange, WorkOrder
from sync_protocol.entities import PhotoType
from sync_protocol.hlc import HLC, system_ms
from sync_protocol.merge import Outcome
from sync_protocol.mutations import AttachPhoto, PatchWorkOrder, TransitionWorkOrder
from sync_protocol.scopes import technician_scope
from sync_protocol.workorder_status import Action, Status
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene
from tests.support.push import Device, new_id
from tests.support.sync import Replica

CONFLICTS = "/v1/sync/conflicts"


def _assigned(factories: Factories, scene: Scene) -> Any:
    order = factories.work_order(scene.world, scene.customer, scene.site)
    return factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)


def _order(uow_factory: UnitOfWorkFactory, order_id: uuid.UUID) -> WorkOrder:
    with uow_factory.reader() as uow:
        return uow.session.get_one(WorkOrder, order_id)


def _propose(device: Device, order_id: uuid.UUID, **fields: str) -> uuid.UUID:
    """A technician's offline write of office fields: one conflict record per field."""
    receipt = device.push_ok([device.mutation(PatchWorkOrder(order_id, fields))]).receipts[0]
    assert receipt.status is Outcome.CONFLICT
    return receipt.conflict_ids[0]


def _completed_after_cancel(factories: Factories, scene: Scene, device: Device) -> Any:
    """PROTOCOL.md § 16.3: the office cancels while the phone, offline, finishes the job."""
    order = _assigned(factories, scene)
    steps = [
        (Action.ACCEPT, Status.ASSIGNED),
        (Action.START_TRAVEL, Status.ACCEPTED),
        (Action.ARRIVE, Status.EN_ROUTE),
        (Action.START_WORK, Status.ON_SITE),
    ]
    device.push_ok([device.mutation(TransitionWorkOrder(order.id, a, b)) for a, b in steps])
    factories.transition(scene.world, order, "cancel", reason="客户来电取消")
    complete = TransitionWorkOrder(
        order.id, Action.COMPLETE, Status.IN_PROGRESS, resolution="Seals replaced"
    )
    receipt = device.push_ok([device.mutation(complete)]).receipts[0]
    assert receipt.code == "sync.concurrent_status"
    return order, receipt.conflict_ids[0]


def test_open_records_of_one_field_and_device_are_one_item_listing_every_proposal(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    other = _assigned(factories, scene)
    phone = Device(client.as_(scene.technician_token))
    first = _propose(phone, order.id, scheduled_start="2030-03-12T14:00:00Z")
    second = _propose(phone, order.id, scheduled_start="2030-03-12T15:00:00Z")
    title = _propose(phone, order.id, title="Leak is in the basement")
    elsewhere = _propose(phone, other.id, priority="urgent")
    office = client.as_(scene.dispatcher_token)

    items = office.get(CONFLICTS).get_json()["items"]

    assert [i["id"] for i in items] == [str(elsewhere), str(title), str(second)]
    folded = items[2]
    assert [p["id"] for p in folded["proposals"]] == [str(first), str(second)]
    assert [p["device"]["value"] for p in folded["proposals"]] == [
        "2030-03-12T14:00:00Z",
        "2030-03-12T15:00:00Z",
    ]
    assert folded["code"] == "sync.field_not_owned" and folded["kept"] == "server"
    assert folded["device_id"] == str(phone.device_id)
    assert folded["technician_id"] == str(scene.technician.id)
    assert folded["mutation"]["name"] == "patch_work_order"
    assert folded["table"] == "work_orders" and folded["entity_id"] == str(order.id)

    # Filters, and keyset pages that neither skip nor repeat an item.
    only = office.get(f"{CONFLICTS}?work_order_id={other.id}").get_json()["items"]
    assert [i["id"] for i in only] == [str(elsewhere)]
    theirs = office.get(f"{CONFLICTS}?technician_id={scene.technician.id}").get_json()["items"]
    assert len(theirs) == 3
    assert office.get(f"{CONFLICTS}?technician_id={new_id()}").get_json()["items"] == []
    assert office.get(f"{CONFLICTS}?state=resolved").get_json()["items"] == []
    seen, cursor = [], None
    while True:
        query = f"{CONFLICTS}?limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = office.get(query).get_json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [i["id"] for i in items]

    # Any record of an item reads as itself with the whole item beside it.
    older = office.get(f"{CONFLICTS}/{first}").get_json()
    assert older["id"] == str(first)
    assert [p["id"] for p in older["proposals"]] == [str(first), str(second)]


def test_take_device_of_a_completion_after_a_cancel_reopens_and_completes_the_order(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    """PROTOCOL.md § 16.3: the visit can be billed; the technician's phone learns it."""
    scene = factories.scene()
    phone = Device(client.as_(scene.technician_token))
    order, conflict_id = _completed_after_cancel(factories, scene, phone)
    office = client.as_(scene.dispatcher_token)

    response = office.post(
        f"{CONFLICTS}/{conflict_id}/resolution", json={"resolution": "take_device"}
    )

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["state"], body["resolution"], body["resolved_value"]) == (
        "resolved",
        "take_device",
        "completed",
    )
    assert body["resolved_by"] == str(scene.dispatcher_id)
    saved = _order(uow_factory, order.id)
    assert saved.status is Status.COMPLETED
    assert saved.resolution == "Seals replaced"
    assert saved.assignee_id == scene.technician.id
    with uow_factory.reader() as uow:
        actions = uow.session.scalars(
            select(StatusChange.action)
            .where(StatusChange.work_order_id == order.id)
            .order_by(StatusChange.occurred_at, StatusChange.id)
        ).all()
    assert actions[-6:] == ["reopen", "accept", "start_travel", "arrive", "start_work", "complete"]

    # The resolution is an ordinary change: the technician's phone pulls both.
    scope = str(technician_scope(scene.technician.id))
    replica = Replica(client.as_(scene.technician_token), {scope: None}, phone.device_id)
    replica.sync()
    pulled = replica.rows[(scope, "conflicts", str(conflict_id))]
    assert (pulled["state"], pulled["resolution"]) == ("resolved", "take_device")
    assert replica.rows[(scope, "work_orders", str(order.id))]["status"] == "completed"

    # Resolving it again is refused, whatever is asked.
    again = office.post(f"{CONFLICTS}/{conflict_id}/resolution", json={"resolution": "keep_server"})
    assert_problem(again, 409, "sync_conflict.already_resolved")


def test_take_device_of_a_proposal_writes_it_as_the_newest_office_write(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    """PROTOCOL.md § 16.4: the dispatcher accepts the technician's 14:00 after all."""
    scene = factories.scene()
    order = _assigned(factories, scene)
    phone = Device(client.as_(scene.technician_token))
    stale = phone.mutation(
        PatchWorkOrder(order.id, {"scheduled_start": "2030-03-12T14:00:00Z"}),
        wall_ms=system_ms() - 2 * 3600 * 1000,
    )
    office = client.as_(scene.dispatcher_token)
    current = office.get(f"/v1/work-orders/{order.id}")
    edit = office.patch(
        f"/v1/work-orders/{order.id}",
        json={"scheduled_start": "2030-03-12T16:00:00Z"},
        etag=current.headers["ETag"],
    )
    assert edit.status_code == 200
    proposal = phone.push_ok([stale]).receipts[0].conflict_ids[0]
    before = HLC.parse(_order(uow_factory, order.id).field_hlcs["scheduled_start"]["hlc"])

    response = office.post(f"{CONFLICTS}/{proposal}/resolution", json={"resolution": "take_device"})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["resolved_value"] == "2030-03-12T14:00:00Z"
    saved = _order(uow_factory, order.id)
    assert saved.scheduled_start == datetime(2030, 3, 12, 14, tzinfo=UTC)
    stamp = saved.field_hlcs["scheduled_start"]
    assert stamp["party"] == "office" and HLC.parse(stamp["hlc"]) > before
    # The ETag moved, so a dispatcher's stale screen cannot overwrite it unnoticed.
    assert office.get(f"/v1/work-orders/{order.id}").headers["ETag"] != edit.headers["ETag"]


def test_resolving_settles_every_open_record_of_the_item_and_keep_server_changes_nothing(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    phone = Device(client.as_(scene.technician_token))
    first = _propose(phone, order.id, priority="urgent")
    second = _propose(phone, order.id, priority="low")
    office = client.as_(scene.dispatcher_token)
    etag = office.get(f"/v1/work-orders/{order.id}").headers["ETag"]

    response = office.post(f"{CONFLICTS}/{first}/resolution", json={"resolution": "keep_server"})

    assert response.status_code == 200, response.get_json()
    proposals = response.get_json()["proposals"]
    assert [(p["id"], p["state"], p["resolved_value"]) for p in proposals] == [
        (str(first), "resolved", "medium"),
        (str(second), "resolved", "medium"),
    ]
    assert office.get(f"/v1/work-orders/{order.id}").headers["ETag"] == etag
    assert office.get(CONFLICTS).get_json()["items"] == []
    resolved = office.get(f"{CONFLICTS}?state=resolved").get_json()["items"]
    assert [i["id"] for i in resolved] == [str(second)]
    assert_problem(
        office.post(f"{CONFLICTS}/{second}/resolution", json={"resolution": "take_device"}),
        409,
        "sync_conflict.already_resolved",
    )


def test_custom_writes_a_validated_third_value(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    phone = Device(client.as_(scene.technician_token))
    proposal = _propose(phone, order.id, title="Leak in the basement")
    office = client.as_(scene.dispatcher_token)
    url = f"{CONFLICTS}/{proposal}/resolution"

    assert_problem(
        office.post(url, json={"resolution": "custom"}), 422, "request.validation_failed"
    )
    blank = office.post(url, json={"resolution": "custom", "value": None})
    assert blank.get_json()["errors"][0]["field"] == "value"
    assert_problem(
        office.post(url, json={"resolution": "custom", "value": 7}),
        422,
        "request.validation_failed",
    )
    assert_problem(
        office.post(url, json={"resolution": "keep_server", "value": "x"}),
        422,
        "request.validation_failed",
    )
    response = office.post(url, json={"resolution": "custom", "value": "Leak under the stairs"})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["resolved_value"] == "Leak under the stairs"
    assert _order(uow_factory, order.id).title == "Leak under the stairs"


def test_take_device_of_a_reassigned_acceptance_assigns_the_technician_back(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    other = factories.technician(scene.world)
    phone = Device(client.as_(scene.technician_token))
    accept = phone.mutation(TransitionWorkOrder(order.id, Action.ACCEPT, Status.ASSIGNED))
    factories.transition(scene.world, order, "assign", assignee_id=other.id)
    receipt = phone.push_ok([accept]).receipts[0]
    assert receipt.code == "sync.reassigned"
    office = client.as_(scene.dispatcher_token)

    response = office.post(
        f"{CONFLICTS}/{receipt.conflict_ids[0]}/resolution", json={"resolution": "take_device"}
    )

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["resolved_value"] == str(scene.technician.id)
    saved = _order(uow_factory, order.id)
    assert (saved.status, saved.assignee_id) == (Status.ASSIGNED, scene.technician.id)


def test_a_value_the_order_can_no_longer_take_is_refused_and_the_conflict_stays_open(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    other = factories.technician(scene.world)
    phone = Device(client.as_(scene.technician_token))
    accept = phone.mutation(TransitionWorkOrder(order.id, Action.ACCEPT, Status.ASSIGNED))
    factories.transition(scene.world, order, "assign", assignee_id=other.id)
    conflict_id = phone.push_ok([accept]).receipts[0].conflict_ids[0]
    factories.transition(scene.world, order, "accept")
    factories.transition(scene.world, order, "start_travel")  # the other technician set off
    office = client.as_(scene.dispatcher_token)

    refused = office.post(
        f"{CONFLICTS}/{conflict_id}/resolution", json={"resolution": "take_device"}
    )

    assert_problem(refused, 409, "sync_conflict.unreachable")
    assert _order(uow_factory, order.id).assignee_id == other.id
    assert office.get(f"{CONFLICTS}/{conflict_id}").get_json()["state"] == "open"


def test_technicians_and_other_tenants_cannot_read_or_resolve_the_inbox(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    phone = Device(client.as_(scene.technician_token))
    order = _assigned(factories, scene)
    proposal = _propose(phone, order.id, priority="urgent")
    url = f"{CONFLICTS}/{proposal}/resolution"
    technician = client.as_(scene.technician_token)
    intruder = client.as_(factories.tenant().admin_token)

    assert_problem(technician.get(CONFLICTS), 403, "auth.forbidden")
    assert_problem(technician.post(url, json={"resolution": "take_device"}), 403, "auth.forbidden")
    assert_problem(intruder.get(f"{CONFLICTS}/{proposal}"), 404, "sync_conflict.not_found")
    assert_problem(
        intruder.post(url, json={"resolution": "take_device"}), 404, "sync_conflict.not_found"
    )
    assert intruder.get(CONFLICTS).get_json()["items"] == []
    assert (
        client.as_(scene.dispatcher_token).get(f"{CONFLICTS}/{proposal}").get_json()["state"]
        == "open"
    )


def test_parked_mutations_are_discarded_by_their_technician_or_the_office_only(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    phone = Device(client.as_(scene.technician_token))
    receipts = phone.push_ok(
        [
            phone.raw("teleport_work_order", {"work_order_id": str(order.id)}),
            phone.raw("levitate_work_order", {"work_order_id": str(order.id)}),
        ]
    ).receipts
    assert [r.status for r in receipts] == [Outcome.REJECTED] * 2
    _, _, colleague_token = factories.technician_user(scene.world)
    mine = client.as_(scene.technician_token)
    colleague = client.as_(colleague_token)
    office = client.as_(scene.dispatcher_token)

    listed = mine.get("/v1/sync/quarantine").get_json()["items"]
    assert [e["mutation"]["name"] for e in listed] == ["levitate_work_order", "teleport_work_order"]
    assert {e["state"] for e in listed} == {"parked"}
    assert colleague.get("/v1/sync/quarantine").get_json()["items"] == []
    newest, oldest = listed[0]["id"], listed[1]["id"]
    assert_problem(
        colleague.post(f"/v1/sync/quarantine/{oldest}/discard"), 404, "sync_quarantine.not_found"
    )
    assert_problem(mine.post(f"/v1/sync/quarantine/{newest}/reapplied"), 403, "auth.forbidden")

    discarded = mine.post(f"/v1/sync/quarantine/{oldest}/discard")
    assert discarded.status_code == 200, discarded.get_json()
    assert discarded.get_json()["state"] == "discarded"
    assert_problem(
        office.post(f"/v1/sync/quarantine/{oldest}/reapplied"),
        409,
        "sync_quarantine.already_settled",
    )
    reapplied = office.post(f"/v1/sync/quarantine/{newest}/reapplied")
    assert (reapplied.status_code, reapplied.get_json()["state"]) == (200, "reapplied")
    assert reapplied.get_json()["settled_by"] == str(scene.dispatcher_id)
    parked = office.get(f"/v1/sync/quarantine?state=parked&device_id={phone.device_id}")
    assert parked.get_json()["items"] == []

    # The device learns both outcomes from its next pull.
    scope = str(technician_scope(scene.technician.id))
    replica = Replica(mine, {scope: None}, phone.device_id)
    replica.sync()
    states = {r["id"]: r["state"] for (_, t, _), r in replica.rows.items() if t == "quarantine"}
    assert states == {oldest: "discarded", newest: "reapplied"}


def test_device_health_counts_what_a_dispatcher_must_chase(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    phone = Device(client.as_(scene.technician_token))
    far_ahead = system_ms() + 3600 * 1000  # a phone an hour fast: its HLC is clamped
    phone.push_ok(
        [
            phone.mutation(
                AttachPhoto(new_id(), order.id, "cd" * 32, PhotoType.JPEG, 1000), wall_ms=far_ahead
            ),
            phone.mutation(PatchWorkOrder(order.id, {"priority": "urgent"})),
            phone.raw("teleport_work_order", {"work_order_id": str(order.id)}),
        ]
    )
    tablet = Device(client.as_(scene.technician_token))
    tablet.push_ok([tablet.mutation(PatchWorkOrder(order.id, {"actual_start": None}))])
    office = client.as_(scene.dispatcher_token)

    health = office.get(f"/v1/sync/devices/{phone.device_id}/health")

    assert health.status_code == 200, health.get_json()
    body = health.get_json()
    assert body["technician_id"] == str(scene.technician.id)
    assert (body["last_seq"], body["clamped"], body["pending"]) == (3, 1, 3)
    assert (body["quarantined"], body["open_conflicts"], body["pending_blobs"]) == (1, 1, 1)
    assert body["clock"] == "ok" and abs(body["skew_ms"]) < 60_000
    assert (body["protocol"], body["schema"], body["retired_at"]) == (1, 1, None)
    assert body["last_push_at"] is not None and body["last_pull_at"] is None
    listed = office.get(f"/v1/sync/devices?technician_id={scene.technician.id}").get_json()
    assert {d["device_id"] for d in listed["items"]} == {
        str(phone.device_id),
        str(tablet.device_id),
    }
    assert office.get(f"/v1/sync/devices?technician_id={new_id()}").get_json()["items"] == []
    assert_problem(
        client.as_(scene.technician_token).get(f"/v1/sync/devices/{phone.device_id}/health"),
        403,
        "auth.forbidden",
    )
    assert_problem(office.get(f"/v1/sync/devices/{new_id()}/health"), 404, "sync_device.not_found")


def test_a_retired_device_is_told_to_reset_on_its_next_push_and_pull(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    phone = Device(client.as_(scene.technician_token))
    phone.push_ok([phone.mutation(PatchWorkOrder(order.id, {"actual_start": None}))])
    url = f"/v1/sync/devices/{phone.device_id}/retire"

    assert_problem(client.as_(scene.dispatcher_token).post(url), 403, "auth.forbidden")
    retired = client.as_(scene.world.admin_token).post(url)
    assert retired.status_code == 200, retired.get_json()
    assert retired.get_json()["retired_at"] is not None
    again = client.as_(scene.world.admin_token).post(url)
    assert again.get_json()["retired_at"] == retired.get_json()["retired_at"]

    push = phone.push([phone.mutation(PatchWorkOrder(order.id, {"actual_start": None}))])
    assert push.status_code == 409
    assert push.get_json()["reset_required"]["reason"] == "sync.device_retired"
    scope = str(technician_scope(scene.technician.id))
    replica = Replica(client.as_(scene.technician_token), {scope: None}, phone.device_id)
    pull = replica.client.post(
        "/v1/sync/pull",
        json={
            "protocol": 1,
            "schema": 1,
            "device_id": str(phone.device_id),
            "device_time_ms": system_ms(),
            "outbox": {"pending": 0, "oldest": None},
            "cursors": {scope: None},
            "limit": 10,
        },
    )
    assert pull.status_code == 409
    assert pull.get_json()["reset_required"]["reason"] == "sync.device_retired"
