"""Travel time between two points: a routing engine when there is one, else a straight line.

:class:`StraightLine` needs nothing (geodesic distance × a detour factor ÷ a speed
profile, :mod:`dispatch.eta`). :class:`OsrmRouter` asks any server that speaks
OSRM's HTTP ``route`` service (OSRM itself, or a compatible gateway) for the
driving time by road, and falls back to the straight line whenever the engine is
unreachable, slow (``timeout``), or finds no route: an ETA is never missing
because a routing engine is down.
"""

from __future__ import annotations

import math
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


@dataclass(frozen=True)
class StraightLine:
    profile: eta.SpeedProfile = eta.URBAN_DRIVING

    def travel(self, origin: Point, destination: Point) -> Leg:
        estimate = eta.estimate(*origin, *destination, profile=self.profile)
        return Leg(estimate.seconds, estimate.distance_m, self.profile.name)


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

    def close(self) -> None:
        self._http.close()
