"""Scopes: the named slices of a tenant a device replicates, and the reassignment grace rule.

A scope is written ``technician:<uuid>`` (one technician's assigned work and what
it needs: customers, sites, contacts, assets, recent asset history, evidence)
or ``taxonomy`` (the tenant's category tree). Pull cursors and checksums are
per scope. :func:`within_grace` is the rule that keeps a reassigned order
writable for the device that still holds unsynced edits to it (PROTOCOL.md § 5.3).
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from enum import StrEnum

from sync_protocol.errors import ProtocolError
from sync_protocol.hlc import HLC
from sync_protocol.wire import read_uuid


class ScopeKind(StrEnum):
    TECHNICIAN = "technician"
    TAXONOMY = "taxonomy"


@dataclass(frozen=True, order=True)
class Scope:
    kind: ScopeKind
    subject: uuid.UUID | None = None

    def __post_init__(self) -> None:
        if (self.kind is ScopeKind.TECHNICIAN) != (self.subject is not None):
            raise ProtocolError("sync.invalid_value", "Only technician scopes name a subject")

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.subject}" if self.subject else self.kind.value

    @classmethod
    def parse(cls, text: str, field: str | None = None) -> Scope:
        return _parse(text, field)


# Every sync request names the same few scopes several times; a scope is immutable,
# and a bounded cache keeps hostile scope names from growing it (errors are not cached).
@functools.lru_cache(maxsize=4096)
def _parse(text: str, field: str | None) -> Scope:
    kind, _, subject = text.partition(":")
    if kind == ScopeKind.TAXONOMY.value and not subject and ":" not in text:
        return Scope(ScopeKind.TAXONOMY)
    if kind == ScopeKind.TECHNICIAN.value and subject:
        return Scope(ScopeKind.TECHNICIAN, read_uuid(subject, field))
    raise ProtocolError("sync.invalid_value", "Expected technician:<uuid> or taxonomy", field)


def technician_scope(technician_id: uuid.UUID) -> Scope:
    return Scope(ScopeKind.TECHNICIAN, technician_id)


TAXONOMY = Scope(ScopeKind.TAXONOMY)


def within_grace(mutation_hlc: HLC, tombstone_delivered_at: HLC | None) -> bool:
    """May a device still write to a row that has left its scope?

    Yes while the device has not been told (``tombstone_delivered_at`` is None),
    and for every mutation it made before it was told: the device's clock
    observed the ``server_time`` of the pull response that delivered the
    ``left_scope`` tombstone, so anything it stamped afterwards is later than
    that. Use the mutation's HLC as sent, not as clamped.
    """
    return tombstone_delivered_at is None or mutation_hlc < tombstone_delivered_at
