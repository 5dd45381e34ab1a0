"""Estimated time of arrival from a straight-line distance and a speed profile.

The customer's tracking page says "about 12 minutes": that needs no route engine
(which this deployment may not have), only the geodesic distance from the
technician's latest fix to the site (exact, on the WGS84 ellipsoid, as geopy's
``geodesic`` measures it), stretched by a detour factor (roads are not straight
lines) and divided by a typical speed. The estimate is rounded up to
the minute, because a precise-looking figure promises what a straight line
cannot keep.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dispatch.geo import geodesic_metres


@dataclass(frozen=True)
class SpeedProfile:
    """How fast a technician typically covers ground, door to door."""

    name: str
    speed_mps: float  # average speed along the road, stops included
    detour_factor: float  # road distance ÷ straight-line distance


# City driving: about 25 km/h on average with traffic lights and parking, and
# roads some 30 % longer than the straight line (the usual urban circuity).
URBAN_DRIVING = SpeedProfile("urban_driving", speed_mps=25 / 3.6, detour_factor=1.3)


@dataclass(frozen=True)
class Estimate:
    distance_m: float  # the WGS84 geodesic from the fix to the site
    seconds: int  # travel time left, rounded up to a whole minute


def estimate(
    lat: float,
    lon: float,
    site_lat: float,
    site_lon: float,
    profile: SpeedProfile = URBAN_DRIVING,
) -> Estimate:
    """The time left from ``(lat, lon)`` to the site under ``profile``."""
    distance = geodesic_metres(lat, lon, site_lat, site_lon)
    seconds = distance * profile.detour_factor / profile.speed_mps
    return Estimate(distance_m=distance, seconds=math.ceil(seconds / 60) * 60)
