"""Customers and contacts through the HTTP API."""

from __future__ import annotations

import uuid

from api.auth.permissions import Role
from tests.conftest import count_rows
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories


def test_dispatcher_creates_reads_updates_and_lists_customers(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    _, token = factories.user(world, Role.DISPATCHER)
    api = client.as_(token)

    created = api.post(
        "/v1/customers",
        json={"name": "上海申通电梯", "name_en": "Shentong Elevators", "tier": "vip"},
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["tier"] == "vip" and body["version"] == 1
    assert created.headers["ETag"] == '"1"'

    read = api.get(f"/v1/customers/{body['id']}")
    assert read.get_json()["name"] == "上海申通电梯"

    updated = api.patch(f"/v1/customers/{body['id']}", json={"phone": "021-5555 0101"}, etag='"1"')
    assert updated.status_code == 200
    assert updated.get_json()["version"] == 2 and updated.headers["ETag"] == '"2"'

    listed = api.get("/v1/customers?tier=vip").get_json()
    assert [c["id"] for c in listed["items"]] == [body["id"]]
    assert listed["next_cursor"] is None


def test_client_generated_id_is_kept_and_cannot_be_reused(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    other = factories.tenant()
    customer_id = str(uuid.uuid4())
    first = client.as_(world.admin_token).post(
        "/v1/customers", json={"id": customer_id, "name": "A"}
    )
    assert first.get_json()["id"] == customer_id
    # The same id from another tenant is refused like any unusable id: no oracle.
    clash = client.as_(other.admin_token).post(
        "/v1/customers", json={"id": customer_id, "name": "B"}
    )
    assert_problem(clash, 422, "request.validation_failed")


def test_update_without_if_match_is_428_and_stale_is_412(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    customer = factories.customer(world)
    api = client.as_(world.admin_token)
    assert_problem(
        api.patch(f"/v1/customers/{customer.id}", json={"name": "X"}),
        428,
        "concurrency.if_match_required",
    )
    assert (
        api.patch(f"/v1/customers/{customer.id}", json={"name": "X"}, etag='"1"').status_code == 200
    )
    stale = api.patch(f"/v1/customers/{customer.id}", json={"name": "Y"}, etag='"1"')
    body = assert_problem(stale, 412, "concurrency.stale_version")
    assert body["current_version"] == 2
    assert api.get(f"/v1/customers/{customer.id}").get_json()["name"] == "X"


def test_a_weak_if_match_is_refused_as_rfc_9110_requires(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    customer = factories.customer(world)
    api = client.as_(world.admin_token)
    weak = api.patch(f"/v1/customers/{customer.id}", json={"name": "X"}, etag='W/"1"')
    assert_problem(weak, 412, "concurrency.weak_etag")
    assert api.get(f"/v1/customers/{customer.id}").get_json()["name"] != "X"


def test_pagination_walks_every_customer_once_even_while_others_are_added(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    ids = {str(factories.customer(world).id) for _ in range(7)}
    api = client.as_(world.admin_token)
    seen: list[str] = []
    cursor = None
    while True:
        url = "/v1/customers?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(url).get_json()
        seen += [c["id"] for c in page["items"]]
        factories.customer(world)  # an insert between pages must not shift what is left
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert ids <= set(seen)
    assert len(seen) == len(set(seen))


def test_invalid_input_names_each_bad_field_and_writes_nothing(
    client: ApiClient, factories: Factories, engine
) -> None:
    world = factories.tenant()
    before = count_rows(engine)
    response = client.as_(world.admin_token).post(
        "/v1/customers", json={"name": "x" * 201, "tier": "gold", "colour": "red"}
    )
    body = assert_problem(response, 422, "request.validation_failed")
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("name", "too_long"),
        ("tier", "not_allowed"),
        ("colour", "unknown_field"),
    }
    assert count_rows(engine) == before


def test_customer_with_sites_cannot_be_deleted_but_an_unused_one_can(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    customer = factories.customer(world)
    api = client.as_(world.admin_token)
    assert api.delete(f"/v1/customers/{customer.id}", etag='"1"').status_code == 204
    assert_problem(api.get(f"/v1/customers/{customer.id}"), 404, "customer.not_found")


def test_contacts_belong_to_their_customer(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    customer = factories.customer(world)
    api = client.as_(world.admin_token)
    created = api.post(
        f"/v1/customers/{customer.id}/contacts", json={"name": "王经理", "phone": "13800000000"}
    )
    assert created.status_code == 201
    contact = created.get_json()
    assert contact["customer_id"] == str(customer.id)
    listed = api.get(f"/v1/customers/{customer.id}/contacts").get_json()
    assert [c["id"] for c in listed["items"]] == [contact["id"]]


def test_customer_contact_sees_only_their_own_customer(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    mine, theirs = factories.customer(world), factories.customer(world)
    contact = factories.contact(world, mine)
    _, token = factories.user(world, Role.CUSTOMER_CONTACT, contact_id=contact.id)
    api = client.as_(token)
    assert [c["id"] for c in api.get("/v1/customers").get_json()["items"]] == [str(mine.id)]
    assert_problem(api.get(f"/v1/customers/{theirs.id}"), 404, "customer.not_found")
    assert_problem(api.post("/v1/customers", json={"name": "x"}), 403, "auth.forbidden")
