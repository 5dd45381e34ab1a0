"""One hook for every writer: rows of interest a transaction wrote become events at commit.

``after_flush`` looks at what the session flushed (a dictionary lookup per object,
nothing more for tables nobody watches) and keeps one event per row and kind.
Writes that bypass the ORM (the current-position upsert, the sync push's queued
evidence) call :func:`note`. The events leave only with a successful commit:

- PostgreSQL: ``pg_notify('fieldline_live', …)`` runs just before ``COMMIT``,
  inside the transaction, so the database delivers it exactly when the change is
  visible, and never for a rollback;
- SQLite: :func:`api.live.relay.publish` after the commit.

A savepoint's rollback is not undone here: at worst a stream is told of a row
that did not change, and a console re-reads what it already has.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.orm import Session

from api.audit.changes import jsonable
from api.live import relay
from api.live.events import LiveEvent, encode

CHANNEL = "fieldline_live"
_PENDING = "fieldline_live_pending"

# Table -> kind. Evidence of every sort is one kind: a console re-reads the order.
KINDS = {
    "work_orders": "work_order",
    "work_order_photos": "evidence",
    "work_order_parts": "evidence",
    "work_order_readings": "evidence",
    "work_order_notes": "evidence",
    "work_order_time_entries": "evidence",
    "work_order_signoffs": "signoff",
    "work_order_visits": "visit",
    "work_order_slas": "sla",
    "sealed_reports": "report",
    "work_order_ratings": "rating",
    "tracking_links": "tracking_link",
    "sync_conflicts": "conflict",
    "sync_quarantine": "quarantine",
    "sync_devices": "device",
}
# The few facts of a row that travel with its event (small, and no more than any
# reader of the console stream may see anyway).
_FACTS: dict[str, tuple[str, ...]] = {
    "work_orders": ("status", "assignee_id", "priority"),
    "sync_conflicts": ("state",),
    "sync_quarantine": ("state",),
}


def install() -> None:
    """Listen on every Session (idempotent)."""
    if not event.contains(Session, "after_flush", _collect):
        event.listen(Session, "after_flush", _collect)
        event.listen(Session, "before_commit", _notify_in_transaction)
        event.listen(Session, "after_commit", _publish_after_commit)
        event.listen(Session, "after_transaction_end", _forget)


def note(session: Session, live_event: LiveEvent) -> None:
    """Tell the streams of a write the ORM did not see, when the transaction commits."""
    _pending(session)[live_event.key] = live_event


def note_row(session: Session, table: str, row: dict[str, Any]) -> None:
    """:func:`note` for a row written without an ORM object (a bulk insert's row)."""
    found = _event_of(table, row)
    if found is not None:
        note(session, found)


def _pending(session: Session) -> dict[tuple[str, uuid.UUID], LiveEvent]:
    return session.info.setdefault(_PENDING, {})  # type: ignore[no-any-return]


def _collect(session: Session, _context: Any) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table in KINDS:
            # What the session holds: loading an expired attribute here would query.
            found = _event_of(table, inspect(obj).dict)
            if found is not None:
                _pending(session)[found.key] = found


def _event_of(table: str, row: dict[str, Any]) -> LiveEvent | None:
    kind = KINDS.get(table)
    tenant_id, row_id = row.get("tenant_id"), row.get("id")
    if kind is None or tenant_id is None or row_id is None:
        return None
    work_order_id = row_id if table == "work_orders" else row.get("work_order_id")
    facts = {name: jsonable(row[name]) for name in _FACTS.get(table, ()) if name in row}
    if kind == "evidence":
        facts["table"] = table
    return LiveEvent(
        tenant_id=tenant_id,
        kind=kind,
        id=row_id,
        work_order_id=work_order_id,
        technician_id=row.get("assignee_id") or row.get("technician_id"),
        data=facts,
    )


def _notify_in_transaction(session: Session) -> None:
    if session.in_nested_transaction():
        return
    if session.new or session.dirty or session.deleted:
        session.flush()  # the commit would flush after this hook: collect its rows now
    pending = session.info.get(_PENDING)
    if not pending or session.get_bind().dialect.name != "postgresql":
        return
    session.info.pop(_PENDING)
    connection = session.connection()
    for payload in encode(pending.values()):
        connection.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": CHANNEL, "payload": payload.decode()},
        )


def _publish_after_commit(session: Session) -> None:
    # SQLAlchemy calls this for a savepoint's release too (the sync push keeps one per
    # mutation): its rows are not visible to anyone yet, so they wait for the real
    # commit. Published here, a stream would read the old state and then hear nothing.
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING, None)
    if pending:
        relay.publish(_database_of(session), list(pending.values()))


def _database_of(session: Session) -> str | None:
    url = session.get_bind().engine.url
    return url.database if url.get_backend_name() == "sqlite" else None


def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
