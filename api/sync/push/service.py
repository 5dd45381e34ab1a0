"""The push use case (PROTOCOL.md § 7): one batch, one transaction, exactly once per seq.

1. versions first (§ 2): a replica too old to push is told to export (§ 12);
2. the strict envelope (§ 6.1), then the device: registered to the caller,
   locked for the batch, not retired;
3. the batch plan (``sync_protocol.batches``): size, order, gaps and reused seqs
   refuse the whole request; seqs at or below ``last_seq`` are replays answered
   with their stored receipts (nothing runs);
4. fresh mutations run in seq order, each in its savepoint (:mod:`engine`);
5. receipts, ``last_seq``, health and every effect commit together.

If the commit fails or the response is lost, the device sends the batch again:
either nothing was committed (it runs afresh) or everything was (a replay).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.db import UnitOfWorkFactory, utcnow
from api.db.bulk import insert_rows
from api.sync import clock
from api.sync.devices import lock_device, record_contact, retired
from api.sync.models import SyncDevice, SyncReceipt
from api.sync.push import evidence
from api.sync.push.access import lock_orders
from api.sync.push.engine import apply_mutation
from api.sync.push.writer import Writer
from sync_protocol.batches import plan_batch
from sync_protocol.hlc import HLC, estimate_skew, skew_sample, system_ms
from sync_protocol.merge import Outcome
from sync_protocol.messages import Mutation, PushRequest, PushResponse, Receipt
from sync_protocol.records import ResetRequired
from sync_protocol.versions import check_versions, read_versions
from sync_protocol.wire import decode


def push(uow: UnitOfWorkFactory, actor: Actor, body: bytes) -> PushResponse | ResetRequired:
    """Apply a device's batch; see the module docstring."""
    receive_ms = system_ms()
    value = decode(body)
    reset = check_versions(read_versions(value), pushing=True)
    if reset is not None:
        return reset
    request = PushRequest.from_json(value)
    with uow() as unit:
        session = unit.session
        device = lock_device(session, actor, request.device_id)
        if device.retired_at is not None:
            return retired()
        plan = plan_batch(
            request.mutations, device.last_seq, _digests(session, device, request).get
        )
        receipts = _replayed(session, device, plan.replays)
        writer = Writer(
            actor,
            request.device_id,
            receive_ms,
            HLC.parse(device.last_hlc) if device.last_hlc else None,
            skew_ms=_skew(device, request, receive_ms),
        )
        lock_orders(session, writer, plan.fresh)
        evidence.prefetch(session, writer, plan.fresh)
        stored: list[dict[str, Any]] = []
        now = utcnow()
        for mutation in plan.fresh:
            applied = apply_mutation(
                session,
                writer,
                mutation.name,
                dict(mutation.args),
                mutation.hlc,
                mutation.seq,
                mutation.invalid,
            )
            receipt = applied.receipt(mutation.seq)
            receipts.append(receipt)
            stored.append(
                {
                    "tenant_id": actor.tenant_id,
                    "device_id": device.id,
                    "seq": mutation.seq,
                    "digest": mutation.digest(),
                    "receipt": receipt.to_json(),
                    "created_at": now,
                }
            )
        # One statement for the batch's receipts (rows no one reads back as objects).
        insert_rows(session.connection(), SyncReceipt, stored)
        if plan.fresh:
            device.last_seq = plan.fresh[-1].seq
            device.last_hlc = str(writer.last_hlc) if writer.last_hlc else device.last_hlc
            device.clamped += writer.clamped
        device.last_push_at = utcnow()
        record_contact(
            device,
            device_time_ms=request.device_time_ms,
            receive_ms=receive_ms,
            outbox=request.outbox,
            protocol=request.protocol,
            schema=request.schema,
        )
        last_seq = device.last_seq
        unit.commit()
    return PushResponse(clock.now(), last_seq, tuple(receipts))


def _skew(device: SyncDevice, request: PushRequest, receive_ms: int) -> int:
    """The device's clock skew, this request's sample included: field times correct by it."""
    sample = skew_sample(request.device_time_ms, receive_ms)
    return estimate_skew([*(device.skew_samples or []), sample]).skew_ms


def _digests(session: Session, device: SyncDevice, request: PushRequest) -> dict[int, str]:
    """Stored digests of the batch's replayed seqs, read once."""
    seqs = [m.seq for m in request.mutations if m.seq <= device.last_seq]
    if not seqs:
        return {}
    rows = session.execute(
        select(SyncReceipt.seq, SyncReceipt.digest).where(
            SyncReceipt.tenant_id == device.tenant_id,
            SyncReceipt.device_id == device.id,
            SyncReceipt.seq.in_(seqs),
        )
    )
    return {seq: digest for seq, digest in rows}


def _replayed(session: Session, device: SyncDevice, replays: tuple[Mutation, ...]) -> list[Receipt]:
    if not replays:
        return []
    stored = {
        seq: receipt
        for seq, receipt in session.execute(
            select(SyncReceipt.seq, SyncReceipt.receipt).where(
                SyncReceipt.tenant_id == device.tenant_id,
                SyncReceipt.device_id == device.id,
                SyncReceipt.seq.in_([m.seq for m in replays]),
            )
        )
    }
    return [
        Receipt.read(stored[m.seq], f"receipts[{m.seq}]")
        if m.seq in stored
        else Receipt(m.seq, Outcome.DUPLICATE, code="sync.receipt_pruned")
        for m in replays
    ]
