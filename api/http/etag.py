"""Optimistic concurrency over HTTP: ``ETag`` out, ``If-Match`` in.

An ETag is the row's version number, quoted. Updates are decorated with
:func:`if_match`, which both enforces the header (428 without it) and declares it
in the OpenAPI, so the docs cannot say one thing and the endpoint do another; the
view gets the version as ``version`` and a stale one is rejected by the service
with 412. Conditional GETs (``If-None-Match``) are answered 304 by an
after-request hook in the app.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from copy import deepcopy
from typing import Any, TypeVar, overload

from flask import request

from api.errors.common import BadHeader, VersionRequired, WeakETag

F = TypeVar("F", bound=Callable[..., Any])


def etag_for(version: int) -> str:
    return f'"{version}"'


def etag_header(version: int) -> dict[str, str]:
    return {"ETag": etag_for(version)}


@overload
def if_match(view: F) -> F: ...
@overload
def if_match(*, required: bool = True) -> Callable[[F], F]: ...
def if_match(view: F | None = None, *, required: bool = True) -> Any:
    """Put above ``@blp.arguments`` on a view method: the version from ``If-Match`` is
    passed as ``version`` (an ``int``; ``None`` when optional and absent), 428 when
    ``required`` and absent, and the OpenAPI declares the header (and 412/428)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            version = _version_from_header()
            if version is None and required:
                raise VersionRequired()
            return view(*args, version=version, **kwargs)

        apidoc = deepcopy(getattr(view, "_apidoc", {}))
        apidoc["if_match"] = "required" if required else "optional"
        checked._apidoc = apidoc  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]

    return decorate(view) if view is not None else decorate


def _version_from_header() -> int | None:
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
