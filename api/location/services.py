"""Recording positions and reading trails (the rules are :mod:`dispatch.fixes`).

One batch is one unit of work: the kept fixes are inserted (a concurrent resend
of the same fix is skipped by the primary key) and the current position moves
forward by a conditional upsert, so two batches racing each other still leave
the newest fix current.
"""

from __future__ import annotations

import bisect
import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, select, tuple_
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
from api.sync.models import SyncDevice
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
    device: uuid.UUID | None,
    batch: Sequence[Fix],
    indexes: Sequence[int] | None = None,
    invalid: Sequence[tuple[int, str]] = (),
) -> Recorded:
    """Keep what :func:`dispatch.fixes.admit` keeps of ``batch`` for the caller's
    technician, from the sync ``device`` (registered to the caller on first use;
    another login's device is ``sync.device_mismatch``, a :class:`ProtocolError`) or,
    with None, as the login's device (or the login itself). ``invalid`` are fixes
    the HTTP layer could not even read, and ``indexes`` the readable ones' places in
    the batch as sent (the report speaks of those); they are reported as
    ``location.invalid_fix``.

    One transaction; without a job under way, four statements and a ``COPY``: who
    is asking (the technician, the login's device binding, the device, whether a job
    is under way), the device's stored fixes around the batch, the ``COPY`` (in a
    savepoint), the current position's upsert returning its row, and the live notice
    at commit. The jobs' active spans are read only for a fix off shift, and the
    geofence runs only while a job is under way."""
    places = list(indexes) if indexes is not None else list(range(len(batch)))
    with uow:
        session = uow.session
        head = _read_head(session, actor, device)
        stream, first_seen = _stream(session, actor, device, head)
        if actor.technician_id is None:
            raise errors.NotATechnician()
        if len(batch) + len(invalid) > rules.MAX_BATCH:
            raise errors.BatchTooLarge(f"At most {rules.MAX_BATCH} fixes a batch")
        if head.technician_since is None:
            raise errors.NotATechnician()
        now = utcnow()
        stored = _stored_fixes(session, actor.tenant_id, stream, batch)
        times = [fix.fixed_at for fix in stored]
        hours, zone = head.hours or {}, head.zone

        def previous(at: datetime) -> Fix | None:
            index = bisect.bisect_left(times, at)
            return stored[index - 1] if index > 0 else None

        admission = rules.admit(
            batch,
            now=now,
            first_seen=first_seen or head.technician_since,
            known_times=times,
            previous=previous,
            on_duty=_DutyCheck(hours, zone, lambda: _active_spans(session, actor, batch)),
        )
        admission.rejected = sorted(
            [rules.Rejection(places[r.index], r.code, r.detail) for r in admission.rejected]
            + [rules.Rejection(index, "location.invalid_fix", detail) for index, detail in invalid],
            key=lambda rejection: rejection.index,
        )
        admission.duplicates = [places[index] for index in admission.duplicates]
        admission.kept_indexes = [places[index] for index in admission.kept_indexes]
        _insert(session, actor, stream, admission.kept, now)
        current = None
        if admission.newest is not None:
            current = _advance_current(session, actor, stream, admission.newest, now)
        if admission.kept and head.jobs_under_way:
            arrivals.detect_visits(session, actor)
        if current is None:  # nothing kept, or only fixes older than the current one
            current = session.get(
                CurrentLocation, (actor.tenant_id, actor.technician_id), populate_existing=True
            )
            if current is not None:
                session.expunge(current)
        uow.commit()
    return Recorded(admission, current)


@dataclass(frozen=True)
class _Head:
    """What a batch needs to know of who sends it, read in one statement."""

    hours: dict[str, Any] | None
    zone: str
    technician_since: datetime | None  # None: no such technician in the tenant
    bound: str | None  # the login's device binding
    device_owner: uuid.UUID | None
    device_since: datetime | None  # None: the device is not registered yet
    jobs_under_way: bool  # whether a geofence could detect an arrival or departure


def _read_head(session: Session, actor: Actor, device: uuid.UUID | None) -> _Head:
    technician = (Technician.tenant_id == actor.tenant_id, Technician.id == actor.technician_id)
    columns: list[Any] = [
        select(Technician.working_hours).where(*technician).scalar_subquery(),
        select(Technician.timezone).where(*technician).scalar_subquery(),
        select(Technician.created_at).where(*technician).scalar_subquery(),
        select(AuthSession.device_id).where(AuthSession.id == actor.session_id).scalar_subquery(),
        arrivals.jobs_under_way(actor),
    ]
    if device is not None:
        mine = (SyncDevice.tenant_id == actor.tenant_id, SyncDevice.id == device)
        columns += [
            select(SyncDevice.user_id).where(*mine).scalar_subquery(),
            select(SyncDevice.created_at).where(*mine).scalar_subquery(),
        ]
    row = session.execute(select(*columns)).one()
    owner, since = (row[5], row[6]) if device is not None else (None, None)
    return _Head(row[0], row[1], row[2], row[3], owner, since, bool(row[4]))


def _stream(
    session: Session, actor: Actor, device: uuid.UUID | None, head: _Head
) -> tuple[str, datetime | None]:
    """The stream the fixes belong to (their ``device_id``) and since when its fixes
    count (None: since the technician was hired)."""
    if device is None:
        # Fixes sent outside sync count as the login's device (or the login itself).
        return head.bound or f"session:{actor.session_id}", None
    devices.check_bound(actor, device, head.bound)
    owner, since = head.device_owner, head.device_since
    if since is None:
        devices.register(session, actor, device)
        owner, since = session.execute(
            select(SyncDevice.user_id, SyncDevice.created_at).where(
                SyncDevice.tenant_id == actor.tenant_id, SyncDevice.id == device
            )
        ).one()
    devices.check_owner(actor, owner)
    return str(device), since - DEVICE_GRACE


class _DutyCheck:
    """Whether a fix's time is on duty: on shift, or on an active job.

    Working hours have minute resolution (and zones whole-minute offsets): one
    answer serves every fix in a UTC minute, and :func:`dispatch.fixes.admit` asks
    in time order, so most fixes cost two comparisons. The jobs' active spans are
    read only if some fix is off shift."""

    def __init__(
        self,
        hours: dict[str, Any],
        zone: str,
        read_spans: Callable[[], list[tuple[datetime, datetime | None]]],
    ) -> None:
        self.hours, self.zone, self.read_spans = hours, zone, read_spans
        self.spans: list[tuple[datetime, datetime | None]] | None = None
        self.by_minute: dict[datetime, bool] = {}
        self.start = self.end = datetime.max.replace(tzinfo=UTC)
        self.on = False

    def __call__(self, at: datetime) -> bool:
        if not self.start <= at < self.end:
            minute = at.replace(second=0, microsecond=0)
            on = self.by_minute.get(minute)
            if on is None:
                on = self.by_minute[minute] = shifts.on_shift(self.hours, self.zone, at)
            self.start, self.end, self.on = minute, minute + _MINUTE, on
        if self.on:
            return True
        if self.spans is None:
            self.spans = self.read_spans()
        return shifts.within(self.spans, at)


_MINUTE = timedelta(minutes=1)


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
    short transaction each, so the purge never holds long locks on a busy table.

    Technician by technician, down the trail index ``(tenant_id, technician_id,
    fixed_at)``: each batch reads only the rows it deletes. (A scan for
    ``fixed_at < older_than`` on its own has no index to use: each batch would read
    again the pages the batches before it emptied, quadratic in the rows purged.)
    Every fix belongs to a technician: deleting one deletes their fixes."""
    with uows.reader() as uow:
        technicians = uow.session.execute(select(Technician.tenant_id, Technician.id)).all()
    purged = 0
    for tenant_id, technician_id in technicians:
        while deleted := _purge_batch(uows, tenant_id, technician_id, older_than):
            purged += deleted
    return purged


def purge_batch_keys(
    tenant_id: uuid.UUID, technician_id: uuid.UUID, older_than: datetime
) -> Select[Any]:
    """The keys of one batch of a technician's fixes older than ``older_than``: a range
    of the trail index."""
    return (
        select(Position.tenant_id, Position.device_id, Position.fixed_at)
        .where(
            Position.tenant_id == tenant_id,
            Position.technician_id == technician_id,
            Position.fixed_at < older_than,
        )
        .limit(PURGE_BATCH)
    )


def _purge_batch(
    uows: UnitOfWorkFactory, tenant_id: uuid.UUID, technician_id: uuid.UUID, older_than: datetime
) -> int:
    with uows() as uow:
        oldest = purge_batch_keys(tenant_id, technician_id, older_than)
        result = uow.session.execute(
            delete(Position).where(
                tuple_(Position.tenant_id, Position.device_id, Position.fixed_at).in_(oldest)
            )
        )
        deleted: int = result.rowcount  # type: ignore[attr-defined]
        uow.commit()
    return deleted


def _stored_fixes(
    session: Session, tenant_id: uuid.UUID, device_id: str, batch: Sequence[Fix]
) -> list[Fix]:
    """What the checks need of the device's stored fixes: those within the batch's
    span (duplicates, neighbours) and the last one before it (the speed check)."""
    if not batch:
        return []
    start = min(fix.fixed_at for fix in batch)
    end = max(fix.fixed_at for fix in batch)
    mine = (Position.tenant_id == tenant_id, Position.device_id == device_id)
    # One statement: from the last fix before the batch's span (if any) to its end.
    # ORDER BY … LIMIT 1, not max(): one step down the primary key whatever the
    # statistics say (without them, the planner aggregated every earlier fix).
    before = (
        select(Position.fixed_at)
        .where(*mine, Position.fixed_at < start)
        .order_by(Position.fixed_at.desc())
        .limit(1)
    )
    rows = session.execute(
        select(Position.fixed_at, Position.lat, Position.lon, Position.accuracy_m)
        .where(
            *mine,
            Position.fixed_at >= func.coalesce(before.scalar_subquery(), start),
            Position.fixed_at <= end,
        )
        .order_by(Position.fixed_at)
    )
    return [Fix(fixed_at=t, lat=lat, lon=lon, accuracy_m=acc) for t, lat, lon, acc in rows]


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
) -> CurrentLocation | None:
    """Move the current position to ``newest`` if it is newer; the new row (detached),
    or None when it stayed (an older fix)."""
    assert actor.technician_id is not None
    values = {
        "device_id": device_id,
        "fixed_at": newest.fixed_at,
        "lat": newest.lat,
        "lon": newest.lon,
        "accuracy_m": newest.accuracy_m,
        "updated_at": now,
    }
    connection = session.connection()
    moved = connection.execute(
        _upsert_current(connection.dialect.name),
        {"tenant_id": actor.tenant_id, "technician_id": actor.technician_id, **values},
    ).first()
    if moved is None:
        return None
    # The upsert bypasses the ORM: tell the live streams (the console's map, a customer
    # following an order on the way) at commit.
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
    return CurrentLocation(tenant_id=actor.tenant_id, technician_id=actor.technician_id, **values)


_CURRENT_VALUES = ("device_id", "fixed_at", "lat", "lon", "accuracy_m", "updated_at")


@functools.cache
def _upsert_current(dialect: str) -> Any:
    """The current position's conditional upsert, built once per dialect (built per
    batch, SQLAlchemy compiled it anew each time)."""
    table: Any = CurrentLocation.__table__
    names = ("tenant_id", "technician_id", *_CURRENT_VALUES)
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = make(table).values(
        {name: bindparam(name, type_=table.c[name].type) for name in names}
    )
    return statement.on_conflict_do_update(
        index_elements=["tenant_id", "technician_id"],
        set_={name: statement.excluded[name] for name in _CURRENT_VALUES},
        # Only forward in fix time: a late batch of old fixes never moves it back.
        where=table.c.fixed_at < statement.excluded.fixed_at,
    ).returning(table.c.fixed_at)
