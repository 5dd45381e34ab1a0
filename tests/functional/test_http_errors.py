"""Every failure is RFC 9457 problem+json with a stable code, and changes nothing."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import Engine

from api.app import create_app
from api.config import Config
from api.customers import queries
from tests.conftest import count_rows
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories


def test_malformed_json_is_400_and_writes_nothing(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    before = count_rows(engine)
    response = client.as_(world.admin_token).request(
        "POST", "/v1/customers", data=b'{"name": "x",', headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400, "request.malformed_json")
    assert count_rows(engine) == before


def test_a_body_that_is_not_json_is_415(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    response = client.as_(world.admin_token).request(
        "POST",
        "/v1/customers",
        data=b"name=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_problem(response, 415, "request.unsupported_media_type")


def test_a_body_over_the_limit_is_413(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    before = count_rows(engine)
    huge = {"name": "x", "notes": "y" * (1024 * 1024 + 10)}
    assert_problem(
        client.as_(world.admin_token).post("/v1/customers", json=huge), 413, "request.too_large"
    )
    assert count_rows(engine) == before


def test_wrong_types_name_each_field(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    response = client.as_(world.admin_token).post(
        "/v1/customers", json={"name": 5, "active": "maybe"}
    )
    body = assert_problem(response, 422, "request.validation_failed")
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("name", "invalid_type"),
        ("active", "invalid_type"),
    }


def test_a_json_array_instead_of_an_object_is_422(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    response = client.as_(world.admin_token).post("/v1/customers", json=[1, 2])
    assert_problem(response, 422, "request.validation_failed")


def test_unknown_route_and_wrong_method(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    assert_problem(client.as_(world.admin_token).get("/v1/nothing-here"), 404, "request.not_found")
    response = client.as_(world.admin_token).request("PUT", "/v1/customers")
    assert_problem(response, 405, "request.method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_an_unexpected_failure_is_a_500_with_a_trace_id_and_no_internals(
    client: ApiClient, factories: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = factories.tenant()

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(queries, "list_customers", explode)
    response = client.as_(world.admin_token).get(
        "/v1/customers", headers={"X-Request-ID": "trace-me-1"}
    )
    body = assert_problem(response, 500, "server.internal_error")
    assert body["trace_id"] == "trace-me-1"
    assert "hunter2" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_titles_follow_accept_language(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    missing = "/v1/customers/0190d5d2-0000-7000-8000-000000000000"
    zh = assert_problem(
        api.get(missing, headers={"Accept-Language": "zh-CN,zh;q=0.9"}), 404, "customer.not_found"
    )
    en = assert_problem(
        api.get(missing, headers={"Accept-Language": "en-US"}), 404, "customer.not_found"
    )
    assert zh["title"] == "客户不存在" and en["title"] == "No such customer"
    bad = api.post("/v1/customers", json={}, headers={"Accept-Language": "zh-CN"})
    assert (
        assert_problem(bad, 422, "request.validation_failed")["errors"][0]["message"]
        == "此字段为必填项。"
    )


def test_request_id_is_echoed_and_generated_when_absent(client: ApiClient) -> None:
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"]
        == "abc-123"
    )
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers[
        "X-Request-ID"
    ]
    assert generated and " " not in generated


def test_conditional_get_answers_304_when_nothing_changed(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    customer = factories.customer(world)
    api = client.as_(world.admin_token)
    first = api.get(f"/v1/customers/{customer.id}")
    again = api.get(
        f"/v1/customers/{customer.id}", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304


def test_a_malformed_if_match_is_400(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    customer = factories.customer(world)
    response = client.as_(world.admin_token).patch(
        f"/v1/customers/{customer.id}", json={"name": "x"}, etag="abc"
    )
    assert_problem(response, 400, "request.invalid_header")


def test_a_tampered_cursor_is_400(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    assert_problem(
        client.as_(world.admin_token).get("/v1/customers?cursor=%%%"), 400, "request.invalid_cursor"
    )
    assert_problem(
        client.as_(world.admin_token).get("/v1/customers?cursor=WyJ4Il0"),
        400,
        "request.invalid_cursor",
    )


def test_limits_outside_one_to_two_hundred_are_refused(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    body = assert_problem(
        client.as_(world.admin_token).get("/v1/customers?limit=500"),
        422,
        "request.validation_failed",
    )
    assert body["errors"][0]["field"] == "limit"


def test_health_and_readiness(client: ApiClient, engine: Engine) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json()["status"] == "ready"


def test_readiness_fails_while_the_database_cannot_be_reached(tmp_path: Path) -> None:
    config = Config(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'missing' / 'fieldline.db'}",  # no such folder
        secret_key="k" * 48,
        embedded_worker=False,
    )
    probe = create_app(config).test_client()
    for _ in range(2):  # the failed connection does not stick to the next probe
        answer = probe.get("/readyz")
        assert answer.status_code == 503
        assert answer.get_json() == {"status": "unavailable", "database": "unreachable"}
    assert probe.get("/healthz").status_code == 200  # alive, just not ready


def test_every_answer_carries_the_safety_headers_and_api_answers_are_not_cached(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    answers = {
        "/healthz": client.get("/healthz"),
        "/v1/customers": api.get("/v1/customers"),
        "/v1/no-such-route": api.get("/v1/no-such-route"),  # Flask's own 404
        "/v1/me (no token)": client.get("/v1/me"),
    }
    for name, response in answers.items():
        assert response.headers["X-Content-Type-Options"] == "nosniff", name
        assert response.headers["Referrer-Policy"] == "no-referrer", name
        assert response.headers["X-Request-ID"], name
        assert response.headers.get_all("X-Request-ID") == [response.headers["X-Request-ID"]]
    assert "Cache-Control" not in answers["/healthz"].headers
    for name in ("/v1/customers", "/v1/no-such-route", "/v1/me (no token)"):
        assert answers[name].headers.get_all("Cache-Control") == ["no-store"], name


def test_one_access_line_per_request_without_the_query_string(
    client: ApiClient, factories: Factories, caplog: pytest.LogCaptureFixture
) -> None:
    world = factories.tenant()
    with caplog.at_level(logging.INFO, logger="fieldline.access"):
        client.as_(world.admin_token).get("/v1/customers?limit=5&q=secret-in-query")
        client.get("/v1/nowhere")
    lines = [r for r in caplog.records if r.name == "fieldline.access"]
    assert [(r.method, r.path, r.status) for r in lines] == [  # type: ignore[attr-defined]
        ("GET", "/v1/customers", 200),
        ("GET", "/v1/nowhere", 404),
    ]
    assert all(r.duration_ms >= 0 for r in lines)  # type: ignore[attr-defined]
    assert "secret-in-query" not in caplog.text
