"""The office's side of SMS: numbers that opted out, and what was texted about an order."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.auth.actor import Actor
from api.db import UnitOfWork, new_id
from api.errors.common import PermissionDenied
from api.http.pagination import Page, paginate
from api.sms import phones
from api.sms.errors import NotAMobileNumber, OptOutNotFound
from api.sms.models import SmsMessage, SmsOptOut
from api.workorders import queries


def opt_out(uow: UnitOfWork, actor: Actor, phone: str, region: str) -> SmsOptOut:
    """The number is not texted again by this tenant (already opted out: the same row)."""
    try:
        number = phones.to_e164(phone, region)
    except phones.NotTextable as exc:
        raise NotAMobileNumber(str(exc)) from None
    with uow:
        row = _by_phone(uow.session, actor.tenant_id, number)
        if row is None:
            row = SmsOptOut(
                id=new_id(),  # the audit event names it before the flush
                tenant_id=actor.tenant_id,
                phone=number,
                source="office",
                created_by=actor.user_id,
            )
            uow.session.add(row)
            changes = {"phone": {"after": phones.masked(number)}}
            audit.record(uow.session, actor, "create", "sms_opt_out", row.id, changes)
        uow.commit()
        return row


def list_opt_outs(session: Session, actor: Actor, *, limit: int, cursor: str | None) -> Page:
    stmt = select(SmsOptOut).where(SmsOptOut.tenant_id == actor.tenant_id)
    return paginate(session, stmt, SmsOptOut.id, limit=limit, cursor=cursor, descending=True)


def opt_back_in(uow: UnitOfWork, actor: Actor, opt_out_id: uuid.UUID) -> None:
    """Texts may reach the number again (the customer asked for them back)."""
    with uow:
        row = uow.session.scalars(
            select(SmsOptOut).where(
                SmsOptOut.tenant_id == actor.tenant_id, SmsOptOut.id == opt_out_id
            )
        ).one_or_none()
        if row is None:
            raise OptOutNotFound()
        uow.session.delete(row)
        changes = {"phone": {"before": phones.masked(row.phone)}}
        audit.record(uow.session, actor, "delete", "sms_opt_out", row.id, changes)
        uow.commit()


def order_texts(
    session: Session, actor: Actor, work_order_id: uuid.UUID, *, limit: int, cursor: str | None
) -> Page:
    """What the order's customer was texted, or why not (the office only)."""
    if not actor.is_office:
        raise PermissionDenied()
    order = queries.access_work_order(session, actor, work_order_id)
    stmt = select(SmsMessage).where(
        SmsMessage.tenant_id == order.tenant_id, SmsMessage.work_order_id == order.id
    )
    return paginate(session, stmt, SmsMessage.id, limit=limit, cursor=cursor, descending=True)


def _by_phone(session: Session, tenant_id: uuid.UUID, phone: str) -> SmsOptOut | None:
    return session.scalars(
        select(SmsOptOut).where(SmsOptOut.tenant_id == tenant_id, SmsOptOut.phone == phone)
    ).one_or_none()
