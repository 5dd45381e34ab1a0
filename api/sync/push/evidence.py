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
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.assets.models import Asset
from api.db import utcnow
from api.evidence.models import EvidenceRecord, PartUsed, Photo, Reading, TimeEntry
from api.sync.blobs import lock_blob
from api.sync.models import SyncBlob
from api.sync.push.access import order_for_update
from api.sync.push.orders import Done
from api.sync.push.writer import Writer
from api.workorders.models import Note
from sync_protocol.entities import EvidenceKind, blob_state
from sync_protocol.errors import ProtocolError
from sync_protocol.hlc import HLC
from sync_protocol.merge import Outcome
from sync_protocol.mutations import (
    AddNote,
    AddTimeEntry,
    AttachPhoto,
    Evidence,
    RecordPart,
    RecordReading,
    VoidEvidence,
)
from sync_protocol.wire import canonical_json
from sync_protocol.workorder_status import Party

MODELS: dict[EvidenceKind, type[EvidenceRecord]] = {
    EvidenceKind.NOTE: Note,
    EvidenceKind.PART: PartUsed,
    EvidenceKind.READING: Reading,
    EvidenceKind.TIME_ENTRY: TimeEntry,
    EvidenceKind.PHOTO: Photo,
}


def add(session: Session, writer: Writer, args: Evidence, hlc: HLC, sent: HLC) -> Done:
    model = MODELS[args.kind]
    digest = hashlib.sha256(canonical_json(args.to_json())).hexdigest()
    existing = session.execute(
        select(model.tenant_id, model.content_digest).where(model.id == args.id)
    ).first()
    if existing is not None:
        if tuple(existing) == (writer.tenant_id, digest):
            return Done(Outcome.DUPLICATE, args.work_order_id, detail="Already recorded")
        raise ProtocolError("sync.id_reused", "This ID names other evidence", "args.id")
    order = order_for_update(session, writer, args.work_order_id, sent, "args.work_order_id")
    asset_id = getattr(args, "asset_id", None)
    if asset_id is not None and not _asset_exists(session, writer, asset_id):
        raise ProtocolError("sync.not_in_scope", "No such asset", "args.asset_id")
    make: Any = model  # the mixin's columns are only known to the concrete model
    row = make(
        id=args.id,
        tenant_id=writer.tenant_id,
        work_order_id=order.id,
        author_kind=writer.actor.kind,
        author_id=writer.actor.principal_id,
        device_id=writer.device_id,
        hlc=str(hlc),
        content_digest=digest,
        **_content(session, writer, args),
    )
    session.add(row)
    return Done(Outcome.APPLIED, order.id)


def void(session: Session, writer: Writer, args: VoidEvidence, hlc: HLC, sent: HLC) -> Done:
    model = MODELS[args.evidence]
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
