"""Server-Sent Events framing (the WHATWG ``text/event-stream`` format)."""

from __future__ import annotations

from typing import Any

import orjson

HEARTBEAT = b": keep-alive\n\n"


def frame(event: str, data: Any, event_id: str | None = None) -> bytes:
    """One event; ``data`` is sent as one line of JSON (JSON never needs a newline)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"


def retry(milliseconds: int) -> bytes:
    """How long a browser waits before it reconnects on its own."""
    return f"retry: {milliseconds}\n\n".encode()
