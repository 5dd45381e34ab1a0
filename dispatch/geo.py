"""Distances on the ground, fast: haversine on a sphere of the Earth's mean radius.

For speed checks, stops and fences (tens of metres to a few kilometres) the
sphere is within 0.5 % of the WGS84 ellipsoid, at about a microsecond a pair;
geopy's exact geodesic (Karney) costs a hundred times more and is kept for the
distances people read (a trail's length).
"""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
