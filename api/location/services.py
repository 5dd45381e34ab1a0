"""Recording positions and reading trails (the rules are :mod:`dispatch.fixes`).

One batch is one unit of work: the kept fixes are inserted (a concurrent resend
of the same fix is skipped by the primary key) and the current position moves
forward by a conditional upsert, so two batches racing each other still leave
the newest fix current.
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from api.audit.changes import jsonable
from api.auth.actor import Actor
from api.auth.models import AuthSession
from api.db import UnitOfWork, UnitOfWorkFactory, utcnow
from api.db.bulk import copy_rows, insert_rows
from api.live import capture as live
from api.live.events import LiveEvent
from api.location import arrivals, errors
from api.location.models import CurrentLocation, Position
from api.sync import devices
from api.technicians.errors import TechnicianNotFound
from api.technicians.models import Technician
from api.workorders import queries
from api.workorders.models import StatusChange, WorkOrder
from api.workorders.states import Status
from dispatch import fixes as rules
from dispatch import shifts
from dispatch.fixes import Admission, Fix

PURGE_BATCH = 5000
# A device is registered by its first sync, which follows its login within moments;
# fixes it took before that, by this much, are still its own.
DEVICE_GRACE = timedelta(minutes=10)


@dataclass(frozen=True)
class Recorded:
    admission: Admission
    current: CurrentLocation | None


def record_positions(
    uow: UnitOfWork,
    actor: Actor,
    device_id: str,
    first_seen: datetime | None,
    batch: Sequence[Fix],
    indexes: Sequence[int] | None = None,
    invalid: Sequence[tuple[int, str]] = (),
) -> Recorded:
    """Keep what :func:`dispatch.fixes.admit` keeps of ``batch`` for the caller's
    technician. ``invalid`` are fixes the HTTP layer could not even read, and
    ``indexes`` the readable ones' places in the batch as sent (the report speaks
    of those); they are reported as ``location.invalid_fix``."""
    places = list(indexes) if indexes is not None else list(range(len(batch)))
    if actor.technician_id is None:
        raise errors.NotATechnician()
    if len(batch) + len(invalid) > rules.MAX_BATCH:
        raise errors.BatchTooLarge(f"At most {rules.MAX_BATCH} fixes a batch")
    with uow:
        session = uow.session
        technician = session.get(Technician, actor.technician_id)
        if technician is None or technician.tenant_id != actor.tenant_id:
            raise errors.NotATechnician()
        now = utcnow()
        stored = _stored_fixes(session, actor.tenant_id, device_id, batch)
        times = [fix.fixed_at for fix in stored]
        spans = _active_spans(session, actor, batch)
        hours, zone = technician.working_hours or {}, technician.timezone

        def previous(at: datetime) -> Fix | None:
            index = bisect.bisect_left(times, at)
            return stored[index - 1] if index > 0 else None

        # Working hours have minute resolution (and zones whole-minute offsets): one
        # answer per UTC minute serves every fix in it (a batch spans a few minutes).
        shift_by_minute: dict[datetime, bool] = {}

        def on_duty(at: datetime) -> bool:
            minute = at.replace(second=0, microsecond=0)
            on = shift_by_minute.get(minute)
            if on is None:
                on = shift_by_minute[minute] = shifts.on_shift(hours, zone, at)
            return on or shifts.within(spans, at)

        admission = rules.admit(
            batch,
            now=now,
            first_seen=first_seen or technician.created_at,
            known_times=times,
            previous=previous,
            on_duty=on_duty,
        )
        admission.rejected = sorted(
            [rules.Rejection(places[r.index], r.code, r.detail) for r in admission.rejected]
            + [rules.Rejection(index, "location.invalid_fix", detail) for index, detail in invalid],
            key=lambda rejection: rejection.index,
        )
        admission.duplicates = [places[index] for index in admission.duplicates]
        admission.kept_indexes = [places[index] for index in admission.kept_indexes]
        _insert(session, actor, device_id, admission.kept, now)
        if admission.newest is not None:
            _advance_current(session, actor, device_id, admission.newest, now)
        if admission.kept:
            arrivals.detect_visits(session, actor)
        # Read in the same transaction (the upsert above bypassed the ORM: reload).
        current = session.get(
            CurrentLocation, (actor.tenant_id, actor.technician_id), populate_existing=True
        )
        if current is not None:
            session.expunge(current)
        uow.commit()
    return Recorded(admission, current)


def device_stream(uow: UnitOfWork, actor: Actor, device_id: uuid.UUID) -> tuple[str, datetime]:
    """The sync device a batch comes from (registered to the caller on first use;
    another login's device is ``sync.device_mismatch``) and when it was first seen."""
    with uow:
        devices.register(uow.session, actor, device_id)
        device = devices.find_device(uow.session, actor, device_id)
        uow.commit()
    assert device is not None  # registered just now
    return str(device_id), device.created_at - DEVICE_GRACE


def direct_stream(uow: UnitOfWork, actor: Actor) -> str:
    """Fixes sent outside sync count as the login's device (or the login itself)."""
    with uow:
        bound = uow.session.scalar(
            select(AuthSession.device_id).where(AuthSession.id == actor.session_id)
        )
    return bound or f"session:{actor.session_id}"


def check_trail_access(session: Session, actor: Actor, technician_id: uuid.UUID) -> None:
    """The office reads any technician of its tenant; a technician only their own."""
    technician = session.get(Technician, technician_id)
    if technician is None or technician.tenant_id != actor.tenant_id:
        raise TechnicianNotFound()
    if not actor.is_office and actor.technician_id != technician_id:
        raise TechnicianNotFound()


def trail(
    session: Session, actor: Actor, technician_id: uuid.UUID, start: datetime, end: datetime
) -> list[Fix]:
    """The technician's kept fixes in ``[start, end]``, in time order (all devices)."""
    check_trail_access(session, actor, technician_id)
    rows = session.execute(
        select(
            Position.fixed_at,
            Position.lat,
            Position.lon,
            Position.accuracy_m,
            Position.speed_mps,
            Position.heading_deg,
            Position.altitude_m,
        )
        .where(
            Position.tenant_id == actor.tenant_id,
            Position.technician_id == technician_id,
            Position.fixed_at >= start,
            Position.fixed_at <= end,
        )
        .order_by(Position.fixed_at)
    )
    return [Fix(*row) for row in rows]


def current_location(
    session: Session, actor: Actor, technician_id: uuid.UUID
) -> CurrentLocation | None:
    check_trail_access(session, actor, technician_id)
    return session.get(CurrentLocation, (actor.tenant_id, technician_id))


def assignee_position(session: Session, actor: Actor, work_order_id: uuid.UUID) -> CurrentLocation:
    """Where the order's technician is, for whoever may read the order, but only
    while they are on the way to it (a customer sees no more than that: not
    before they set off, not once they arrived, never their day)."""
    order = queries.access_work_order(session, actor, work_order_id)
    if order.status is not Status.EN_ROUTE or order.assignee_id is None:
        raise errors.NotOnTheWay()
    location = en_route_position(session, order)
    if location is None:
        raise errors.NoPositionYet()  # nothing since they set off
    return location


def en_route_position(session: Session, order: WorkOrder) -> CurrentLocation | None:
    """The rule behind every customer-facing position (this order's reader, the public
    tracking page): the assignee's latest fix, only while the order is on the way and
    only a fix taken since they set off; otherwise None."""
    if order.status is not Status.EN_ROUTE or order.assignee_id is None:
        return None
    location = session.get(CurrentLocation, (order.tenant_id, order.assignee_id))
    set_off = queries.step_time(session, order, Status.EN_ROUTE)
    if location is None or (set_off is not None and location.fixed_at < set_off):
        return None
    return location


def purge_positions(uows: UnitOfWorkFactory, older_than: datetime) -> int:
    """Delete fixes older than ``older_than`` in batches of :data:`PURGE_BATCH`, one
    short transaction each, so the purge never holds long locks on a busy table."""
    purged = 0
    while True:
        with uows() as uow:
            session = uow.session
            oldest = (
                select(Position.tenant_id, Position.device_id, Position.fixed_at)
                .where(Position.fixed_at < older_than)
                .limit(PURGE_BATCH)
            )
            result = session.execute(
                delete(Position).where(
                    tuple_(Position.tenant_id, Position.device_id, Position.fixed_at).in_(oldest)
                )
            )
            deleted = result.rowcount  # type: ignore[attr-defined]
            uow.commit()
        if not deleted:
            return purged
        purged += deleted


def _stored_fixes(
    session: Session, tenant_id: uuid.UUID, device_id: str, batch: Sequence[Fix]
) -> list[Fix]:
    """What the checks need of the device's stored fixes: those within the batch's
    span (duplicates, neighbours) and the last one before it (the speed check)."""
    if not batch:
        return []
    start = min(fix.fixed_at for fix in batch)
    end = max(fix.fixed_at for fix in batch)
    columns = (Position.fixed_at, Position.lat, Position.lon, Position.accuracy_m)
    mine = (Position.tenant_id == tenant_id, Position.device_id == device_id)
    before = session.execute(
        select(*columns)
        .where(*mine, Position.fixed_at < start)
        .order_by(Position.fixed_at.desc())
        .limit(1)
    ).all()
    within = session.execute(
        select(*columns)
        .where(*mine, Position.fixed_at >= start, Position.fixed_at <= end)
        .order_by(Position.fixed_at)
    ).all()
    return [
        Fix(fixed_at=t, lat=lat, lon=lon, accuracy_m=acc) for t, lat, lon, acc in [*before, *within]
    ]


def _active_spans(
    session: Session, actor: Actor, batch: Sequence[Fix]
) -> list[tuple[datetime, datetime | None]]:
    """When the technician's jobs were active, around the batch's span."""
    if not batch:
        return []
    end = max(fix.fixed_at for fix in batch)
    rows = session.execute(
        select(StatusChange.work_order_id, StatusChange.to_status, StatusChange.occurred_at)
        .join(WorkOrder, WorkOrder.id == StatusChange.work_order_id)
        .where(
            WorkOrder.tenant_id == actor.tenant_id,
            WorkOrder.assignee_id == actor.technician_id,
            StatusChange.occurred_at <= end,
        )
    )
    return shifts.active_intervals(
        shifts.StatusStep(order, str(status), at) for order, status, at in rows
    )


_FIX_COLUMNS = ("fixed_at", "lat", "lon", "accuracy_m", "speed_mps", "heading_deg", "altitude_m")


# technician_positions' columns for COPY: the batch's constants, then each fix's values.
_COPY_COLUMNS = ("tenant_id", "device_id", "technician_id", "received_at", *_FIX_COLUMNS)
_COPY_TYPES = ("uuid", "varchar", "uuid", "timestamptz", "timestamptz", *["float8"] * 6)


def _insert(
    session: Session, actor: Actor, device_id: str, kept: Sequence[Fix], now: datetime
) -> None:
    """Keep the fixes: on PostgreSQL one binary ``COPY`` (:func:`api.db.bulk.copy_rows`);
    if a concurrent resend took one of their keys first, one ``INSERT … ON CONFLICT DO
    NOTHING`` instead (:func:`api.db.bulk.insert_rows`), which skips it."""
    if not kept:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        constants = (actor.tenant_id, device_id, actor.technician_id, now)
        rows = [
            (
                *constants,
                fix.fixed_at,
                fix.lat,
                fix.lon,
                fix.accuracy_m,
                fix.speed_mps,
                fix.heading_deg,
                fix.altitude_m,
            )
            for fix in kept
        ]
        if copy_rows(connection, Position, _COPY_COLUMNS, _COPY_TYPES, rows):
            return
    rows_by_name = [
        {
            "tenant_id": actor.tenant_id,
            "device_id": device_id,
            "technician_id": actor.technician_id,
            "received_at": now,
            **{name: getattr(fix, name) for name in _FIX_COLUMNS},
        }
        for fix in kept
    ]
    insert_rows(connection, Position, rows_by_name, skip_conflicts=True)


def _advance_current(
    session: Session, actor: Actor, device_id: str, newest: Fix, now: datetime
) -> None:
    values = {
        "device_id": device_id,
        "fixed_at": newest.fixed_at,
        "lat": newest.lat,
        "lon": newest.lon,
        "accuracy_m": newest.accuracy_m,
        "updated_at": now,
    }
    statement = _insert_for(session)(CurrentLocation).values(
        tenant_id=actor.tenant_id, technician_id=actor.technician_id, **values
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["tenant_id", "technician_id"],
            set_={key: statement.excluded[key] for key in values},
            # Only forward in fix time: a late batch of old fixes never moves it back.
            where=CurrentLocation.fixed_at < statement.excluded.fixed_at,
        )
    )
    # The upsert bypasses the ORM: tell the live streams (the console's map, a customer
    # following an order on the way) at commit. A fix that did not move the current
    # position (an older one) costs a re-read at worst.
    assert actor.technician_id is not None
    live.note(
        session,
        LiveEvent(
            tenant_id=actor.tenant_id,
            kind="position",
            id=actor.technician_id,
            technician_id=actor.technician_id,
            data={
                "lat": newest.lat,
                "lon": newest.lon,
                "accuracy_m": newest.accuracy_m,
                "fixed_at": jsonable(newest.fixed_at),
            },
        ),
    )


def _insert_for(session: Session) -> Callable[..., Any]:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
