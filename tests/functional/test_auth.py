"""Logging in, refreshing, revoking, API keys and rate limiting."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from flask import Flask

from api.app import create_app
from api.auth import tokens
from api.auth.permissions import Role
from api.config import Config
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.core import PASSWORD, SECRET


def login(client: ApiClient, slug: str, email: str, password: str = PASSWORD, **extra: str):
    return client.post(
        "/v1/auth/login", json={"tenant": slug, "email": email, "password": password, **extra}
    )


def test_login_returns_tokens_that_identify_the_user(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    response = login(client, world.slug, world.admin.email.upper())  # emails are case-insensitive
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    me = client.as_(body["access_token"]).get("/v1/me").get_json()
    assert me["email"] == world.admin.email and me["role"] == "admin"


@pytest.mark.parametrize(
    ("tenant", "email", "password"),
    [
        ("nope", "admin@x.test", PASSWORD),
        (None, "ghost@x.test", PASSWORD),
        (None, None, "wrong-password-1"),
    ],
)
def test_wrong_tenant_email_or_password_give_the_same_answer(
    client: ApiClient, factories: Factories, tenant: str | None, email: str | None, password: str
) -> None:
    world = factories.tenant()
    response = login(client, tenant or world.slug, email or world.admin.email, password)
    body = assert_problem(response, 401, "auth.invalid_credentials")
    assert "password" not in body["detail"].lower() or body["detail"] == body["title"]


def test_refresh_rotates_the_refresh_token(client: ApiClient, factories: Factories) -> None:
    # Replaying the old one: tests/functional/test_session_renewal.py (grace, then reuse).
    world = factories.tenant()
    first = login(client, world.slug, world.admin.email).get_json()
    second = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.get_json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert client.as_(rotated["access_token"]).get("/v1/me").status_code == 200
    again = client.post("/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert again.status_code == 200


def test_logout_kills_access_and_refresh_tokens_at_once(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    issued = login(client, world.slug, world.admin.email).get_json()
    api = client.as_(issued["access_token"])
    assert api.post("/v1/auth/logout").status_code == 204
    assert_problem(api.get("/v1/me"), 401, "auth.invalid_token")
    assert_problem(
        client.post("/v1/auth/refresh", json={"refresh_token": issued["refresh_token"]}),
        401,
        "auth.invalid_refresh_token",
    )


def test_a_technician_has_one_session_per_device(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    user, _ = factories.user(world, Role.DISPATCHER)
    old = login(client, world.slug, user.email, device_id="phone-1").get_json()
    new = login(client, world.slug, user.email, device_id="phone-1").get_json()
    tablet = login(client, world.slug, user.email, device_id="tablet-1").get_json()
    assert_problem(client.as_(old["access_token"]).get("/v1/me"), 401, "auth.invalid_token")
    sessions = client.as_(new["access_token"]).get("/v1/auth/sessions").get_json()["items"]
    devices = sorted(s["device_id"] for s in sessions if s["device_id"])  # the factory's is None
    assert devices == ["phone-1", "tablet-1"]
    # Revoke the lost tablet from the phone.
    revoked = client.as_(new["access_token"]).delete(f"/v1/auth/sessions/{tablet['session_id']}")
    assert revoked.status_code == 204
    assert_problem(client.as_(tablet["access_token"]).get("/v1/me"), 401, "auth.invalid_token")


def test_deactivating_or_changing_a_role_signs_the_user_out(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    user, token = factories.user(world, Role.DISPATCHER)
    admin = client.as_(world.admin_token)
    assert (
        admin.patch(f"/v1/users/{user.id}", json={"active": False}, etag='"1"').status_code == 200
    )
    assert_problem(client.as_(token).get("/v1/me"), 401, "auth.invalid_token")
    assert_problem(login(client, world.slug, user.email), 401, "auth.invalid_credentials")


def test_missing_malformed_forged_and_expired_tokens_are_401(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    assert_problem(client.get("/v1/customers"), 401, "auth.required")
    assert_problem(
        client.get("/v1/customers", headers={"Authorization": "Basic abc"}),
        401,
        "auth.invalid_token",
    )
    assert_problem(client.as_("not-a-jwt").get("/v1/customers"), 401, "auth.invalid_token")
    claims = tokens.read_access_token(world.admin_token, SECRET)
    assert claims is not None
    forged, _ = tokens.mint_access_token(
        claims, "another-secret-another-secret-12345", timedelta(minutes=5)
    )
    assert_problem(client.as_(forged).get("/v1/customers"), 401, "auth.invalid_token")
    expired, _ = tokens.mint_access_token(claims, SECRET, timedelta(seconds=-1))
    assert_problem(client.as_(expired).get("/v1/customers"), 401, "auth.invalid_token")
    response = client.get("/v1/customers")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_keys_are_scoped_shown_once_and_revocable(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    admin = client.as_(world.admin_token)
    created = admin.post("/v1/api-keys", json={"name": "ERP sync", "scopes": ["customers:read"]})
    assert created.status_code == 201
    body = created.get_json()
    key = body["key"]
    assert key.startswith("flk_")
    listed = admin.get("/v1/api-keys").get_json()["items"]
    assert [k["name"] for k in listed] == ["ERP sync"] and "key" not in listed[0]

    integration = client.as_(key)
    assert integration.get("/v1/customers").status_code == 200
    assert_problem(integration.post("/v1/customers", json={"name": "x"}), 403, "auth.forbidden")
    assert admin.delete(f"/v1/api-keys/{body['id']}").status_code == 204
    assert_problem(integration.get("/v1/customers"), 401, "auth.invalid_token")
    assert_problem(client.as_(key[:-2] + "zz").get("/v1/customers"), 401, "auth.invalid_token")


def test_api_keys_cannot_be_given_power_over_people(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    response = client.as_(world.admin_token).post(
        "/v1/api-keys", json={"name": "x", "scopes": ["users:write"]}
    )
    body = assert_problem(response, 422, "request.validation_failed")
    assert body["errors"][0]["field"].startswith("scopes")


def test_only_admins_manage_users_and_keys(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    _, token = factories.user(world, Role.DISPATCHER)
    api = client.as_(token)
    assert_problem(
        api.post("/v1/api-keys", json={"name": "x", "scopes": ["customers:read"]}),
        403,
        "auth.forbidden",
    )
    new_user = {"email": "a@b.test", "name": "A", "role": "admin", "password": PASSWORD}
    assert_problem(api.post("/v1/users", json=new_user), 403, "auth.forbidden")


def test_weak_passwords_and_duplicate_emails_are_refused(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    admin = client.as_(world.admin_token)
    weak = admin.post(
        "/v1/users",
        json={"email": "a@b.test", "name": "A", "role": "dispatcher", "password": "short"},
    )
    assert_problem(weak, 422, "user.weak_password")
    duplicate = {
        "email": world.admin.email,
        "name": "A",
        "role": "dispatcher",
        "password": PASSWORD,
    }
    assert_problem(admin.post("/v1/users", json=duplicate), 409, "user.email_taken")


def test_login_is_rate_limited_per_account(config: Config, factories: Factories) -> None:
    world = factories.tenant()
    limited_app: Flask = create_app(Config(**{**config.__dict__, "login_rate_limit": "3/minute"}))
    try:
        client = ApiClient(limited_app.test_client())
        for _ in range(3):
            assert_problem(
                login(client, world.slug, world.admin.email, "wrong-password-1"),
                401,
                "auth.invalid_credentials",
            )
        blocked = login(client, world.slug, world.admin.email)  # even the right password now waits
        assert_problem(blocked, 429, "request.rate_limited")
        assert int(blocked.headers["Retry-After"]) >= 1
    finally:
        limited_app.extensions["fieldline"].uow.dispose()


def test_passwords_and_tokens_never_reach_the_logs(
    client: ApiClient, factories: Factories, caplog: pytest.LogCaptureFixture
) -> None:
    world = factories.tenant()
    with caplog.at_level(logging.DEBUG):
        issued = login(client, world.slug, world.admin.email).get_json()
        client.as_(issued["access_token"]).get("/v1/me")
        login(client, world.slug, world.admin.email, "wrong-password-1")
    text = caplog.text
    assert PASSWORD not in text and "wrong-password-1" not in text
    assert issued["access_token"] not in text and issued["refresh_token"] not in text
