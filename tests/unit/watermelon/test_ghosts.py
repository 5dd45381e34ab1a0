"""Which records a pull tells a WatermelonDB app to delete after the server refused them."""

from __future__ import annotations

from typing import Any

from api.sync.watermelon.ghosts import refused_records
from sync_protocol.entities import Table

ORDER = "01958e00-0000-7000-8000-000000000001"


def _entry(name: str, **args: Any) -> dict[str, Any]:
    return {"id": "q", "mutation": {"seq": None, "hlc": "h", "name": name, "args": args}}


def test_a_refused_create_names_its_record_and_a_refused_change_names_its_order() -> None:
    entries = [
        _entry("add_note", id="a1B2c3D4e5F6g7H8", work_order_id=ORDER, body=None),
        _entry("create_work_order", id="w", title=""),
        _entry("attach_photo", id="p", work_order_id=ORDER),
        _entry("transition_work_order", work_order_id=ORDER, action="accept"),
        _entry("void_evidence", evidence="part", id="v", work_order_id=ORDER),
        _entry("create_record", table="customers", id="c", values={"id": "c"}),
        _entry("answer_offer", offer_id="o", work_order_id=ORDER, answer="accept"),
    ]
    assert refused_records(entries) == {
        (Table.NOTES, "a1B2c3D4e5F6g7H8"),
        (Table.WORK_ORDERS, "w"),
        (Table.PHOTOS, "p"),
        (Table.OFFERS, "o"),
        (Table.WORK_ORDERS, ORDER),
        (Table.PARTS_USED, "v"),
        (Table.CUSTOMERS, "c"),
    }


def test_entries_that_name_no_record_are_skipped() -> None:
    entries = [
        _entry("add_note", id=None),
        _entry("add_note", id=""),
        _entry("add_note", id="a/b"),  # an SDK device's bad ID: no app holds it
        _entry("no_such_mutation", id="x"),
        _entry("void_evidence", evidence="nonsense", id="x"),
        _entry("create_record", table="nonsense", id="x"),
        {"id": "q", "mutation": "not an object"},
        {"id": "q", "mutation": {"name": "add_note", "args": ["x"]}},
    ]
    assert refused_records(entries) == set()
