"""Records an app holds that the server refused: what a pull tells it to delete (§ 15 rule 7).

WatermelonDB marks everything it pushed as synced once the push answers 200,
and a push answers 200 even when a record in it could not apply (it is
quarantined instead, so one bad record never blocks the app). A record the
server refused to create (a blank note, an ID that is not a UUIDv7, a row for an
order out of scope) would then live in the app forever: no later pull mentions
an ID the server never stored. So the pull that brings a quarantine entry also
names, in ``deleted``, the record its mutation was about, unless that record
is in the app's scopes (then it arrives in ``updated``, as the server has it).

Pure: it reads quarantine row images (``mutation`` is ``{seq, hlc, name, args}``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from api.sync.syncables import Row
from api.sync.watermelon.records import SAFE_ID
from api.sync.watermelon.translate import CREATE_RECORD, INVALID_RECORD
from sync_protocol.entities import EvidenceKind, Table
from sync_protocol.errors import JSONValue

# Mutations that create a record: the table of the record their ``args.id`` names.
_CREATES: Mapping[str, Table] = {
    "create_work_order": Table.WORK_ORDERS,
    "add_note": Table.NOTES,
    "record_part": Table.PARTS_USED,
    "record_reading": Table.READINGS,
    "add_time_entry": Table.TIME_ENTRIES,
    "attach_photo": Table.PHOTOS,
}
_ORDER_CHANGES = frozenset({"transition_work_order", "patch_work_order"})


def refused_records(quarantined: Iterable[Row]) -> set[tuple[Table, str]]:
    """``(table, id)`` of each record the quarantined mutations were about."""
    found: set[tuple[Table, str]] = set()
    for entry in quarantined:
        mutation = entry.get("mutation")
        if isinstance(mutation, dict):
            named = _record_of(mutation.get("name"), mutation.get("args"))
            if named is not None:
                found.add(named)
    return found


def _record_of(name: JSONValue, args: JSONValue) -> tuple[Table, str] | None:
    if not isinstance(name, str) or not isinstance(args, dict):
        return None
    if name in (CREATE_RECORD, INVALID_RECORD):  # an office table's row, or unstorable
        try:
            table, key = Table(str(args.get("table"))), "id"
        except ValueError:
            return None
    elif name in _CREATES:
        table, key = _CREATES[name], "id"
    elif name in _ORDER_CHANGES:
        table, key = Table.WORK_ORDERS, "work_order_id"
    elif name == "answer_offer":
        table, key = Table.OFFERS, "offer_id"
    elif name == "void_evidence":
        try:
            table, key = EvidenceKind(str(args.get("evidence"))).table, "id"
        except ValueError:
            return None
    else:
        return None
    record_id = args.get(key)
    if not isinstance(record_id, str) or SAFE_ID.fullmatch(record_id) is None:
        return None  # no app could hold it (contract rule 11: IDs of safe characters)
    return table, record_id
