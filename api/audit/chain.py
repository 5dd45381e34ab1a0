"""The audit log as hash chains: one per work order, one per tenant for the rest.

Every event is linked when its transaction commits (a ``before_commit`` hook, so
an event added in a savepoint that was rolled back is never linked): it gets the
next ``chain_seq`` of its chain, the previous event's hash and its own
(:func:`signatures.chain.link_hash` over the event's content). Each chain's last
link is also kept in ``audit_chain_heads``; that row is locked while linking, so
concurrent transactions append one after the other and never fork a chain, and
chains are taken in sorted order so two committers cannot deadlock on them.
:func:`verify_tenant` re-checks every chain of a tenant (``fieldline verify-chains``).

An event's chain is its work order's: the order itself, or anything whose audit
changes or ``work_order_id`` name one (notes, evidence, sign-offs, reports).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from api.audit.models import AuditChainHead, AuditEvent
from signatures.chain import GENESIS, Break, Link, link_hash, verify_chain
from sync_protocol.wire import format_timestamp

_PENDING = "fieldline_audit_pending"


def chain_of(
    tenant_id: uuid.UUID,
    entity_type: str,
    entity_id: uuid.UUID,
    changes: Mapping[str, Any],
    work_order_id: uuid.UUID | None = None,
) -> uuid.UUID:
    if work_order_id is not None:
        return work_order_id
    if entity_type == "work_order":
        return entity_id
    named = changes.get("work_order_id")
    value = named.get("after") if isinstance(named, dict) else None
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    return tenant_id


def add(session: Session, audit_event: AuditEvent) -> None:
    """Add an event to be linked at commit. Its changes are stored as JSON reads them
    back, so what is hashed now is what a verifier reads later."""
    audit_event.changes = json.loads(json.dumps(audit_event.changes, default=str))
    session.add(audit_event)
    session.info.setdefault(_PENDING, []).append(audit_event)


def record_of(e: AuditEvent) -> dict[str, Any]:
    """What an event's hash covers: every column but the links themselves."""
    return {
        "id": str(e.id),
        "tenant_id": str(e.tenant_id),
        "chain_id": str(e.chain_id),
        "seq": e.chain_seq,
        "occurred_at": format_timestamp(e.occurred_at),
        "actor_kind": e.actor_kind,
        "actor_id": str(e.actor_id) if e.actor_id else None,
        "action": e.action,
        "entity_type": e.entity_type,
        "entity_id": str(e.entity_id),
        "changes": e.changes,
        "request_id": e.request_id,
    }


@event.listens_for(Session, "before_commit")
def _link_pending(session: Session) -> None:
    pending: list[AuditEvent] = session.info.pop(_PENDING, [])
    if not pending:
        return
    session.flush()  # ids and default times; events of rolled-back savepoints are gone now
    chains: dict[tuple[uuid.UUID, uuid.UUID], list[AuditEvent]] = {}
    for e in pending:
        if e in session and e.chain_seq is None and e.chain_id is not None:
            chains.setdefault((e.tenant_id, e.chain_id), []).append(e)
    if not chains:
        return
    heads = _lock_heads(session, sorted(chains))
    moved = []
    for key, events in chains.items():
        seq, prev = heads[key]
        for e in sorted(events, key=lambda e: (e.occurred_at, e.id)):
            seq += 1
            e.chain_seq, e.prev_hash = seq, prev
            e.hash = prev = link_hash(prev, record_of(e))
        moved.append({"tenant_id": key[0], "chain_id": key[1], "seq": seq, "hash": prev})
    session.execute(update(AuditChainHead), moved)  # by primary key, one executemany
    session.flush()


def _lock_heads(
    session: Session, keys: list[tuple[uuid.UUID, uuid.UUID]]
) -> dict[tuple[uuid.UUID, uuid.UUID], tuple[int, str]]:
    """Each chain's head, locked; chains seen for the first time start at the genesis.

    One statement per tenant, rows locked in chain order (``ORDER BY ... FOR UPDATE``),
    so two committers always queue in the same order and never deadlock here.
    """
    found = _select_heads(session, keys)
    missing = [key for key in keys if key not in found]
    if missing:
        rows = [{"tenant_id": t, "chain_id": c, "seq": 0, "hash": GENESIS} for t, c in missing]
        if session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            session.execute(pg_insert(AuditChainHead).values(rows).on_conflict_do_nothing())
        else:
            session.execute(insert(AuditChainHead), rows)  # SQLite: one writer at a time
        found |= _select_heads(session, missing)
    return found


def _select_heads(
    session: Session, keys: list[tuple[uuid.UUID, uuid.UUID]]
) -> dict[tuple[uuid.UUID, uuid.UUID], tuple[int, str]]:
    found: dict[tuple[uuid.UUID, uuid.UUID], tuple[int, str]] = {}
    for tenant_id, group in groupby(keys, key=lambda key: key[0]):
        ids = [chain for _, chain in group]
        for start in range(0, len(ids), 500):
            rows = session.execute(
                select(AuditChainHead.chain_id, AuditChainHead.seq, AuditChainHead.hash)
                .where(
                    AuditChainHead.tenant_id == tenant_id,
                    AuditChainHead.chain_id.in_(ids[start : start + 500]),
                )
                .order_by(AuditChainHead.chain_id)
                .with_for_update()
            )
            found |= {(tenant_id, chain): (seq, digest) for chain, seq, digest in rows}
    return found


@dataclass(frozen=True)
class ChainReport:
    chains: int
    events: int
    breaks: list[Break]


def verify_tenant(session: Session, tenant_id: uuid.UUID) -> ChainReport:
    heads = {
        str(chain): (seq, digest)
        for chain, seq, digest in session.execute(
            select(AuditChainHead.chain_id, AuditChainHead.seq, AuditChainHead.hash).where(
                AuditChainHead.tenant_id == tenant_id
            )
        )
    }
    breaks: list[Break] = []
    seen: set[str] = set()
    count = 0
    for chain, links in _chains(session, tenant_id):
        seen.add(chain)
        count += len(links)
        breaks += verify_chain(chain, links, heads.get(chain))
    for missing in sorted(set(heads) - seen):  # a whole chain deleted
        breaks.append(Break(missing, None, "head_mismatch"))
    return ChainReport(len(seen | set(heads)), count, breaks)


def _chains(session: Session, tenant_id: uuid.UUID) -> Iterator[tuple[str, list[Link]]]:
    rows = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.tenant_id == tenant_id)
        .order_by(AuditEvent.chain_id, AuditEvent.chain_seq, AuditEvent.id)
        .execution_options(yield_per=1000)
    )
    for chain, events in groupby(rows, key=lambda e: str(e.chain_id)):
        yield chain, [Link(e.chain_seq, e.prev_hash, e.hash, record_of(e)) for e in events]
