"""The SQLite path: after a commit, events go to the stream server of that database.

SQLite has no LISTEN/NOTIFY, and in embedded mode several processes write to
one file (gunicorn's workers, the outbox worker). The stream server serving a
database file binds a datagram socket beside it (``<file>.live``); a writer, after
its commit, sends the events there in one non-blocking ``sendto`` (a missing or
busy server loses the events, never the commit: a stream that may have missed
some tells its client to re-read, see :mod:`api.live.stream.hub`). A stream server
running in the writer's own process (tests, an embedded server on a thread)
registers a sink and gets the events directly, without the socket.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from api.live.events import LiveEvent, encode

log = logging.getLogger(__name__)

Sink = Callable[[list[LiveEvent]], None]

_sinks: dict[str, Sink] = {}
_lock = threading.Lock()


class _Sender:
    """This process's one datagram socket, made on first use (after a fork)."""

    sock: socket.socket | None = None


_sender = _Sender()


def socket_path(database: str) -> Path:
    """Where the stream server of the SQLite file ``database`` listens."""
    return Path(f"{Path(database).resolve()}.live")


def register(database: str, sink: Sink) -> None:
    """Deliver this process's commits to ``database`` to ``sink`` (a stream server here)."""
    with _lock:
        _sinks[str(Path(database).resolve())] = sink


def unregister(database: str) -> None:
    with _lock:
        _sinks.pop(str(Path(database).resolve()), None)


def publish(database: str | None, events: list[LiveEvent]) -> None:
    """Hand committed events to the streams of ``database``; never raises."""
    if not database or database == ":memory:" or not events:
        return
    sink = _sinks.get(str(Path(database).resolve()))
    if sink is not None:
        sink(events)
        return
    path = socket_path(database)
    if not path.exists():
        return  # no stream server for this database: nobody is watching
    for payload in encode(events):
        _send(payload, path)


def _send(payload: bytes, path: Path) -> None:
    with _lock:
        try:
            if _sender.sock is None:
                _sender.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                _sender.sock.setblocking(False)
            _sender.sock.sendto(payload, str(path))
        except OSError as exc:  # server gone, or its buffer full: the events are lost
            log.debug("live relay could not send: %s", exc)
            if _sender.sock is not None:
                with contextlib.suppress(OSError):
                    _sender.sock.close()
            _sender.sock = None
