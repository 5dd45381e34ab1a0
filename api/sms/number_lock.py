"""Taking one number's turn: the per-number limit is checked and recorded atomically.

Two workers texting the same number at once would otherwise both count the texts
already written, both find room under the limit, and both write theirs. The lock
makes the second wait until the first's transaction ends, and then count again.

- PostgreSQL: a transaction-level advisory lock keyed by tenant and number (no row
  to create first; released when the worker's transaction commits or rolls back).
  Two numbers whose keys collide merely take turns.
- SQLite: nothing to take. A writing unit of work begins ``IMMEDIATE``
  (:mod:`api.db.engine`), so the whole transaction already holds the database's
  one write lock and no other writer can count in between.
"""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

_ADVISORY = text("SELECT pg_advisory_xact_lock(:key)")


def take_turn(session: Session, tenant_id: uuid.UUID, phone: str) -> None:
    """Hold ``phone``'s turn (for ``tenant_id``) until the transaction ends."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(_ADVISORY, {"key": lock_key(tenant_id, phone)})


def lock_key(tenant_id: uuid.UUID, phone: str) -> int:
    """A signed 64-bit key (what ``pg_advisory_xact_lock`` takes) for the number."""
    digest = hashlib.sha256(f"sms-number:{tenant_id}:{phone}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
