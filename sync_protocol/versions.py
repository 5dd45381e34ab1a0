"""Protocol and schema versions, and what a server answers a client that is too old or too new.

The *protocol* version numbers the message shapes and rules in PROTOCOL.md; the
*schema* version numbers the shape of the replicated tables (columns a row
image carries). Every request carries both. :func:`read_versions` peeks at them
before a request is parsed strictly, so a client speaking a future protocol
gets ``sync.protocol_unsupported`` rather than a confusing field error;
:func:`check_versions` decides between carrying on, refusing, and
``reset_required`` (with ``push_first`` saying whether the outbox can still be
pushed before the client discards its replica).
"""

from __future__ import annotations

from dataclasses import dataclass

from sync_protocol.errors import JSONValue, ProtocolError
from sync_protocol.records import ResetRequired
from sync_protocol.wire import ObjectReader

PROTOCOL_VERSION = 1
SUPPORTED_PROTOCOLS = frozenset({PROTOCOL_VERSION})
SCHEMA_VERSION = 1  # the newest replica schema this server serves
MIN_SCHEMA_VERSION = 1  # older replicas must re-prime
MIN_PUSH_SCHEMA_VERSION = 1  # pushes are accepted from replicas at least this new


@dataclass(frozen=True)
class Versions:
    protocol: int
    schema: int


@dataclass(frozen=True)
class ServerVersions:
    protocols: frozenset[int] = SUPPORTED_PROTOCOLS
    schema: int = SCHEMA_VERSION
    min_schema: int = MIN_SCHEMA_VERSION
    min_push_schema: int = MIN_PUSH_SCHEMA_VERSION


def read_versions(value: object) -> Versions:
    """``protocol`` and ``schema`` from a request body, ignoring everything else in it."""
    if type(value) is not dict:
        raise ProtocolError("sync.wrong_type", "Expected an object")
    wanted = ("protocol", "schema")
    reader = ObjectReader({k: value[k] for k in wanted if k in value}, "", frozenset(wanted))
    return Versions(
        reader.integer("protocol", minimum=1, maximum=1_000),
        reader.integer("schema", minimum=1, maximum=1_000_000),
    )


def check_versions(
    versions: Versions, *, pushing: bool, server: ServerVersions | None = None
) -> ResetRequired | None:
    """None to carry on; a :class:`ResetRequired` to re-prime; raises to refuse outright."""
    server = server or ServerVersions()
    if versions.protocol not in server.protocols:
        supported: list[JSONValue] = [*sorted(server.protocols)]
        raise ProtocolError(
            "sync.protocol_unsupported",
            f"Protocol {versions.protocol}; this server speaks {sorted(server.protocols)}",
            "protocol",
            extra={"supported": supported},
        )
    if versions.schema > server.schema:
        raise ProtocolError(
            "sync.schema_too_new",
            f"Schema {versions.schema}; this server has {server.schema}. Retry later.",
            "schema",
            extra={"server_schema": server.schema},
        )
    may_push = versions.schema >= server.min_push_schema
    if pushing and may_push:
        return None
    if versions.schema < server.min_schema or not may_push:
        return ResetRequired(
            "sync.schema_too_old",
            f"Schema {versions.schema} is older than {server.min_schema}",
            push_first=may_push,
            min_schema=server.min_schema,
        )
    return None
