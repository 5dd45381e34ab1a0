"""The local replica: pages apply atomically, re-delivery is harmless, tombstones follow
§ 8.4, and the checksum is the server's over the stored images."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from client_sdk.replica import Replica
from client_sdk.store import Store
from sync_protocol.checksum import scope_checksum
from sync_protocol.entities import Table, TombstoneReason
from sync_protocol.hlc import HLC
from sync_protocol.messages import Change, PullResponse, RowUpsert, Tombstone

SCOPE = "technician:01958d00-0000-7000-8000-0000000000aa"
IDS = [uuid.UUID(f"01958e00-0000-7000-8000-{n:012x}") for n in range(1, 5)]


def _page(*changes: Change, cursor: str = "c1.9") -> PullResponse:
    return PullResponse(HLC(1, 0, "server"), changes, {SCOPE: cursor}, False, None)


def _upsert(n: int, version: int, title: str = "t") -> RowUpsert:
    row = {"id": str(IDS[n]), "title": title}
    return RowUpsert(SCOPE, Table.WORK_ORDERS, IDS[n], version, row)


def _tomb(n: int, version: int, reason: TombstoneReason) -> Tombstone:
    return Tombstone(SCOPE, Table.WORK_ORDERS, IDS[n], version, reason)


@pytest.fixture
def replica(tmp_path: Path) -> Replica:
    return Replica(Store(tmp_path / "d.db"))


def _titles(replica: Replica) -> dict[str, object]:
    return {r.id: (r.row or {}).get("title") for r in replica.rows(Table.WORK_ORDERS)}


def test_a_page_that_fails_half_way_leaves_rows_and_cursor_untouched(
    replica: Replica, monkeypatch: pytest.MonkeyPatch
) -> None:
    replica.apply_page(_page(_upsert(0, 1, "before"), cursor="c1.1"))
    original = Replica._apply
    calls = {"n": 0}

    def crash_on_second(self: Replica, conn: object, change: Change, repairing: bool) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("power cut")
        original(self, conn, change, repairing)  # type: ignore[arg-type]

    monkeypatch.setattr(Replica, "_apply", crash_on_second)
    with pytest.raises(OSError):
        replica.apply_page(_page(_upsert(0, 2, "after"), _upsert(1, 3), cursor="c1.3"))

    assert _titles(replica) == {str(IDS[0]): "before"}
    assert replica.cursors([SCOPE]) == {SCOPE: "c1.1"}


def test_redelivered_and_older_changes_do_not_move_a_row_back(replica: Replica) -> None:
    replica.apply_page(_page(_upsert(0, 5, "new")))
    replica.apply_page(_page(_upsert(0, 3, "old"), _upsert(0, 5, "new")))
    assert _titles(replica) == {str(IDS[0]): "new"}


def test_deleted_is_final_and_left_scope_yields_to_a_later_upsert(replica: Replica) -> None:
    replica.apply_page(_page(_tomb(0, 4, TombstoneReason.DELETED), _upsert(0, 9)))
    replica.apply_page(_page(_tomb(1, 4, TombstoneReason.LEFT_SCOPE), _upsert(1, 9, "back")))
    assert _titles(replica) == {str(IDS[1]): "back"}


changes = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.integers(1, 30),
        st.sampled_from(["upsert", "deleted", "left_scope"]),
        st.text("ab", max_size=2),
    ),
    max_size=25,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(items=changes, split=st.integers(0, 25), data=st.data())
def test_any_delivery_order_and_paging_converge_to_the_same_replica(
    tmp_path_factory: pytest.TempPathFactory,
    items: list[tuple[int, int, str, str]],
    split: int,
    data: st.DataObject,
) -> None:
    # One change per (row, version): the server never gives one number two meanings.
    unique = {(n, v): (n, v, op, t) for n, v, op, t in items}
    built: list[Change] = [
        _upsert(n, v, t) if op == "upsert" else _tomb(n, v, TombstoneReason(op))
        for n, v, op, t in unique.values()
    ]
    shuffled = data.draw(st.permutations(built))
    ordered = Replica(Store(tmp_path_factory.mktemp("a") / "d.db"))
    ordered.apply_page(_page(*sorted(built, key=lambda c: c.version)))
    other = Replica(Store(tmp_path_factory.mktemp("b") / "d.db"))
    other.apply_page(_page(*shuffled[:split]))
    other.apply_page(_page(*shuffled[split:]))
    other.apply_page(_page(*shuffled))  # and once more: re-delivery is harmless

    assert _titles(other) == _titles(ordered)
    assert other.checksum(SCOPE) == ordered.checksum(SCOPE)


def test_checksum_is_the_protocol_checksum_of_the_live_images(replica: Replica) -> None:
    replica.apply_page(
        _page(_upsert(0, 1, "a"), _upsert(1, 2, "b"), _tomb(2, 3, TombstoneReason.DELETED))
    )
    expected = scope_checksum(
        [
            ("work_orders", {"id": str(IDS[0]), "title": "a"}),
            ("work_orders", {"id": str(IDS[1]), "title": "b"}),
        ]
    )
    assert replica.checksum(SCOPE) == expected
