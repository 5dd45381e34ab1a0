"""The chaos test's row-by-row replica check catches planted divergences (so it can fail)."""

from __future__ import annotations

import datetime as dt
import uuid

from tests.support.chaos_replicas import Rows, compare_scope

ORDER = str(uuid.UUID(int=1))
NOTE = str(uuid.UUID(int=2))
WHEN = dt.datetime(2026, 12, 4, 3, 0, tzinfo=dt.UTC)


def _server() -> Rows:
    return {
        ("work_orders", ORDER): {
            "id": uuid.UUID(ORDER),
            "title": "Boiler",
            "status": "in_progress",
            "actual_start": WHEN,
            "version": 3,
        },
        ("notes", NOTE): {"id": uuid.UUID(NOTE), "body": "ok", "work_order_id": uuid.UUID(ORDER)},
    }


def _device() -> Rows:
    return {
        ("work_orders", ORDER): {
            "id": ORDER,
            "title": "Boiler",
            "status": "in_progress",
            "actual_start": "2026-12-04T03:00:00Z",
            "version": 3,
            "asset_ids": [],
        },
        ("notes", NOTE): {"id": NOTE, "body": "ok", "work_order_id": ORDER},
    }


def test_an_equal_replica_passes() -> None:
    assert compare_scope("d", "technician:x", _device(), _server()) == []


def test_a_wrong_field_is_caught() -> None:
    device = _device()
    device[("work_orders", ORDER)]["title"] = "Chiller"
    assert any(".title" in p for p in compare_scope("d", "s", device, _server()))


def test_a_wrong_status_is_caught() -> None:
    device = _device()
    device[("work_orders", ORDER)]["status"] = "completed"
    assert any(".status" in p for p in compare_scope("d", "s", device, _server()))


def test_a_wrong_timestamp_is_caught() -> None:
    device = _device()
    device[("work_orders", ORDER)]["actual_start"] = "2026-12-04T03:00:01Z"
    assert any(".actual_start" in p for p in compare_scope("d", "s", device, _server()))


def test_a_missing_row_is_caught() -> None:
    device = _device()
    del device[("notes", NOTE)]
    assert any("misses notes" in p for p in compare_scope("d", "s", device, _server()))


def test_an_extra_row_is_caught() -> None:
    device = _device()
    device[("notes", str(uuid.UUID(int=3)))] = {"id": str(uuid.UUID(int=3)), "body": "x"}
    assert any("does not" in p for p in compare_scope("d", "s", device, _server()))
