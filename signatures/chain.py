"""Append-only hash chains: each record's hash covers its content and the hash before it.

A chain is a sequence numbered from 1; record ``n`` stores ``prev_hash`` (the hash of
record ``n - 1``, or :data:`GENESIS` for the first) and ``hash`` =
SHA-256 of the RFC 8785 form of ``{"prev": prev_hash, "record": record}``. Changing,
removing or reordering any record breaks every link after it; cutting the tail is
caught by comparing the last record with the chain's separately kept head.
:func:`verify_chain` names each break it finds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from signatures.canonical import canonical_bytes, sha256_hex

GENESIS = "0" * 64


def link_hash(prev_hash: str, record: Mapping[str, Any]) -> str:
    return sha256_hex(canonical_bytes({"prev": prev_hash, "record": dict(record)}))


@dataclass(frozen=True)
class Link:
    seq: int | None
    prev_hash: str | None
    hash: str | None
    record: Mapping[str, Any]


@dataclass(frozen=True)
class Break:
    """``problem``: ``unlinked``, ``seq_gap``, ``prev_mismatch``, ``hash_mismatch``,
    ``head_mismatch`` (the last record is not the kept head: the tail was cut or the
    head was changed)."""

    chain_id: str
    seq: int | None
    problem: str


def verify_chain(chain_id: str, links: Iterable[Link], head: tuple[int, str] | None) -> list[Break]:
    """Every break in one chain, given its links in ``seq`` order and its kept head."""
    breaks: list[Break] = []
    expected_seq, prev = 1, GENESIS
    for link in links:
        if link.seq is None or link.hash is None or link.prev_hash is None:
            breaks.append(Break(chain_id, link.seq, "unlinked"))
            continue
        if link.seq != expected_seq:
            breaks.append(Break(chain_id, link.seq, "seq_gap"))
        if link.prev_hash != prev:
            breaks.append(Break(chain_id, link.seq, "prev_mismatch"))
        if link_hash(link.prev_hash, link.record) != link.hash:
            breaks.append(Break(chain_id, link.seq, "hash_mismatch"))
        expected_seq, prev = link.seq + 1, link.hash
    last = (expected_seq - 1, prev) if expected_seq > 1 else None
    if last != head:
        breaks.append(Break(chain_id, last[0] if last else None, "head_mismatch"))
    return breaks
