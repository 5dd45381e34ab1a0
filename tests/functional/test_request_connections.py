"""Pooled connections per request: a read (authentication and its view) checks out
one, and a write never holds two at once, so a small pool cannot wait on itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import event

from api.db.driver_reads import BINARY_DRIVER_CURSOR, DRIVER_CURSOR
from tests.conftest import PG_ADMIN_URL
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories


@contextmanager
def _pool_watch(app: Flask) -> Iterator[dict[str, int]]:
    """Counts the app's pool checkouts (the write and the read pool, which on SQLite
    are one), and the most connections held at once across both."""
    uow = app.extensions["fieldline"].uow
    pools = list(
        {id(engine.pool): engine.pool for engine in (uow.engine, uow.read_engine)}.values()
    )
    seen = {"checkouts": 0, "most_held": 0}

    def on_checkout(*_: Any) -> None:
        seen["checkouts"] += 1
        held = sum(pool.checkedout() for pool in pools)  # type: ignore[attr-defined]
        seen["most_held"] = max(seen["most_held"], held)

    for pool in pools:
        event.listen(pool, "checkout", on_checkout)
    try:
        yield seen
    finally:
        for pool in pools:
            event.remove(pool, "checkout", on_checkout)


def test_a_read_uses_one_connection_for_authentication_and_the_view(
    app: Flask, client: ApiClient, factories: Factories
) -> None:
    """On SQLite it is checked out per request; on PostgreSQL the thread keeps its
    read connection between requests, so later reads check nothing out."""
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    api = client.as_(scene.dispatcher_token)
    keeps = app.extensions["fieldline"].uow.keeps_read_connections
    assert api.get("/v1/me").status_code == 200  # this thread's first read takes one
    for path in (f"/v1/work-orders/{order.id}", "/v1/work-orders", "/v1/me") * 2:
        with _pool_watch(app) as seen:
            assert api.get(path).status_code == 200
        if keeps:
            assert seen["checkouts"] == 0, path
        else:
            assert seen == {"checkouts": 1, "most_held": 1}, path


def test_a_kept_read_connection_that_broke_is_replaced(
    app: Flask, client: ApiClient, factories: Factories
) -> None:
    uow = app.extensions["fieldline"].uow
    if not uow.keeps_read_connections:
        pytest.skip("SQLite checks a read connection out per request")
    scene = factories.scene()
    api = client.as_(scene.dispatcher_token)
    assert api.get("/v1/me").status_code == 200
    kept = uow.kept_read_connection()
    kept.invalidate()  # what a lost server does to it
    assert api.get("/v1/me").status_code == 200
    assert uow.kept_read_connection() is not kept


def test_a_write_never_holds_two_pooled_connections_at_once(
    app: Flask, client: ApiClient, factories: Factories
) -> None:
    """A small pool under load would otherwise wait on itself."""
    scene = factories.scene()
    api = client.as_(scene.dispatcher_token)
    body = {"title": "漏水", "customer_id": str(scene.customer.id), "site_id": str(scene.site.id)}
    with _pool_watch(app) as seen:
        created = api.post("/v1/work-orders", json=body, headers={"Idempotency-Key": "k-1"})
    assert created.status_code == 201
    if app.extensions["fieldline"].uow.keeps_read_connections:
        # Reads and writes have pools of their own: holding the kept read connection
        # while writing cannot wait on itself.
        assert seen["checkouts"] >= 1
    else:
        assert seen["checkouts"] >= 2 and seen["most_held"] == 1


def test_a_driver_read_whose_server_connection_died_answers_503_once_then_recovers(
    app: Flask, client: ApiClient, factories: Factories
) -> None:
    """The single read runs on a psycopg cursor kept with its connection
    (api.db.driver_reads): when the server drops that connection, the request gets
    the usual 503, and the next one reads on a fresh connection and cursor."""
    uow = app.extensions["fieldline"].uow
    if not uow.keeps_read_connections:
        pytest.skip("driver reads are PostgreSQL's")
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    api = client.as_(scene.dispatcher_token)
    path = f"/v1/work-orders/{order.id}"
    assert api.get(path).status_code == 200
    dead = uow.kept_read_connection().connection
    cursor = dead.info[DRIVER_CURSOR]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (dead.dbapi_connection.info.backend_pid,))
    first = api.get(path)
    if first.status_code != 200:
        assert_problem(first, 503, "server.database_unavailable")
    for _ in range(2):
        answer = api.get(path)
        assert answer.status_code == 200 and answer.get_json()["id"] == str(order.id)
    fresh = uow.kept_read_connection().connection
    assert fresh.dbapi_connection is not dead.dbapi_connection
    assert fresh.info[DRIVER_CURSOR] is not cursor
    assert fresh.info[DRIVER_CURSOR].connection is fresh.dbapi_connection


def test_the_board_page_recovers_from_a_dead_connection_like_the_single_read(
    app: Flask, client: ApiClient, factories: Factories
) -> None:
    """The console's page runs on a binary psycopg cursor of its own, kept like the
    single read's: a dropped server connection costs at most one 503."""
    uow = app.extensions["fieldline"].uow
    if not uow.keeps_read_connections:
        pytest.skip("driver reads are PostgreSQL's")
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    api = client.as_(scene.dispatcher_token)
    path = "/v1/board/work-orders"
    assert api.get(path).get_json()["items"][0]["id"] == str(order.id)
    dead = uow.kept_read_connection().connection
    cursor = dead.info[BINARY_DRIVER_CURSOR]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (dead.dbapi_connection.info.backend_pid,))
    first = api.get(path)
    if first.status_code != 200:
        assert_problem(first, 503, "server.database_unavailable")
    for _ in range(2):
        answer = api.get(path)
        assert answer.status_code == 200
        assert [item["id"] for item in answer.get_json()["items"]] == [str(order.id)]
    fresh = uow.kept_read_connection().connection
    assert fresh.dbapi_connection is not dead.dbapi_connection
    assert fresh.info[BINARY_DRIVER_CURSOR] is not cursor
