"""WatermelonDB ``pushChanges``: refuse stale pushes, then apply the rest as mutations (§ 15).

The body, ``{"changes": …, "lastPulledAt": n}`` or the changes alone with
``?last_pulled_at=n`` (as WatermelonDB's documentation writes ``pushChanges``),
is read strictly in shape (an object of tables, each with
``created``/``updated``/``deleted`` lists of records with string IDs) and
leniently in content: unknown tables and columns
(``_status``, ``_changed`` included) are dropped, as the contract asks
(rules 8–10).

Rule 1 of § 15 (contract rule 5): if any record the push names has a scope
change numbered at or after ``lastPulledAt`` (the app has every change below
it, see :mod:`api.sync.watermelon.pull`), the push is refused with
``sync.pull_first`` and nothing is applied; WatermelonDB pulls and retries.
The pushed work orders are locked (``FOR UPDATE``) before that check, so an
office write cannot land between the check and the diff.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.db import UnitOfWorkFactory
from api.sync import queries
from api.sync.capture import touch
from api.sync.devices import retired
from api.sync.models import SyncDevice, SyncScopeChange
from api.sync.rows import materialise
from api.sync.syncables import BY_TABLE
from api.sync.watermelon.apply import apply_mutations, device_of
from api.sync.watermelon.params import MAX_NUMBER, read_last_pulled_at, read_replica_schema
from api.sync.watermelon.pull import check_replica_schema, device_scopes
from api.sync.watermelon.records import COLUMNS, READ_ONLY, SAFE_ID, RawRecord, raw_record
from api.sync.watermelon.translate import (
    INVALID_RECORD,
    REFERENCE_TABLES,
    ServerRows,
    Synthetic,
    translate,
)
from api.workorders.models import WorkOrder
from sync_protocol.entities import Table
from sync_protocol.errors import JSONValue, ProtocolError
from sync_protocol.records import ResetRequired
from sync_protocol.untrusted import storable, visible
from sync_protocol.versions import MIN_SCHEMA_VERSION
from sync_protocol.wire import MAX_DEPTH, ObjectReader, check_json, check_text, decode

MAX_RECORDS = 5_000  # per push; WatermelonDB sends everything unsynced at once
_KINDS = ("created", "updated", "deleted")

Changes = dict[str, dict[str, list[JSONValue]]]
Apply = Callable[[Session, list[Synthetic]], None]


@dataclass(frozen=True)
class PushRequest:
    last_pulled_at: int
    changes: Changes
    # Records refused one by one before any rule ran (unstorable text, nesting past
    # the limit): each is quarantined, the rest of the push applies.
    refused: tuple[Synthetic, ...] = ()

    def named(self, table: Table, kinds: tuple[str, ...] = _KINDS) -> set[str]:
        """IDs of ``table``'s records in these lists of the push."""
        lists = self.changes.get(table.value, {})
        return {_id_of(item) for kind in kinds for item in lists.get(kind, [])}


def _id_of(item: JSONValue) -> str:
    """A deleted entry is its ID; a record carries one (both checked by :func:`read_push`)."""
    if isinstance(item, dict):
        return str(item["id"])
    return str(item)


def read_push(body: bytes, query: Mapping[str, str]) -> PushRequest:
    """Either body: ``{"changes": …, "lastPulledAt": n}`` or the changes alone (the
    form WatermelonDB's documentation shows), with ``?last_pulled_at=`` then required."""
    value = decode(body)
    in_query = query.get("last_pulled_at")
    if type(value) is dict and "changes" in value:
        reader = ObjectReader(value, "", frozenset({"changes", "lastPulledAt"}))
        if reader.has("lastPulledAt") or in_query is None:
            last = reader.integer("lastPulledAt", minimum=1, maximum=MAX_NUMBER)
            if in_query is not None and _pushed_after(in_query) != last:
                raise ProtocolError("sync.invalid_value", "Not the body's", "last_pulled_at")
        else:
            last = _pushed_after(in_query)
        tables = _tables(reader.raw("changes"), "changes")
    else:
        if in_query is None:
            detail = "last_pulled_at is required with a bare body"
            raise ProtocolError("sync.missing_field", detail, "last_pulled_at")
        last = _pushed_after(in_query)
        tables = _tables(value, "")
    changes, refused = _read_changes(tables)
    return PushRequest(last, changes, tuple(refused))


def _read_changes(tables: list[tuple[str, str, object]]) -> tuple[Changes, list[Synthetic]]:
    """The synced tables' lists, and the records refused one by one."""
    changes: Changes = {}
    refused: list[Synthetic] = []
    count = 0
    for path, table, lists_value in tables:
        lists = ObjectReader(lists_value, path, frozenset(_KINDS))
        if table not in {t.value for t in COLUMNS} or Table(table) in READ_ONLY:
            continue  # not synced, or not the app's to change: ignored (contract rule 10)
        changes[table] = {kind: [] for kind in _KINDS}
        for kind in _KINDS:
            for at, item in lists.items(kind, max_items=MAX_RECORDS):
                count += 1
                if count > MAX_RECORDS:
                    raise ProtocolError("sync.too_long", f"At most {MAX_RECORDS} records", at)
                record = _record(Table(table), item, at, kind)
                if isinstance(record, Synthetic):
                    refused.append(record)
                else:
                    changes[table][kind].append(record)
    return changes, refused


def _pushed_after(text: str) -> int:
    """``?last_pulled_at=`` of a push: a pull's timestamp, so at least 1."""
    value = read_last_pulled_at(text)
    if value < 1:
        raise ProtocolError("sync.invalid_value", "A push follows a pull", "last_pulled_at")
    return value


def _tables(value: object, path: str) -> list[tuple[str, str, object]]:
    """``(path, table, lists)`` for each member of the changes object."""
    if type(value) is not dict:
        raise ProtocolError("sync.wrong_type", "Expected an object", path or None)
    if len(value) > 64:
        raise ProtocolError("sync.too_long", "At most 64 members", path or None)
    found: list[tuple[str, str, object]] = []
    for name in sorted(value, key=str):
        if type(name) is not str:
            raise ProtocolError("sync.wrong_type", "Object keys must be strings", path or None)
        found.append((f"{path}.{name}" if path else name, check_text(name, path), value[name]))
    return found


def check_fresh(session: Session, actor: Actor, push: PushRequest) -> ResetRequired | None:
    """Refuse (``sync.pull_first``) a push naming rows changed since ``lastPulledAt``."""
    if not actor.technician_id or actor.is_office:
        raise ProtocolError(
            "sync.scope_forbidden", "Only a technician's device pushes its replica", None
        )
    top = queries.high_water(session, actor.tenant_id)
    if push.last_pulled_at - 1 > top:
        return ResetRequired(
            "sync.server_restored",
            f"lastPulledAt {push.last_pulled_at} is past this server's change {top}",
            push_first=False,
            min_schema=MIN_SCHEMA_VERSION,
        )
    rows = _row_ids(push)
    _lock_orders(session, actor.tenant_id, rows)
    stale = sorted(_changed_since(session, actor, rows, push.last_pulled_at))
    if stale:
        raise ProtocolError(
            "sync.pull_first",
            f"{len(stale)} pushed record(s) changed on the server since lastPulledAt",
            "changes",
            extra={"ids": [*(str(i) for i in stale[:50])]},
        )
    return None


def synthesise(session: Session, actor: Actor, push: PushRequest) -> list[Synthetic]:
    """The mutations the push stands for, diffed against the server's rows."""
    return translate(push.changes, server_rows(session, actor.tenant_id, push))


def server_rows(session: Session, tenant_id: uuid.UUID, push: PushRequest) -> ServerRows:
    orders = _uuids(push.named(Table.WORK_ORDERS, ("created", "updated")))
    images = materialise(session, tenant_id, Table.WORK_ORDERS, orders)
    evidence: dict[tuple[Table, str], RawRecord] = {}
    for table in (Table.NOTES, Table.PARTS_USED, Table.READINGS, Table.TIME_ENTRIES, Table.PHOTOS):
        if table not in BY_TABLE:
            continue
        found = materialise(session, tenant_id, table, _uuids(push.named(table)))
        evidence |= {(table, str(i)): raw_record(table, row) for i, row in found.items()}
    reference = {
        (table, str(i))
        for table in REFERENCE_TABLES
        for i in materialise(session, tenant_id, table, _uuids(push.named(table)))
    }
    offers = materialise(session, tenant_id, Table.OFFERS, _uuids(push.named(Table.OFFERS)))
    return ServerRows(
        work_orders={str(i): raw_record(Table.WORK_ORDERS, r) for i, r in images.items()},
        evidence=evidence,
        reference=frozenset(reference),
        offers={str(i): raw_record(Table.OFFERS, r) for i, r in offers.items()},
    )


def _record(table: Table, item: object, at: str, kind: str) -> JSONValue | Synthetic:
    """The record's synced columns, or (a value no database can store: NUL, a lone
    surrogate, nesting past the limit) its refusal, quarantined on its own."""
    if kind == "deleted":
        return _safe_id(item, at)
    if type(item) is not dict:
        raise ProtocolError("sync.wrong_type", "Expected a record object", at)
    record_id = _safe_id(item.get("id"), f"{at}.id")
    record: dict[str, JSONValue] = {"id": record_id}
    allowed = COLUMNS[table]
    for name, value in item.items():
        if name in allowed and name != "id":
            try:
                record[name] = check_json(value, name)
            except ProtocolError as error:
                field = visible(error.field) if error.field else name
                args: dict[str, JSONValue] = {
                    "table": table.value,
                    "id": record_id,
                    "kind": kind,
                    "record": storable(item, MAX_DEPTH),
                }
                reason = ProtocolError(error.code, error.detail, field)
                return Synthetic(INVALID_RECORD, args, refusal=reason)
    return record


def _safe_id(value: object, at: str) -> str:
    if type(value) is not str or SAFE_ID.fullmatch(value) is None:
        raise ProtocolError("sync.invalid_value", "IDs are 1-128 of [A-Za-z0-9_.-]", at)
    return value


def _row_ids(push: PushRequest) -> dict[Table, set[uuid.UUID]]:
    """Server row IDs the push names; a link ``<order>_<asset>`` names its order."""
    rows: dict[Table, set[uuid.UUID]] = {}
    for table in COLUMNS:
        named = push.named(table)
        if table is Table.WORK_ORDER_ASSETS:
            rows.setdefault(Table.WORK_ORDERS, set()).update(
                _uuids({i.partition("_")[0] for i in named})
            )
        else:
            rows.setdefault(table, set()).update(_uuids(named))
    return rows


def _lock_orders(
    session: Session, tenant_id: uuid.UUID, rows: Mapping[Table, set[uuid.UUID]]
) -> None:
    ids = sorted(rows.get(Table.WORK_ORDERS, set()))
    if ids:
        lock = select(WorkOrder.id).where(WorkOrder.tenant_id == tenant_id, WorkOrder.id.in_(ids))
        session.execute(lock.order_by(WorkOrder.id).with_for_update()).all()


def _changed_since(
    session: Session, actor: Actor, rows: Mapping[Table, set[uuid.UUID]], last_pulled_at: int
) -> set[uuid.UUID]:
    scopes = device_scopes(session, actor, None)
    stale: set[uuid.UUID] = set()
    for table, ids in rows.items():
        ordered = sorted(ids)
        for start in range(0, len(ordered), 500):
            query = select(SyncScopeChange.row_id).where(
                SyncScopeChange.tenant_id == actor.tenant_id,
                SyncScopeChange.scope.in_(scopes),
                SyncScopeChange.table_name == table.value,
                SyncScopeChange.row_id.in_(ordered[start : start + 500]),
                SyncScopeChange.change_seq >= last_pulled_at,
            )
            stale |= set(session.scalars(query))
    return stale


def _uuids(ids: set[str]) -> set[uuid.UUID]:
    """The IDs that are UUIDs; any other ID cannot name a server row."""
    found: set[uuid.UUID] = set()
    for text in ids:
        try:
            found.add(uuid.UUID(text))
        except ValueError:
            continue
    return found


def push(
    uow: UnitOfWorkFactory, actor: Actor, body: bytes, query: Mapping[str, str]
) -> ResetRequired | None:
    """Apply a push in one transaction, or refuse it whole (nothing applied)."""
    too_old = check_replica_schema(read_replica_schema(query.get("replica_schema")), pushing=True)
    if too_old is not None:
        return too_old
    request = read_push(body, query)
    with uow() as unit:
        reset = check_fresh(unit.session, actor, request)
        if reset is not None:
            return reset
        known = unit.session.get(SyncDevice, (actor.tenant_id, device_of(unit.session, actor)))
        if known is not None and known.retired_at is not None:
            return retired()
        mutations = synthesise(unit.session, actor, request)
        apply_mutations(unit.session, actor, [*mutations, *request.refused])
        # Whatever the rules made of them, the app gets the server's rows back at its
        # next pull (rule 3 of § 15 leaves the app showing its own values otherwise).
        pushed = _row_ids(request)
        touch(
            unit.session,
            actor.tenant_id,
            [(table, row_id) for table, ids in pushed.items() for row_id in ids],
        )
        unit.commit()
    return None
