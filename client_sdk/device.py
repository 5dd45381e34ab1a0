"""A technician's device: the one object an app (or the CLI) talks to.

:class:`Device` opens the device folder (``device.db`` and ``blobs/``), logs
in as this device, and offers the technician's actions. Every action works
offline: it checks the step against the state machine from the status the
technician sees (:func:`sync_protocol.workorder_status.plan`), records the
mutation durably in the outbox and returns; reads show the server image with
pending mutations laid over it (:mod:`client_sdk.view`). :meth:`Device.sync`
sends and fetches everything when there is a network.
"""

from __future__ import annotations

import json
import mimetypes
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from uuid_utils.compat import uuid7

from client_sdk.errors import AuthError, NotFoundError, ValidationError
from client_sdk.http import FieldlineClient, Tokens
from client_sdk.jobcard import FINISHED, JobCard, job_card, same_number
from client_sdk.outbox import Outbox
from client_sdk.positions import PositionBuffer
from client_sdk.replica import Replica
from client_sdk.store import Store
from client_sdk.sync import Callbacks, SyncEngine, SyncReport
from client_sdk.uploads import UploadQueue
from client_sdk.view import OrderView, rebase, server_view
from sync_protocol.entities import EvidenceKind, NoteVisibility, PhotoType, Symbology, Table
from sync_protocol.errors import JSONValue, ProtocolError
from sync_protocol.hlc import PhysicalClock, system_ms
from sync_protocol.merge import Outcome
from sync_protocol.messages import MAX_PULL_LIMIT, Mutation
from sync_protocol.mutations import (
    AddNote,
    AttachPhoto,
    PatchWorkOrder,
    Position,
    RecordPart,
    RecordReading,
    ScanCode,
    SignOff,
    SignOffOutcome,
    TransitionWorkOrder,
    VoidEvidence,
)
from sync_protocol.workorder_status import Action, Party, plan

DB_NAME = "device.db"


class SqliteTokenStore:
    """Tokens in the device file, so a rotated refresh token survives a crash."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def load(self) -> Tokens | None:
        raw = self.store.get("tokens")
        return Tokens.from_json(json.loads(raw)) if raw else None

    def save(self, tokens: Tokens | None) -> None:
        value = None if tokens is None else json.dumps(tokens.__dict__)
        with self.store.transaction():
            self.store.put("tokens", value)


class Device:
    def __init__(
        self,
        home: Path,
        *,
        transport: httpx.BaseTransport | None = None,
        physical: PhysicalClock = system_ms,
        callbacks: Callbacks | None = None,
        pull_limit: int = MAX_PULL_LIMIT,  # fewer round trips on slow links
    ) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        self.store = Store(home / DB_NAME)
        self.outbox = Outbox(self.store, physical=physical)
        self.replica = Replica(self.store)
        self.uploads = UploadQueue(self.store, home / "blobs", now_ms=physical)
        self.callbacks = callbacks or Callbacks()
        self._transport = transport
        self._physical = physical
        self.pull_limit = pull_limit
        self._client: FieldlineClient | None = None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self.store.close()

    @property
    def device_id(self) -> uuid.UUID:
        return self.outbox.device_id

    # --- session ----------------------------------------------------------------------

    def login(self, server: str, tenant: str, email: str, password: str) -> dict[str, Any]:
        """Log in as this device and remember who the technician is."""
        with self.store.transaction():
            self.store.put("server", server)
        if self._client is not None:
            self._client.close()
            self._client = None
        self.client.login(tenant, email, password, str(self.device_id))
        me = self.client.me()
        if not me.get("technician_id"):
            self.client.tokens.save(None)
            raise AuthError("sdk.not_a_technician", f"{email} is not linked to a technician")
        with self.store.transaction():
            for key in ("tenant_id", "technician_id", "email", "name"):
                self.store.put(key, str(me.get(key) or ""))
        return me

    @property
    def client(self) -> FieldlineClient:
        if self._client is None:
            server = self.store.get("server")
            if not server:
                raise AuthError("sdk.not_logged_in", "Log in first")
            tokens = SqliteTokenStore(self.store)
            self._client = FieldlineClient(server, transport=self._transport, tokens=tokens)
        return self._client

    @property
    def technician_id(self) -> uuid.UUID:
        value = self.store.get("technician_id")
        if not value:
            raise AuthError("sdk.not_logged_in", "Log in first")
        return uuid.UUID(value)

    @property
    def engine(self) -> SyncEngine:
        return SyncEngine(
            self.store,
            self.client,
            self.technician_id,
            export_dir=self.home / "exports",
            uploads=self.uploads,
            outbox=self.outbox,
            callbacks=self.callbacks,
            physical=self._physical,
            pull_limit=self.pull_limit,
        )

    def sync(self) -> SyncReport:
        return self.engine.sync_once()

    # --- reads (offline) --------------------------------------------------------------

    def jobs(self, *, finished: bool = True) -> list[OrderView]:
        """Every order on this device as the technician sees it, by number then ID.

        ``finished=False`` leaves out completed, closed and cancelled orders, except
        those with changes not yet synced (the technician still has something there)."""
        ids = {row.id for row in self.replica.rows(Table.WORK_ORDERS)}
        ids |= self._pending_orders()
        views = [self.job(i) for i in ids]
        shown = [
            v
            for v in views
            if v.row is not None and (finished or v.pending or v.status not in FINISHED)
        ]
        return sorted(shown, key=lambda v: (str((v.row or {}).get("number") or "~"), v.id))

    def card(self, view: OrderView) -> JobCard:
        """The order's customer, address, priority and schedule (offline)."""
        return job_card(self.replica, view)

    def job(self, work_order_id: str | uuid.UUID) -> OrderView:
        order_id = self._resolve(str(work_order_id))
        stored = self.replica.get(Table.WORK_ORDERS, order_id)
        evidence = [
            (kind, row.row)
            for kind in EvidenceKind
            for row in self.replica.rows(kind.table, work_order_id=order_id)
            if row.row is not None
        ]
        base = server_view(
            order_id,
            stored.row if stored else None,
            evidence,
            held=bool(stored and stored.held),
        )
        return rebase(base, self.outbox.pending_for(order_id), self.technician_id)

    # --- actions (offline) ------------------------------------------------------------

    def transition(
        self,
        work_order_id: str | uuid.UUID,
        action: Action | str,
        *,
        reason: str | None = None,
        resolution: str | None = None,
    ) -> Mutation:
        """Take a step on an order from the status shown now (its ``base_status``)."""
        view = self._writable(work_order_id)
        status, action = view.status, Action(action)
        assert status is not None  # _writable refuses orders without a row
        try:
            plan(status, action, Party.ASSIGNEE, has_assignee=True)
        except ProtocolError as error:
            raise ValidationError(error.code, error.detail, problem=error.to_json()) from None
        args = TransitionWorkOrder(
            uuid.UUID(view.id), action, status, reason=reason, resolution=resolution
        )
        return self.outbox.record(args)

    def add_note(
        self, work_order_id: str | uuid.UUID, body: str, *, customer_visible: bool = False
    ) -> Mutation:
        visibility = NoteVisibility.CUSTOMER if customer_visible else NoteVisibility.INTERNAL
        order = self._target(work_order_id)
        return self.outbox.record(AddNote(uuid7(), order, body, visibility))

    def sign_off(
        self,
        work_order_id: str | uuid.UUID,
        signer_name: str,
        *,
        drawing: Mapping[str, JSONValue] | None = None,
        consent_text: str | None = None,
        refusal_reason: str | None = None,
        signer_role: str | None = None,
        position: tuple[float, float, float | None] | None = None,
    ) -> Mutation:
        """Queue the customer's signature (``drawing`` and the ``consent_text`` shown) or,
        with ``refusal_reason``, their refusal (PROTOCOL.md § 8.7). The server checks the
        strokes; a second sign-off of the same order comes back ``sync.already_signed``."""
        order = self._target(work_order_id)
        outcome = SignOffOutcome.REFUSED if refusal_reason else SignOffOutcome.SIGNED
        fix = Position(*position) if position else None
        args = SignOff(
            uuid7(),
            order,
            outcome,
            signer_name,
            signer_role,
            consent_text,
            refusal_reason,
            drawing,
            fix,
        )
        return self.outbox.record(args)

    def scan_code(
        self, work_order_id: str | uuid.UUID, code: str, *, symbology: str | None = None
    ) -> Mutation:
        """Queue a scanned label (PROTOCOL.md § 8.8): the server names its asset, or makes a
        provisional one with this mutation's ``id``, and links it to the order."""
        order = self._target(work_order_id)
        kind = Symbology(symbology) if symbology else None
        return self.outbox.record(ScanCode(uuid7(), order, code, kind))

    def record_part(
        self,
        work_order_id: str | uuid.UUID,
        description: str,
        quantity: str,
        unit: str,
        *,
        part_number: str | None = None,
    ) -> Mutation:
        order = self._target(work_order_id)
        return self.outbox.record(
            RecordPart(uuid7(), order, description, quantity, unit, part_number)
        )

    def record_reading(
        self,
        work_order_id: str | uuid.UUID,
        metric: str,
        value: str,
        unit: str,
        *,
        taken_at: datetime | None = None,
    ) -> Mutation:
        order = self._target(work_order_id)
        taken = taken_at or datetime.fromtimestamp(self._physical() / 1000, UTC)
        return self.outbox.record(RecordReading(uuid7(), order, metric, value, unit, taken))

    def attach_photo(
        self,
        work_order_id: str | uuid.UUID,
        path: Path,
        *,
        caption: str | None = None,
        content_type: str | None = None,
        note_id: str | uuid.UUID | None = None,
    ) -> Mutation:
        """Hash and keep a copy of the photo, record ``attach_photo`` and queue the bytes;
        ``note_id``: the order's note the photo illustrates (e.g. from :meth:`add_note`)."""
        order = self._target(work_order_id)
        kind = _photo_type(path, content_type)
        blob = self.uploads.import_file(path)
        note = uuid.UUID(str(note_id)) if note_id is not None else None
        args = AttachPhoto(
            uuid7(), order, blob.sha256, kind, blob.size, caption=caption, note_id=note
        )
        with self.store.transaction():
            mutation = self.outbox.record(args)
            self.uploads.add(blob, kind.value)
        return mutation

    def record_position(self, lat: float, lon: float, **fix: Any) -> None:
        """Buffer one GPS fix (``fixed_at``, ``accuracy_m``, ... optional); the next
        sync sends it (PROTOCOL.md § 10.1)."""
        PositionBuffer(self.store).record(lat, lon, **fix)

    def patch(self, work_order_id: str | uuid.UUID, fields: Mapping[str, JSONValue]) -> Mutation:
        """Write fields; office-owned ones become proposals for the dispatcher (§ 8.2)."""
        order = self._target(work_order_id)
        return self.outbox.record(PatchWorkOrder(order, dict(fields)))

    def void(
        self, work_order_id: str | uuid.UUID, kind: EvidenceKind | str, item_id: str, reason: str
    ) -> Mutation:
        order = self._target(work_order_id)
        return self.outbox.record(
            VoidEvidence(EvidenceKind(kind), uuid.UUID(item_id), order, reason)
        )

    # --- status -------------------------------------------------------------------------

    def status(self) -> dict[str, JSONValue]:
        report = self.outbox.report()
        conflicts: list[JSONValue] = [
            {
                "seq": m.seq,
                "name": m.name,
                "code": r.code,
                "conflict_ids": [str(c) for c in r.conflict_ids],
            }
            for m, r in self.outbox.acknowledged()
            if r.status is Outcome.CONFLICT
        ]
        last = self.store.get("last_sync_ms")
        return {
            "device_id": str(self.device_id),
            "technician_id": self.store.get("technician_id"),
            "server": self.store.get("server"),
            "pending": report.pending,
            "oldest_pending": str(report.oldest) if report.oldest else None,
            "quarantined": [q.to_json() for q in self.outbox.quarantined()],
            "conflicts": conflicts,
            "pending_uploads": self.uploads.pending(),
            "pending_positions": PositionBuffer(self.store).pending(),
            "last_sync_ms": int(last) if last else None,
            "last_error": self.store.get("last_error"),
            "rows": dict(self.replica.counts()),
        }

    # --- internals ----------------------------------------------------------------------

    def _writable(self, work_order_id: str | uuid.UUID) -> OrderView:
        view = self.job(work_order_id)
        self._check_writable(view.id, present=view.row is not None, held=view.held)
        return view

    def _target(self, work_order_id: str | uuid.UUID) -> uuid.UUID:
        """The order evidence goes to; cheaper than a whole view (no rebase needed)."""
        order_id = self._resolve(str(work_order_id))
        stored = self.replica.get(Table.WORK_ORDERS, order_id)
        created = (
            stored is None
            and self.store.conn.execute(
                "SELECT 1 FROM outbox WHERE acked_ms IS NULL AND name = 'create_work_order' "
                "AND work_order_id = ?",
                (order_id,),
            ).fetchone()
        )
        present = stored is not None or bool(created)
        self._check_writable(order_id, present=present, held=bool(stored and stored.held))
        return uuid.UUID(order_id)

    @staticmethod
    def _check_writable(order_id: str, *, present: bool, held: bool) -> None:
        if not present:
            raise NotFoundError("sdk.unknown_work_order", f"No work order {order_id}")
        if held:
            raise ValidationError(
                "sdk.reassigned", "This order was reassigned; it is read-only until synced"
            )

    def _resolve(self, text: str) -> str:
        """A full ID, its order number (``WO-000220``, or just ``220``), or a unique start
        or end of the ID, for people typing. A number wins over an ID fragment.

        UUIDv7s begin with their creation time, so orders made together share a
        prefix; the last characters are random and tell them apart (``jobs``
        shows them)."""
        try:
            return str(uuid.UUID(text))
        except ValueError:
            pass
        ids: dict[str, Mapping[str, Any] | None] = {
            r.id: r.row for r in self.replica.rows(Table.WORK_ORDERS)
        }
        for pending in self._pending_orders():
            ids.setdefault(pending, None)
        numbered = [i for i, row in ids.items() if row and same_number(row.get("number"), text)]
        matches = numbered or [
            i for i in ids if i.startswith(text) or (len(text) >= 4 and i.endswith(text))
        ]
        if len(matches) != 1:
            raise NotFoundError("sdk.unknown_work_order", f"No single order matches {text!r}")
        return matches[0]

    def _pending_orders(self) -> set[str]:
        rows = self.store.conn.execute(
            "SELECT DISTINCT work_order_id FROM outbox "
            "WHERE acked_ms IS NULL AND work_order_id IS NOT NULL"
        )
        return {str(order) for (order,) in rows}


def _photo_type(path: Path, given: str | None) -> PhotoType:
    guessed = given or mimetypes.guess_type(path.name)[0] or ""
    if path.suffix.lower() == ".heic":
        guessed = given or PhotoType.HEIC.value
    try:
        return PhotoType(guessed)
    except ValueError:
        allowed = ", ".join(p.value for p in PhotoType)
        raise ValidationError("sync.invalid_value", f"Photos are {allowed}") from None
