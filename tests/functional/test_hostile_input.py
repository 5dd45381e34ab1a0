"""Hostile text (NUL, lone surrogates, deep nesting) is a 4xx problem, never a 500, never a write.

PostgreSQL refuses NUL in text, a lone surrogate cannot be encoded, and deep nesting
overflows a recursive parser: each would otherwise surface as a 500 (issue 10 § 1).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.conftest import count_rows
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories

JSON = {"Content-Type": "application/json"}


def _raw_post(api: ApiClient, path: str, body: str, method: str = "POST", **kw: Any) -> Any:
    headers = {**JSON, **kw.pop("headers", {})}
    return api.request(method, path, data=body.encode(), headers=headers, **kw)


def test_login_with_a_nul_in_the_tenant_is_422_naming_the_field(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    factories.tenant(slug="demo")
    before = count_rows(engine)
    body = '{"tenant":"de\\u0000mo","email":"a@x.y","password":"x"}'
    problem = assert_problem(_raw_post(client, "/v1/auth/login", body), 422, "request.text_invalid")
    assert problem["errors"][0]["field"] == "tenant"
    assert count_rows(engine) == before


@pytest.mark.parametrize(
    "path",
    [
        "/v1/work-orders?q=x%00y",
        "/v1/customers?q=x%00y",
        "/v1/sites?q=x%00y",
        "/v1/assets?q=x%00y",
        "/v1/technicians?q=x%00y",
        "/v1/teams?q=x%00y",
        "/v1/categories?code=x%00y",
        "/v1/work-orders?q=%ED%A0%80",  # a lone surrogate, as CESU-8 bytes
    ],
)
def test_a_nul_in_a_query_parameter_is_422_naming_it(
    client: ApiClient, factories: Factories, path: str
) -> None:
    world = factories.tenant()
    problem = assert_problem(client.as_(world.admin_token).get(path), 422, "request.text_invalid")
    assert problem["errors"][0]["field"] in {"q", "code"}


def test_a_nul_in_a_path_segment_is_422(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    response = client.as_(world.admin_token).get("/v1/assets/by-barcode/%00")
    assert_problem(response, 422, "request.text_invalid")


def test_a_lone_surrogate_in_a_created_customer_is_422_and_stores_nothing(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    before = count_rows(engine)
    api = client.as_(world.admin_token)
    problem = assert_problem(
        _raw_post(api, "/v1/customers", '{"name":"x\\ud800"}'), 422, "request.text_invalid"
    )
    assert problem["errors"][0]["field"] == "name"
    # A key is text too.
    body = '{"name":"x","\\udfffk":1}'
    assert_problem(_raw_post(api, "/v1/customers", body), 422, "request.text_invalid")
    assert count_rows(engine) == before


def test_a_lone_surrogate_in_a_patched_title_is_422_and_changes_nothing(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    api = client.as_(scene.world.admin_token)
    before = count_rows(engine)
    response = _raw_post(
        api,
        f"/v1/work-orders/{order.id}",
        '{"title":"\\udfff"}',
        method="PATCH",
        headers={"If-Match": '"1"'},
    )
    problem = assert_problem(response, 422, "request.text_invalid")
    assert problem["errors"][0]["field"] == "title"
    assert count_rows(engine) == before
    assert api.get(f"/v1/work-orders/{order.id}").get_json()["title"] == order.title


def test_two_thousand_nested_objects_are_400(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    before = count_rows(engine)
    body = '{"name":' * 2000 + '"x"' + "}" * 2000
    response = _raw_post(client.as_(world.admin_token), "/v1/customers", body)
    problem = assert_problem(response, 400, "request.nesting_too_deep")
    assert problem["max_depth"] == 64
    assert count_rows(engine) == before


def test_brackets_inside_strings_are_not_nesting(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    name = "[[[{{{" * 20 + '\\"' + "]]]" * 10
    response = _raw_post(client.as_(world.admin_token), "/v1/customers", json.dumps({"name": name}))
    assert response.status_code == 201, response.get_data(as_text=True)


def test_a_header_we_read_with_a_nul_is_refused(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    response = client.as_(world.admin_token).request(
        "POST",
        "/v1/customers",
        json={"name": "x"},
        headers={"Idempotency-Key": "k\x00ey"},
    )
    problem = assert_problem(response, 422, "request.text_invalid")
    assert problem["errors"][0]["field"] == "Idempotency-Key"


def test_a_hundred_thousand_nested_arrays_on_the_watermelon_push_are_400(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene = factories.scene()
    before = count_rows(engine)
    body = "[" * 100_000 + "]" * 100_000
    response = _raw_post(
        client.as_(scene.technician_token), "/v1/sync/watermelon?last_pulled_at=1", body
    )
    assert_problem(response, 400, "request.nesting_too_deep")
    response = _raw_post(client.as_(scene.technician_token), "/v1/sync/push", body)
    assert_problem(response, 400, "request.nesting_too_deep")
    assert count_rows(engine) == before
