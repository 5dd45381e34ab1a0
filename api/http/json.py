"""JSON responses written by orjson.

Flask's default provider runs the standard library's encoder, escapes every
non-ASCII character (a zh-CN title grows sixfold) and sorts keys: a tenth of
the CPU of a single work order read. :class:`OrjsonProvider` writes UTF-8 in
the order the schemas declare their fields, and leaves Flask's conversions for
the types orjson would write differently (dates as HTTP dates, as Flask does;
``Decimal``) to Flask's own ``default``. ``dumps`` (the test client's bodies)
stays with the standard library, which keeps ``NaN`` a ``NaN`` where orjson would
write ``null``; ``loads`` (request bodies) is the hostile-input guard's, which
parses with orjson and falls back to the standard library for what only it reads
(``NaN``, ``Infinity``, integers past 64 bits), so the values are the same.
"""

from __future__ import annotations

import json
from typing import Any, cast

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider

from api.http import hostile

# Flask writes dates as HTTP dates (its ``default``): keep that.
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


class OrjsonProvider(DefaultJSONProvider):
    ensure_ascii = False
    sort_keys = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Request bodies pass the hostile-input guard (NUL, lone surrogates, depth)."""
        return hostile.loads(s, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        if self._app.debug and self.compact is not False:
            return cast(Response, super().response(*args, **kwargs))  # indented, for people
        body = encode(self._prepare_response_obj(args, kwargs))
        return cast(Response, self._app.response_class(body, mimetype=self.mimetype))  # type: ignore[arg-type]


def encode(obj: Any) -> bytes:
    """``obj`` as compact UTF-8 JSON with a final newline, as ``jsonify`` writes it."""
    try:
        return orjson.dumps(
            obj, default=DefaultJSONProvider.default, option=_OPTIONS | orjson.OPT_APPEND_NEWLINE
        )
    except TypeError:  # what only the standard library writes: integers beyond 64 bits
        text = json.dumps(
            obj, default=DefaultJSONProvider.default, ensure_ascii=False, separators=(",", ":")
        )
        return f"{text}\n".encode()
