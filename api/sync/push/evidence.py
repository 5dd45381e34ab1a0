"""Evidence mutations (PROTOCOL.md § 8.3): append-only rows keyed by the device's IDs, and voids.

Adding an item whose ID exists with the same content is a ``duplicate``; with
other content, ``sync.id_reused``. Evidence is accepted whatever the order's
status: what a technician recorded on a cancelled job is still a fact. A void
is recorded on the row (never a delete); a technician may void only what they
added. A photo row starts ``pending`` unless its bytes are already stored.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.assets.models import Asset
from api.db import utcnow
from api.evidence.models import EvidenceRecord, PartUsed, Photo, Reading, TimeEntry
from api.evidence.pipeline import queue_processing
from api.sync import capture
from api.sync.blobs import lock_blob
from api.sync.models import SyncBlob
from api.sync.push.access import order_for_update
from api.sync.push.orders import Done
from api.sync.push.writer import Writer
from api.workorders.models import Note
from sync_protocol.entities import BlobState, EvidenceKind, blob_state
from sync_protocol.errors import ProtocolError
from sync_protocol.hlc import HLC
from sync_protocol.merge import Outcome
from sync_protocol.messages import Mutation
from sync_protocol.mutations import (
    AddNote,
    AddTimeEntry,
    AttachPhoto,
    Evidence,
    MutationName,
    RecordPart,
    RecordReading,
    VoidEvidence,
)
from sync_protocol.wire import canonical_json
from sync_protocol.workorder_status import Party

_BY_NAME: dict[str, type[EvidenceRecord]] = {}  # filled below from MODELS

MODELS: dict[EvidenceKind, type[EvidenceRecord]] = {
    EvidenceKind.NOTE: Note,
    EvidenceKind.PART: PartUsed,
    EvidenceKind.READING: Reading,
    EvidenceKind.TIME_ENTRY: TimeEntry,
    EvidenceKind.PHOTO: Photo,
}
_BY_NAME.update(
    {
        MutationName.ADD_NOTE.value: Note,
        MutationName.RECORD_PART.value: PartUsed,
        MutationName.RECORD_READING.value: Reading,
        MutationName.ADD_TIME_ENTRY.value: TimeEntry,
        MutationName.ATTACH_PHOTO.value: Photo,
    }
)


def add(session: Session, writer: Writer, args: Evidence, hlc: HLC, sent: HLC) -> Done:
    model = MODELS[args.kind]
    digest = hashlib.sha256(canonical_json(args.to_json())).hexdigest()
    existing = _existing(session, writer, model, args.id)
    if existing is not None:
        if existing == (writer.tenant_id, digest):
            return Done(Outcome.DUPLICATE, args.work_order_id, detail="Already recorded")
        raise ProtocolError("sync.id_reused", "This ID names other evidence", "args.id")
    order = order_for_update(session, writer, args.work_order_id, sent, "args.work_order_id")
    asset_id = getattr(args, "asset_id", None)
    if asset_id is not None and not _asset_exists(session, writer, asset_id):
        raise ProtocolError("sync.not_in_scope", "No such asset", "args.asset_id")
    note_id = getattr(args, "note_id", None)
    if note_id is not None and not _note_on_order(session, writer, order.id, note_id):
        raise ProtocolError("sync.not_in_scope", "No such note on this order", "args.note_id")
    values: dict[str, Any] = {
        "id": args.id,
        "tenant_id": writer.tenant_id,
        "work_order_id": order.id,
        "author_kind": writer.actor.kind,
        "author_id": writer.actor.principal_id,
        "device_id": writer.device_id,
        "hlc": str(hlc),
        "content_digest": digest,
        "occurred_at": writer.occurred_at(sent),
        **_content(session, writer, args),
    }
    if model is Photo:
        make: Any = model  # the mixin's columns are only known to the concrete model
        session.add(make(**values))
        if values["state"] == BlobState.READY.value:  # the bytes came first
            queue_processing(session, writer.tenant_id, args.id)
    else:
        # Appended and never read back in the push: one INSERT per table for the batch.
        capture.queue_insert(session, model, values)
    known = writer.known.get(_table_of(model))
    if known is not None:
        known[args.id] = (writer.tenant_id, digest)
    return Done(Outcome.APPLIED, order.id)


def prefetch(session: Session, writer: Writer, mutations: Iterable[Mutation]) -> None:
    """Load which evidence IDs of a batch already exist: one query per evidence table."""
    wanted: dict[type[EvidenceRecord], set[uuid.UUID]] = {}
    for mutation in mutations:
        model = _BY_NAME.get(mutation.name)
        raw = mutation.args.get("id")
        if model is None or not isinstance(raw, str):
            continue
        try:
            wanted.setdefault(model, set()).add(uuid.UUID(raw))
        except ValueError:
            continue  # the mutation's own parse will refuse it
    for model, ids in wanted.items():
        found: dict[uuid.UUID, tuple[uuid.UUID, str | None]] = {}
        ordered = sorted(ids)
        for start in range(0, len(ordered), 500):
            query = select(model.id, model.tenant_id, model.content_digest).where(
                model.id.in_(ordered[start : start + 500])
            )
            found |= {ident: (tenant, digest) for ident, tenant, digest in session.execute(query)}
        writer.known[_table_of(model)] = found


def _existing(
    session: Session, writer: Writer, model: type[EvidenceRecord], ident: uuid.UUID
) -> tuple[uuid.UUID, str | None] | None:
    known = writer.known.get(_table_of(model))
    if known is not None:
        return known.get(ident)
    row = session.execute(
        select(model.tenant_id, model.content_digest).where(model.id == ident)
    ).first()
    return (row[0], row[1]) if row is not None else None


def void(session: Session, writer: Writer, args: VoidEvidence, hlc: HLC, sent: HLC) -> Done:
    model = MODELS[args.evidence]
    capture.write_queued(session)  # the item may have been added earlier in this batch
    order = order_for_update(session, writer, args.work_order_id, sent, "args.work_order_id")
    row = session.scalars(
        select(model).where(
            model.tenant_id == writer.tenant_id,
            model.id == args.id,
            model.work_order_id == order.id,
        )
    ).one_or_none()
    if row is None:
        raise ProtocolError("sync.not_in_scope", "No such evidence on this order", "args.id")
    if writer.party is not Party.OFFICE and row.author_id != writer.actor.principal_id:
        raise ProtocolError(
            "sync.void_forbidden", "Only its author or the office may void it", "args.id"
        )
    if row.voided_at is not None:
        return Done(Outcome.DUPLICATE, order.id, detail="Already voided")
    row.voided_at = utcnow()
    row.voided_by = writer.actor.principal_id
    row.void_reason = args.reason
    row.void_hlc = str(hlc)
    return Done(Outcome.APPLIED, order.id)


def _content(session: Session, writer: Writer, args: Evidence) -> dict[str, Any]:
    if isinstance(args, AddNote):
        return {"body": args.body, "visibility": args.visibility.value}
    if isinstance(args, RecordPart):
        return {
            "description": args.description,
            "quantity": args.quantity,
            "unit": args.unit,
            "part_number": args.part_number,
            "asset_id": args.asset_id,
        }
    if isinstance(args, RecordReading):
        return {
            "metric": args.metric,
            "value": args.value,
            "unit": args.unit,
            "taken_at": args.taken_at,
            "asset_id": args.asset_id,
        }
    if isinstance(args, AddTimeEntry):
        return {
            "activity": args.activity.value,
            "started_at": args.started_at,
            "ended_at": args.ended_at,
            "note": args.note,
        }
    assert isinstance(args, AttachPhoto)
    return {
        "sha256": args.sha256,
        "content_type": args.content_type.value,
        "size": args.size,
        "caption": args.caption,
        "taken_at": args.taken_at,
        "asset_id": args.asset_id,
        "note_id": args.note_id,
        "state": photo_state(session, writer.tenant_id, args.sha256, args.size).value,
    }


def photo_state(session: Session, tenant_id: uuid.UUID, sha256: str, size: int) -> Any:
    lock_blob(session, tenant_id, sha256)  # an upload committing now is seen, or sees us
    stored = session.scalar(
        select(SyncBlob.size).where(SyncBlob.tenant_id == tenant_id, SyncBlob.sha256 == sha256)
    )
    return blob_state(present=stored is not None, size_matches=stored == size)


def _asset_exists(session: Session, writer: Writer, asset_id: uuid.UUID) -> bool:
    found = session.scalar(
        select(Asset.id).where(Asset.tenant_id == writer.tenant_id, Asset.id == asset_id)
    )
    return found is not None


def _note_on_order(
    session: Session, writer: Writer, work_order_id: uuid.UUID, note_id: uuid.UUID
) -> bool:
    capture.write_queued(session)  # the note may have been added earlier in this batch
    found = session.scalar(
        select(Note.id).where(
            Note.tenant_id == writer.tenant_id,
            Note.work_order_id == work_order_id,
            Note.id == note_id,
        )
    )
    return found is not None


def _table_of(model: type[EvidenceRecord]) -> str:
    name: str = getattr(model, "__tablename__")  # noqa: B009  (the mixin does not declare it)
    return name
