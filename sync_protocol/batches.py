"""The checks a push batch must pass before any of it runs, and which of it is a replay.

Exactly-once application is keyed by ``(device_id, seq)`` (PROTOCOL.md § 7.1):
a device numbers its mutations 1, 2, 3, … with no gaps, and the server keeps
its ``last_seq`` and the digest of every mutation it processed. :func:`plan_batch`
refuses a batch outright (nothing applied) when it is too large, out of order,
has a gap, or reuses a processed seq for different content, and otherwise
splits it into replays (answered with their stored receipts) and fresh
mutations (run in order). The engine supplies the stored digests; this module
has no storage of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sync_protocol.errors import ProtocolError
from sync_protocol.messages import MAX_BATCH, Mutation


@dataclass(frozen=True)
class BatchPlan:
    replays: tuple[Mutation, ...]  # seq <= last_seq: answer with the stored receipt
    fresh: tuple[Mutation, ...]  # seq > last_seq: run, in this order


def check_device(claimed: uuid.UUID, authenticated: uuid.UUID) -> None:
    """A body may only speak for the device its token names."""
    if claimed != authenticated:
        raise ProtocolError("sync.device_mismatch", "The body names another device", "device_id")


def plan_batch(
    mutations: Sequence[Mutation],
    last_seq: int,
    stored_digest: Callable[[int], str | None],
) -> BatchPlan:
    """Refuse the batch or split it; ``stored_digest(seq)`` is None once a receipt is pruned."""
    if len(mutations) > MAX_BATCH:
        raise ProtocolError(
            "sync.batch_too_large",
            f"{len(mutations)} mutations; at most {MAX_BATCH}",
            "mutations",
            extra={"max_batch": MAX_BATCH},
        )
    expected = last_seq + 1
    for index, mutation in enumerate(mutations):
        field = f"mutations[{index}].seq"
        if index and mutation.seq <= mutations[index - 1].seq:
            raise ProtocolError("sync.seq_out_of_order", "Seqs must increase", field)
        if index and mutation.seq != mutations[index - 1].seq + 1:
            raise ProtocolError(
                "sync.seq_gap",
                f"Expected seq {mutations[index - 1].seq + 1}, got {mutation.seq}",
                field,
                extra={"expected_seq": mutations[index - 1].seq + 1},
            )
    if mutations and mutations[0].seq > expected:
        raise ProtocolError(
            "sync.seq_gap",
            f"Expected seq {expected}, got {mutations[0].seq}",
            "mutations[0].seq",
            extra={"expected_seq": expected},
        )
    replays = tuple(m for m in mutations if m.seq <= last_seq)
    for index, mutation in enumerate(replays):
        digest = stored_digest(mutation.seq)
        if digest is not None and digest != mutation.digest():
            raise ProtocolError(
                "sync.seq_reused",
                f"seq {mutation.seq} was processed with different content",
                f"mutations[{index}]",
            )
    return BatchPlan(replays, tuple(m for m in mutations if m.seq > last_seq))
