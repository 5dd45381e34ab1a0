"""``GET /v1/sync/watermelon``: WatermelonDB's pullChanges contract over the change log,
and ``POST``'s refusal of pushes based on a stale pull (``sync.pull_first``)."""

from __future__ import annotations

import gzip
import json
import uuid
from typing import Any

from sqlalchemy import Engine, delete, select

from api.db import UnitOfWorkFactory, utcnow
from api.sync import queries
from api.sync.models import SyncDevice
from api.workorders.models import WorkOrder, WorkOrderAsset
from tests.conftest import count_rows
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene

URL = "/v1/sync/watermelon"


def _assigned(factories: Factories, scene: Scene, technician: Any = None, **data: Any) -> Any:
    order = factories.work_order(scene.world, scene.customer, scene.site, **data)
    technician = technician or scene.technician
    return factories.transition(scene.world, order, "assign", assignee_id=technician.id)


def _pull(api: ApiClient, last_pulled_at: int | None, **params: Any) -> dict[str, Any]:
    query: dict[str, Any] = {"last_pulled_at": "null" if last_pulled_at is None else last_pulled_at}
    query |= {"schema_version": 1, "migration": "null"} | params
    response = api.get(URL, query_string=query, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_data()
    if response.headers.get("Content-Encoding") == "gzip":
        data = gzip.decompress(data)
    body: dict[str, Any] = json.loads(data)
    return body


def _updated(body: dict[str, Any], table: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in body["changes"][table]["updated"]}


def _deleted(body: dict[str, Any], table: str) -> set[str]:
    return set(body["changes"][table]["deleted"])


def _push_order_edit(
    api: ApiClient, pulled: dict[str, Any], order_id: uuid.UUID, edit: dict[str, Any]
) -> None:
    """Push the app's copy of an order (from ``pulled``) with ``edit``, as synchronize() does."""
    row = _updated(pulled, "work_orders")[str(order_id)] | edit
    body = {
        "changes": {"work_orders": {"created": [], "updated": [row], "deleted": []}},
        "lastPulledAt": pulled["timestamp"],
    }
    response = api.post(URL, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)


def _high_water(uow_factory: UnitOfWorkFactory, tenant_id: uuid.UUID) -> int:
    with uow_factory.reader() as uow:
        return queries.high_water(uow.session, tenant_id)


def test_first_pull_is_the_technicians_scope_as_raw_records_with_an_opaque_timestamp(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    asset = factories.asset(scene.world, scene.site)
    categories = factories.category_path(scene.world)
    order = _assigned(factories, scene, asset_ids=[asset.id], category_id=categories[-1].id)
    note = factories.note(scene.world, order)
    other = factories.technician(scene.world)
    elsewhere = _assigned(factories, scene, technician=other)

    body = _pull(client.as_(scene.technician_token), None)

    assert body["timestamp"] == _high_water(uow_factory, scene.world.tenant_id) + 1
    for lists in body["changes"].values():
        assert lists["created"] == []  # sendCreatedAsUpdated: everything is `updated`
    orders = _updated(body, "work_orders")
    assert set(orders) == {str(order.id)} and str(elsewhere.id) not in json.dumps(body)
    row = orders[str(order.id)]
    assert row["status"] == "assigned" and row["assignee_id"] == str(scene.technician.id)
    assert isinstance(row["created_at"], int) and row["created_at"] > 1_700_000_000_000
    assert not {"tenant_id", "field_hlcs", "status_hlc", "version", "asset_ids"} & set(row)
    assert _updated(body, "work_order_assets") == {
        f"{order.id}_{asset.id}": {
            "id": f"{order.id}_{asset.id}",
            "work_order_id": str(order.id),
            "asset_id": str(asset.id),
        }
    }
    assert set(_updated(body, "assets")) == {str(asset.id)}
    assert set(_updated(body, "notes")) == {str(note.id)}
    assert set(_updated(body, "customers")) == {str(scene.customer.id)}
    assert set(_updated(body, "categories")) == {str(c.id) for c in categories}
    site = _updated(body, "sites")[str(scene.site.id)]
    assert site["lat"] is None or isinstance(site["lat"], float)


def test_later_pulls_bring_office_changes_as_updated_and_what_left_as_deleted(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    world = scene.world
    kept, dropped = factories.asset(world, scene.site), factories.asset(world, scene.site)
    staying = _assigned(factories, scene, asset_ids=[kept.id, dropped.id])
    moving = _assigned(factories, scene, site_id=factories.site(world, scene.customer).id)
    tech = client.as_(scene.technician_token)
    first = _pull(tech, None)
    assert first == _pull(tech, None)  # stable

    nothing = _pull(tech, first["timestamp"])
    assert nothing["timestamp"] == first["timestamp"]
    assert all(not v["updated"] and not v["deleted"] for v in nothing["changes"].values())

    office = client.as_(scene.dispatcher_token)
    patched = office.patch(f"/v1/work-orders/{staying.id}", json={"title": "换新阀门"}, etag='"2"')
    assert patched.status_code == 200, patched.get_json()
    with uow_factory() as uow:  # no endpoint edits links yet; remove one as a service would
        uow.session.execute(
            delete(WorkOrderAsset).where(
                WorkOrderAsset.work_order_id == staying.id, WorkOrderAsset.asset_id == dropped.id
            )
        )
        changed = uow.session.get(WorkOrder, staying.id)
        assert changed is not None
        changed.description = "links changed"
        uow.commit()
    other = factories.technician(world)
    factories.transition(world, moving, "assign", assignee_id=other.id)

    later = _pull(tech, first["timestamp"])

    assert later["timestamp"] == _high_water(uow_factory, world.tenant_id) + 1
    assert set(_updated(later, "work_orders")) == {str(staying.id)}
    assert _updated(later, "work_orders")[str(staying.id)]["title"] == "换新阀门"
    assert _deleted(later, "work_orders") == {str(moving.id)}
    assert str(dropped.id) in _deleted(later, "assets")
    assert f"{staying.id}_{dropped.id}" in _deleted(later, "work_order_assets")
    assert set(_updated(later, "work_order_assets")) == {f"{staying.id}_{kept.id}"}
    for table, lists in later["changes"].items():
        ids = [r["id"] for r in lists["updated"]] + lists["deleted"]
        assert len(ids) == len(set(ids)), table  # contract: IDs never repeat


def test_office_roles_pull_a_named_technician_and_nobody_crosses_tenants(
    client: ApiClient, factories: Factories
) -> None:
    scene, foreign = factories.scene(), factories.scene()
    order = _assigned(factories, scene)
    office = client.as_(scene.dispatcher_token)
    as_office = _pull(office, None, technician_id=str(scene.technician.id))
    as_tech = _pull(client.as_(scene.technician_token), None)
    assert as_office == as_tech and str(order.id) in _updated(as_office, "work_orders")
    taxonomy_only = _pull(office, None)
    assert _updated(taxonomy_only, "work_orders") == {}

    for token, technician_id in (
        (scene.technician_token, foreign.technician.id),
        (scene.dispatcher_token, foreign.technician.id),
        (scene.technician_token, factories.technician(scene.world).id),
    ):
        response = client.as_(token).get(
            URL, query_string={"last_pulled_at": "null", "technician_id": str(technician_id)}
        )
        assert_problem(response, 403, "sync.scope_forbidden")
    assert client.as_(scene.contact_token).get(URL).status_code == 403


def test_bad_parameters_and_versions_are_refused_with_sync_codes(
    client: ApiClient, factories: Factories
) -> None:
    tech = client.as_(factories.scene().technician_token)
    for query, status, code, field in (
        ({"last_pulled_at": "yesterday"}, 422, "sync.wrong_type", "last_pulled_at"),
        ({"replica_schema": 2}, 409, "sync.schema_too_new", "replica_schema"),
        ({"replica_schema": "x"}, 422, "sync.wrong_type", "replica_schema"),
        ({"migration": '{"from": 1}'}, 422, "sync.missing_field", "migration.tables"),
    ):
        body = assert_problem(tech.get(URL, query_string=query), status, code)
        assert body["field"] == field
    # A parameter WatermelonDB does not send is refused as on every endpoint.
    unknown = tech.get(URL, query_string={"since": 1})
    assert assert_problem(unknown, 400, "request.unknown_query_parameter")["parameters"] == [
        "since"
    ]
    # The app's own WatermelonDB schema is its business (local-only tables, columns).
    assert tech.get(URL, query_string={"schema_version": 7}).status_code == 200
    restored = tech.get(URL, query_string={"last_pulled_at": 10**9})
    assert restored.status_code == 409
    assert restored.get_json()["reset_required"]["reason"] == "sync.server_restored"


def test_a_migration_naming_a_table_brings_all_its_rows_again(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    tech = client.as_(scene.technician_token)
    first = _pull(tech, None)
    migration = json.dumps({"from": 1, "tables": ["notes", "__proto__"], "columns": [
        {"table": "sites", "columns": ["access_notes"]}
    ]})  # fmt: skip
    factories.note(scene.world, order, "新备注")
    again = _pull(tech, first["timestamp"], migration=migration)
    assert set(_updated(again, "sites")) == {str(scene.site.id)}
    assert len(_updated(again, "notes")) == 1
    assert "__proto__" not in again["changes"]


def test_a_push_of_records_changed_since_the_pull_is_refused_whole(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    tech = client.as_(scene.technician_token)
    pulled = _pull(tech, None)
    row = dict(_updated(pulled, "work_orders")[str(order.id)], status="accepted")
    patched = client.as_(scene.dispatcher_token).patch(
        f"/v1/work-orders/{order.id}", json={"priority": "urgent"}, etag='"2"'
    )
    assert patched.status_code == 200, patched.get_json()
    before = count_rows(engine)

    for changes in (
        {"work_orders": {"created": [], "updated": [row], "deleted": []}},
        {"work_order_assets": {"created": [], "updated": [], "deleted": [f"{order.id}_x"]}},
    ):
        body = {"changes": changes, "lastPulledAt": pulled["timestamp"]}
        response = tech.post(f"{URL}?last_pulled_at={pulled['timestamp']}", json=body)
        problem = assert_problem(response, 409, "sync.pull_first")
        assert problem["ids"] == [str(order.id)]
    assert count_rows(engine) == before

    office = client.as_(scene.dispatcher_token)
    body = {"changes": {}, "lastPulledAt": pulled["timestamp"]}
    assert_problem(office.post(URL, json=body), 403, "sync.scope_forbidden")
    for bad, code in (
        ({"changes": {}}, "sync.missing_field"),
        (
            {"changes": {"notes": {"created": [{"id": "a/"}]}}, "lastPulledAt": 1},
            "sync.invalid_value",
        ),
        ({"changes": [], "lastPulledAt": 1}, "sync.wrong_type"),
    ):
        assert_problem(tech.post(URL, json=bad), 422, code)


def test_a_fresh_push_applies_status_steps_evidence_and_technician_fields(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    tech = client.as_(scene.technician_token)
    pulled = _pull(tech, None)
    row = _updated(pulled, "work_orders")[str(order.id)]
    row |= {"status": "on_site", "actual_start": 1_741_770_000_000, "title": "技师改的标题"}
    note_id = "01958f3a-7c00-7a1e-9c1a-3f5e2b7d4c99"
    note = {"id": note_id, "work_order_id": str(order.id), "body": "到场", "_status": "created"}
    changes = {
        "work_orders": {"created": [], "updated": [row], "deleted": []},
        "notes": {"created": [note], "updated": [], "deleted": []},
    }
    body = {"changes": changes, "lastPulledAt": pulled["timestamp"]}
    response = tech.post(f"{URL}?last_pulled_at={pulled['timestamp']}", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {}

    after = _pull(tech, pulled["timestamp"])
    server = _updated(after, "work_orders")[str(order.id)]
    assert server["status"] == "on_site"
    assert server["actual_start"] == 1_741_770_000_000
    assert server["title"] != "技师改的标题"  # office-owned: a proposal, never applied
    assert _updated(after, "notes")[note_id]["body"] == "到场"
    actions = [r["action"] for r in _updated(after, "status_changes").values()]
    assert sorted(actions) == ["accept", "arrive", "start_travel"]
    # The same push again (its response was lost): no second step, no second note.
    again = tech.post(URL, json={"changes": changes, "lastPulledAt": after["timestamp"]})
    assert again.status_code == 200
    final = _pull(tech, after["timestamp"])
    assert _updated(final, "status_changes") == {}
    assert list(_updated(final, "notes")) == [note_id]  # sent back as the server has it
    assert _updated(_pull(tech, None), "work_orders")[str(order.id)]["status"] == "on_site"


def test_a_pushed_value_the_server_did_not_take_is_corrected_at_the_next_pull(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    tech = client.as_(scene.technician_token)
    pulled = _pull(tech, None)
    row = _updated(pulled, "work_orders")[str(order.id)]
    server_title = row["title"]
    row |= {"title": "技师改的标题"}  # office-owned: becomes a proposal, never applied
    changes = {"work_orders": {"created": [], "updated": [row], "deleted": []}}
    body = {"changes": changes, "lastPulledAt": pulled["timestamp"]}
    response = tech.post(f"{URL}?last_pulled_at={pulled['timestamp']}", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)

    after = _pull(tech, pulled["timestamp"])
    assert _updated(after, "work_orders")[str(order.id)]["title"] == server_title


def test_the_app_sees_its_conflicts_and_cannot_change_them(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    tech = client.as_(scene.technician_token)
    pulled = _pull(tech, None)
    _push_order_edit(tech, pulled, order.id, {"title": "技师改的标题"})

    after = _pull(tech, pulled["timestamp"])
    (conflict,) = _updated(after, "conflicts").values()
    assert (conflict["code"], conflict["field"], conflict["state"]) == (
        "sync.field_not_owned",
        "title",
        "open",
    )
    assert json.loads(conflict["device"])["value"] == "技师改的标题"  # JSON members as text
    assert isinstance(conflict["created_at"], int)  # epoch milliseconds

    forged = conflict | {"state": "resolved", "resolution": "take_device"}
    body = {
        "changes": {"conflicts": {"created": [], "updated": [forged], "deleted": []}},
        "lastPulledAt": after["timestamp"],
    }
    assert tech.post(URL, json=body).status_code == 200  # ignored, like any read-only table
    again = _updated(_pull(tech, None), "conflicts")
    assert again[conflict["id"]]["state"] == "open"


def test_a_watermelon_app_is_a_device_in_sync_health_and_can_be_retired(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    tech = client.as_(scene.technician_token)
    pulled = _pull(tech, None)
    _push_order_edit(tech, pulled, order.id, {"status": "accepted"})

    with uow_factory.reader() as uow:
        (device,) = uow.session.scalars(
            select(SyncDevice).where(SyncDevice.tenant_id == scene.world.tenant_id)
        ).all()
        assert device.user_id == scene.technician.user_id
        assert device.last_pull_at is not None and device.last_push_at is not None
    with uow_factory() as uow:
        uow.session.get_one(SyncDevice, (device.tenant_id, device.id)).retired_at = utcnow()
        uow.commit()
    response = tech.get(f"{URL}?last_pulled_at=null&schema_version=1")
    assert response.status_code == 409
    assert response.get_json()["reset_required"]["reason"] == "sync.device_retired"


def test_an_app_setting_an_assigned_job_back_to_new_declines_it(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    tech = client.as_(scene.technician_token)
    pulled = _pull(tech, None)
    _push_order_edit(tech, pulled, order.id, {"status": "new"})

    with uow_factory.reader() as uow:
        saved = uow.session.get_one(WorkOrder, order.id)
        assert (saved.status.value, saved.assignee_id) == ("new", None)
    after = _pull(tech, pulled["timestamp"])
    assert str(order.id) in _deleted(after, "work_orders")  # it left the technician's scope


def test_the_push_body_of_watermelondbs_docs_is_accepted(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    tech = client.as_(scene.technician_token)
    pulled = _pull(tech, None)
    row = _updated(pulled, "work_orders")[str(order.id)] | {"status": "accepted"}
    changes = {"work_orders": {"created": [], "updated": [row], "deleted": []}}

    assert_problem(tech.post(URL, json=changes), 422, "sync.missing_field")  # no last_pulled_at
    response = tech.post(f"{URL}?last_pulled_at={pulled['timestamp']}", json=changes)
    assert response.status_code == 200, response.get_data(as_text=True)
    with uow_factory.reader() as uow:
        assert uow.session.get_one(WorkOrder, order.id).status.value == "accepted"
    wrapped = {"changes": {}}  # lastPulledAt from the query string alone is fine too
    assert tech.post(f"{URL}?last_pulled_at={pulled['timestamp']}", json=wrapped).status_code == 200


def test_refused_records_are_deleted_at_the_next_pull_and_unknown_updates_are_created(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    tech = client.as_(scene.technician_token)
    pulled = _pull(tech, None)
    blank = {
        "id": "01958f3a-7c00-7a1e-9c1a-3f5e2b7d4c01",
        "work_order_id": str(order.id),
        "body": "",
    }
    not_v7 = {"id": "x9Kq2mWzL0pR7tYb", "work_order_id": str(order.id), "body": "随机 ID"}
    lost = {
        "id": "01958f3a-7c00-7a1e-9c1a-3f5e2b7d4c02",
        "work_order_id": str(order.id),
        "body": "补录",
    }
    changes = {"notes": {"created": [blank, not_v7], "updated": [lost], "deleted": []}}
    response = tech.post(f"{URL}?last_pulled_at={pulled['timestamp']}", json=changes)
    assert response.status_code == 200, response.get_data(as_text=True)

    after = _pull(tech, pulled["timestamp"])
    assert _deleted(after, "notes") == {blank["id"], not_v7["id"]}
    assert _updated(after, "notes")[lost["id"]]["body"] == "补录"  # updated, so created
    # The office's tables: an added row is refused (and deleted), an edit is undone.
    customer = {"id": "01958f3a-7c00-7a1e-9c1a-3f5e2b7d4c03", "name": "技师加的客户"}
    known = _updated(pulled, "customers")[str(scene.customer.id)]
    edited = known | {"name": "技师改的客户名"}
    response = tech.post(
        f"{URL}?last_pulled_at={after['timestamp']}",
        json={"customers": {"created": [customer], "updated": [edited], "deleted": []}},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    final = _pull(tech, after["timestamp"])
    assert _deleted(final, "customers") == {customer["id"]}
    assert _updated(final, "customers")[known["id"]]["name"] == known["name"]
    (office_row,) = _updated(final, "quarantine").values()
    assert office_row["code"] == "sync.table_read_only"
    why = {
        json.loads(q["mutation"])["args"]["id"]: q["code"]
        for q in _updated(after, "quarantine").values()
    }
    assert why == {blank["id"]: "sync.missing_field", not_v7["id"]: "sync.invalid_uuid"}


def test_an_oversized_sync_body_is_refused_with_a_sync_code(
    client: ApiClient, factories: Factories
) -> None:
    tech = client.as_(factories.scene().technician_token)
    huge = b'{"changes": {}, "pad": "' + b"x" * (8 * 1024 * 1024) + b'"}'
    for path in (URL + "?last_pulled_at=1", "/v1/sync/push", "/v1/sync/pull"):
        response = tech.post(path, data=huge, content_type="application/json")
        assert_problem(response, 413, "sync.body_too_large")


def test_an_app_gets_its_assets_barcodes_and_gs1_fields_and_a_migration_adds_them(
    client: ApiClient, factories: Factories
) -> None:
    """A stock WatermelonDB app scans against its local assets: it needs the barcode,
    the GS1 fields and whether the asset is provisional; an app that adds these columns
    by a schema migration gets every asset again."""
    scene = factories.scene()
    asset = factories.asset(
        scene.world,
        scene.site,
        barcode_value="(01)09501101530003(17)270131(10)LOT-7(21)SN0042",
        barcode_symbology="data_matrix",
    )
    _assigned(factories, scene, asset_ids=[asset.id])
    tech = client.as_(scene.technician_token)

    first = _pull(tech, None)

    row = _updated(first, "assets")[str(asset.id)]
    assert {k: row[k] for k in row if k.startswith(("barcode", "gs1")) or k == "provisional"} == {
        "barcode_value": "(01)09501101530003(17)270131(10)LOT-7(21)SN0042",
        "barcode_symbology": "data_matrix",
        "gs1_gtin": "09501101530003",
        "gs1_serial": "SN0042",
        "gs1_lot": "LOT-7",
        "gs1_expires_on": "2027-01-31",
        "provisional": False,
    }
    migration = json.dumps(
        {
            "from": 3,
            "tables": [],
            "columns": [{"table": "assets", "columns": ["gs1_gtin", "provisional"]}],
        }
    )
    again = _pull(tech, first["timestamp"], migration=migration, schema_version=4)
    assert set(_updated(again, "assets")) == {str(asset.id)}
