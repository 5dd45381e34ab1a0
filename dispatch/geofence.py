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
class Visit:
    arrived_at: datetime
    left_at: datetime | None = None


def detect(
    site: tuple[float, float], fixes: Sequence[Fix], rules: FenceRules = FenceRules()
) -> Visit | None:
    """The first visit to ``site`` (lat, lon) that the fixes show, if any."""
    arrived: datetime | None = None
    run_start: datetime | None = None  # first fix of the current stay (or absence)
    for fix in sorted(fixes, key=lambda f: f.fixed_at):
        side = _side(site, fix, rules)
        if side == 0:
            continue  # in the band between the radii: no news
        wanted = 1 if arrived is None else -1  # a stay first, then an absence
        if side != wanted:
            run_start = None
            continue
        if run_start is None:
            run_start = fix.fixed_at
        if fix.fixed_at - run_start >= rules.dwell:
            if arrived is None:
                arrived, run_start = run_start, None
            else:
                return Visit(arrived, run_start)
    return Visit(arrived) if arrived is not None else None


def _side(site: tuple[float, float], fix: Fix, rules: FenceRules) -> int:
    """1 inside, -1 outside, 0 in the band between."""
    distance = metres(site[0], site[1], fix.lat, fix.lon)
    slack = min(fix.accuracy_m or 0.0, rules.enter_m)
    if distance - slack <= rules.enter_m:
        return 1
    if distance > rules.exit_m:
        return -1
    return 0
