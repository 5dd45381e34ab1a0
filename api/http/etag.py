"""Optimistic concurrency over HTTP: ``ETag`` out, ``If-Match`` in.

An ETag is the row's version number, quoted. Updates must send ``If-Match``
(428 without it); a stale one is rejected by the service with 412. Conditional
GETs (``If-None-Match``) are answered 304 by an after-request hook in the app.
"""

from __future__ import annotations

from flask import request

from api.errors.common import BadHeader, VersionRequired, WeakETag


def etag_for(version: int) -> str:
    return f'"{version}"'


def etag_header(version: int) -> dict[str, str]:
    return {"ETag": etag_for(version)}


def required_version() -> int:
    """The version the client last read, from ``If-Match``; 428 if missing."""
    version = optional_version()
    if version is None:
        raise VersionRequired()
    return version


def optional_version() -> int | None:
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    value = raw.strip()
    if value.startswith("W/"):
        # RFC 9110 § 13.1.1: If-Match uses the strong comparison; a weak tag never matches.
        raise WeakETag()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not value.isdigit():
        raise BadHeader('If-Match must be an ETag this API returned, such as "3"')
    return int(value)
