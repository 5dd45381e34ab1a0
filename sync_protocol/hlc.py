"""Hybrid logical clocks (Kulkarni et al., 2014): the timestamps that order field writes.

An :class:`HLC` is ``(wall_ms, counter, node)``: physical milliseconds, a counter
that breaks ties inside one millisecond, and the writer's node ID, so two writes
never compare equal and every replica orders them the same way. Its string form
(``001718236800000-00003-<node>``) sorts lexicographically in the same order.
:class:`Clock` issues them (:meth:`Clock.now`) and folds in those it receives
(:meth:`Clock.observe`), refusing remote times too far in its future so one
broken phone cannot drag the server's clock forward. :func:`admit` is the
server's policy for a mutation's timestamp (accept, or clamp and warn), and
:func:`estimate_skew` turns per-request samples into a per-device verdict.
:func:`field_time` says when a device's write happened, in the server's time,
for people to read (status history, actuals, evidence).
Device clocks never order *changes* on the server; that is the change sequence.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sync_protocol.errors import ProtocolError

MAX_WALL_MS = 10**15 - 1  # 15 decimal digits: past the year 30000
MAX_COUNTER = 99_999  # 5 decimal digits; on overflow the wall time borrows 1 ms
MAX_NODE_LEN = 64

# A mutation stamped up to this far ahead of the server's receive time is taken as is.
CLOCK_TOLERANCE_MS = 60_000
# Further ahead than this is not drift but a wrong date: still clamped, and flagged.
CLOCK_WRONG_MS = 86_400_000
SKEW_SAMPLES = 5
# A skew estimate this small is network delay, not a wrong clock: field times ignore it.
SKEW_NOISE_MS = 5_000

_NODE = re.compile(r"[0-9A-Za-z._-]{1,64}", re.ASCII)
_TEXT = re.compile(r"([0-9]{15})-([0-9]{5})-([0-9A-Za-z._-]{1,64})", re.ASCII)

PhysicalClock = Callable[[], int]


def system_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, order=True)
class HLC:
    """A point in hybrid logical time; dataclass order is the protocol's total order."""

    wall_ms: int
    counter: int
    node: str

    def __post_init__(self) -> None:
        if not 0 <= self.wall_ms <= MAX_WALL_MS:
            raise ProtocolError("sync.invalid_hlc", "wall_ms out of range")
        if not 0 <= self.counter <= MAX_COUNTER:
            raise ProtocolError("sync.invalid_hlc", "counter out of range")
        if _NODE.fullmatch(self.node) is None:
            raise ProtocolError("sync.invalid_hlc", "node must be 1-64 of [0-9A-Za-z._-]")

    def __str__(self) -> str:
        return f"{self.wall_ms:015d}-{self.counter:05d}-{self.node}"

    @classmethod
    def parse(cls, text: str, field: str | None = None) -> HLC:
        """The inverse of ``str()``; anything else is ``sync.invalid_hlc``."""
        match = _TEXT.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise ProtocolError(
                "sync.invalid_hlc", "Expected <15-digit ms>-<5-digit counter>-<node>", field
            )
        return cls(int(match.group(1)), int(match.group(2)), match.group(3))

    def successor(self) -> HLC:
        """The smallest HLC of the same node that is greater than this one."""
        if self.counter < MAX_COUNTER:
            return HLC(self.wall_ms, self.counter + 1, self.node)
        return HLC(self.wall_ms + 1, 0, self.node)


class Clock:
    """One node's HLC. Not thread-safe: give each writer its own, or guard it."""

    def __init__(
        self,
        node: str,
        physical: PhysicalClock = system_ms,
        *,
        max_drift_ms: int | None = CLOCK_TOLERANCE_MS,
        last: HLC | None = None,
    ) -> None:
        self.node = node
        self._physical = physical
        self._max_drift_ms = max_drift_ms
        self._wall = last.wall_ms if last else 0
        self._counter = last.counter if last else 0
        HLC(0, 0, node)  # validates the node ID up front

    @property
    def last(self) -> HLC:
        return HLC(self._wall, self._counter, self.node)

    def now(self) -> HLC:
        """A timestamp for a local event or a message about to be sent."""
        physical = self._physical()
        if physical > self._wall:
            self._wall, self._counter = physical, 0
        else:
            self._tick()
        return self.last

    def observe(self, remote: HLC) -> HLC:
        """Fold in a received timestamp; the result is after both it and everything local.

        Raises ``sync.hlc_too_far_ahead`` (and changes nothing) when ``remote`` is more
        than ``max_drift_ms`` ahead of this node's physical clock.
        """
        physical = self._physical()
        if self._max_drift_ms is not None and remote.wall_ms - physical > self._max_drift_ms:
            raise ProtocolError(
                "sync.hlc_too_far_ahead",
                f"Remote time is {remote.wall_ms - physical} ms ahead",
                extra={"ahead_ms": remote.wall_ms - physical},
            )
        wall = max(self._wall, remote.wall_ms, physical)
        if wall == self._wall == remote.wall_ms:
            self._counter = max(self._counter, remote.counter)
            self._tick()
        elif wall == self._wall:
            self._tick()
        elif wall == remote.wall_ms:
            self._wall, self._counter = wall, remote.counter
            self._tick()
        else:
            self._wall, self._counter = wall, 0
        return self.last

    def _tick(self) -> None:
        if self._counter < MAX_COUNTER:
            self._counter += 1
        else:
            self._wall, self._counter = self._wall + 1, 0


@dataclass(frozen=True)
class Admission:
    """The timestamp the server will merge with, and why it differs from the one sent."""

    effective: HLC
    warnings: tuple[str, ...] = ()

    @property
    def clamped(self) -> bool:
        return bool(self.warnings)


def admit(hlc: HLC, receive_ms: int, previous: HLC | None = None) -> Admission:
    """The server's policy for a mutation's HLC (PROTOCOL.md § 7.3).

    Up to :data:`CLOCK_TOLERANCE_MS` ahead of ``receive_ms`` it is used as sent.
    Further ahead it is clamped to ``receive_ms + CLOCK_TOLERANCE_MS`` (same node),
    with ``sync.hlc_clamped``, plus ``sync.hlc_too_far_ahead`` past a day: data
    is never refused for a wrong clock, but a wrong clock cannot win merges for
    hours. ``previous`` is the device's last effective HLC: results stay strictly
    increasing per device even when several clamp to the same ceiling.
    """
    ahead = hlc.wall_ms - receive_ms
    effective, warnings = hlc, tuple[str, ...]()
    if ahead > CLOCK_TOLERANCE_MS:
        effective = HLC(receive_ms + CLOCK_TOLERANCE_MS, 0, hlc.node)
        warnings = ("sync.hlc_clamped",)
        if ahead > CLOCK_WRONG_MS:
            warnings = ("sync.hlc_clamped", "sync.hlc_too_far_ahead")
    if previous is not None and previous.node == hlc.node and effective <= previous:
        effective = previous.successor()
    return Admission(effective, warnings)


class ClockVerdict(StrEnum):
    OK = "ok"  # within the tolerance
    SKEWED = "skewed"  # off by more than the tolerance: its writes get clamped
    WRONG = "wrong"  # off by more than a day: the date is wrong; tell the technician


@dataclass(frozen=True)
class SkewEstimate:
    skew_ms: int  # device minus server; positive when the device runs ahead
    samples: int
    verdict: ClockVerdict


def skew_sample(device_ms: int, server_receive_ms: int) -> int:
    """One observation. Network delay biases it negative by the one-way latency."""
    return device_ms - server_receive_ms


def estimate_skew(samples: Sequence[int]) -> SkewEstimate:
    """The lower median of the last :data:`SKEW_SAMPLES` samples (robust to one slow request)."""
    recent = sorted(samples[-SKEW_SAMPLES:])
    if not recent:
        return SkewEstimate(0, 0, ClockVerdict.OK)
    skew = recent[(len(recent) - 1) // 2]
    if abs(skew) > CLOCK_WRONG_MS:
        verdict = ClockVerdict.WRONG
    elif abs(skew) > CLOCK_TOLERANCE_MS:
        verdict = ClockVerdict.SKEWED
    else:
        verdict = ClockVerdict.OK
    return SkewEstimate(skew, len(recent), verdict)


def field_time(sent: HLC, receive_ms: int, *, skew_ms: int = 0, floor_ms: int | None = None) -> int:
    """When a device's write happened, in server milliseconds (PROTOCOL.md § 7.3).

    The HLC's physical part *as sent*, less the device's estimated skew (only
    beyond :data:`SKEW_NOISE_MS`: below that the estimate is network delay),
    then bounded: never after ``receive_ms`` (the server had it by then), and
    never before ``floor_ms`` when one is given (the step the device acted on,
    which it cannot have seen before it happened). A floor after ``receive_ms``
    cannot hold and yields ``receive_ms``. Merges never read this: they order
    by the effective HLC of :func:`admit`.
    """
    ms = sent.wall_ms - skew_ms if abs(skew_ms) > SKEW_NOISE_MS else sent.wall_ms
    ms = min(ms, receive_ms)
    if floor_ms is not None:
        ms = max(ms, min(floor_ms, receive_ms))
    return ms
