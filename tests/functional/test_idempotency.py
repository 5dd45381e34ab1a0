"""Idempotency-Key on creates: a replay returns the first response and creates nothing."""

from __future__ import annotations

from sqlalchemy import Engine

from api.auth.permissions import Role
from tests.conftest import count_rows
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories


def test_a_replayed_create_returns_the_first_response_and_creates_once(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    headers = {"Idempotency-Key": "create-cust-1"}
    first = api.post("/v1/customers", json={"name": "甲"}, headers=headers)
    rows_after_first = count_rows(engine)
    replay = api.post("/v1/customers", json={"name": "甲"}, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.get_json() == first.get_json()
    assert replay.headers["ETag"] == first.headers["ETag"]
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert count_rows(engine) == rows_after_first
    assert len(api.get("/v1/customers").get_json()["items"]) == 1


def test_the_same_key_with_a_different_body_is_422(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    headers = {"Idempotency-Key": "k-2"}
    assert api.post("/v1/customers", json={"name": "甲"}, headers=headers).status_code == 201
    assert_problem(
        api.post("/v1/customers", json={"name": "乙"}, headers=headers),
        422,
        "idempotency.key_reused",
    )


def test_a_failed_create_frees_its_key_for_a_corrected_retry(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    headers = {"Idempotency-Key": "k-3"}
    assert_problem(
        api.post("/v1/customers", json={"tier": "gold"}, headers=headers),
        422,
        "request.validation_failed",
    )
    assert api.post("/v1/customers", json={"name": "丙"}, headers=headers).status_code == 201


def test_keys_belong_to_their_caller(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    _, other_token = factories.user(world, Role.DISPATCHER)
    headers = {"Idempotency-Key": "shared-key"}
    a = client.as_(world.admin_token).post("/v1/customers", json={"name": "A"}, headers=headers)
    b = client.as_(other_token).post("/v1/customers", json={"name": "B"}, headers=headers)
    assert a.status_code == b.status_code == 201
    assert a.get_json()["id"] != b.get_json()["id"]


def test_an_unusable_key_is_400(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    response = client.as_(world.admin_token).post(
        "/v1/customers", json={"name": "A"}, headers={"Idempotency-Key": "x" * 300}
    )
    assert_problem(response, 400, "request.invalid_header")
