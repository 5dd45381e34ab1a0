"""A fault-injecting network for SDK devices: the link a chaos test puts under every device.

:class:`ChaosTransport` wraps :class:`httpx.HTTPTransport` and, while the shared
:class:`FaultSwitch` is on, draws one fault per sync request (``/v1/sync/…``)
from a seeded RNG, so a failing run can be replayed from its seed:

- ``drop``: the request never leaves (``httpx.ConnectError``);
- ``lose``: the server processes it, the answer is read and then lost
  (``httpx.ReadError``), the case exactly-once exists for (§ 16.2);
- ``duplicate``: the same request is delivered twice, the copy from another
  thread at the same moment (the server locks the device row, so one of them is
  a replay);
- ``replay``: an earlier request of this device is delivered again, late, before
  the current one (a stale retransmission overtaking newer traffic);
- ``delay``: a few milliseconds of latency, so concurrent devices' requests reorder;
- ``crash``: the app dies inside the sync call (:class:`DeviceCrash`, not a network
  error the SDK would handle), before sending or after the server processed it.

Authentication requests are left alone: a lost answer to a refresh-token
rotation revokes the session by design (a refresh token works once), which is a
different test. Every injected fault is counted in a :class:`FaultLedger`.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import httpx

FAULT_KINDS = ("drop", "lose", "duplicate", "replay", "delay", "crash")
STASH = 8  # earlier requests a device may see re-delivered


class DeviceCrash(Exception):
    """The app process died in the middle of a sync; its device must be reopened from disk."""


@dataclass(frozen=True)
class FaultRates:
    """Probability of each fault per sync request (at most one fault per request)."""

    drop: float = 0.06
    lose: float = 0.06
    duplicate: float = 0.05
    replay: float = 0.05
    delay: float = 0.15
    crash: float = 0.02

    def pick(self, roll: float) -> str | None:
        edge = 0.0
        for kind in FAULT_KINDS:
            edge += getattr(self, kind)
            if roll < edge:
                return kind
        return None


class FaultSwitch:
    """Faults on or off for every device at once (off for set-up and quiescence)."""

    def __init__(self) -> None:
        self._on = threading.Event()

    def on(self) -> None:
        self._on.set()

    def off(self) -> None:
        self._on.clear()

    @property
    def enabled(self) -> bool:
        return self._on.is_set()


@dataclass
class FaultLedger:
    """Thread-safe counts of injected faults (and of real network errors seen)."""

    counts: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, n: int = 1) -> None:
        with self._lock:
            self.counts[kind] += n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {kind: self.counts.get(kind, 0) for kind in FAULT_KINDS}


@dataclass
class FaultInjector:
    """One device's source of faults: its RNG and the requests it sent before.

    It outlives the device's :class:`ChaosTransport` (a crashed app reopens with a
    new client, but its old packets may still be in flight)."""

    rng: random.Random
    rates: FaultRates
    switch: FaultSwitch
    ledger: FaultLedger
    sent: list[httpx.Request] = field(default_factory=list)

    def transport(self) -> ChaosTransport:
        return ChaosTransport(self)


class ChaosTransport(httpx.BaseTransport):
    """An ``httpx`` transport that drops, loses, duplicates, replays and delays requests."""

    def __init__(self, injector: FaultInjector) -> None:
        self.injector = injector
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        injector = self.injector
        if not injector.switch.enabled or not request.url.path.startswith("/v1/sync/"):
            return self.inner.handle_request(request)
        request.read()  # the body is resent by duplicates and replays
        kind = injector.rates.pick(injector.rng.random())
        if kind is not None:
            injector.ledger.add(kind)
        stale = injector.rng.choice(injector.sent) if injector.sent else None
        self._remember(request)
        if kind == "drop":
            raise httpx.ConnectError("chaos: dropped before sending", request=request)
        if kind == "crash" and injector.rng.random() < 0.5:
            raise DeviceCrash("chaos: the app died before sending")
        if kind == "delay":
            time.sleep(injector.rng.uniform(0.001, 0.02))
        if kind == "replay" and stale is not None:
            self._deliver_quietly(stale)
        if kind == "duplicate":
            with self._concurrently(request):
                response = self._send(request)
        else:
            response = self._send(request)
        if kind == "lose":
            raise httpx.ReadError(
                "chaos: answer lost after the server processed it", request=request
            )
        if kind == "crash":
            raise DeviceCrash("chaos: the app died after the server processed the request")
        return response

    def close(self) -> None:
        self.inner.close()

    # --- internals --------------------------------------------------------------------

    def _send(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()  # so a fault after this point really follows the server's work
        return response

    def _remember(self, request: httpx.Request) -> None:
        sent = self.injector.sent
        sent.append(_copy(request))
        del sent[:-STASH]

    def _deliver_quietly(self, request: httpx.Request) -> None:
        """Deliver a copy and throw the answer away; the network may be down (a restart)."""
        with suppress(httpx.TransportError):
            self._send(_copy(request)).close()

    @contextmanager
    def _concurrently(self, request: httpx.Request) -> Iterator[None]:
        copy = _copy(request)
        thread = threading.Thread(target=self._deliver_quietly, args=(copy,), daemon=True)
        thread.start()
        try:
            yield
        finally:
            thread.join(timeout=60)


def _copy(request: httpx.Request) -> httpx.Request:
    return httpx.Request(
        request.method, request.url, headers=request.headers, content=request.content
    )
