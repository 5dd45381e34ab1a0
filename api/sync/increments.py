"""Scope changes without a full membership diff, for transactions that change no structure.

Which rows a technician scope holds changes only through its orders'
assignments, their asset links, deletions and the passing of time. A
transaction that does none of those (most of them: evidence added, a status
moved on, a note, an office edit) can only

- change rows a scope already holds: each gets an upsert there;
- add children of rows a scope holds: an order's evidence, status changes and
  notes, a customer's contacts, and a technician's own conflicts and quarantine
  entries; each enters the scope with an upsert.

Both are found by looking up only the rows concerned in the stored members,
never the whole scope, so the cost of a write does not grow with the size of
its technicians' scopes. Aging out (closed orders after 7 days) waits for the
scope's next structural change, as before.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from api.db.bulk import insert_rows
from api.sync import queries
from api.sync.models import SyncScopeMember
from api.sync.pending import Key, ScopeEntry, TenantChanges
from api.sync.syncables import Syncable
from sync_protocol.entities import Table
from sync_protocol.scopes import Scope

# The parent attribute of a child row, and the table that parent is in.
_PARENT_TABLES = {"work_order_id": Table.WORK_ORDERS, "customer_id": Table.CUSTOMERS}


def parent_key(syncable: Syncable, loaded: Mapping[str, Any]) -> Key | None:
    """The row through which a new row of this kind joins a scope, if it has one."""
    for name in syncable.parents:
        table = _PARENT_TABLES.get(name)
        if table is not None and loaded.get(name) is not None:
            return table, loaded[name]
    return None


def entries(
    session: Session, tenant_id: uuid.UUID, scope: Scope, changes: TenantChanges
) -> list[ScopeEntry]:
    assert scope.subject is not None
    name = str(scope)
    # Rows inserted now are in no scope yet: only the rows changed before and the
    # parents of the new ones are looked up.
    interesting = (changes.changed - changes.added.keys()) | set(changes.added.values())
    held = queries.stored_members(session, tenant_id, name, interesting)
    entering = sorted(
        {child for child, parent in changes.added.items() if parent in held and child not in held}
        | {key for key, owner in changes.owned.items() if owner == scope.subject}
    )
    staying = sorted((changes.changed & held) - set(entering))
    if entering:
        insert_rows(  # one statement, as in capture
            session.connection(),
            SyncScopeMember,
            [
                {"tenant_id": tenant_id, "scope": name, "table_name": t.value, "row_id": r}
                for t, r in entering
            ],
        )
    return [ScopeEntry(name, t, r, "upsert") for t, r in [*entering, *staying]]
