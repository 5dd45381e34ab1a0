"""Geofenced arrival: dwell and hysteresis, whatever the jitter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from dispatch.fixes import Fix
from dispatch.geofence import FenceRules, detect

SITE = (31.2304, 121.4737)
T0 = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
RULES = FenceRules(enter_m=100, exit_m=200, dwell=timedelta(minutes=2))


def at(seconds: float, metres_east: float) -> Fix:
    return Fix(
        fixed_at=T0 + timedelta(seconds=seconds),
        lat=SITE[0],
        lon=SITE[1] + metres_east / 95_180,
        accuracy_m=0,
    )


def test_a_stay_of_the_dwell_time_is_an_arrival_dated_at_its_first_fix() -> None:
    fixes = [at(0, 1000), at(60, 500)] + [at(120 + 30 * i, 20) for i in range(5)]
    visit = detect(SITE, fixes, RULES)
    assert visit is not None and visit.arrived_at == T0 + timedelta(seconds=120)
    assert visit.left_at is None
    assert detect(SITE, fixes[:5], RULES) is None  # only 90 s inside so far


@given(st.lists(st.floats(0, 190), min_size=1, max_size=60))
def test_jitter_inside_the_exit_radius_never_makes_a_departure(distances: list[float]) -> None:
    arrival = [at(30 * i, 10) for i in range(5)]
    jitter = [at(150 + 20 * i, d) for i, d in enumerate(distances)]
    visit = detect(SITE, arrival + jitter, RULES)
    assert visit is not None
    assert visit.arrived_at == T0 and visit.left_at is None


@given(st.lists(st.floats(101, 10_000), min_size=0, max_size=40))
def test_never_within_the_fence_is_never_an_arrival(distances: list[float]) -> None:
    fixes = [at(15 * i, d) for i, d in enumerate(distances)]
    assert detect(SITE, fixes, RULES) is None


@given(
    st.permutations(
        [
            at(30 * i, d)
            for i, d in enumerate([900, 400, 50, 40, 30, 20, 10, 300, 600, 700, 800, 900])
        ]
    )
)
def test_the_order_fixes_arrive_in_does_not_matter(fixes: list[Fix]) -> None:
    visit = detect(SITE, fixes, RULES)
    assert visit is not None
    assert visit.arrived_at == T0 + timedelta(seconds=60)
    assert visit.left_at == T0 + timedelta(seconds=210)


def test_an_arrival_carries_the_first_and_last_fix_of_the_dwell_and_their_count() -> None:
    # Two fixes in the band (150 m) in the middle of the stay are no evidence either way.
    stay = [at(0, 20), at(30, 40), at(60, 150), at(70, 150), at(90, 30), at(120, 10)]
    visit = detect(SITE, [at(-60, 900), *stay, at(150, 5)], RULES)
    assert visit is not None and visit.arrival is not None
    evidence = visit.arrival
    assert evidence.first.fix == stay[0] and evidence.last.fix == stay[-1]
    assert evidence.fixes == 4
    assert round(evidence.first.distance_m) == 20 and round(evidence.last.distance_m) == 10


def test_a_departure_carries_the_absence_that_proved_it() -> None:
    stay = [at(30 * i, 10) for i in range(5)]
    # A fix back inside cuts the first absence short: only the second one counts.
    away = [at(150, 400), at(180, 500), at(210, 20), *[at(240 + 30 * i, 600) for i in range(5)]]
    visit = detect(SITE, stay + away, RULES)
    assert visit is not None and visit.departure is not None
    assert visit.left_at == T0 + timedelta(seconds=240)
    assert visit.departure.first.fix == away[3] and visit.departure.last.fix == away[-1]
    assert visit.departure.fixes == 5
