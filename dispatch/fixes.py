"""GPS fixes: which of a device's batch are kept, and where the technician is now.

Devices buffer fixes while offline and send them in batches, late, out of order
and sometimes twice. :func:`admit` decides, for one batch, fix by fix:

- **invalid** (``location.invalid_fix``): latitude outside ±90, longitude outside
  ±180, NaN or infinity anywhere, a negative accuracy;
- **in the future** (``location.fix_in_future``): more than :data:`FUTURE_SKEW`
  past the server's clock (a device clock set wrong);
- **too old** (``location.fix_too_old``): before the device was first seen, or
  older than the retention window (it would be purged at once);
- **inaccurate** (``location.inaccurate``): accuracy worse than the limit;
- **implausible** (``location.implausible_speed``): reaching it from the kept fix
  just before it (in fix time, stored or in this batch) needs more than the speed
  limit: the classic GPS jump;
- **off duty** (``location.off_duty``): neither on shift nor on an active job at
  the fix's time (privacy: :mod:`dispatch.shifts` says when);
- **duplicate**: the same device already sent a fix with this time. Not an error:
  a resent batch is answered as if it were new, and nothing is stored twice.

Everything else is kept. Rejections are per fix: the good fixes of a batch are
kept whatever the bad ones are.

The current position only moves forward in fix time (:func:`advances`): a late
batch of old fixes fills in the trail but never moves the technician back to
where they were this morning.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dispatch.geo import EARTH_RADIUS_M
from dispatch.geo import metres as ground_metres

FUTURE_SKEW = timedelta(minutes=5)
MAX_BATCH = 1000


@dataclass(frozen=True)
class Fix:
    """One position report. Times are UTC and timezone-aware."""

    fixed_at: datetime
    lat: float
    lon: float
    accuracy_m: float | None = None
    speed_mps: float | None = None
    heading_deg: float | None = None
    altitude_m: float | None = None


@dataclass(frozen=True)
class Rules:
    """A tenant's admission rules."""

    max_accuracy_m: float = 150.0
    max_speed_mps: float = 70.0  # 252 km/h: faster than any service van
    retention: timedelta = timedelta(days=90)


@dataclass(frozen=True)
class Rejection:
    index: int
    code: str
    detail: str


@dataclass
class Admission:
    """What to store (in fix-time order), what was a resend, and what was refused."""

    kept: list[Fix] = field(default_factory=list)
    kept_indexes: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def newest(self) -> Fix | None:
        return self.kept[-1] if self.kept else None


# The kept fix just before a time, if any (from storage); and whether a time is on duty.
PreviousFix = Callable[[datetime], Fix | None]
OnDuty = Callable[[datetime], bool]


def admit(
    fixes: Sequence[Fix],
    *,
    now: datetime,
    first_seen: datetime,
    known_times: Iterable[datetime],
    previous: PreviousFix,
    on_duty: OnDuty,
    rules: Rules = Rules(),
) -> Admission:
    """Decide a batch. ``known_times`` are the device's stored fix times within the
    batch's span (duplicates); ``previous`` finds the stored fix before a time.

    A thousand fixes a batch: the loops are written out (no call per fix for the
    common case of a good fix), with the same rules as :func:`_refusal` and
    :func:`implied_speed`."""
    admission = Admission()
    rejected = admission.rejected
    seen = set(known_times)
    floor = max(first_seen, now - rules.retention)
    latest = now + FUTURE_SKEW
    worst = rules.max_accuracy_m
    candidates: list[tuple[int, Fix]] = []
    for index, fix in enumerate(fixes):
        at, accuracy = fix.fixed_at, fix.accuracy_m
        speed, heading, altitude = fix.speed_mps, fix.heading_deg, fix.altitude_m
        # Every refusal's condition, negated (NaN fails each comparison, infinity the
        # ranges; ``x - x == 0`` only for a finite x); any doubt goes to _refusal.
        plain = (
            -90.0 <= fix.lat <= 90.0
            and -180.0 <= fix.lon <= 180.0
            and floor <= at <= latest
            and (accuracy is None or 0.0 <= accuracy <= worst)
            and (speed is None or speed - speed == 0.0)
            and (heading is None or heading - heading == 0.0)
            and (altitude is None or altitude - altitude == 0.0)
        )
        if not plain:
            refusal = _refusal(fix, now=now, floor=floor, rules=rules)
            if refusal is not None:
                rejected.append(Rejection(index, *refusal))
                continue
        if at in seen:
            admission.duplicates.append(index)
        else:
            seen.add(at)
            candidates.append((index, fix))
    candidates.sort(key=_time_of_candidate)
    limit = rules.max_speed_mps
    kept, kept_indexes = admission.kept, admission.kept_indexes
    last: Fix | None = None
    for index, fix in candidates:
        at = fix.fixed_at
        before = previous(at)  # stored, just before it
        if last is not None and (before is None or last.fixed_at > before.fixed_at):
            before = last
        if before is not None:
            # implied_speed, written out
            seconds = (at - before.fixed_at).total_seconds()
            p1, p2 = before.lat * _RADIANS, fix.lat * _RADIANS
            half_dp = (p2 - p1) * 0.5
            half_dl = (fix.lon - before.lon) * _RADIANS * 0.5
            h = _sin(half_dp) ** 2 + _cos(p1) * _cos(p2) * _sin(half_dl) ** 2
            metres = _DIAMETER_M * _asin(_sqrt(h) if h < 1.0 else 1.0)
            metres -= (before.accuracy_m or 0.0) + (fix.accuracy_m or 0.0)
            if metres > 0.0 and (seconds <= 0.0 or metres / seconds > limit):
                speed = math.inf if seconds <= 0.0 else metres / seconds
                rejected.append(
                    Rejection(
                        index,
                        "location.implausible_speed",
                        f"reaching it from the fix before needs {speed * 3.6:.0f} km/h",
                    )
                )
                continue
        if not on_duty(at):
            rejected.append(
                Rejection(index, "location.off_duty", "neither on shift nor on an active job")
            )
            continue
        kept.append(fix)
        kept_indexes.append(index)
        last = fix
    rejected.sort(key=lambda rejection: rejection.index)
    return admission


def _time_of_candidate(candidate: tuple[int, Fix]) -> datetime:
    return candidate[1].fixed_at


_RADIANS = math.pi / 180.0
_DIAMETER_M = 2 * EARTH_RADIUS_M
_sin, _cos, _asin, _sqrt = math.sin, math.cos, math.asin, math.sqrt


_FIELDS = frozenset(
    {"fixed_at", "lat", "lon", "accuracy_m", "speed_mps", "heading_deg", "altitude_m"}
)
_OPTIONAL = ("accuracy_m", "speed_mps", "heading_deg", "altitude_m")
_MAX_TIME_TEXT = 40


def parse_fix(item: Any) -> Fix | str:
    """A fix as sent on the wire (PROTOCOL.md § 10.1), or why it cannot be read.

    A batch carries up to a thousand fixes and each is read alone (one bad fix
    must not sink the batch), so this is a plain function, not a schema: it costs
    a few microseconds a fix. Ranges are :func:`admit`'s business."""
    if type(item) is dict:
        # The common case first, no call per field: known names, floats or nulls.
        get = item.get
        stamp, lat, lon = get("fixed_at"), get("lat"), get("lon")
        accuracy, speed = get("accuracy_m"), get("speed_mps")
        heading, altitude = get("heading_deg"), get("altitude_m")
        if (
            type(stamp) is str
            and type(lat) is float
            and type(lon) is float
            and type(accuracy) in _FLOAT_OR_NULL
            and type(speed) in _FLOAT_OR_NULL
            and type(altitude) in _FLOAT_OR_NULL
            and (heading is None or (type(heading) is float and 0.0 <= heading <= 360.0))
            and len(stamp) <= _MAX_TIME_TEXT
            and item.keys() <= _FIELDS
        ):
            try:
                at = datetime.fromisoformat(stamp)
            except ValueError:
                return "fixed_at: not an RFC 3339 time"
            if at.tzinfo is not None:
                return Fix(at.astimezone(UTC), lat, lon, accuracy, speed, heading, altitude)
    return _parse_fix_field_by_field(item)


_FLOAT_OR_NULL = frozenset({float, type(None)})


def _parse_fix_field_by_field(item: Any) -> Fix | str:
    if not isinstance(item, dict):
        return "a fix is a JSON object"
    unknown = item.keys() - _FIELDS
    if unknown:
        return f"{sorted(map(str, unknown))[0]}: unknown field"
    stamp = item.get("fixed_at")
    if not isinstance(stamp, str) or len(stamp) > _MAX_TIME_TEXT:
        return "fixed_at: an RFC 3339 time is required"
    try:
        at = datetime.fromisoformat(stamp)
    except ValueError:
        return "fixed_at: not an RFC 3339 time"
    if at.tzinfo is None:
        return "fixed_at: the time needs a zone (Z or an offset)"
    lat, lon = _number(item.get("lat")), _number(item.get("lon"))
    if lat is None:
        return "lat: a number is required"
    if lon is None:
        return "lon: a number is required"
    optional: list[float | None] = []
    for name in _OPTIONAL:
        value = item.get(name)
        number = None if value is None else _number(value)
        if value is not None and number is None:
            return f"{name}: a number is required"
        optional.append(number)
    accuracy, speed, heading, altitude = optional
    if heading is not None and not 0.0 <= heading <= 360.0:
        return "heading_deg: between 0 and 360"
    return Fix(at.astimezone(UTC), lat, lon, accuracy, speed, heading, altitude)


def _number(value: Any) -> float | None:
    """A JSON number as a float (not a boolean); None for anything else."""
    if type(value) is float:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def implied_speed(before: Fix | None, fix: Fix) -> float | None:
    """Metres per second needed to go from ``before`` to ``fix``; None without a
    fix before. Each fix's own accuracy is forgiven first, so two noisy fixes a
    second apart do not look like a jump."""
    if before is None:
        return None
    seconds = (fix.fixed_at - before.fixed_at).total_seconds()
    metres = ground_metres(before.lat, before.lon, fix.lat, fix.lon)
    slack = (before.accuracy_m or 0.0) + (fix.accuracy_m or 0.0)
    metres = max(0.0, metres - slack)
    if seconds <= 0:
        return math.inf if metres > 0 else 0.0
    return metres / seconds


def advances(current: datetime | None, candidate: Fix | None) -> bool:
    """Whether ``candidate`` becomes the current position: only a newer fix does."""
    return candidate is not None and (current is None or candidate.fixed_at > current)


def _refusal(fix: Fix, *, now: datetime, floor: datetime, rules: Rules) -> tuple[str, str] | None:
    numbers = (fix.lat, fix.lon, fix.accuracy_m, fix.speed_mps, fix.heading_deg, fix.altitude_m)
    if any(value is not None and not math.isfinite(value) for value in numbers):
        return "location.invalid_fix", "NaN or infinity is not a position"
    if not -90.0 <= fix.lat <= 90.0:
        return "location.invalid_fix", f"latitude {fix.lat} is outside -90..90"
    if not -180.0 <= fix.lon <= 180.0:
        return "location.invalid_fix", f"longitude {fix.lon} is outside -180..180"
    if fix.accuracy_m is not None and fix.accuracy_m < 0:
        return "location.invalid_fix", "accuracy cannot be negative"
    if fix.fixed_at > now + FUTURE_SKEW:
        return "location.fix_in_future", "the fix is later than the server's clock"
    if fix.fixed_at < floor:
        return "location.fix_too_old", "the fix is older than the device or the retention window"
    if fix.accuracy_m is not None and fix.accuracy_m > rules.max_accuracy_m:
        return (
            "location.inaccurate",
            f"accuracy {fix.accuracy_m:.0f} m is worse than {rules.max_accuracy_m:.0f} m",
        )
    return None
