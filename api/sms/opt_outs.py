"""Keeping a number's opt-out, whoever asked: the office, a reply, the tracking page,
or the provider reporting that the recipient asked it to stop."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import new_id
from api.sms.models import SmsOptOut


def keep(
    session: Session,
    tenant_id: uuid.UUID,
    phone: str,
    source: str,
    created_by: uuid.UUID | None = None,
) -> tuple[SmsOptOut, bool]:
    """The number's opt-out for the tenant, and whether it is new (the same row when it
    had opted out already, whatever the source then)."""
    row = find(session, tenant_id, phone)
    if row is not None:
        return row, False
    row = SmsOptOut(
        id=new_id(),  # callers' audit events name it before the flush
        tenant_id=tenant_id,
        phone=phone,
        source=source,
        created_by=created_by,
    )
    session.add(row)
    return row, True


def find(session: Session, tenant_id: uuid.UUID, phone: str) -> SmsOptOut | None:
    return session.scalars(
        select(SmsOptOut).where(SmsOptOut.tenant_id == tenant_id, SmsOptOut.phone == phone)
    ).one_or_none()
