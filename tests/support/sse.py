"""A small blocking Server-Sent Events client for tests (what a browser's EventSource does)."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    kind: str
    data: Any
    id: str | None


class EventStream:
    """``GET path`` on the stream server; the events as they come, each wait bounded."""

    def __init__(
        self, port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 10
    ) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.connection.request("GET", path, headers=headers or {})
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.last_id: str | None = None
        self.comments = 0

    def problem(self) -> dict[str, Any]:
        assert self.response.getheader("Content-Type", "").startswith("application/problem+json")
        body: dict[str, Any] = json.loads(self.response.read())
        return body

    def next(self, timeout: float = 10) -> Event | None:
        """The next event; None when the server ended the stream."""
        self._sock_timeout(timeout)
        kind, data, event_id = "message", [], None
        while True:
            line = self.response.readline()
            if not line:
                return None
            text = line.decode().rstrip("\r\n")
            if not text:
                if data:
                    if event_id is not None:
                        self.last_id = event_id
                    return Event(kind, json.loads("\n".join(data)), event_id)
                kind, event_id = "message", None
                continue
            field, _, value = text.partition(":")
            value = value.removeprefix(" ")
            if field == "":
                self.comments += 1
            elif field == "event":
                kind = value
            elif field == "data":
                data.append(value)
            elif field == "id":
                event_id = value

    def until(self, wanted: Callable[[Event], bool], timeout: float = 10) -> Event:
        """The first event that ``wanted`` accepts (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no such event in time")
            event = self.next(left)
            if event is None:
                raise EOFError("the stream ended")
            if wanted(event):
                return event

    def kinds_until(self, kind: str, timeout: float = 10) -> list[Event]:
        """Every event up to and including the first of ``kind``."""
        seen: list[Event] = []
        deadline = time.monotonic() + timeout
        while True:
            event = self.next(max(deadline - time.monotonic(), 0.01))
            if event is None:
                raise EOFError(f"the stream ended before {kind}: {seen}")
            seen.append(event)
            if event.kind == kind:
                return seen

    def ended(self, timeout: float = 10) -> bool:
        """True once the server closes the stream (events before that are skipped)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.next(deadline - time.monotonic()) is None:
                    return True
            except TimeoutError:
                return False
        return False

    def close(self) -> None:
        self.connection.close()

    def _sock_timeout(self, timeout: float) -> None:
        sock = self.connection.sock
        if sock is not None:
            sock.settimeout(max(timeout, 0.01))

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
