"""The demo's GPS: a trail and a current position for every technician at work.

Each technician with a job under way gets one trip. Whoever is on the way left
home about half an hour ago and is part-way to the site; whoever is on site or
working drove there and has been parked at the door since. Everyone else on
shift at load time is between jobs, parked somewhere on their patch (within a
couple of kilometres of home) for the last ten minutes. One fix every 20
seconds with a few metres of GPS noise, so the map, the trail (simplified, with
its stop) and the nearest-technician query have something real to show.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from api.demo.context import DemoContext
from api.location.models import CurrentLocation, Position
from api.sites.models import Site
from api.technicians.models import Technician
from api.workorders.models import WorkOrder
from api.workorders.states import Status
from dispatch.shifts import on_shift

_EVERY = timedelta(seconds=20)
_DRIVE = timedelta(minutes=30)
_PARKED = timedelta(minutes=25)
_NOISE = 0.00004  # degrees: about 4 m
_UNDER_WAY = (Status.EN_ROUTE, Status.ON_SITE, Status.IN_PROGRESS)
_WAITING = timedelta(minutes=10)
_PATCH = 0.02  # degrees: about 2 km around home


def build_positions(ctx: DemoContext) -> None:
    technicians = {row.id: row for row in ctx.collected(Technician)}
    sites = {row.id: row for row in ctx.collected(Site)}
    # One trip each: the demo gives busy technicians several jobs under way at once.
    trips: dict[object, WorkOrder] = {}
    for order in ctx.collected(WorkOrder):
        if order.status in _UNDER_WAY and order.assignee_id is not None:
            held = trips.get(order.assignee_id)
            if held is None or _UNDER_WAY.index(order.status) < _UNDER_WAY.index(held.status):
                trips[order.assignee_id] = order  # on the way first, then on site
    travelling = set()
    for order in trips.values():
        tech = technicians.get(order.assignee_id) if order.assignee_id else None
        site = sites.get(order.site_id)
        if tech is None or site is None or site.lat is None or tech.home_lat is None:
            continue
        _trip(ctx, tech, site, arrived=order.status is not Status.EN_ROUTE)
        travelling.add(tech.id)
    # Where each would wait, drawn for everyone whatever the hour of the load.
    spots = {
        tech_id: (ctx.rng.uniform(-_PATCH, _PATCH), ctx.rng.uniform(-_PATCH, _PATCH))
        for tech_id in technicians
    }
    for tech in technicians.values():
        if (
            tech.id in travelling
            or not tech.active
            or tech.home_lat is None
            or tech.home_lon is None
            or not on_shift(tech.working_hours, tech.timezone or "Asia/Shanghai", ctx.now)
        ):
            continue
        lat, lon = tech.home_lat + spots[tech.id][0], tech.home_lon + spots[tech.id][1]
        since = ctx.now - _WAITING
        parked = [(since + _EVERY * step, lat, lon) for step in range(_WAITING // _EVERY)]
        _record(ctx, tech, parked)


def _trip(ctx: DemoContext, tech: Technician, site: Site, *, arrived: bool) -> None:
    assert site.lat is not None and site.lon is not None
    assert tech.home_lat is not None and tech.home_lon is not None
    steps = int(_DRIVE / _EVERY)
    share = 1.0 if arrived else ctx.rng.uniform(0.4, 0.8)  # how far along the way
    start = ctx.now - _DRIVE - (_PARKED if arrived else timedelta(0))
    fixes = []
    for step in range(steps + 1):
        along = share * step / steps
        fixes.append(
            (
                start + _EVERY * step,
                tech.home_lat + (site.lat - tech.home_lat) * along,
                tech.home_lon + (site.lon - tech.home_lon) * along,
            )
        )
    if arrived:
        parked_from = fixes[-1][0]
        for step in range(1, int(_PARKED / _EVERY)):
            fixes.append((parked_from + _EVERY * step, site.lat, site.lon))
    _record(ctx, tech, fixes)


def _record(ctx: DemoContext, tech: Technician, fixes: list[tuple[datetime, float, float]]) -> None:
    """The fixes (with GPS noise) and the last one as the current position."""
    device = f"demo-{tech.employee_no or tech.id}"
    for at, lat, lon in fixes:
        ctx.add(
            Position(
                tenant_id=ctx.tenant_id,
                device_id=device,
                fixed_at=at,
                technician_id=tech.id,
                lat=round(lat + ctx.rng.uniform(-_NOISE, _NOISE), 6),
                lon=round(lon + ctx.rng.uniform(-_NOISE, _NOISE), 6),
                accuracy_m=round(ctx.rng.uniform(4, 15), 1),
                speed_mps=None,
                heading_deg=None,
                altitude_m=None,
                received_at=at,
            )
        )
    at, lat, lon = fixes[-1]
    ctx.add(
        CurrentLocation(
            tenant_id=ctx.tenant_id,
            technician_id=tech.id,
            device_id=device,
            fixed_at=at,
            lat=round(lat, 6),
            lon=round(lon, 6),
            accuracy_m=8.0,
            updated_at=at,
        )
    )
