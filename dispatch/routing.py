"""Travel time between two points: a routing engine when there is one, else a straight line.

:class:`StraightLine` needs nothing (geodesic distance × a detour factor ÷ a speed
profile, :mod:`dispatch.eta`). :class:`OsrmRouter` asks any server that speaks
OSRM's HTTP ``route`` service (OSRM itself, or a compatible gateway) for the
driving time by road, and falls back to the straight line whenever the engine is
unreachable, slow (``timeout``), or finds no route: an ETA is never missing
because a routing engine is down. :meth:`Router.travel_from` answers many origins
to one destination (dispatch's short list of technicians to a site) in one
request to OSRM's ``table`` service, each missing cell falling back on its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import httpx

from dispatch import eta

Point = tuple[float, float]  # (lat, lon)


@dataclass(frozen=True)
class Leg:
    seconds: int  # rounded up to a whole minute
    metres: float
    source: str  # which estimate: "osrm" or the speed profile's name


class Router(Protocol):
    def travel(self, origin: Point, destination: Point) -> Leg: ...

    def travel_from(self, origins: Sequence[Point], destination: Point) -> list[Leg]:
        """One leg per origin, in order, each to ``destination``."""
        ...


@dataclass(frozen=True)
class StraightLine:
    profile: eta.SpeedProfile = eta.URBAN_DRIVING

    def travel(self, origin: Point, destination: Point) -> Leg:
        estimate = eta.estimate(*origin, *destination, profile=self.profile)
        return Leg(estimate.seconds, estimate.distance_m, self.profile.name)

    def travel_from(self, origins: Sequence[Point], destination: Point) -> list[Leg]:
        return [self.travel(origin, destination) for origin in origins]


class OsrmRouter:
    """``GET {base_url}/route/v1/{profile}/{lon},{lat};{lon},{lat}?overview=false``."""

    def __init__(
        self,
        base_url: str,
        *,
        profile: str = "driving",
        timeout: float = 2.0,
        fallback: Router | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.profile = profile
        self.fallback = fallback or StraightLine()
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), timeout=timeout, transport=transport
        )

    def travel(self, origin: Point, destination: Point) -> Leg:
        path = (
            f"/route/v1/{self.profile}/"
            f"{origin[1]:.6f},{origin[0]:.6f};{destination[1]:.6f},{destination[0]:.6f}"
        )
        try:
            answer = self._http.get(path, params={"overview": "false"})
            body = answer.json()
            if answer.status_code != 200 or body.get("code") != "Ok":
                raise ValueError(body.get("code"))
            route = body["routes"][0]
            seconds, metres = float(route["duration"]), float(route["distance"])
            if not (math.isfinite(seconds) and math.isfinite(metres)) or seconds < 0:
                raise ValueError("not a duration")
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError):
            return self.fallback.travel(origin, destination)
        return Leg(math.ceil(seconds / 60) * 60, metres, "osrm")

    def travel_from(self, origins: Sequence[Point], destination: Point) -> list[Leg]:
        """``GET {base_url}/table/v1/{profile}/{destination};{origins...}`` with every
        origin a source and the destination the only target: one request for all."""
        if not origins:
            return []
        points = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in (destination, *origins))
        params = {
            "sources": ";".join(str(i) for i in range(1, len(origins) + 1)),
            "destinations": "0",
            "annotations": "duration,distance",
        }
        try:
            answer = self._http.get(f"/table/v1/{self.profile}/{points}", params=params)
            body = answer.json()
            if answer.status_code != 200 or body.get("code") != "Ok":
                raise ValueError(body.get("code"))
            durations, distances = body["durations"], body["distances"]
            if len(durations) != len(origins) or len(distances) != len(origins):
                raise ValueError("not one row per origin")
        except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError):
            return self.fallback.travel_from(origins, destination)
        return [
            _cell(durations[i], distances[i]) or self.fallback.travel(origin, destination)
            for i, origin in enumerate(origins)
        ]

    def close(self) -> None:
        self._http.close()


def _cell(durations: object, distances: object) -> Leg | None:
    """One origin's row of a table answer (a single destination), or None when the engine
    found no route (``null``) or sent something that is not a duration."""
    try:
        seconds, metres = float(durations[0]), float(distances[0])  # type: ignore[index]
    except (TypeError, ValueError, IndexError, KeyError):
        return None
    if not (math.isfinite(seconds) and math.isfinite(metres)) or seconds < 0:
        return None
    return Leg(math.ceil(seconds / 60) * 60, metres, "osrm")
