"""``scan_code`` pushed from a device: the same answers as the online scan, as receipts."""

from __future__ import annotations

from sqlalchemy import select

from api.assets.models import Asset
from api.workorders.states import Status
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.push import Device, new_id
from tests.support.sync import Replica


def _scan(device: Device, order_id: object, code: str, **extra: object) -> object:
    args = {"id": str(new_id()), "work_order_id": str(order_id), "code": code, **extra}
    return device.raw("scan_code", args)


def test_an_offline_scan_names_the_asset_or_makes_a_provisional_one_that_syncs_back(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world = scene.world
    known = factories.asset(
        world, scene.site, barcode_value="036000291452", barcode_symbology="upc_a"
    )
    order = factories.work_order(world, scene.customer, scene.site)
    factories.advance(world, order, Status.ASSIGNED, scene.technician)
    tech = client.as_(scene.technician_token)
    device = Device(tech)
    first = _scan(device, order.id, "036000291452", symbology="upc_a")
    unknown = _scan(device, order.id, "PUMP-77", symbology="code_128")

    receipts = device.push_ok([first, unknown]).receipts
    assert [r.status.value for r in receipts] == ["applied", "applied"]
    assert receipts[0].entity_id == known.id
    assert str(receipts[1].entity_id) == unknown.args["id"]
    with factories.uow() as uow:
        made = uow.session.scalars(select(Asset).where(Asset.id == receipts[1].entity_id)).one()
        assert made.provisional and made.site_id == scene.site.id
        assert made.barcode_value == "PUMP-77"

    scope = f"technician:{scene.technician.id}"
    replica = Replica(tech, {scope: None}, device_id=device.device_id)
    replica.sync()
    pulled = {row_id: row for (_, table, row_id), row in replica.rows.items() if table == "assets"}
    assert pulled[unknown.args["id"]]["provisional"] is True
    assert "label_token" not in pulled[unknown.args["id"]]


def test_a_bad_check_digit_or_another_tenants_order_is_rejected_and_makes_nothing(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world = scene.world
    order = factories.work_order(world, scene.customer, scene.site)
    factories.advance(world, order, Status.ASSIGNED, scene.technician)
    theirs = factories.tenant()
    their_order = factories.work_order(theirs)
    device = Device(client.as_(scene.technician_token))

    receipts = device.push_ok(
        [
            _scan(device, order.id, "036000291453", symbology="upc_a"),
            _scan(device, their_order.id, "PUMP-1"),
            _scan(device, order.id, "PUMP-1", symbology="hologram"),
        ]
    ).receipts
    assert [(r.status.value, r.code) for r in receipts] == [
        ("rejected", "sync.barcode_invalid"),
        ("rejected", "sync.not_in_scope"),
        ("rejected", "sync.invalid_value"),
    ]
    with factories.uow() as uow:
        assert uow.session.scalars(select(Asset)).all() == []


def test_an_offline_scan_of_a_printed_label_names_its_asset_and_a_foreign_label_makes_nothing(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world = scene.world
    ours = factories.asset(world, scene.site)
    theirs = factories.tenant()
    foreign = factories.asset(theirs, factories.site(theirs, factories.customer(theirs)))
    order = factories.work_order(world, scene.customer, scene.site)
    factories.advance(world, order, Status.ASSIGNED, scene.technician)
    device = Device(client.as_(scene.technician_token))

    receipts = device.push_ok(
        [
            _scan(device, order.id, f"https://fieldline.example.cn/r/{ours.label_token}"),
            _scan(device, order.id, f"https://fieldline.example.cn/r/{foreign.label_token}"),
        ]
    ).receipts
    assert [(r.status.value, r.code) for r in receipts] == [
        ("applied", None),
        ("rejected", "sync.not_in_scope"),
    ]
    assert receipts[0].entity_id == ours.id
    with factories.uow() as uow:
        assert set(
            uow.session.scalars(select(Asset.id).where(Asset.tenant_id == world.tenant_id))
        ) == {ours.id}
