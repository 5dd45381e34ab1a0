"""Where a browser opens the streams, from ``FIELDLINE_LIVE_URL`` and the page's address."""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_PATH = "/live"


def live_base(configured: str, scheme: str, host: str) -> str:
    """The streams' base URL as seen by a browser that reached us at ``scheme://host``:
    ``""`` → ``/live`` on that origin; ``":8001/live"`` → that host on port 8001; a full
    URL as it is."""
    if not configured:
        return f"{scheme}://{host}{DEFAULT_PATH}"
    if configured.startswith(":"):
        hostname = urlsplit(f"{scheme}://{host}").hostname or "localhost"
        if ":" in hostname:
            hostname = f"[{hostname}]"  # an IPv6 literal
        return f"{scheme}://{hostname}{configured}".rstrip("/")
    return configured.rstrip("/")


def live_origin(configured: str, scheme: str, host: str) -> str | None:
    """The streams' origin when it is not the page's own (for ``connect-src``)."""
    base = urlsplit(live_base(configured, scheme, host))
    origin = f"{base.scheme}://{base.netloc}"
    return None if origin == f"{scheme}://{host}" else origin
