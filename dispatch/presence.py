"""Was the technician there? Time at a place, from the fixes found near it.

:func:`stays` reads the fixes that lie inside a radius of a place (by the same rule
as the geofence, :func:`dispatch.geofence.inside`), in fix-time order, and groups
them into stays: consecutive fixes inside at most ``max_gap`` apart belong to one
stay. A longer gap is no evidence either way (the phone slept, or they left), so it
is not counted as time there. The time there is the sum of the stays' spans; a
stay of one fix spans nothing.

What a dispatcher reads when an arrival time is disputed: when the first and last
fix inside were taken, how many there were, and for how long they were there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from dispatch.geofence import Sighting

MAX_GAP = timedelta(minutes=5)


@dataclass(frozen=True)
class Stay:
    first: Sighting
    last: Sighting
    fixes: int

    @property
    def seconds(self) -> float:
        return (self.last.fix.fixed_at - self.first.fix.fixed_at).total_seconds()


def stays(inside: Sequence[Sighting], max_gap: timedelta = MAX_GAP) -> list[Stay]:
    """The stays the fixes inside show, in time order."""
    found: list[Stay] = []
    ordered = sorted(inside, key=lambda sighting: sighting.fix.fixed_at)
    start = 0
    for index in range(1, len(ordered) + 1):
        ends = index == len(ordered)
        if ends or ordered[index].fix.fixed_at - ordered[index - 1].fix.fixed_at > max_gap:
            found.append(Stay(ordered[start], ordered[index - 1], index - start))
            start = index
    return found


def seconds_there(found: Sequence[Stay]) -> float:
    return sum(stay.seconds for stay in found)
