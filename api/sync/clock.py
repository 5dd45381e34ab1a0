"""The server's hybrid logical clock, one per process (PROTOCOL.md § 3.4, § 7.3).

Every response's ``server_time`` and every online write's field stamp come from
here. The clock observes each admitted device HLC, so a device that stamped its
writes slightly ahead never sees the server stamp something earlier afterwards;
admission (§ 7.3) keeps that at most a minute ahead of real time.
"""

from __future__ import annotations

import threading

from sync_protocol.hlc import HLC, Clock

_clock = Clock("server")
_lock = threading.Lock()


def now() -> HLC:
    with _lock:
        return _clock.now()


def observe(remote: HLC) -> HLC:
    """Move past ``remote`` (an admitted, hence bounded, device HLC)."""
    with _lock:
        return _clock.observe(remote)
