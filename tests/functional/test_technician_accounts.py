"""A technician's record and their login stay consistent: leaving ends the login,
and an employee number names one technician in a tenant."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.auth.models import AuthSession
from api.db import make_engine
from api.migrations import upgrade
from api.technicians.models import Technician
from tests.conftest import PG_ADMIN_URL, backend
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.core import PASSWORD


def _login(client: ApiClient, slug: str, email: str) -> int:
    body = {"tenant": slug, "email": email, "password": PASSWORD}
    return client.post("/v1/auth/login", json=body).status_code


def test_deactivating_a_technician_signs_their_login_out_for_good(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    technician, user, token = factories.technician_user(world)
    admin = client.as_(world.admin_token)
    assert client.as_(token).get("/v1/me").status_code == 200

    etag = admin.get(f"/v1/technicians/{technician.id}").headers["ETag"]
    left = admin.patch(f"/v1/technicians/{technician.id}", json={"active": False}, etag=etag)
    assert left.status_code == 200, left.get_json()

    assert_problem(client.as_(token).get("/v1/me"), 401, "auth.invalid_token")
    assert _login(client, world.slug, user.email) == 401
    assert admin.get(f"/v1/users/{user.id}").get_json()["active"] is False
    with Session(engine) as session:
        sessions = session.scalars(select(AuthSession).where(AuthSession.user_id == user.id))
        assert {(s.revoked_at is not None, s.revoked_reason) for s in sessions} == {
            (True, "credentials_changed")
        }


def test_reactivating_a_technician_leaves_the_login_to_an_admin(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    technician, user, _token = factories.technician_user(world)
    admin = client.as_(world.admin_token)
    url = f"/v1/technicians/{technician.id}"
    etag = admin.get(url).headers["ETag"]
    etag = admin.patch(url, json={"active": False}, etag=etag).headers["ETag"]
    assert admin.patch(url, json={"active": True}, etag=etag).status_code == 200
    assert admin.get(f"/v1/users/{user.id}").get_json()["active"] is False
    user_etag = admin.get(f"/v1/users/{user.id}").headers["ETag"]
    assert (
        admin.patch(f"/v1/users/{user.id}", json={"active": True}, etag=user_etag).status_code
        == 200
    )
    assert _login(client, world.slug, user.email) == 200


def test_other_edits_of_a_technician_keep_them_signed_in(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    technician, _user, token = factories.technician_user(world)
    admin = client.as_(world.admin_token)
    etag = admin.get(f"/v1/technicians/{technician.id}").headers["ETag"]
    assert (
        admin.patch(
            f"/v1/technicians/{technician.id}", json={"phone": "13900000001"}, etag=etag
        ).status_code
        == 200
    )
    assert client.as_(token).get("/v1/me").status_code == 200


def test_an_employee_number_names_one_technician_in_a_tenant(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    other = factories.tenant()
    admin = client.as_(world.admin_token)
    first = admin.post("/v1/technicians", json={"name": "李师傅", "employee_no": "SH-0042"})
    assert first.status_code == 201

    again = admin.post("/v1/technicians", json={"name": "王师傅", "employee_no": "SH-0042"})
    body = assert_problem(again, 409, "technician.employee_no_taken")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("employee_no", "taken")]

    second = admin.post("/v1/technicians", json={"name": "王师傅", "employee_no": "SH-0043"})
    url = f"/v1/technicians/{second.get_json()['id']}"
    taken = admin.patch(url, json={"employee_no": "SH-0042"}, etag=second.headers["ETag"])
    assert_problem(taken, 409, "technician.employee_no_taken")
    same = admin.patch(url, json={"employee_no": "SH-0043"}, etag=second.headers["ETag"])
    assert same.status_code == 200  # keeping one's own number is no conflict

    # A technician who left keeps their number: it still names them in past records.
    first_url = f"/v1/technicians/{first.get_json()['id']}"
    assert (
        admin.patch(first_url, json={"active": False}, etag=first.headers["ETag"]).status_code
        == 200
    )
    reused = admin.post("/v1/technicians", json={"name": "赵师傅", "employee_no": "SH-0042"})
    assert_problem(reused, 409, "technician.employee_no_taken")

    # Another tenant's numbers are its own; and having no number is never a clash.
    theirs = client.as_(other.admin_token).post(
        "/v1/technicians", json={"name": "陈师傅", "employee_no": "SH-0042"}
    )
    assert theirs.status_code == 201
    for name, number in (("甲", None), ("乙", None), ("丙", ""), ("丁", "  ")):
        created = admin.post("/v1/technicians", json={"name": name, "employee_no": number})
        assert created.status_code == 201, created.get_json()
        assert created.get_json()["employee_no"] is None


def test_the_database_refuses_a_duplicate_employee_number(
    factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    factories.technician(world, employee_no="E-7")
    with Session(engine) as session, pytest.raises(IntegrityError):
        session.add(Technician(tenant_id=world.tenant_id, name="x", employee_no="E-7"))
        session.commit()


def test_the_migration_resolves_existing_duplicate_numbers(tmp_path: Path, worker_id: str) -> None:
    """The oldest holder keeps the number; later ones get it with the end of their id."""
    url, drop = _empty_database(tmp_path, worker_id)
    engine = make_engine(url)
    try:
        upgrade(engine, "0003")
        tenants = [uuid.uuid4(), uuid.uuid4()]
        rows = [  # (tenant, id, employee_no, created second)
            (tenants[0], uuid.UUID(int=1), "E-1", 1),
            (tenants[0], uuid.UUID(int=2), "E-1", 2),
            (tenants[0], uuid.UUID(int=0xABCDEF12), "E-1", 3),
            (tenants[0], uuid.UUID(int=4), "E-2", 1),
            (tenants[0], uuid.UUID(int=5), "", 1),
            (tenants[0], uuid.UUID(int=6), "", 2),
            (tenants[1], uuid.UUID(int=7), "E-1", 1),
            (tenants[0], uuid.UUID(int=0x99), "X" * 40, 1),
            (tenants[0], uuid.UUID(int=0x98), "X" * 40, 2),
        ]
        with engine.begin() as connection:
            for n, tenant in enumerate(tenants):
                connection.execute(
                    text(
                        "INSERT INTO tenants (id, slug, name, timezone, locale, created_at) "
                        "VALUES (:id, :slug, 'T', 'Asia/Shanghai', 'zh-CN', :at)"
                    ),
                    {"id": _db_id(engine, tenant), "slug": f"t{n}", "at": "2026-01-01 00:00:00"},
                )
            for tenant, ident, number, second in rows:
                connection.execute(
                    text(
                        "INSERT INTO technicians (id, tenant_id, employee_no, name, timezone, "
                        "working_hours, certifications, active, created_at, updated_at, version) "
                        "VALUES (:id, :tenant, :no, 'n', 'Asia/Shanghai', '{}', '[]', true, "
                        ":at, :at, 1)"
                    ),
                    {
                        "id": _db_id(engine, ident),
                        "tenant": _db_id(engine, tenant),
                        "no": number,
                        "at": f"2026-01-01 00:00:0{second}",
                    },
                )
        upgrade(engine, "0008")
        with engine.connect() as connection:
            found = {
                _as_uuid(ident): number
                for ident, number in connection.execute(
                    text("SELECT id, employee_no FROM technicians")
                )
            }
        assert found == {
            uuid.UUID(int=1): "E-1",
            uuid.UUID(int=2): "E-1~00000002",
            uuid.UUID(int=0xABCDEF12): "E-1~abcdef12",
            uuid.UUID(int=4): "E-2",
            uuid.UUID(int=5): None,
            uuid.UUID(int=6): None,
            uuid.UUID(int=7): "E-1",
            uuid.UUID(int=0x99): "X" * 40,
            uuid.UUID(int=0x98): "X" * 31 + "~00000098",
        }
    finally:
        engine.dispose()
        drop()


def _empty_database(tmp_path: Path, worker_id: str) -> tuple[str, Callable[[], None]]:
    if backend() == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}", lambda: None
    from tests.support.postgres import create_database, drop_database

    name = f"fieldline_migration_{worker_id}_{uuid.uuid4().hex[:8]}"
    return create_database(PG_ADMIN_URL, name), lambda: drop_database(PG_ADMIN_URL, name)


def _db_id(engine: Engine, value: uuid.UUID) -> object:
    # SQLAlchemy's Uuid type stores 32 hex digits on SQLite; PostgreSQL has a uuid type.
    return value.hex if engine.dialect.name == "sqlite" else value


def _as_uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def test_two_requests_racing_for_one_number_both_get_the_stable_code(
    client: ApiClient, factories: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check passed for both; the database's constraint decides, with the same code."""
    from api.technicians import services

    world = factories.tenant()
    factories.technician(world, employee_no="RACE-1")
    monkeypatch.setattr(services, "_ensure_employee_no_free", lambda *args: None)
    admin = client.as_(world.admin_token)
    lost = admin.post("/v1/technicians", json={"name": "后到者", "employee_no": "RACE-1"})
    body = assert_problem(lost, 409, "technician.employee_no_taken")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("employee_no", "taken")]
    other = admin.post("/v1/technicians", json={"name": "另一位", "employee_no": "RACE-2"})
    etag = other.headers["ETag"]
    url = f"/v1/technicians/{other.get_json()['id']}"
    moved = admin.patch(url, json={"employee_no": "RACE-1"}, etag=etag)
    assert_problem(moved, 409, "technician.employee_no_taken")
