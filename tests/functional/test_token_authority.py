"""Authority comes from the server's rows, not from the token's claims.

A token's signature proves which user logged in, in which session; what that user
may do (tenant, role, technician, customer) is read from the database on every
request. So a leaked signing key does not make its holder every tenant's admin:
each test here re-signs a real token with the real key and forged claims.
"""

from __future__ import annotations

import uuid
from typing import Any

import jwt
from sqlalchemy import Engine, update

from api.auth.permissions import Role
from api.users.models import User
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.core import SECRET


def forged(token: str, **claims: Any) -> str:
    """The same token with some claims replaced, signed with the real key."""
    payload = jwt.decode(token, SECRET, algorithms=["HS256"])
    payload.update({key: None if value is None else str(value) for key, value in claims.items()})
    return jwt.encode(payload, SECRET, algorithm="HS256")


def ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return {item["id"] for item in response.get_json()["items"]}


def test_a_token_re_signed_with_another_tenants_id_still_reads_only_its_own_tenant(
    client: ApiClient, factories: Factories
) -> None:
    home, victim = factories.tenant(), factories.tenant()
    own = factories.customer(home)
    theirs = factories.customer(victim)
    token = forged(home.admin_token, tid=victim.tenant_id)

    listed = ids(client.as_(token).get("/v1/customers"))

    assert str(own.id) in listed
    assert str(theirs.id) not in listed
    assert client.as_(token).get(f"/v1/customers/{theirs.id}").status_code == 404


def test_a_technician_re_signed_as_admin_is_still_a_technician(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    _, _, technician_token = factories.technician_user(world)
    token = forged(technician_token, role=Role.ADMIN.value)

    assert_problem(client.as_(token).get("/v1/users"), 403, "auth.forbidden")
    created = client.as_(token).post(
        "/v1/users",
        {"email": "mole@example.test", "name": "mole", "role": "admin", "password": "x" * 16},
    )
    assert_problem(created, 403, "auth.forbidden")


def test_a_contact_re_signed_with_another_customers_id_sees_only_its_own_orders(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    other_customer = factories.customer(scene.world)
    mine = factories.work_order(scene.world, scene.customer, scene.site)
    theirs = factories.work_order(scene.world, other_customer)
    token = forged(scene.contact_token, cust=other_customer.id)

    listed = ids(client.as_(token).get("/v1/work-orders"))

    assert str(mine.id) in listed
    assert str(theirs.id) not in listed
    assert client.as_(token).get(f"/v1/work-orders/{theirs.id}").status_code == 404


def test_a_technician_re_signed_with_a_colleagues_id_sees_only_its_own_jobs(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    me, _, my_token = factories.technician_user(world)
    colleague, _, _ = factories.technician_user(world)
    customer = factories.customer(world)
    theirs = factories.work_order(world, customer)
    factories.transition(world, theirs, "assign", assignee_id=colleague.id)
    token = forged(my_token, tech=colleague.id)

    assert str(theirs.id) not in ids(client.as_(token).get("/v1/work-orders"))
    assert client.as_(token).get(f"/v1/work-orders/{theirs.id}").status_code == 404
    assert me.id != colleague.id


def test_a_token_naming_a_user_of_another_session_is_refused(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    dispatcher, _ = factories.user(world, Role.DISPATCHER)
    token = forged(world.admin_token, sub=dispatcher.id)
    assert_problem(client.as_(token).get("/v1/me"), 401, "auth.invalid_token")
    unknown = forged(world.admin_token, sid=uuid.uuid4())
    assert_problem(client.as_(unknown).get("/v1/me"), 401, "auth.invalid_token")


def test_the_role_on_the_users_row_is_what_the_next_request_acts_as(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    customer = factories.customer(world)
    dispatcher, token = factories.user(world, Role.DISPATCHER)
    as_dispatcher = client.as_(token)
    assert str(customer.id) in ids(as_dispatcher.get("/v1/customers"))

    # Changed behind the API's back (the API also revokes the sessions): the row wins.
    with engine.begin() as connection:
        connection.execute(
            update(User).where(User.id == dispatcher.id).values(role=Role.CUSTOMER_CONTACT)
        )

    # A customer contact linked to no customer sees no customer at all.
    assert ids(as_dispatcher.get("/v1/customers")) == set()
    assert_problem(as_dispatcher.get("/v1/users"), 403, "auth.forbidden")


def test_changing_a_role_through_the_api_ends_the_users_sessions(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    dispatcher, token = factories.user(world, Role.DISPATCHER)
    admin = client.as_(world.admin_token)
    current = admin.get(f"/v1/users/{dispatcher.id}")
    changed = admin.patch(
        f"/v1/users/{dispatcher.id}", {"role": "technician"}, etag=current.headers["ETag"]
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert_problem(client.as_(token).get("/v1/me"), 401, "auth.invalid_token")
