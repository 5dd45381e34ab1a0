"""The OpenAPI says what the API does: problem+json errors, If-Match, query strings, enums.

A client generated from ``/openapi.json`` must not be surprised: every error
response it is told about is ``application/problem+json`` with the one
``Problem`` schema (and the bodies really have that shape), an operation that
answers 428 without ``If-Match`` declares the header as required (checked by
calling each one), a query parameter the document does not declare is refused
with 400 ``request.unknown_query_parameter``, while every declared one is taken,
and the users' role enum is exactly what the API accepts.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from api.auth.permissions import PERSON_ROLES, Role
from api.http.blueprint import Blueprint
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories

HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head"}
PROBLEM = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
RFC_9457_MEMBERS = {"type", "title", "status", "detail", "instance"}


@pytest.fixture()
def spec(client: ApiClient) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/openapi.json").get_json()
    return document


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def _response(spec: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in response:
        name = response["$ref"].rsplit("/", 1)[-1]
        resolved: dict[str, Any] = spec["components"]["responses"][name]
        return resolved
    return response


def _parameters(spec: dict[str, Any], path: str, operation: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec["paths"][path].get("parameters", []), *operation.get("parameters", [])]


def _fill(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    while "{" in path:  # a parameter the scene has no row for
        start, end = path.index("{"), path.index("}")
        path = path[:start] + str(uuid.uuid4()) + path[end + 1 :]
    return path


def _scene_ids(factories: Factories) -> tuple[Any, dict[str, str]]:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    asset = factories.asset(scene.world, scene.site)
    team = factories.team(scene.world)
    category = factories.category_path(scene.world)[-1]
    ids = {
        "customer_id": str(scene.customer.id),
        "site_id": str(scene.site.id),
        "asset_id": str(asset.id),
        "technician_id": str(scene.technician.id),
        "team_id": str(team.id),
        "category_id": str(category.id),
        "work_order_id": str(order.id),
        "user_id": str(scene.dispatcher_id),
        "barcode_value": "BC-1",
        "sha256": "0" * 64,
    }
    return scene, ids


def test_every_error_response_is_problem_json_with_the_shared_problem_schema(
    spec: dict[str, Any],
) -> None:
    problem = spec["components"]["schemas"]["Problem"]
    assert RFC_9457_MEMBERS | {"code", "trace_id"} <= set(problem["required"])
    assert {"errors", "parameters"} <= set(problem["properties"])
    wrong: list[str] = []
    for path, method, operation in _operations(spec):
        responses = operation["responses"]
        name = f"{method.upper()} {path}"
        statuses = {int(s) for s in responses if s != "default"}
        expected = {400, 422} | ({401, 403} if operation.get("security") != [] else set())
        if not expected <= statuses:
            wrong.append(f"{name}: documents {sorted(statuses)}, lacks {expected - statuses}")
        for status, response in responses.items():
            if status != "default" and int(status) < 400:
                continue
            content = _response(spec, response).get("content", {})
            if content.get(PROBLEM, {}).get("schema") != PROBLEM_REF:
                wrong.append(f"{name} {status}: {sorted(content)}")
    assert wrong == []


def test_problem_bodies_have_the_documented_shape(
    client: ApiClient, factories: Factories, spec: dict[str, Any]
) -> None:
    problem = spec["components"]["schemas"]["Problem"]
    admin = client.as_(factories.tenant().admin_token)
    answers = [
        admin.get("/v1/customers", query_string={"bogus": 1}),  # 400 with `parameters`
        admin.get(f"/v1/customers/{uuid.uuid4()}"),  # 404
        admin.post("/v1/customers", json={"name": ""}),  # 422 with `errors`
        client.get("/v1/customers"),  # 401
    ]
    for response in answers:
        assert response.mimetype == PROBLEM
        body = response.get_json()
        assert set(problem["required"]) <= set(body), body
        assert body["status"] == response.status_code
    field_error = spec["components"]["schemas"]["FieldError"]
    assert set(answers[2].get_json()["errors"][0]) == set(field_error["properties"])


def test_operations_that_need_if_match_declare_it_as_required(
    client: ApiClient, factories: Factories, spec: dict[str, Any]
) -> None:
    """Called without ``If-Match``: 428 exactly where the document requires the header."""
    scene, ids = _scene_ids(factories)
    admin = client.as_(scene.world.admin_token)
    drift: list[str] = []
    probed = 0
    for path, method, operation in _operations(spec):
        if_match = [p for p in _parameters(spec, path, operation) if p["name"] == "If-Match"]
        declared = bool(if_match) and if_match[0]["in"] == "header" and if_match[0]["required"]
        if method not in {"patch", "put", "delete"} and not if_match:
            continue
        body = {} if "requestBody" in operation else None
        response = admin.request(method.upper(), _fill(path, ids), json=body)
        probed += 1
        answered_428 = response.status_code == 428
        if answered_428:
            assert_problem(response, 428, "concurrency.if_match_required")
        if answered_428 != declared:
            drift.append(f"{method.upper()} {path}: {response.status_code}, declared {declared}")
    assert drift == []
    assert probed >= 20  # every PATCH and DELETE, the PUTs and the transitions


def test_every_operation_refuses_unknown_query_parameters_by_name(
    client: ApiClient, factories: Factories, spec: dict[str, Any]
) -> None:
    scene, ids = _scene_ids(factories)
    admin = client.as_(scene.world.admin_token)
    accepted: list[str] = []
    for path, method, operation in _operations(spec):
        declared = [p["name"] for p in _parameters(spec, path, operation) if p["in"] == "query"]
        query = {"bogus": "1", "zz_top": "2"}
        if declared:
            query[declared[0]] = "1"  # a declared one beside them is not named
        response = admin.request(method.upper(), _fill(path, ids), query_string=query)
        name = f"{method.upper()} {path}"
        if response.status_code != 400:
            accepted.append(f"{name}: {response.status_code}")
            continue
        if method == "head":
            continue  # no body to read
        body = assert_problem(response, 400, "request.unknown_query_parameter")
        assert body["parameters"] == ["bogus", "zz_top"], name
        assert "bogus" in body["detail"] and "zz_top" in body["detail"], name
    assert accepted == []


def test_every_declared_query_parameter_is_taken(
    client: ApiClient, factories: Factories, spec: dict[str, Any]
) -> None:
    """The refusal reads the same declarations as the document: none is refused as unknown."""
    scene, ids = _scene_ids(factories)
    admin = client.as_(scene.world.admin_token)
    refused: list[str] = []
    for path, method, operation in _operations(spec):
        if method != "get":
            continue
        for parameter in _parameters(spec, path, operation):
            if parameter["in"] != "query":
                continue
            query = {parameter["name"]: "1"}
            response = admin.get(_fill(path, ids), query_string=query)
            if response.status_code == 400 and response.get_json()["code"] == (
                "request.unknown_query_parameter"
            ):
                refused.append(f"GET {path}?{parameter['name']}")
    assert refused == []


def test_every_v1_blueprint_is_the_project_blueprint(app: Flask) -> None:
    """So no blueprint escapes the problem docs and the query-string check (the app also
    refuses to register any other kind)."""
    documented = [
        blueprint
        for blueprint in app.blueprints.values()
        if any(rule.endpoint.startswith(f"{blueprint.name}.") and rule.rule.startswith("/v1/")
               for rule in app.url_map.iter_rules())
    ]  # fmt: skip
    assert documented
    assert [b.name for b in documented if not isinstance(b, Blueprint)] == []


def test_the_role_enum_of_users_is_what_the_api_accepts(
    client: ApiClient, factories: Factories, spec: dict[str, Any]
) -> None:
    """``integration`` belongs to API keys, never to a user: it is neither listed nor taken."""
    person_roles = sorted(role.value for role in PERSON_ROLES)
    schemas = spec["components"]["schemas"]
    for name in ("User", "UserCreate", "UserUpdate", "Me"):
        assert sorted(schemas[name]["properties"]["role"]["enum"]) == person_roles, name
    (role_filter,) = [
        p for p in spec["paths"]["/v1/users"]["get"]["parameters"] if p["name"] == "role"
    ]
    assert sorted(role_filter["schema"]["items"]["enum"]) == person_roles

    admin = client.as_(factories.tenant().admin_token)
    for role in person_roles:
        assert admin.get("/v1/users", query_string={"role": role}).status_code == 200, role
    listed = admin.get("/v1/users", query_string={"role": Role.INTEGRATION.value})
    errors = assert_problem(listed, 422, "request.validation_failed")["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("role.0", "not_allowed")]
    created = admin.post(
        "/v1/users",
        json={
            "email": "bot@x.test",
            "name": "Bot",
            "role": "integration",
            "password": "pw-12345678!",
        },
    )
    errors = assert_problem(created, 422, "request.validation_failed")["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("role", "not_allowed")]
    dispatcher = admin.post(
        "/v1/users",
        json={"email": "d@x.test", "name": "D", "role": "dispatcher", "password": "pw-12345678!"},
    )
    assert dispatcher.status_code == 201 and dispatcher.get_json()["role"] == "dispatcher"
