"""Sync refusals as API errors: one catalogued class per request-level sync code.

The codes and their titles live in ``sync_protocol.errors.CATALOGUE`` (shared
with the SDK); this module gives each code that can refuse a whole request
(levels *input* and *request*) an API error class of the right kind, so it is
answered as ``application/problem+json`` with the protocol's code and listed in
``docs/errors.md``. The body adds the protocol error's ``field``, an ``errors``
list naming it, and any extra members (``supported``, ``expected_seq``, …).
"""

from __future__ import annotations

from api.errors import common
from api.errors.base import BadRequest, Conflict, FieldlineError, Forbidden, InvalidInput
from api.sync.inbox import errors as _inbox  # noqa: F401 - registers the inbox's codes
from sync_protocol.errors import CATALOGUE, JSONValue, Level, ProtocolError

# HTTP kind per code; any other input code is a 422 and any other request code a 409.
_KINDS: dict[str, type[FieldlineError]] = {
    "sync.malformed_json": BadRequest,
    "sync.protocol_unsupported": BadRequest,
    "sync.device_mismatch": Forbidden,
    "sync.scope_forbidden": Forbidden,
    "sync.batch_too_large": common.PayloadTooLarge,
    "sync.body_too_large": common.PayloadTooLarge,
    "sync.blob_too_large": common.PayloadTooLarge,
    "sync.unsupported_media_type": common.UnsupportedMediaType,
    "sync.checksum_mismatch": InvalidInput,
}
_DEFAULT_KIND = {Level.INPUT: InvalidInput, Level.REQUEST: Conflict}


def _error_class(code: str, level: Level) -> type[FieldlineError]:
    info = CATALOGUE[code]
    kind = _KINDS.get(code, _DEFAULT_KIND[level])
    name = "Sync" + "".join(part.title() for part in code.removeprefix("sync.").split("_"))
    attributes = {"code": code, "titles": info.titles, "__doc__": info.en, "__module__": __name__}
    return type(name, (kind,), attributes)


REQUEST_ERRORS: dict[str, type[FieldlineError]] = {
    code: _error_class(code, info.level)
    for code, info in sorted(CATALOGUE.items())
    if info.level in (Level.INPUT, Level.REQUEST)
}


def from_protocol(error: ProtocolError) -> FieldlineError:
    """The API error for a refused request: the same code, detail, field and extras."""
    extra: dict[str, JSONValue] = dict(error.extra)
    extra["field"] = error.field
    problems: list[JSONValue] = []
    if error.field is not None:
        problems.append({"field": error.field, "code": error.code, "message": error.detail})
    extra["errors"] = problems
    return REQUEST_ERRORS[error.code](error.detail, extra=extra)
