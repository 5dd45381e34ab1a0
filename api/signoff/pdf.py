"""Serving a sealed report's PDF: the stored rendition, or another language on request."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.signoff.errors import ReportPdfNotReady
from api.signoff.models import SealedReport
from api.signoff.pdf_job import render_report_pdf
from api.signoff.sealing import access_report, order_number
from api.tenants.models import Tenant
from media.blobs import BlobMissing, BlobStore


@dataclass(frozen=True)
class FoundPdf:
    data: bytes
    sha256: str
    filename: str


def open_pdf(
    session: Session,
    store: BlobStore,
    actor: Actor,
    report_id: uuid.UUID,
    language: str | None,
    public_url: str,
) -> FoundPdf:
    row = access_report(session, actor, report_id)
    locale = session.scalar(select(Tenant.locale).where(Tenant.id == row.tenant_id)) or "zh-CN"
    filename = f"{order_number(session, row)}-v{row.version}.pdf"
    if language and language != locale:
        data = render_report_pdf(session, store, row, language, public_url)
        return FoundPdf(data, hashlib.sha256(data).hexdigest(), filename)
    return stored_pdf(store, row, filename)


def stored_pdf(store: BlobStore, row: SealedReport, filename: str) -> FoundPdf:
    """The rendition the worker stored after sealing (409 until it has)."""
    if row.pdf_sha256 is None:
        raise ReportPdfNotReady()
    try:
        with store.open(row.tenant_id, row.pdf_sha256) as stream:
            return FoundPdf(stream.read(), row.pdf_sha256, filename)
    except BlobMissing:
        raise ReportPdfNotReady("The stored PDF is missing") from None
