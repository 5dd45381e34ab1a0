"""The PDF service report: rendered by the outbox worker after sealing, stored by hash.

:func:`queue_pdf` (in the sealing transaction) asks for it; the worker's
:func:`pdf_handler` renders the sealed JSON in the tenant's language with the
photos' thumbnails, the signature image and the verify QR code
(:mod:`signatures.pdf`), puts the bytes in the blob store under their SHA-256 and
records that hash on the report. Running twice stores the same bytes again under
the same name: harmless. The office fetches it at ``/v1/reports/{id}/pdf``, and
other languages render on request.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.evidence.models import PhotoDerivative
from api.outbox.models import OutboxMessage
from api.outbox.services import publish
from api.outbox.worker import Handler
from api.signoff.models import SealedReport, WorkOrderSignOff
from api.tenants.models import Tenant
from media.blobs import BlobMissing, BlobStore
from signatures.pdf import Artwork, Photo, render_pdf
from signatures.render import render_png
from signatures.strokes import read_drawing

TOPIC = "report.render_pdf"
MAX_PDF_BYTES = 50 * 1024 * 1024


def queue_pdf(session: Session, row: SealedReport, public_url: str) -> None:
    payload = {"tenant_id": str(row.tenant_id), "report_id": str(row.id), "public_url": public_url}
    publish(session, row.tenant_id, TOPIC, payload)


def pdf_handler(store: BlobStore) -> Handler:
    def handle(session: Session, message: OutboxMessage) -> None:
        payload = message.payload
        row = session.scalars(
            select(SealedReport).where(
                SealedReport.tenant_id == uuid.UUID(payload["tenant_id"]),
                SealedReport.id == uuid.UUID(payload["report_id"]),
            )
        ).one_or_none()
        if row is not None:
            store_pdf(session, store, row, payload.get("public_url") or "")

    return handle


def store_pdf(session: Session, store: BlobStore, row: SealedReport, public_url: str) -> str:
    locale = session.scalar(select(Tenant.locale).where(Tenant.id == row.tenant_id)) or "zh-CN"
    data = render_report_pdf(session, store, row, locale, public_url)
    digest = hashlib.sha256(data).hexdigest()
    store.put(row.tenant_id, digest, io.BytesIO(data), MAX_PDF_BYTES)
    # Server-side column, written as a statement: the sealed row itself is never edited.
    session.execute(update(SealedReport).where(SealedReport.id == row.id).values(pdf_sha256=digest))
    return digest


def render_report_pdf(
    session: Session, store: BlobStore, row: SealedReport, language: str, public_url: str
) -> bytes:
    report = json.loads(row.report)
    art = Artwork(
        photos=_photos(session, store, row, report),
        signature_png=_signature(session, row),
        verify_url=f"{public_url.rstrip('/')}/v/{row.token}",
        seal={"algorithm": "Ed25519", "key_id": str(row.key_id), "sha256": row.sha256},
    )
    return render_pdf(report, art, language)


def _photos(
    session: Session, store: BlobStore, row: SealedReport, report: dict[str, Any]
) -> list[Photo]:
    found: list[Photo] = []
    for item in report.get("evidence", {}).get("photos", []):
        thumb = session.scalar(
            select(PhotoDerivative.sha256).where(
                PhotoDerivative.tenant_id == row.tenant_id,
                PhotoDerivative.photo_id == uuid.UUID(item["id"]),
                PhotoDerivative.kind == "thumb",
            )
        )
        for digest in (thumb, item.get("content_sha256")):
            if digest is None:
                continue
            try:
                with store.open(row.tenant_id, digest) as stream:
                    found.append(Photo(item.get("caption"), stream.read()))
                break
            except BlobMissing:
                continue
    return found


def _signature(session: Session, row: SealedReport) -> bytes | None:
    drawing = session.scalar(
        select(WorkOrderSignOff.drawing).where(
            WorkOrderSignOff.tenant_id == row.tenant_id,
            WorkOrderSignOff.work_order_id == row.work_order_id,
        )
    )
    return render_png(read_drawing(drawing)) if drawing else None
