"""What a transaction has changed, as change capture collects it, and the entries it makes.

:class:`TenantChanges` is filled by the session events of :mod:`api.sync.capture`
as rows are flushed, and turned into :class:`ScopeEntry` rows of the change log
at commit, either by a full membership diff of each touched scope or, when
nothing structural changed, incrementally (:mod:`api.sync.increments`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sync_protocol.entities import Table, TombstoneReason

Key = tuple[Table, uuid.UUID]


@dataclass
class TenantChanges:
    changed: set[Key] = field(default_factory=set)
    deleted: set[Key] = field(default_factory=set)
    anchors: set[uuid.UUID] = field(default_factory=set)  # rows whose holders are touched
    assignees: set[uuid.UUID] = field(default_factory=set)
    # Inserted rows that join a scope through a parent row the scope holds (an
    # order's evidence, a customer's contacts), by the parent's key; or, for a
    # technician's conflicts and quarantine entries, through the technician.
    added: dict[Key, Key] = field(default_factory=dict)
    owned: dict[Key, uuid.UUID] = field(default_factory=dict)
    # Something that can change which rows a scope holds (an assignment, asset
    # links, a deletion): every touched scope gets a full membership diff.
    structural: bool = False


@dataclass(frozen=True)
class ScopeEntry:
    scope: str
    table: Table
    row_id: uuid.UUID
    op: str
    reason: TombstoneReason | None = None
