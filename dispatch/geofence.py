"""Geofenced arrival: when a technician reached the job's site, and when they left.

Detection reads the technician's kept fixes of one trip (from leaving for the job
on), in fix time order, and is a pure function of them: a late batch is folded in
by detecting again over the whole trip, so the answer never depends on the order
fixes arrived in.

Two radii give hysteresis against GPS jitter at the fence's edge:

- a fix is **inside** within ``enter_m`` of the site (its own accuracy forgiven, up
  to ``enter_m`` again, so a poor fix on the doorstep still counts);
- it is **outside** only beyond ``exit_m``; between the two radii it is neither,
  and changes nothing.

**Arrival** needs ``dwell`` of fixes inside with nothing outside in between (a van
driving past does not arrive); it is dated at the first fix of that stay.
**Departure**, after an arrival, needs ``dwell`` of fixes outside with nothing
inside in between; it is dated at the first fix of that absence. So a fix
flickering across the edge never makes arrival and departure flap.

Each time comes with its :class:`Evidence`, what a dispatcher needs to trust it:
the first and last fix of the stay (or absence) that decided it, their distances
to the site, and how many fixes on that side it held (fixes in the band between
the radii are not counted).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatch.fixes import Fix
from dispatch.geo import metres


@dataclass(frozen=True)
class FenceRules:
    enter_m: float = 100.0
    exit_m: float = 200.0
    dwell: timedelta = timedelta(minutes=2)


@dataclass(frozen=True)
class Sighting:
    """One fix and its distance to the site (haversine, metres)."""

    fix: Fix
    distance_m: float


@dataclass(frozen=True)
class Evidence:
    """The run of fixes that decided an arrival (inside) or a departure (outside):
    its first fix (the time given), the fix that completed the dwell, and how many
    fixes on that side lay between them, both included."""

    first: Sighting
    last: Sighting
    fixes: int


@dataclass(frozen=True)
class Visit:
    arrived_at: datetime
    left_at: datetime | None = None
    arrival: Evidence | None = None
    departure: Evidence | None = None


def detect(
    site: tuple[float, float], fixes: Sequence[Fix], rules: FenceRules = FenceRules()
) -> Visit | None:
    """The first visit to ``site`` (lat, lon) that the fixes show, if any."""
    arrival: Evidence | None = None
    run: list[Sighting] = []  # the current stay (or absence), on the wanted side
    for fix in sorted(fixes, key=lambda f: f.fixed_at):
        side, distance = _side(site, fix, rules)
        if side == 0:
            continue  # in the band between the radii: no news
        wanted = 1 if arrival is None else -1  # a stay first, then an absence
        if side != wanted:
            run = []
            continue
        run.append(Sighting(fix, distance))
        if fix.fixed_at - run[0].fix.fixed_at >= rules.dwell:
            found = Evidence(run[0], run[-1], len(run))
            if arrival is None:
                arrival, run = found, []
            else:
                return Visit(arrival.first.fix.fixed_at, found.first.fix.fixed_at, arrival, found)
    return Visit(arrival.first.fix.fixed_at, arrival=arrival) if arrival is not None else None


def _side(site: tuple[float, float], fix: Fix, rules: FenceRules) -> tuple[int, float]:
    """1 inside, -1 outside, 0 in the band between; and the distance to the site."""
    distance = metres(site[0], site[1], fix.lat, fix.lon)
    if inside(distance, fix.accuracy_m, rules.enter_m):
        return 1, distance
    if distance > rules.exit_m:
        return -1, distance
    return 0, distance


def inside(distance_m: float, accuracy_m: float | None, radius_m: float) -> bool:
    """The fence's rule for "inside": within the radius, the fix's own accuracy
    forgiven up to the radius again (a poor fix on the doorstep still counts)."""
    return distance_m - min(accuracy_m or 0.0, radius_m) <= radius_m
