"""Distances on the ground: haversine on a sphere, and the exact WGS84 geodesic.

For speed checks, stops, fences and the day plan's matrices (tens of metres to a
few kilometres, many pairs) :func:`metres` uses a sphere of the Earth's mean
radius, within 0.6 % of the WGS84 ellipsoid. The distances people read or that
rank technicians (an ETA, a candidate's distance) use :func:`geodesic_metres`,
Karney's exact geodesic on WGS84, the algorithm geopy's ``geodesic`` runs, in
PROJ's C implementation (about a microsecond a pair where geographiclib's pure
Python takes 50-85 µs).
"""

from __future__ import annotations

import math

from pyproj import Geod

EARTH_RADIUS_M = 6_371_008.8
WGS84 = Geod(ellps="WGS84")


def geodesic_metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The exact geodesic between two points on the WGS84 ellipsoid, in metres."""
    return float(WGS84.inv(lon1, lat1, lon2, lat2)[2])


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
