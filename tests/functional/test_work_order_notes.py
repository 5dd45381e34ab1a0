"""Work order notes: append-only, internal or customer-visible."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from api.workorders.states import Status
from tests.conftest import count_rows
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene


def _assigned_order(factories: Factories, scene: Scene) -> Any:
    order = factories.work_order(scene.world, scene.customer, scene.site)
    return factories.advance(scene.world, order, Status.ASSIGNED, scene.technician)


def _bodies(client: ApiClient, token: str, order_id: Any) -> list[str]:
    response = client.as_(token).get(f"/v1/work-orders/{order_id}/notes")
    assert response.status_code == 200, response.get_json()
    return [n["body"] for n in response.get_json()["items"]]


def test_customer_contacts_see_only_customer_notes_and_staff_see_all(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = _assigned_order(factories, scene)
    office = client.as_(scene.dispatcher_token)
    url = f"/v1/work-orders/{order.id}/notes"

    internal = office.post(url, json={"body": "客户上次拖欠款项，先收款"})
    assert internal.status_code == 201
    assert internal.get_json()["visibility"] == "internal"  # staff default
    office.post(url, json={"body": "技师今天下午到", "visibility": "customer"})
    customer = client.as_(scene.contact_token).post(url, json={"body": "请从北门进入"})
    assert customer.status_code == 201
    assert customer.get_json()["visibility"] == "customer"  # customer default
    assert customer.get_json()["author_id"] == str(scene.contact_user_id)
    tech = client.as_(scene.technician_token).post(url, json={"body": "已带备件"})
    assert tech.status_code == 201

    everything = ["客户上次拖欠款项，先收款", "技师今天下午到", "请从北门进入", "已带备件"]
    assert _bodies(client, scene.dispatcher_token, order.id) == everything
    assert _bodies(client, scene.technician_token, order.id) == everything
    assert _bodies(client, scene.contact_token, order.id) == ["技师今天下午到", "请从北门进入"]


def test_customer_contacts_may_not_write_internal_notes(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    before = count_rows(engine)
    response = client.as_(scene.contact_token).post(
        f"/v1/work-orders/{order.id}/notes", json={"body": "内部?", "visibility": "internal"}
    )
    body = assert_problem(response, 422, "request.validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("visibility", "not_allowed")]
    assert count_rows(engine) == before


def test_only_people_who_can_see_the_order_can_read_or_add_notes(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene = factories.scene()
    order = _assigned_order(factories, scene)
    _, _, stranger = factories.technician_user(scene.world)
    _, other_contact = factories.customer_login(scene.world, factories.customer(scene.world))
    other_tenant = factories.tenant()
    before = count_rows(engine)
    url = f"/v1/work-orders/{order.id}/notes"
    for token in (stranger, other_contact, other_tenant.admin_token):
        assert_problem(client.as_(token).get(url), 404, "work_order.not_found")
        response = client.as_(token).post(url, json={"body": "hi"})
        assert_problem(response, 404, "work_order.not_found")
    assert count_rows(engine) == before


def test_notes_are_append_only(client: ApiClient, factories: Factories) -> None:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    note = factories.note(scene.world, order, "初始备注")
    api = client.as_(scene.dispatcher_token)
    url = f"/v1/work-orders/{order.id}/notes"
    assert api.patch(url, json={"body": "改"}, etag='"1"').status_code == 405
    assert api.delete(url).status_code == 405
    assert api.get(f"{url}/{note.id}").status_code == 404
    assert _bodies(client, scene.dispatcher_token, order.id) == ["初始备注"]


def test_notes_page_oldest_first_and_validate_their_body(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    for i in range(5):
        factories.note(scene.world, order, f"备注 {i}")
    api = client.as_(scene.dispatcher_token)
    first = api.get(f"/v1/work-orders/{order.id}/notes?limit=3").get_json()
    rest = api.get(
        f"/v1/work-orders/{order.id}/notes?limit=3&cursor={first['next_cursor']}"
    ).get_json()
    assert [n["body"] for n in first["items"] + rest["items"]] == [f"备注 {i}" for i in range(5)]
    assert rest["next_cursor"] is None
    too_long = api.post(f"/v1/work-orders/{order.id}/notes", json={"body": "x" * 10001})
    body = assert_problem(too_long, 422, "request.validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("body", "too_long")]
