"""Turning a WatermelonDB push into the protocol's mutations (PROTOCOL.md § 15, rules 2–4).

Pure: it takes the pushed ``changes`` and the server's current raw records of
the rows they name, and returns synthetic mutations ``(name, args)`` in the
order they must run. Because a push is refused unless the app's base equals
the server's row (rule 1, checked before this), the difference between a
pushed row and the server's is exactly what the technician changed:

* a created work order is ``create_work_order`` (its ``work_order_assets`` rows
  become ``asset_ids``); one whose ID exists is diffed like an update
  (contract rule 2), and an updated one whose ID the server lacks is created
  (contract rule 3), so a refusal is quarantined rather than silently dropped;
* a changed ``status`` is the transitions along the field path from the
  server's status to the pushed one (``accepted`` → ``on_site`` is
  ``start_travel``, ``arrive``); an assigned job set to ``new`` is a
  ``decline``; any other status the path cannot reach forwards (back a step,
  ``cancelled``, ``closed``) is not a technician's step and is ignored, like
  server-owned columns (the contract asks servers to sanitise);
* other changed patchable columns are one ``patch_work_order``;
* created evidence (or updated evidence the server lacks) is its evidence
  mutation; an evidence update that sets
  ``voided_at``, and a deleted evidence ID, are ``void_evidence``; other
  evidence updates are ignored (evidence is append-only), and so are deletes
  of work orders and of anything the server does not know (contract rule 4);
* a row the app adds to an office table (customers, sites, …) is
  ``CREATE_RECORD``, which the push refuses visibly (``sync.table_read_only``);
  changes to the office's existing rows are ignored;
* an offer whose ``state`` the app set from the server's to ``accepted`` or
  ``declined`` is ``answer_offer`` (§ 8.9), dated at the pushed ``answered_at``
  (the device's clock, never before ``offered_at``; without it, at receipt);
  other edits of an offer are ignored, and an offer row the app adds is
  ``CREATE_RECORD``.

Values are sanitised rather than refused: ``''`` and ``0`` (WatermelonDB's
defaults for non-optional columns) count as null, epoch milliseconds become
RFC 3339. Arguments that are still wrong are refused per mutation by the push
engine, which quarantines them without failing the push.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from api.sync.watermelon.records import RawRecord, from_epoch_ms
from sync_protocol.entities import EvidenceKind, Table
from sync_protocol.errors import JSONValue, ProtocolError
from sync_protocol.ownership import CREATE_FIELDS, PATCHABLE_FIELDS, WORK_ORDER_FIELDS, ValueKind
from sync_protocol.workorder_status import Action, Status

Changes = Mapping[str, Mapping[str, list[JSONValue]]]  # table → created/updated/deleted


@dataclass(frozen=True)
class Synthetic:
    """One mutation the push stands for."""

    name: str
    args: dict[str, JSONValue]
    # INVALID_RECORD: why the record was refused before any rule ran (a NUL, a lone
    # surrogate, nesting past the limit): it is quarantined with this, alone.
    refusal: ProtocolError | None = None
    # When the device says it happened (epoch ms), where the time decides the outcome
    # (an offer's answer against its ``expires_at``); None: when the push arrived.
    device_ms: int | None = None


@dataclass(frozen=True)
class ServerRows:
    """The server's raw records of the rows a push names (absent: the server has none)."""

    work_orders: Mapping[str, RawRecord] = field(default_factory=dict)
    evidence: Mapping[tuple[Table, str], RawRecord] = field(default_factory=dict)
    reference: frozenset[tuple[Table, str]] = frozenset()  # rows of REFERENCE_TABLES it has
    offers: Mapping[str, RawRecord] = field(default_factory=dict)


# Forward steps of the field path: from a status, the action that leaves it.
_STEPS: Mapping[Status, tuple[Action, Status]] = {
    Status.ASSIGNED: (Action.ACCEPT, Status.ACCEPTED),
    Status.ACCEPTED: (Action.START_TRAVEL, Status.EN_ROUTE),
    Status.EN_ROUTE: (Action.ARRIVE, Status.ON_SITE),
    Status.ON_SITE: (Action.START_WORK, Status.IN_PROGRESS),
    Status.PAUSED: (Action.RESUME, Status.IN_PROGRESS),
    Status.IN_PROGRESS: (Action.COMPLETE, Status.COMPLETED),
}
PAUSED_REASON = "Paused on device"
DECLINED_REASON = "Declined on device"
# An offer's answers, by the ``state`` the app sets (§ 8.9).
_ANSWERS: Mapping[str, str] = {"accepted": "accept", "declined": "decline"}
_REASONS = {Action.PAUSE: PAUSED_REASON, Action.DECLINE: DECLINED_REASON}
COMPLETED_RESOLUTION = "Completed on device"
DELETED_REASON = "deleted on device"
VOIDED_REASON = "voided on device"

_EVIDENCE: Mapping[Table, tuple[EvidenceKind, str, tuple[str, ...]]] = {
    Table.NOTES: (EvidenceKind.NOTE, "add_note", ("body", "visibility")),
    Table.PARTS_USED: (
        EvidenceKind.PART,
        "record_part",
        ("description", "quantity", "unit", "part_number", "asset_id"),
    ),
    Table.READINGS: (
        EvidenceKind.READING,
        "record_reading",
        ("metric", "value", "unit", "taken_at", "asset_id"),
    ),
    Table.TIME_ENTRIES: (
        EvidenceKind.TIME_ENTRY,
        "add_time_entry",
        ("activity", "started_at", "ended_at", "note"),
    ),
    Table.PHOTOS: (
        EvidenceKind.PHOTO,
        "attach_photo",
        ("sha256", "content_type", "size", "caption", "taken_at", "asset_id", "note_id"),
    ),
}
# The office's tables: the app changes none of them, and a row it adds is refused
# (``CREATE_RECORD``, quarantined as ``sync.table_read_only``) so the app deletes it.
REFERENCE_TABLES = (
    Table.CUSTOMERS,
    Table.CONTACTS,
    Table.SITES,
    Table.ASSETS,
    Table.CATEGORIES,
    Table.STATUS_CHANGES,
)
CREATE_RECORD = "create_record"  # not a protocol mutation: the push refuses it visibly
# Not a protocol mutation either: a record whose values no database can store, refused
# visibly (``sync.invalid_value``) and deleted from the app at its next pull.
INVALID_RECORD = "invalid_record"
_TIMESTAMPS = frozenset({"taken_at", "started_at", "ended_at"})
_DECIMALS = frozenset({"quantity", "value"})


def translate(changes: Changes, server: ServerRows) -> list[Synthetic]:
    """The mutations a push stands for: work orders first, then evidence, in pushed order."""
    out: list[Synthetic] = []
    links = _links(changes)
    orders = changes.get(Table.WORK_ORDERS.value, {})
    # WatermelonDB's push contract: a created record the server has is an update,
    # and an updated record it lacks is a create (refused visibly if it cannot be).
    for record in _records(orders, "created") + _records(orders, "updated"):
        known = server.work_orders.get(str(record["id"]))
        if known is None:
            out.append(_create(record, links.get(str(record["id"]), [])))
        else:
            out += work_order_update(known, record)
    out += _offers(changes.get(Table.OFFERS.value, {}), server.offers)
    for table in _EVIDENCE:
        out += _evidence(table, changes.get(table.value, {}), server)
    for table in REFERENCE_TABLES:
        lists = changes.get(table.value, {})
        for record in _records(lists, "created") + _records(lists, "updated"):
            if (table, str(record["id"])) not in server.reference:
                args = {"table": table.value, "id": record["id"], "values": record}
                out.append(Synthetic(CREATE_RECORD, args))
    return out


def work_order_update(server: RawRecord, pushed: RawRecord) -> list[Synthetic]:
    """Transitions for a changed status, then one patch for the other changed columns."""
    order_id = server["id"]
    steps = status_path(Status(str(server["status"])), _status(pushed.get("status")))
    out: list[Synthetic] = []
    for action, base in steps:
        args: dict[str, JSONValue] = {
            "work_order_id": order_id,
            "action": action.value,
            "base_status": base.value,
            "reason": _REASONS.get(action),
            "resolution": None,
            "assignee_id": None,
        }
        if action is Action.COMPLETE:
            given = _text(pushed.get("resolution")) or _text(server.get("resolution"))
            args["resolution"] = given or COMPLETED_RESOLUTION
        out.append(Synthetic("transition_work_order", args))
    fields = {
        name: value
        for name in sorted(PATCHABLE_FIELDS)
        if name in pushed
        and (value := _field(name, pushed[name])) != _field(name, server.get(name))
        and not (name == "resolution" and any(a is Action.COMPLETE for a, _ in steps))
    }
    if fields:
        out.append(Synthetic("patch_work_order", {"work_order_id": order_id, "fields": fields}))
    return out


def status_path(server: Status, target: Status | None) -> list[tuple[Action, Status]]:
    """``(action, base_status)`` steps from ``server`` forwards to ``target``; [] if none.

    The one step back an app can take is turning an assigned job down (``new``):
    a ``decline``. Any other backward or office status is not the app's to set."""
    if target is None or target == server:
        return []
    if server is Status.ASSIGNED and target is Status.NEW:
        return [(Action.DECLINE, Status.ASSIGNED)]  # the technician turned the job down
    goal = Status.IN_PROGRESS if target is Status.PAUSED else target
    steps: list[tuple[Action, Status]] = []
    current = server
    while current != goal:
        if current not in _STEPS:
            return []  # the target is behind, or off the field path
        action, following = _STEPS[current]
        steps.append((action, current))
        current = following
    if target is Status.PAUSED:
        steps.append((Action.PAUSE, Status.IN_PROGRESS))
    return steps


def _offers(
    changes: Mapping[str, list[JSONValue]], server: Mapping[str, RawRecord]
) -> list[Synthetic]:
    """``answer_offer`` for each offer the app answered; a row it adds is refused."""
    out: list[Synthetic] = []
    for record in _records(changes, "created") + _records(changes, "updated"):
        known = server.get(str(record["id"]))
        if known is None:
            args = {"table": Table.OFFERS.value, "id": record["id"], "values": record}
            out.append(Synthetic(CREATE_RECORD, args))
            continue
        answer = _ANSWERS.get(_text(record.get("state")) or "")
        if answer is None or record.get("state") == known.get("state"):
            continue  # not an answer, or one the server already has (a replay)
        reason = _text(record.get("reason")) if answer == "decline" else None
        args = {
            "offer_id": known["id"],
            "work_order_id": known["work_order_id"],
            "answer": answer,
            "reason": reason or (DECLINED_REASON if answer == "decline" else None),
        }
        out.append(Synthetic("answer_offer", args, device_ms=_answered_ms(record, known)))
    return out


def _answered_ms(pushed: RawRecord, server: RawRecord) -> int | None:
    """The pushed ``answered_at``, never before the offer was made (a wrong clock)."""
    answered, offered = pushed.get("answered_at"), server.get("offered_at")
    if _timestamp(answered) is None or not isinstance(answered, int | float):
        return None
    floor = offered if isinstance(offered, int) and not isinstance(offered, bool) else 0
    return max(int(answered), floor)


def _create(record: RawRecord, asset_ids: list[str]) -> Synthetic:
    args: dict[str, JSONValue] = {"id": record["id"]}
    for name in sorted(CREATE_FIELDS):
        value = _field(name, record.get(name))
        if value is not None:
            args[name] = value
    if asset_ids:
        args["asset_ids"] = [*sorted(set(asset_ids))]
    return Synthetic("create_work_order", args)


def _evidence(
    table: Table, changes: Mapping[str, list[JSONValue]], server: ServerRows
) -> list[Synthetic]:
    kind, name, columns = _EVIDENCE[table]
    out: list[Synthetic] = []
    for record in _records(changes, "created") + _records(changes, "updated"):
        known = server.evidence.get((table, str(record["id"])))
        if known is not None:
            out += _evidence_update(kind, known, record)
            continue
        args: dict[str, JSONValue] = {
            "id": record["id"],
            "work_order_id": record.get("work_order_id"),
        }
        args |= {c: _evidence_value(c, record.get(c)) for c in columns}
        out.append(Synthetic(name, args))
        if _present(record.get("voided_at")):
            out.append(_void(kind, args, _text(record.get("void_reason")) or VOIDED_REASON))
    for row_id in changes.get("deleted", []):
        known = server.evidence.get((table, str(row_id)))
        if known is not None and not _present(known.get("voided_at")):
            out.append(_void(kind, known, DELETED_REASON))
    return out


def _evidence_update(kind: EvidenceKind, server: RawRecord, pushed: RawRecord) -> list[Synthetic]:
    if _present(server.get("voided_at")) or not _present(pushed.get("voided_at")):
        return []
    return [_void(kind, server, _text(pushed.get("void_reason")) or VOIDED_REASON)]


def _void(kind: EvidenceKind, row: Mapping[str, JSONValue], reason: str) -> Synthetic:
    args: dict[str, JSONValue] = {
        "evidence": kind.value,
        "id": row["id"],
        "work_order_id": row.get("work_order_id"),
        "reason": reason,
    }
    return Synthetic("void_evidence", args)


def _links(changes: Changes) -> dict[str, list[str]]:
    """Asset IDs of created ``work_order_assets`` rows, by work order."""
    links: dict[str, list[str]] = {}
    for record in _records(changes.get(Table.WORK_ORDER_ASSETS.value, {}), "created"):
        order, asset = record.get("work_order_id"), record.get("asset_id")
        if isinstance(order, str) and isinstance(asset, str):
            links.setdefault(order, []).append(asset)
    return links


def _records(changes: Mapping[str, list[JSONValue]], key: str) -> list[RawRecord]:
    return [r for r in changes.get(key, []) if isinstance(r, dict) and isinstance(r.get("id"), str)]


def _field(name: str, value: JSONValue) -> JSONValue:
    """A work order column in the protocol's form, with WatermelonDB's defaults as null."""
    kind = WORK_ORDER_FIELDS[name].kind
    if kind is ValueKind.TIMESTAMP:
        return _timestamp(value)
    return _text(value)


def _evidence_value(name: str, value: JSONValue) -> JSONValue:
    if name in _TIMESTAMPS:
        return _timestamp(value)
    if name in _DECIMALS and isinstance(value, int | float) and not isinstance(value, bool):
        return _decimal(value)
    if name == "size":
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    return _text(value)


def _timestamp(value: JSONValue) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value <= 0 or value >= 10**15:
        return None
    return from_epoch_ms(int(value))


def _decimal(value: int | float) -> str | None:
    if not math.isfinite(value):
        return None
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def _text(value: JSONValue) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def _status(value: JSONValue) -> Status | None:
    try:
        return Status(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _present(value: JSONValue) -> bool:
    return value is not None and value not in ("", 0)
