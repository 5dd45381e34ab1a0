"""The arithmetic of running scope checksums (:mod:`api.sync.tallies`): after any
sequence of upserts, edits and removals across scopes, a tally moved by
``new digest - old digest`` and stored as a signed BIGINT equals the checksum of
the final rows computed from scratch (``sync_protocol.checksum.scope_checksum``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from api.sync.tallies import signed, unsigned
from sync_protocol.checksum import row_digest, scope_checksum

ROWS = st.sampled_from([f"r{n}" for n in range(6)])
SCOPES = st.sampled_from(["technician:a", "technician:b", "taxonomy"])
VALUES = st.one_of(st.none(), st.integers(-(2**70), 2**70), st.text(max_size=8))
OPS = st.tuples(st.sampled_from(["upsert", "tombstone"]), SCOPES, ROWS, VALUES)


@given(st.lists(OPS, max_size=40))
def test_a_tally_moved_by_digest_differences_equals_a_recount(
    ops: list[tuple[str, str, str, object]],
) -> None:
    stored: dict[str, tuple[int, int]] = {}  # scope -> (signed total, count), as in the table
    digests: dict[tuple[str, str], int] = {}  # (scope, row) -> signed digest
    images: dict[tuple[str, str], dict[str, object]] = {}
    for op, scope, row_id, value in ops:
        total, count = stored.get(scope, (0, 0))
        total = unsigned(total)
        before = digests.pop((scope, row_id), None)
        if before is not None:
            total, count = (total - unsigned(before)) % 2**64, count - 1
        images.pop((scope, row_id), None)
        if op == "upsert":
            image = {"id": row_id, "value": value}
            after = row_digest("notes", image)
            total, count = (total + after) % 2**64, count + 1
            digests[(scope, row_id)] = signed(after)
            images[(scope, row_id)] = image
        stored[scope] = (signed(total), count)
        assert -(2**63) <= stored[scope][0] < 2**63  # fits a BIGINT

    for scope, (total, count) in stored.items():
        rows = [("notes", image) for (s, _), image in images.items() if s == scope]
        assert f"{unsigned(total):016x}" == scope_checksum(rows)
        assert count == len(rows)


@given(st.integers(0, 2**64 - 1))
def test_signed_storage_keeps_every_bit(value: int) -> None:
    assert unsigned(signed(value)) == value
    assert -(2**63) <= signed(value) < 2**63
