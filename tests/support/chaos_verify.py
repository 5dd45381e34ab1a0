"""After a chaos run: compare what every device holds with the database, read-only.

:func:`verify` checks the promises of PROTOCOL.md § 7 and § 8 against the
server's tables and returns the counts, or raises an ``AssertionError`` listing
every broken promise (the first 30):

- every acknowledged mutation is on the server: a receipt in ``sync_receipts``
  for each (device, seq) a device holds one for, equal to it; evidence rows by
  the device's client IDs, on the right order, from the right device;
- none applied twice: each device's receipts are seqs 1..last_seq with no gap
  and ``last_seq`` equals the device's own; evidence rows number exactly the
  applied evidence receipts; and per work order, the status-history rows the
  technicians' devices wrote equal the transition receipts that moved the order
  (``applied``, ``merged``, or ``conflict`` whose record kept the device's side:
  the completion that wins over a reassignment or an office step back,
  ``api/sync/push/orders.py`` → ``status_merge``), since ``carry_out`` writes one
  history row exactly when the decision carries a plan;
- every replica equals the server's view: per scope, the device's checksum and
  row count equal :func:`api.sync.services.scope_rows` computed now;
- and, independently of that shared checksum code, every replica row equals the
  database's, column by column, read by plain SQL (:mod:`tests.support.chaos_replicas`);
- every conflict receipt names records of ``sync_conflicts`` made for that device,
  listed in the inbox (``GET /v1/sync/conflicts``), and no record is unaccounted for;
- every rejected receipt has its ``sync_quarantine`` entry, and there are no others;
- every work order's final status, assignee and fields, and every transition's and
  patch's receipt, are what an oracle of the merge rules gives
  (:mod:`tests.support.chaos_oracle`, written from PROTOCOL.md alone) from what the
  office and the devices did, in the order the server took them;
- and :attr:`Verified.kinds` counts, from receipts and the database, each conflict
  the run met (:data:`tests.support.chaos_script.KINDS_ALL`).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from api.db import make_engine
from api.evidence.models import PartUsed, Photo, Reading, TimeEntry
from api.sync import queries
from api.sync.models import SyncConflict, SyncDevice, SyncQuarantine, SyncReceipt
from api.sync.services import scope_rows
from api.workorders.models import Note, StatusChange
from client_sdk.device import Device
from sync_protocol.checksum import scope_checksum
from sync_protocol.scopes import Scope, ScopeKind
from tests.support import chaos_oracle as oracle
from tests.support.chaos_replicas import Rows, compare_scope, read_scope
from tests.support.chaos_world import OfficeAct

EVIDENCE: dict[str, Any] = {  # mutation name -> evidence model (Note lives with orders)
    "add_note": Note,
    "record_part": PartUsed,
    "record_reading": Reading,
    "add_time_entry": TimeEntry,
    "attach_photo": Photo,
}
MOVED = ("applied", "merged")


@dataclass
class DeviceSnapshot:
    """Everything a device knows after quiescence (read in the device's own thread)."""

    name: str
    device_id: uuid.UUID
    technician_id: uuid.UUID
    user_id: uuid.UUID
    last_seq: int
    pending: int
    receipts: dict[int, dict[str, Any]]  # acknowledged seq -> receipt JSON
    mutations: dict[int, dict[str, Any]]  # seq -> mutation JSON (acknowledged or quarantined)
    quarantined: dict[int, str]  # seq -> code
    checksums: dict[str, str]
    counts: dict[str, int]
    images: dict[str, Rows] = field(default_factory=dict)  # scope -> (table, id) -> row

    @classmethod
    def read(cls, name: str, device: Device, user_id: str) -> DeviceSnapshot:
        outbox, replica = device.outbox, device.replica
        acked = outbox.acknowledged()
        parked = outbox.quarantined()
        scopes = device.engine.scopes
        counts = replica.counts()
        return cls(
            name,
            device.device_id,
            device.technician_id,
            uuid.UUID(user_id),
            int(device.store.get("next_seq") or "1") - 1,
            outbox.report().pending,
            {m.seq: r.to_json() for m, r in acked},
            {m.seq: m.to_json() for m, _ in acked}
            | {q.mutation.seq: q.mutation.to_json() for q in parked},
            {q.mutation.seq: q.code for q in parked},
            {scope: replica.checksum(scope) for scope in scopes},
            {scope: counts.get(scope, 0) for scope in scopes},
            {scope: _images(device, scope) for scope in scopes},
        )


@dataclass
class Verified:
    receipts: Counter[str] = field(default_factory=Counter)  # by status, all devices
    acknowledged: int = 0
    evidence: int = 0
    history: int = 0
    conflicts: int = 0
    quarantined: int = 0
    scopes: int = 0
    rows: int = 0  # replica rows compared column by column with the database
    orders: int = 0  # work orders whose final state the oracle checked
    kinds: Counter[str] = field(default_factory=Counter)  # conflicts met, by kind


@dataclass(frozen=True)
class Office:
    """What the office did: its requests and the user they were made as."""

    user_id: str
    acts: list[OfficeAct]


def verify(
    database_url: str,
    tenant_id: str,
    devices: list[DeviceSnapshot],
    inbox_ids: set[str],
    office: Office | None = None,
) -> Verified:
    engine = make_engine(database_url)
    problems: list[str] = []
    result = Verified()
    try:
        with Session(engine) as session:
            tenant = uuid.UUID(tenant_id)
            stored = _receipts(session, tenant)
            for snap in devices:
                _check_device(session, snap, stored.get(snap.device_id, {}), problems, result)
            _check_evidence(session, tenant, devices, problems, result)
            _check_history(session, tenant, devices, problems, result)
            _check_conflicts(session, tenant, devices, inbox_ids, problems, result)
            _check_quarantine(session, tenant, devices, problems, result)
            _check_replicas(session, tenant, devices, problems, result)
            _check_rows(session, tenant, devices, problems, result)
            _check_membership(session, tenant, devices, problems)
            if office is not None:
                check_oracle(session, tenant, devices, office, problems, result)
            session.rollback()
    finally:
        engine.dispose()
    assert not problems, f"{len(problems)} broken promises:\n" + "\n".join(problems[:30])
    return result


def _receipts(session: Session, tenant: uuid.UUID) -> dict[uuid.UUID, dict[int, dict[str, Any]]]:
    found: dict[uuid.UUID, dict[int, dict[str, Any]]] = {}
    rows = session.execute(
        select(SyncReceipt.device_id, SyncReceipt.seq, SyncReceipt.receipt).where(
            SyncReceipt.tenant_id == tenant
        )
    )
    for device_id, seq, receipt in rows:
        found.setdefault(device_id, {})[int(seq)] = receipt
    return found


def _check_device(
    session: Session,
    snap: DeviceSnapshot,
    stored: dict[int, dict[str, Any]],
    problems: list[str],
    result: Verified,
) -> None:
    name = snap.name
    if snap.pending:
        problems.append(f"{name}: {snap.pending} mutations still pending after quiescence")
    last = session.scalar(select(SyncDevice.last_seq).where(SyncDevice.id == snap.device_id))
    if last != snap.last_seq:
        problems.append(f"{name}: server last_seq {last}, device made {snap.last_seq}")
    if set(stored) != set(range(1, snap.last_seq + 1)):
        missing = sorted(set(range(1, snap.last_seq + 1)) - set(stored))[:10]
        problems.append(f"{name}: server receipts not 1..{snap.last_seq}; missing {missing}")
    held = set(snap.receipts) | set(snap.quarantined)
    if held != set(range(1, snap.last_seq + 1)):
        problems.append(f"{name}: device holds receipts for {len(held)} of {snap.last_seq} seqs")
    for seq, receipt in snap.receipts.items():
        if stored.get(seq) != receipt:
            problems.append(f"{name} seq {seq}: device {receipt} != server {stored.get(seq)}")
    for seq, code in snap.quarantined.items():
        server = stored.get(seq) or {}
        if (server.get("status"), server.get("code")) != ("rejected", code):
            problems.append(f"{name} seq {seq}: quarantined locally ({code}), server {server}")
    result.acknowledged += len(held)
    result.receipts.update(str(r.get("status")) for r in stored.values())


def _check_evidence(
    session: Session,
    tenant: uuid.UUID,
    devices: list[DeviceSnapshot],
    problems: list[str],
    result: Verified,
) -> None:
    ours = [d.device_id for d in devices]
    for name, model in EVIDENCE.items():
        rows = {
            str(i): (str(order), device)
            for i, order, device in session.execute(
                select(model.id, model.work_order_id, model.device_id).where(
                    model.tenant_id == tenant, model.device_id.in_(ours)
                )
            )
        }
        applied: set[str] = set()
        for snap in devices:
            for seq, mutation in snap.mutations.items():
                if mutation["name"] != name:
                    continue
                args, status = mutation["args"], _status(snap, seq)
                found = rows.get(args["id"])
                expected = (args["work_order_id"], snap.device_id)
                if status == "applied":
                    applied.add(args["id"])
                if status in ("applied", "duplicate") and found != expected:
                    problems.append(f"{snap.name} seq {seq} {name} {status}: row {found}")
                if status == "rejected" and found is not None:
                    problems.append(f"{snap.name} seq {seq} {name} rejected but stored")
        if set(rows) != applied:
            problems.append(f"{name}: {len(rows)} rows by devices, {len(applied)} applied")
        result.evidence += len(rows)


def _check_history(
    session: Session,
    tenant: uuid.UUID,
    devices: list[DeviceSnapshot],
    problems: list[str],
    result: Verified,
) -> None:
    kept: dict[uuid.UUID, str] = dict(
        session.execute(
            select(SyncConflict.id, SyncConflict.kept).where(SyncConflict.tenant_id == tenant)
        )
        .tuples()
        .all()
    )
    expected: Counter[str] = Counter()
    for snap in devices:
        for seq, receipt in snap.receipts.items():
            if snap.mutations[seq]["name"] != "transition_work_order":
                continue
            ids = [uuid.UUID(c) for c in receipt["conflict_ids"]]
            device_won = receipt["status"] == "conflict" and all(
                kept.get(c) == "device" for c in ids
            )
            if receipt["status"] in MOVED or device_won:
                expected[str(receipt["entity_id"])] += 1
    users = {d.user_id for d in devices}
    actual = Counter(
        str(order)
        for order, n in session.execute(
            select(StatusChange.work_order_id, func.count())
            .where(
                StatusChange.tenant_id == tenant,
                StatusChange.actor_id.in_(users),
                StatusChange.action != "create",
            )
            .group_by(StatusChange.work_order_id)
        )
        for _ in range(int(n))
    )
    for order in sorted(set(expected) | set(actual)):
        if expected[order] != actual[order]:
            problems.append(
                f"order {order}: {actual[order]} history rows by devices, "
                f"{expected[order]} transition receipts moved it"
            )
    result.history = sum(actual.values())


def _check_conflicts(
    session: Session,
    tenant: uuid.UUID,
    devices: list[DeviceSnapshot],
    inbox_ids: set[str],
    problems: list[str],
    result: Verified,
) -> None:
    records: dict[uuid.UUID, uuid.UUID | None] = dict(
        session.execute(
            select(SyncConflict.id, SyncConflict.device_id).where(SyncConflict.tenant_id == tenant)
        )
        .tuples()
        .all()
    )
    named: set[uuid.UUID] = set()
    for snap in devices:
        for seq, receipt in snap.receipts.items():
            ids = [uuid.UUID(c) for c in receipt["conflict_ids"]]
            if (receipt["status"] == "conflict") != bool(ids):
                problems.append(f"{snap.name} seq {seq}: {receipt['status']} with ids {ids}")
            for conflict in ids:
                named.add(conflict)
                if records.get(conflict) != snap.device_id:
                    problems.append(f"{snap.name} seq {seq}: conflict {conflict} not recorded")
                if str(conflict) not in inbox_ids:
                    problems.append(f"{snap.name} seq {seq}: conflict {conflict} not in inbox")
    if set(records) != named:
        problems.append(f"{len(set(records) - named)} conflict records no receipt names")
    result.conflicts = len(records)


def _check_quarantine(
    session: Session,
    tenant: uuid.UUID,
    devices: list[DeviceSnapshot],
    problems: list[str],
    result: Verified,
) -> None:
    parked = Counter(
        session.execute(
            select(SyncQuarantine.device_id, SyncQuarantine.seq).where(
                SyncQuarantine.tenant_id == tenant
            )
        ).all()
    )
    rejected = {
        (snap.device_id, seq)
        for snap in devices
        for seq in set(snap.receipts) | set(snap.quarantined)
        if _status(snap, seq) == "rejected"
    }
    for key in rejected - set(parked):
        problems.append(f"rejected {key} has no quarantine entry")
    if set(parked) != rejected or any(n != 1 for n in parked.values()):
        problems.append(f"{sum(parked.values())} quarantine entries, {len(rejected)} rejected")
    result.quarantined = sum(parked.values())


def _check_rows(
    session: Session,
    tenant: uuid.UUID,
    devices: list[DeviceSnapshot],
    problems: list[str],
    result: Verified,
) -> None:
    """Every row of every replica equals the database's, by an independent plain-SQL read."""
    server: dict[str, Rows] = {}
    conn = session.connection()
    for snap in devices:
        for scope, held in snap.images.items():
            if scope not in server:
                server[scope] = read_scope(conn, tenant, scope)
            problems.extend(compare_scope(snap.name, scope, held, server[scope]))
            result.rows += len(held)


def _images(device: Device, scope: str) -> Rows:
    return {
        (str(tbl), str(ident)): json.loads(row)
        for tbl, ident, row in device.store.conn.execute(
            "SELECT tbl, id, row FROM rows WHERE scope = ? AND row IS NOT NULL", (scope,)
        )
    }


def _check_replicas(
    session: Session,
    tenant: uuid.UUID,
    devices: list[DeviceSnapshot],
    problems: list[str],
    result: Verified,
) -> None:
    server: dict[str, tuple[str, int]] = {}
    for snap in devices:
        for scope, checksum in snap.checksums.items():
            if scope not in server:
                rows = scope_rows(session, tenant, scope)
                server[scope] = (scope_checksum(rows), len(rows))
            if (checksum, snap.counts[scope]) != server[scope]:
                problems.append(
                    f"{snap.name} {scope}: replica {checksum}/{snap.counts[scope]} rows, "
                    f"server {server[scope][0]}/{server[scope][1]}"
                )
            result.scopes += 1


def _check_membership(
    session: Session, tenant: uuid.UUID, devices: list[DeviceSnapshot], problems: list[str]
) -> None:
    """What each scope holds (kept incrementally at every commit) is what it should hold."""
    for name in sorted({scope for snap in devices for scope in snap.checksums}):
        scope = Scope.parse(name)
        if scope.kind is not ScopeKind.TECHNICIAN or scope.subject is None:
            continue
        held = queries.stored_members(session, tenant, name)
        should = queries.technician_members(session, tenant, scope.subject)
        if held != should:
            problems.append(
                f"{name}: holds {len(held - should)} rows it should not, "
                f"misses {len(should - held)}"
            )


def _status(snap: DeviceSnapshot, seq: int) -> str:
    if seq in snap.quarantined:
        return "rejected"
    return str(snap.receipts[seq]["status"])


# --- the oracle of the merge rules --------------------------------------------------------


def check_oracle(
    session: Session,
    tenant: uuid.UUID,
    devices: list[DeviceSnapshot],
    office: Office,
    problems: list[str],
    result: Verified,
) -> None:
    """Final state and receipts against :func:`tests.support.chaos_oracle.replay`."""
    conn = session.connection()
    initial, events = _office_events(conn, tenant, office, problems)
    stamps = {
        (str(device), int(seq)): created
        for device, seq, created in conn.execute(
            text("SELECT device_id, seq, created_at FROM sync_receipts WHERE tenant_id = :t"),
            {"t": tenant},
        )
    }
    stored = _receipts(session, tenant)
    for snap in devices:
        for seq, mutation in sorted(snap.mutations.items()):
            receipt = stored.get(snap.device_id, {}).get(seq)
            stamp = stamps.get((str(snap.device_id), seq))
            if receipt is None or stamp is None:
                continue  # reported by _check_device
            event = _device_event(snap, seq, mutation, receipt, stamp)
            if event is not None:
                events.setdefault(str(mutation["args"]["work_order_id"]), []).append(event)
    actual = {
        str(row["id"]): dict(row)
        for row in conn.execute(
            text(
                "SELECT id, status, assignee_id, title, scheduled_start, resolution, "
                "actual_start, actual_end, completed_at, closed_at, cancelled_at "
                "FROM work_orders WHERE tenant_id = :t"
            ),
            {"t": tenant},
        ).mappings()
    }
    recorded: dict[str, list[tuple[str, Any]]] = {}
    for row in conn.execute(
        text(
            "SELECT work_order_id, to_status, occurred_at FROM work_order_status_changes "
            "WHERE tenant_id = :t AND actor_id IN :users ORDER BY recorded_at, occurred_at"
        ).bindparams(bindparam("users", expanding=True)),
        {"t": tenant, "users": sorted({d.user_id for d in devices})},
    ):
        status = getattr(row.to_status, "value", row.to_status)
        at = oracle.aware(row.occurred_at)
        recorded.setdefault(str(row.work_order_id), []).append((str(status), at))
    for order, state in sorted(initial.items()):
        steps = oracle.Recorded(recorded.get(order, []))
        done = oracle.replay(state, events.get(order, []), steps)
        wrong = [f"order {order}: {p}" for p in done.problems]
        wrong += oracle.compare(order, done.state, actual.get(order, {}))
        if wrong:  # what happened to it, for whoever reads the failure
            trace = sorted(events.get(order, []), key=lambda e: e.key)
            wrong.append(f"order {order} events: " + "; ".join(_describe(e) for e in trace))
        problems.extend(wrong)
        result.orders += 1
    for order in set(events) - set(initial):
        problems.append(f"order {order}: mutations on an order the office never created")
    result.kinds.update(_kinds(conn, tenant, initial, events, actual))


def _describe(event: oracle.Event) -> str:
    if isinstance(event, oracle.DeviceStep):
        made = oracle.wall_time(event.sent).time()
        got = f"{event.receipt.status}/{event.receipt.code}"
        return f"{event.ref} {event.action} from {event.base_status} made {made} -> {got}"
    if isinstance(event, oracle.DevicePatch):
        return f"{event.ref} patch {sorted(event.fields)} -> {event.receipt.status}"
    if isinstance(event, oracle.OfficeStep):
        return f"office {event.action} {event.assignee_id or ''} at {event.occurred_at.time()}"
    return f"office patch {sorted(event.fields)}"


def _office_events(
    conn: Any, tenant: uuid.UUID, office: Office, problems: list[str]
) -> tuple[dict[str, oracle.OrderState], dict[str, list[oracle.Event]]]:
    """The office's requests that took effect, each placed by its history row's stamps."""
    rows: dict[str, list[Any]] = {}
    for row in conn.execute(
        text(
            "SELECT work_order_id, action, occurred_at, recorded_at "
            "FROM work_order_status_changes WHERE tenant_id = :t AND actor_id = :u "
            "ORDER BY recorded_at"
        ),
        {"t": tenant, "u": uuid.UUID(office.user_id)},
    ):
        rows.setdefault(str(row.work_order_id), []).append(row)
    initial: dict[str, oracle.OrderState] = {}
    events: dict[str, list[oracle.Event]] = {}
    for act in office.acts:
        if act.kind == "create" and act.outcome == "ok":
            history = rows.get(act.order, [])
            if not history or history[0].action != "create":
                problems.append(f"order {act.order}: created by the office, no create row")
                continue
            at = oracle.aware(history[0].occurred_at)
            initial[act.order] = oracle.created(act.body["title"], at)
    for order in initial:
        history = rows.get(order, [])[1:]
        asked = [a for a in office.acts if a.order == order and a.outcome == "ok"]
        steps = [a for a in asked if a.kind == "transition"]
        if [a.body["action"] for a in steps] != [h.action for h in history]:
            problems.append(
                f"order {order}: the office's steps {[a.body['action'] for a in steps]}, "
                f"its history {[h.action for h in history]}"
            )
            continue
        found: list[oracle.Event] = [
            oracle.OfficeStep(
                act.body["action"],
                oracle.aware(row.occurred_at),
                oracle.arrival_key(row.recorded_at),
                act.body.get("assignee_id"),
                f"office {act.body['action']} #{n}",
            )
            for n, (act, row) in enumerate(zip(steps, history, strict=True))
        ]
        # Only the office writes office fields, one request at a time per order.
        found += [
            oracle.OfficeWrite(act.body, oracle.arrival_key(act.at), f"office patch #{n}")
            for n, act in enumerate(a for a in asked if a.kind == "patch")
        ]
        events[order] = found
    return initial, events


def _device_event(
    snap: DeviceSnapshot,
    seq: int,
    mutation: dict[str, Any],
    receipt: dict[str, Any],
    stamp: Any,
) -> oracle.Event | None:
    name, args = mutation["name"], mutation["args"]
    got = oracle.Receipt(str(receipt["status"]), receipt.get("code"))
    key = oracle.arrival_key(stamp, str(snap.device_id), seq)
    ref = f"{snap.name} seq {seq}"
    tech = str(snap.technician_id)
    effective = oracle.parse_hlc(str(receipt.get("hlc") or mutation["hlc"]))
    if name == "transition_work_order":
        return oracle.DeviceStep(
            tech,
            str(args["action"]),
            str(args["base_status"]),
            effective,
            oracle.parse_hlc(str(mutation["hlc"])),
            key,
            got,
            args.get("resolution"),
            ref,
        )
    if name == "patch_work_order":
        fields = {str(k): str(v) for k, v in (receipt.get("fields") or {}).items()}
        return oracle.DevicePatch(tech, dict(args["fields"]), effective, key, got, fields, ref)
    return None


def _kinds(
    conn: Any,
    tenant: uuid.UUID,
    initial: dict[str, oracle.OrderState],
    events: dict[str, list[oracle.Event]],
    actual: dict[str, dict[str, Any]],
) -> Counter[str]:
    """How many orders met each conflict kind, from receipts and the database."""
    met: dict[str, set[str]] = {}
    for order, found in events.items():
        office_edits = [
            e for e in found if isinstance(e, oracle.OfficeWrite) and "scheduled_start" in e.fields
        ]
        for event in found:
            if isinstance(event, oracle.DeviceStep):
                got = event.receipt
                if (
                    event.action == "complete"
                    and got.code == "sync.concurrent_status"
                    and actual.get(order, {}).get("status") == "cancelled"
                ):
                    met.setdefault("cancel_vs_complete", set()).add(order)
                if (
                    event.action == "complete"
                    and got.code == "sync.concurrent_status"
                    and actual.get(order, {}).get("status") == "completed"
                ):
                    met.setdefault("office_moved_back", set()).add(order)
                if got.code == "sync.reassigned":
                    met.setdefault("reassigned_offline", set()).add(order)
            is_device = isinstance(event, oracle.DeviceStep | oracle.DevicePatch)
            if is_device and event.receipt.status == "merged":  # type: ignore[union-attr]
                met.setdefault("merged", set()).add(order)
            if isinstance(event, oracle.DevicePatch):
                proposed = {f for f, o in event.field_outcomes.items() if o == "proposed"}
                if proposed:
                    met.setdefault("proposal", set()).add(order)
                made = oracle.wall_time(event.hlc)
                if "scheduled_start" in proposed and any(e.key[0] > made for e in office_edits):
                    met.setdefault("stale_office_edit", set()).add(order)
    counts = Counter({kind: len(orders) for kind, orders in met.items()})
    counts["photo_pending_to_ready"] = int(
        conn.execute(
            text(
                "SELECT count(*) FROM work_order_photos p JOIN sync_blobs b "
                "ON b.tenant_id = p.tenant_id AND b.sha256 = p.sha256 "
                "WHERE p.tenant_id = :t AND p.state = 'ready' AND b.created_at > p.created_at"
            ),
            {"t": tenant},
        ).scalar_one()
    )
    return counts
