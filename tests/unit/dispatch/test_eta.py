"""The straight-line ETA measures the exact WGS84 geodesic, not a sphere."""

from __future__ import annotations

import math

import pytest
from geopy.distance import geodesic

from dispatch import eta
from dispatch.geo import metres
from dispatch.routing import StraightLine

SHANGHAI = (31.2304, 121.4737)  # People's Square
BEIJING = (39.9042, 116.4074)  # Tiananmen


def test_the_eta_distance_is_the_wgs84_geodesic_to_the_metre() -> None:
    exact = geodesic(SHANGHAI, BEIJING).meters

    estimate = eta.estimate(*SHANGHAI, *BEIJING)

    assert estimate.distance_m == pytest.approx(exact, abs=1.0)
    assert abs(metres(*SHANGHAI, *BEIJING) - exact) > 1_000  # the sphere is kilometres off
    seconds = exact * eta.URBAN_DRIVING.detour_factor / eta.URBAN_DRIVING.speed_mps
    assert estimate.seconds == math.ceil(seconds / 60) * 60


def test_the_straight_line_router_reports_the_geodesic_too() -> None:
    leg = StraightLine().travel(SHANGHAI, BEIJING)
    assert leg.metres == pytest.approx(geodesic(SHANGHAI, BEIJING).meters, abs=1.0)
    assert leg.source == "urban_driving"
