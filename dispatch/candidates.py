"""Who should take a job: hard filters, then an explainable score.

Pure rules over facts the caller loaded (no database, no web framework). A
technician is *excluded* by the first hard filter they fail, and that filter is
reported; every other technician is a *candidate* with each part of the score.

The shift filter: without a requested window, the technician must be on shift
at the job's start (``at``: now, or the start the dispatcher chose). With a
window (``at`` to ``until``), they must be on shift without a break for the
job's ``duration`` somewhere in it (or, for a window shorter than the job, for
the whole window): someone whose shift starts mid-window qualifies if enough of
the window is left to do the work, and a shift that only touches the window's
edge does not.

Score (higher is better) = ``BASE`` + the parts below, each reported:

- ``travel``: minus ``weights.travel_per_minute`` per minute of travel (exact
  geodesic × the speed profile's detour factor ÷ its speed, or the time by road
  a routing engine gave for this technician, ``travel``), doubled when the SLA
  is due within ``urgent_within``;
- ``workload``: minus ``weights.per_open_order`` per open order already assigned;
- ``sla``: minus ``weights.sla_miss`` when the technician would arrive after the
  order's SLA due time (setting off now, or in a requested window when their
  stretch on shift long enough for the job starts, :func:`work_start`);
- ``tier``: for a VIP customer, plus ``weights.vip_per_level`` per skill level
  above the one required (summed over the required skills);
- ``continuity``: plus ``weights.continuity`` when the technician last worked on
  one of the order's assets.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dispatch.geo import geodesic_metres, metres
from dispatch.shifts import first_fit, longest_on_shift, on_shift

BASE = 100.0
# How long the work takes when nobody said (the order has no scheduled length).
DEFAULT_DURATION = timedelta(hours=1)

# Filters, in the order they are applied (the first failed one is reported).
INACTIVE = "inactive"
NO_POSITION = "no_position"
SKILL_MISSING = "skill_missing"
SKILL_LEVEL_TOO_LOW = "skill_level_too_low"
CERTIFICATION_MISSING = "certification_missing"
CERTIFICATION_EXPIRED = "certification_expired"
OFF_SHIFT = "off_shift"  # not on shift at ``at``, or not long enough in the window
AT_CAPACITY = "at_capacity"


@dataclass(frozen=True)
class SpeedProfile:
    """Straight-line distance to travel time: ``km_per_hour`` over a road network
    ``detour`` times longer than the geodesic."""

    name: str
    km_per_hour: float
    detour: float = 1.3

    def minutes(self, metres: float) -> float:
        return metres * self.detour / (self.km_per_hour * 1000 / 60)


SPEED_PROFILES: dict[str, SpeedProfile] = {
    "urban": SpeedProfile("urban", 25.0, 1.4),
    "suburban": SpeedProfile("suburban", 45.0, 1.3),
    "rural": SpeedProfile("rural", 60.0, 1.25),
}


@dataclass(frozen=True)
class Weights:
    travel_per_minute: float = 1.0
    per_open_order: float = 5.0
    sla_miss: float = 40.0
    vip_per_level: float = 5.0
    continuity: float = 15.0
    urgent_within: timedelta = timedelta(hours=4)


@dataclass(frozen=True)
class Job:
    """What the order needs and where it is."""

    lat: float
    lon: float
    at: datetime  # when the work would start: now, or the requested window's start
    until: datetime | None = None  # the requested window's end, if there is one
    duration: timedelta = DEFAULT_DURATION  # time on site the work takes
    # Every skill the work needs, with its minimum level: the category's (inherited down
    # the tree), the order's own, and any the dispatcher asks for.
    skills: Mapping[str, int] = field(default_factory=dict)
    certification: str | None = (
        None  # a certification name the technician must hold, valid at ``at``
    )
    sla_due_at: datetime | None = None
    vip: bool = False
    last_technicians: frozenset[uuid.UUID] = frozenset()  # who last worked on its assets


@dataclass(frozen=True)
class Technician:
    id: uuid.UUID
    name: str
    active: bool
    skills: Mapping[str, int]
    certifications: Sequence[Mapping[str, Any]]
    working_hours: Mapping[str, Sequence[Sequence[str]]]
    timezone: str
    open_orders: int
    capacity: int
    lat: float | None  # effective position (fresh fix, else home base)
    lon: float | None
    position_source: str | None  # "fix" or "home"


@dataclass(frozen=True)
class Candidate:
    technician: Technician
    score: float
    distance_m: float
    travel_minutes: float
    parts: dict[str, float] = field(default_factory=dict)
    travel_source: str = "straight_line"  # or the routing engine's name ("osrm")


@dataclass(frozen=True)
class Excluded:
    technician: Technician
    filter: str
    detail: str


@dataclass(frozen=True)
class Ranking:
    candidates: list[Candidate]  # best first
    excluded: list[Excluded]


def exclusion(job: Job, tech: Technician) -> tuple[str, str] | None:
    """The first hard filter ``tech`` fails for ``job``, with a reason; None if none.

    Nobody passes these who could not do the work then: an offer or an automatic
    assignment goes only to a technician for whom this returns None."""
    if not tech.active:
        return INACTIVE, "the technician is inactive"
    if tech.lat is None or tech.lon is None:
        return NO_POSITION, "no fresh fix and no home base"
    for skill, needed in sorted(job.skills.items()):
        level = tech.skills.get(skill)
        if level is None:
            return SKILL_MISSING, f"lacks skill {skill}"
        if level < needed:
            return SKILL_LEVEL_TOO_LOW, f"{skill} level {level} < {needed}"
    if job.certification is not None:
        held = [c for c in tech.certifications if c.get("name") == job.certification]
        if not held:
            return CERTIFICATION_MISSING, f"holds no {job.certification}"
        on = job.at.date()
        if not any(_valid_on(c, on) for c in held):
            return CERTIFICATION_EXPIRED, f"{job.certification} expired"
    off = _off_shift(job, tech)
    if off is not None:
        return OFF_SHIFT, off
    if tech.open_orders >= tech.capacity:
        return AT_CAPACITY, f"{tech.open_orders} open orders, capacity {tech.capacity}"
    return None


def rank(
    job: Job,
    technicians: Iterable[Technician],
    *,
    now: datetime,
    profile: SpeedProfile = SPEED_PROFILES["urban"],
    weights: Weights = Weights(),
    travel: Mapping[uuid.UUID, tuple[float, str]] | None = None,
) -> Ranking:
    """Filter and score; ``travel`` gives some technicians' travel minutes (and where
    they come from) in place of the straight-line estimate."""
    candidates: list[Candidate] = []
    excluded: list[Excluded] = []
    for tech in technicians:
        failed = exclusion(job, tech)
        if failed is not None:
            excluded.append(Excluded(tech, *failed))
            continue
        known = travel.get(tech.id) if travel else None
        distance = geodesic_m(tech, job)
        candidates.append(score(job, tech, distance, now, profile, weights, known))
    candidates.sort(key=best_first)
    return Ranking(candidates, excluded)


# The sphere of dispatch.geo.metres is within 0.6 % of the WGS84 geodesic everywhere
# (meridians near the equator: -0.56 %; near the poles: +0.45 %); bounds use 1 %.
SPHERE_ERROR = 0.01


def best(
    job: Job,
    technicians: Iterable[Technician],
    *,
    now: datetime,
    profile: SpeedProfile = SPEED_PROFILES["urban"],
    weights: Weights = Weights(),
) -> Candidate | None:
    """``rank(...).candidates[0]`` (None if nobody qualifies), with exact geodesics
    only where they can change the answer.

    A score never rises with distance, so each qualified technician's spherical
    distance ± :data:`SPHERE_ERROR` bounds their score (:func:`_score_bounds`); only
    those whose best case reaches the highest worst case are measured exactly and
    scored by :func:`score` (usually one or two). Everyone with the top score is
    among them, so the best of those, ordered as :func:`rank` orders, is the best of
    all."""
    bounds = []
    for tech in technicians:
        if exclusion(job, tech) is None:
            assert tech.lat is not None and tech.lon is not None
            near = metres(tech.lat, tech.lon, job.lat, job.lon)
            bounds.append((_score_bounds(job, tech, near, now, profile, weights), tech))
    if not bounds:
        return None
    highest_low = max(low for (low, _), _ in bounds)
    exact = [
        score(job, tech, geodesic_m(tech, job), now, profile, weights)
        for (_, high), tech in bounds
        if high >= highest_low
    ]
    return min(exact, key=best_first)


# More than :func:`score`'s rounding can move a score (five parts and the total,
# each rounded to 0.01).
_ROUNDING = 0.05


def _score_bounds(
    job: Job,
    tech: Technician,
    sphere_m: float,
    now: datetime,
    profile: SpeedProfile,
    weights: Weights,
) -> tuple[float, float]:
    """Lower and upper bounds of :func:`score`'s score for a technician
    ``sphere_m`` away on the sphere (the geodesic within :data:`SPHERE_ERROR`): the
    same parts, unrounded and without building a candidate."""
    urgent = job.sla_due_at is not None and job.sla_due_at - now <= weights.urgent_within
    per_minute = weights.travel_per_minute * (2.0 if urgent else 1.0)
    fixed = BASE - tech.open_orders * weights.per_open_order
    if tech.id in job.last_technicians:
        fixed += weights.continuity
    if job.vip and job.skills:
        above = sum(tech.skills.get(skill, 0) - needed for skill, needed in job.skills.items())
        fixed += above * weights.vip_per_level
    start = max(now, work_start(job, tech))

    def at(metres: float) -> float:
        minutes = profile.minutes(metres)
        late = job.sla_due_at is not None and start + timedelta(minutes=minutes) > job.sla_due_at
        return fixed - minutes * per_minute - (weights.sla_miss if late else 0.0)

    low = at(sphere_m * (1 + SPHERE_ERROR)) - _ROUNDING
    high = at(sphere_m * (1 - SPHERE_ERROR)) + _ROUNDING
    return low, high


def best_first(candidate: Candidate) -> tuple[float, float, str]:
    """The order of a ranking: score, then distance, then id (stable across runs)."""
    return (-candidate.score, candidate.distance_m, str(candidate.technician.id))


def geodesic_m(tech: Technician, job: Job) -> float:
    """The exact geodesic on the WGS84 ellipsoid (Karney's algorithm, the one geopy's
    ``geodesic`` runs)."""
    assert tech.lat is not None and tech.lon is not None
    return geodesic_metres(tech.lat, tech.lon, job.lat, job.lon)


def score(
    job: Job,
    tech: Technician,
    distance: float,
    now: datetime,
    profile: SpeedProfile = SPEED_PROFILES["urban"],
    weights: Weights = Weights(),
    known: tuple[float, str] | None = None,
) -> Candidate:
    """A qualified technician's score and its parts, ``distance`` metres from the job."""
    minutes, source = known if known is not None else (profile.minutes(distance), "straight_line")
    urgent = job.sla_due_at is not None and job.sla_due_at - now <= weights.urgent_within
    parts = {
        "travel": -minutes * weights.travel_per_minute * (2.0 if urgent else 1.0),
        "workload": -tech.open_orders * weights.per_open_order,
        "sla": 0.0,
        "tier": 0.0,
        "continuity": weights.continuity if tech.id in job.last_technicians else 0.0,
    }
    if (
        job.sla_due_at is not None
        and max(now, work_start(job, tech)) + timedelta(minutes=minutes) > job.sla_due_at
    ):
        parts["sla"] = -weights.sla_miss
    if job.vip and job.skills:
        above = sum(tech.skills.get(skill, 0) - needed for skill, needed in job.skills.items())
        parts["tier"] = above * weights.vip_per_level
    parts = {name: round(value, 2) for name, value in parts.items()}
    score = round(BASE + sum(parts.values()), 2)
    return Candidate(tech, score, distance, minutes, parts, source)


def work_start(job: Job, tech: Technician) -> datetime:
    """When ``tech`` could start on the job: its time, or in a requested window the start
    of their first stretch on shift long enough for it (a shift that begins mid-window
    starts the work then, not at the window's start)."""
    if job.until is None or job.until <= job.at:
        return job.at
    needed = min(job.duration, job.until - job.at)
    fit = first_fit(tech.working_hours, tech.timezone, job.at, job.until, needed)
    return fit if fit is not None else job.at


def _off_shift(job: Job, tech: Technician) -> str | None:
    """Why ``tech``'s working hours do not fit the job (see the module's docstring)."""
    if job.until is None or job.until <= job.at:
        if on_shift(tech.working_hours, tech.timezone, job.at):
            return None
        return f"not on shift at {_moment(job.at)}"
    needed = min(job.duration, job.until - job.at)
    longest = longest_on_shift(tech.working_hours, tech.timezone, job.at, job.until)
    if longest >= needed:
        return None
    window = f"{_moment(job.at)}/{_moment(job.until)}"
    if not longest:
        return f"not on shift at any time in the window {window}"
    return (
        f"on shift for at most {_minutes(longest)} min at a stretch in the window {window},"
        f" the job needs {_minutes(needed)} min"
    )


def _moment(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)


def _valid_on(certification: Mapping[str, Any], on: date) -> bool:
    expires = certification.get("expires_on")
    if not expires:
        return True  # a lifelong qualification
    try:
        return date.fromisoformat(str(expires)) >= on
    except ValueError:
        return False
