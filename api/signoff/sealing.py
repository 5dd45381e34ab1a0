"""Sealing a completed order's report, amending it, and verifying reports.

A seal is taken once per version: the first seal needs a completed (or closed)
order; after that the report is never edited, and a change is an amendment, a
new version whose sealed bytes name the previous version and its hash, with a
reason. Verification re-reads the exact stored bytes and checks them with the
tenant's public key of the named key id (retired keys included), so a changed
byte anywhere in the stored report, its hash or its signature fails.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.auth.actor import Actor
from api.db import UnitOfWork, new_id, utcnow
from api.http.ratelimit import RateLimiter
from api.signoff import keys
from api.signoff.errors import (
    OrderNotCompleted,
    ReportAlreadySealed,
    ReportNotFound,
    ReportSealInvalid,
)
from api.signoff.models import SealedReport
from api.signoff.pdf_job import queue_pdf
from api.signoff.report import build_report
from api.tenants.models import Tenant
from api.workorders.models import WorkOrder
from api.workorders.queries import access_work_order
from api.workorders.states import Status
from signatures.canonical import canonical_bytes
from signatures.seal import Seal, Verdict, seal, verify

SEALABLE = frozenset({Status.COMPLETED, Status.CLOSED})
# What a report's public token is (secrets.token_urlsafe(32): 43 URL-safe characters).
_REPORT_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


def seal_report(
    uow: UnitOfWork,
    actor: Actor,
    work_order_id: uuid.UUID,
    data: Mapping[str, Any],
    secret: str,
    public_url: str,
) -> SealedReport:
    """Seal version 1, or (with ``reason``) an amendment of the newest version."""
    with uow:
        session = uow.session
        order = access_work_order(session, actor, work_order_id, for_update=True)
        if order.status not in SEALABLE:
            raise OrderNotCompleted(f"The order is {order.status.value}")
        previous = latest_report(session, order)
        reason = data.get("reason")
        if previous is not None and not reason:
            raise ReportAlreadySealed("Give a reason to seal an amendment")
        row = _seal(session, actor, order, previous, reason, secret)
        queue_pdf(session, row, public_url)  # rendered by the worker once this commits
        uow.commit()
        return row


def latest_report(session: Session, order: WorkOrder) -> SealedReport | None:
    return session.scalars(
        select(SealedReport)
        .where(SealedReport.tenant_id == order.tenant_id, SealedReport.work_order_id == order.id)
        .order_by(SealedReport.version.desc())
        .limit(1)
    ).one_or_none()


def verify_stored(session: Session, row: SealedReport) -> Verdict:
    stored = Seal(str(row.key_id), row.sha256, row.signature)
    return verify(row.report.encode("utf-8"), stored, keys.public_keys(session, row.tenant_id))


@dataclass(frozen=True)
class Checked:
    valid: bool
    report: SealedReport | None


def verify_uploaded(session: Session, actor: Actor, data: Mapping[str, Any]) -> Checked:
    """An uploaded report and seal, checked against the caller's tenant's keys.

    Any failure is :class:`ReportSealInvalid` with ``reason`` (``not_canonical``,
    ``digest_mismatch``, ``unknown_key``, ``bad_signature``, ``malformed_seal``).
    """
    given = data["seal"]
    uploaded = Seal(given["key_id"], given["sha256"], given["signature"], given["algorithm"])
    report_bytes = data["report"].encode("utf-8")
    verdict = verify(report_bytes, uploaded, keys.public_keys(session, actor.tenant_id))
    if not verdict.valid:
        reason = verdict.failure.value if verdict.failure else "invalid"
        raise ReportSealInvalid(f"Verification failed: {reason}", extra={"reason": reason})
    found = session.scalars(
        select(SealedReport).where(
            SealedReport.tenant_id == actor.tenant_id, SealedReport.sha256 == uploaded.sha256
        )
    ).first()
    return Checked(True, found)


def access_report(session: Session, actor: Actor, report_id: uuid.UUID) -> SealedReport:
    row = session.scalars(
        select(SealedReport).where(
            SealedReport.tenant_id == actor.tenant_id, SealedReport.id == report_id
        )
    ).one_or_none()
    if row is None:
        raise ReportNotFound()
    access_work_order(session, actor, row.work_order_id)  # the order's visibility rule
    return row


def list_reports(
    session: Session, actor: Actor, work_order_id: uuid.UUID
) -> Sequence[SealedReport]:
    order = access_work_order(session, actor, work_order_id)
    return session.scalars(
        select(SealedReport)
        .where(SealedReport.tenant_id == order.tenant_id, SealedReport.work_order_id == order.id)
        .order_by(SealedReport.version)
    ).all()


def report_by_token(session: Session, token: str) -> SealedReport:
    row = session.scalars(select(SealedReport).where(SealedReport.token == token)).one_or_none()
    if row is None:
        raise ReportNotFound()
    return row


def public_verification(
    session: Session, limiter: RateLimiter, token: str, address: str
) -> dict[str, Any]:
    """What the report's QR code answers anyone (the API's JSON and the page alike):
    whether the stored report still matches its seal, and whether a newer version
    replaced it. Never the report's content or an internal id. Counted per token and
    per client address before the lookup (429 ``request.rate_limited``), as the other
    public links are: each check re-verifies the seal, and guessing is held back too."""
    if not _REPORT_TOKEN.fullmatch(token):
        raise ReportNotFound()  # before any counting: nothing is written
    limiter.hit(f"verify-token:{token}", f"verify-ip:{address}")
    row = report_by_token(session, token)
    verdict = verify_stored(session, row)
    timezone = session.scalar(select(Tenant.timezone).where(Tenant.id == row.tenant_id))
    return {
        "valid": verdict.valid,
        "work_order_number": order_number(session, row),
        "version": row.version,
        "sealed_at": row.sealed_at,
        "sha256": row.sha256,
        "key_id": str(row.key_id),
        "superseded": superseded(session, row),
        "timezone": timezone or "UTC",  # for the page; the API's schema leaves it out
    }


def superseded(session: Session, row: SealedReport) -> bool:
    newer = session.scalar(
        select(SealedReport.id).where(
            SealedReport.tenant_id == row.tenant_id,
            SealedReport.work_order_id == row.work_order_id,
            SealedReport.version > row.version,
        )
    )
    return newer is not None


def _seal(
    session: Session,
    actor: Actor,
    order: WorkOrder,
    previous: SealedReport | None,
    reason: str | None,
    secret: str,
) -> SealedReport:
    key = keys.active_key(session, order.tenant_id, secret)
    private = keys.active_private_key(key, secret)
    report_id, now = new_id(), utcnow()
    version = previous.version + 1 if previous else 1
    body = build_report(
        session,
        order,
        report_id=report_id,
        version=version,
        previous=previous,
        reason=reason,
        sealed_at=now,
    )
    report_bytes = canonical_bytes(body)
    sealed = seal(report_bytes, str(key.id), private)
    row = SealedReport(
        id=report_id,
        tenant_id=order.tenant_id,
        work_order_id=order.id,
        version=version,
        previous_id=previous.id if previous else None,
        reason=reason,
        report=report_bytes.decode("utf-8"),
        sha256=sealed.sha256,
        key_id=key.id,
        signature=sealed.signature,
        token=secrets.token_urlsafe(32),
        sealed_at=now,
        sealed_by=actor.principal_id,
    )
    session.add(row)
    session.flush()  # the version's uniqueness speaks before the audit event names it
    audit.record(
        session,
        actor,
        "create",
        "sealed_report",
        row.id,
        {
            "work_order_id": {"after": str(order.id)},
            "version": {"after": version},
            "sha256": {"after": sealed.sha256},
            "key_id": {"after": str(key.id)},
        },
    )
    return row


def order_number(session: Session, row: SealedReport) -> str:
    return session.scalar(select(WorkOrder.number).where(WorkOrder.id == row.work_order_id)) or ""
