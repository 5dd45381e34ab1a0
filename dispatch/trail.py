"""A technician's trail for display: simplified, measured, with its stops.

- **Simplification**: Ramer-Douglas-Peucker (the ``simplification`` library, in C)
  on coordinates projected to metres around the trail's mean latitude, so the
  tolerance is a distance on the ground, not a fraction of a degree.
- **Distance**: geodesic (WGS84, geopy) over the *kept* fixes, not the
  simplified line, which cuts corners.
- **Stops**: a run of fixes that stays within :data:`STOP_RADIUS_M` of where it
  began for at least :data:`STOP_MIN`: where the van was parked.
- **Export**: GeoJSON (RFC 7946: ``[lon, lat]``, a FeatureCollection with the line
  and one Point per stop) and GPX 1.1 (gpxpy), both from the same data.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import gpxpy.gpx
from geopy.distance import geodesic
from simplification.cutil import simplify_coords_idx

from dispatch.fixes import Fix
from dispatch.geo import EARTH_RADIUS_M, metres

STOP_RADIUS_M = 80.0
STOP_MIN = timedelta(minutes=5)
DEFAULT_TOLERANCE_M = 10.0


@dataclass(frozen=True)
class Stop:
    lat: float
    lon: float
    arrived_at: datetime
    left_at: datetime

    @property
    def minutes(self) -> float:
        return (self.left_at - self.arrived_at).total_seconds() / 60


@dataclass(frozen=True)
class Trail:
    points: list[Fix]  # simplified, in time order
    distance_m: float
    stops: list[Stop]
    fixes: int  # before simplification


def build(fixes: Sequence[Fix], tolerance_m: float = DEFAULT_TOLERANCE_M) -> Trail:
    ordered = sorted(fixes, key=lambda fix: fix.fixed_at)
    return Trail(
        points=simplify(ordered, tolerance_m),
        distance_m=distance_m(ordered),
        stops=stops(ordered),
        fixes=len(ordered),
    )


def simplify(fixes: Sequence[Fix], tolerance_m: float) -> list[Fix]:
    if len(fixes) < 3 or tolerance_m <= 0:
        return list(fixes)
    mean_lat = math.radians(sum(fix.lat for fix in fixes) / len(fixes))
    scale = math.cos(mean_lat)
    projected = [
        [math.radians(fix.lon) * scale * EARTH_RADIUS_M, math.radians(fix.lat) * EARTH_RADIUS_M]
        for fix in fixes
    ]
    return [fixes[int(index)] for index in simplify_coords_idx(projected, tolerance_m)]


def distance_m(fixes: Sequence[Fix]) -> float:
    return float(
        sum(geodesic((a.lat, a.lon), (b.lat, b.lon)).meters for a, b in itertools.pairwise(fixes))
    )


def stops(fixes: Sequence[Fix]) -> list[Stop]:
    found: list[Stop] = []
    start = 0
    while start < len(fixes):
        anchor = fixes[start]
        end = start
        while end + 1 < len(fixes) and _metres(anchor, fixes[end + 1]) <= STOP_RADIUS_M:
            end += 1
        if fixes[end].fixed_at - anchor.fixed_at >= STOP_MIN:
            run = fixes[start : end + 1]
            found.append(
                Stop(
                    lat=sum(fix.lat for fix in run) / len(run),
                    lon=sum(fix.lon for fix in run) / len(run),
                    arrived_at=anchor.fixed_at,
                    left_at=fixes[end].fixed_at,
                )
            )
            start = end + 1
        else:
            start += 1
    return found


def to_geojson(trail: Trail, properties: dict[str, Any]) -> dict[str, Any]:
    line = {
        "type": "Feature",
        "geometry": {
            "type": "LineString",
            "coordinates": [[fix.lon, fix.lat] for fix in trail.points],
        },
        "properties": {
            **properties,
            "kind": "trail",
            "distance_m": round(trail.distance_m, 1),
            "fixes": trail.fixes,
            "times": [fix.fixed_at.isoformat() for fix in trail.points],
        },
    }
    stop_features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [stop.lon, stop.lat]},
            "properties": {
                "kind": "stop",
                "arrived_at": stop.arrived_at.isoformat(),
                "left_at": stop.left_at.isoformat(),
                "minutes": round(stop.minutes, 1),
            },
        }
        for stop in trail.stops
    ]
    return {"type": "FeatureCollection", "features": [line, *stop_features]}


def to_gpx(trail: Trail, name: str) -> str:
    gpx = gpxpy.gpx.GPX()
    gpx.creator = "Fieldline"
    track = gpxpy.gpx.GPXTrack(name=name)
    segment = gpxpy.gpx.GPXTrackSegment()
    segment.points = [
        gpxpy.gpx.GPXTrackPoint(fix.lat, fix.lon, elevation=fix.altitude_m, time=fix.fixed_at)
        for fix in trail.points
    ]
    track.segments.append(segment)
    gpx.tracks.append(track)
    gpx.waypoints = [
        gpxpy.gpx.GPXWaypoint(
            stop.lat, stop.lon, time=stop.arrived_at, name=f"stop {stop.minutes:.0f} min"
        )
        for stop in trail.stops
    ]
    return str(gpx.to_xml(version="1.1"))


def _metres(a: Fix, b: Fix) -> float:
    return metres(a.lat, a.lon, b.lat, b.lon)
