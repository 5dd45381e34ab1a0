"""Row images rendered by PostgreSQL are exactly the images converted in Python.

Pulls, checkpoints and WatermelonDB sync read images that PostgreSQL writes as
text (:mod:`api.sync.rendered`). Devices compare checksums over them, and
SQLite servers convert every value with ``wire_value``: a single character of
difference (a trailing zero in a fraction, ``+00`` instead of ``Z``) would make
every replica's checksum disagree.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Date, Engine, Uuid, literal, select
from sqlalchemy.orm import Session

from api.customers.models import Customer
from api.db import UnitOfWorkFactory
from api.db.base import UTCDateTime
from api.outbox.registry import HANDLERS
from api.outbox.worker import run_once
from api.sites.models import Site
from api.sync.rendered import _rendered, rendered_images
from api.sync.rows import converted_images
from api.sync.syncables import BY_TABLE, wire_value
from sync_protocol.entities import PhotoType, Table, TimeEntryKind
from sync_protocol.mutations import (
    AddNote,
    AddTimeEntry,
    AttachPhoto,
    RecordPart,
    RecordReading,
    TransitionWorkOrder,
)
from sync_protocol.workorder_status import Action, Status
from tests.conftest import backend
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.factories.core import World
from tests.support.positions import ALWAYS, LAT, LON
from tests.support.push import Device, new_id

pytestmark = pytest.mark.skipif(backend() != "postgresql", reason="PostgreSQL renders them")

# Fractions with and without trailing zeros, none, and the extremes.
MOMENT = datetime(2026, 3, 1, 8, 30, 0, 120_000, tzinfo=UTC)


def _step(order_id: uuid.UUID, action: Action, base: Status) -> TransitionWorkOrder:
    return TransitionWorkOrder(order_id, action, base)


def _offered_order(
    client: ApiClient,
    factories: Factories,
    world: World,
    customer: Customer,
    site: Site,
    uow_factory: UnitOfWorkFactory,
) -> None:
    """An order the worker offered to a qualified technician (a row of ``offers``)."""
    settings = {"dispatch_mode": "offer", "offer_timeout_s": 300, "offer_max_declines": 3}
    response = client.as_(world.admin_token).request(
        "PUT", "/v1/tenant/dispatch-settings", json=settings
    )
    assert response.status_code == 200, response.get_json()
    home = {"address": "家", "position": {"lat": LAT, "lon": LON + 0.01}}
    factories.technician_user(world, working_hours=ALWAYS, home_base=home)
    factories.work_order(world, customer, site)
    while run_once(uow_factory, HANDLERS):
        pass


def test_every_syncable_table_renders_what_python_converts(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    world = scene.world
    _offered_order(client, factories, world, scene.customer, scene.site, uow_factory)
    factories.contact(world, scene.customer)
    category = factories.category_path(world)[-1]
    assets = [
        factories.asset(
            world,
            scene.site,
            installed_on=date(2019, 1, 2),
            warranty_ends_on=date(2031, 12, 31),
        ),
        factories.asset(world, scene.site),
    ]
    linked = factories.work_order(
        world,
        scene.customer,
        scene.site,
        category_id=category.id,
        asset_ids=[a.id for a in reversed(assets)],
    )
    factories.transition(world, linked, "assign", assignee_id=scene.technician.id)
    bare = factories.work_order(world, scene.customer, scene.site)  # no assets: []
    factories.transition(world, bare, "assign", assignee_id=scene.technician.id)
    factories.note(world, linked, "office note")
    device = Device(client.as_(scene.technician_token))
    device.push_ok(
        [
            device.mutation(_step(linked.id, Action.ACCEPT, Status.ASSIGNED)),
            device.mutation(_step(linked.id, Action.START_TRAVEL, Status.ACCEPTED)),
            device.mutation(_step(linked.id, Action.ARRIVE, Status.EN_ROUTE)),
            device.mutation(_step(linked.id, Action.START_WORK, Status.ON_SITE)),
            device.mutation(RecordReading(new_id(), linked.id, "pressure", "3.4", "bar", MOMENT)),
            device.mutation(RecordPart(new_id(), linked.id, "Valve seal", "2", "pcs")),
            device.mutation(AttachPhoto(new_id(), linked.id, "ab" * 32, PhotoType.JPEG, 1_843)),
            device.mutation(AddNote(new_id(), linked.id, "压力稳定")),
            device.mutation(
                AddTimeEntry(
                    new_id(),
                    linked.id,
                    TimeEntryKind.TRAVEL,
                    MOMENT - timedelta(hours=1, microseconds=7),
                    MOMENT.replace(microsecond=0),
                    "堵车",
                )
            ),
        ]
    )
    factories.transition(world, bare, "cancel", reason="客户来电取消")
    device.push_ok(
        [
            device.mutation(_step(bare.id, Action.ACCEPT, Status.ASSIGNED)),  # a conflict
            device.raw("teleport_work_order", {"work_order_id": str(bare.id)}),  # parked
        ]
    )

    with uow_factory.reader() as uow:
        session = uow.session
        for table, syncable in BY_TABLE.items():
            model = syncable.model
            ids = list(session.scalars(select(model.id).where(model.tenant_id == world.tenant_id)))
            assert ids, f"the scene has no {table.value}: the comparison would prove nothing"
            rendered = rendered_images(session.connection(), world.tenant_id, table, ids)
            converted = converted_images(session, world.tenant_id, table, ids)
            assert rendered == converted, table.value
        orders = rendered_images(
            session.connection(),
            world.tenant_id,
            Table.WORK_ORDERS,
            [
                linked.id,
                bare.id,
            ],
        )
    assert orders[linked.id]["asset_ids"] == sorted(str(a.id) for a in assets)
    assert orders[bare.id]["asset_ids"] == []


_ZONES = st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-14 * 60, 14 * 60)
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    moment=st.datetimes(
        min_value=datetime(1900, 1, 2), max_value=datetime(9999, 12, 30), timezones=_ZONES
    ),
    day=st.dates(min_value=date(1, 1, 1)),
    value=st.uuids(),
)
def test_timestamps_dates_and_uuids_render_like_wire_value(
    engine: Engine, moment: datetime, day: date, value: uuid.UUID
) -> None:
    expressions = [
        _rendered(literal(moment, UTCDateTime())),
        _rendered(literal(day, Date())),
        _rendered(literal(value, Uuid())),
    ]
    with Session(engine) as session:
        row = session.execute(select(*expressions)).one()
    assert list(row) == [wire_value(moment), wire_value(day), wire_value(value)]
