"""Renewing a session from two tabs at once keeps it; a later replay still ends it.

Browser tabs share the refresh cookie: when both find their access token expired,
both renew with the same refresh token, the second moments after the first rotated
it. That is not theft, and must not sign the person out.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator

import pytest
from flask import Flask

from api.auth import services as auth_services
from api.db import UnitOfWorkFactory
from tests.support.api_client import ApiClient, assert_problem
from tests.support.clock import ManualClock
from tests.support.factories import Factories
from tests.support.factories.core import PASSWORD


@pytest.fixture
def clock(app: Flask) -> Iterator[ManualClock]:
    """The app's authentication runs on this clock for the test."""
    state = app.extensions["fieldline"]
    original = state.auth_settings
    manual = ManualClock()
    state.auth_settings = dataclasses.replace(original, clock=manual)
    yield manual
    state.auth_settings = original


def login(client: ApiClient, factories: Factories) -> dict[str, str]:
    world = factories.tenant()
    body = {"tenant": world.slug, "email": world.admin.email, "password": PASSWORD}
    response = client.post("/v1/auth/login", json=body)
    assert response.status_code == 200
    return response.get_json()


def renew(client: ApiClient, refresh_token: str):
    return client.post("/v1/auth/refresh", json={"refresh_token": refresh_token})


def test_the_second_tab_renewing_with_the_just_rotated_token_keeps_the_session(
    client: ApiClient, factories: Factories, clock: ManualClock
) -> None:
    issued = login(client, factories)
    first_tab = renew(client, issued["refresh_token"])
    clock.advance(seconds=2)
    second_tab = renew(client, issued["refresh_token"])
    assert first_tab.status_code == 200 and second_tab.status_code == 200
    # Both tabs hold the same successor, so neither later holds a spent token.
    successor = first_tab.get_json()["refresh_token"]
    assert second_tab.get_json()["refresh_token"] == successor != issued["refresh_token"]
    for tab in (first_tab, second_tab):
        assert client.as_(tab.get_json()["access_token"]).get("/v1/me").status_code == 200
    assert renew(client, successor).status_code == 200


def test_a_spent_token_replayed_after_the_grace_period_ends_the_session(
    client: ApiClient, factories: Factories, clock: ManualClock
) -> None:
    issued = login(client, factories)
    rotated = renew(client, issued["refresh_token"]).get_json()
    clock.advance(seconds=31)
    assert_problem(renew(client, issued["refresh_token"]), 401, "auth.refresh_token_reused")
    assert_problem(client.as_(rotated["access_token"]).get("/v1/me"), 401, "auth.invalid_token")
    assert_problem(renew(client, rotated["refresh_token"]), 401, "auth.invalid_refresh_token")


def test_a_token_whose_successor_was_spent_too_is_reuse_even_within_the_grace_period(
    client: ApiClient, factories: Factories, clock: ManualClock
) -> None:
    issued = login(client, factories)
    rotated = renew(client, issued["refresh_token"]).get_json()
    renew(client, rotated["refresh_token"])
    clock.advance(seconds=1)
    assert_problem(renew(client, issued["refresh_token"]), 401, "auth.refresh_token_reused")
    assert_problem(client.as_(rotated["access_token"]).get("/v1/me"), 401, "auth.invalid_token")


def test_concurrent_renewals_with_the_same_token_both_succeed(
    uow_factory: UnitOfWorkFactory, factories: Factories, client: ApiClient
) -> None:
    world = factories.tenant()
    settings = auth_services.AuthSettings(secret_key="k" * 40)
    command = auth_services.LoginCommand(
        tenant=world.slug, email=world.admin.email, password=PASSWORD
    )
    issued = auth_services.log_in(uow_factory(), settings, command)
    start = threading.Barrier(2)
    results: list[auth_services.IssuedTokens | BaseException] = []

    def tab() -> None:
        start.wait()
        try:
            results.append(auth_services.refresh(uow_factory(), settings, issued.refresh_token))
        except BaseException as error:  # reported by the assertion below
            results.append(error)

    tabs = [threading.Thread(target=tab) for _ in range(2)]
    for thread in tabs:
        thread.start()
    for thread in tabs:
        thread.join()
    assert all(isinstance(r, auth_services.IssuedTokens) for r in results), results
    successors = {r.refresh_token for r in results if isinstance(r, auth_services.IssuedTokens)}
    assert len(successors) == 1
    # The session lives on: its successor renews.
    renewed = auth_services.refresh(uow_factory(), settings, successors.pop())
    assert renewed.session_id == issued.session_id
