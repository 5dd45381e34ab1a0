"""The office's side of SMS: numbers that opted out, and what was texted about an order;
and the customer's own opt-out from their tracking page."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.auth.actor import Actor
from api.db import UnitOfWork
from api.errors.common import PermissionDenied
from api.http.pagination import Page, paginate
from api.http.ratelimit import RateLimiter
from api.sms import opt_outs, orders, phones
from api.sms.errors import NotAMobileNumber, OptOutNotFound
from api.sms.models import SmsMessage, SmsOptOut
from api.tracking import links
from api.workorders import queries


def opt_out(uow: UnitOfWork, actor: Actor, phone: str, region: str) -> SmsOptOut:
    """The number is not texted again by this tenant (already opted out: the same row)."""
    try:
        number = phones.to_e164(phone, region)
    except phones.NotTextable as exc:
        raise NotAMobileNumber(str(exc)) from None
    with uow:
        row, new = opt_outs.keep(uow.session, actor.tenant_id, number, "office", actor.user_id)
        if new:
            changes = {"phone": {"after": phones.masked(number)}}
            audit.record(uow.session, actor, "create", "sms_opt_out", row.id, changes)
        uow.commit()
        return row


def opt_out_by_tracking_link(
    uow: UnitOfWork, limiter: RateLimiter, token: str, address: str, region: str
) -> int:
    """The customer, from their tracking page, asks for no more texts: the numbers this
    order texts (its recipient now, and any it was texted at) opt out for the order's
    tenant. How many numbers that was (0 when the order has none to text)."""
    links.check_shape(token)
    limiter.hit(f"tracking-token:{token}", f"tracking-ip:{address}")
    with uow:
        session = uow.session
        _link, order = links.open_link(session, token)
        numbers = set(
            session.scalars(
                select(SmsMessage.phone).where(
                    SmsMessage.tenant_id == order.tenant_id, SmsMessage.work_order_id == order.id
                )
            )
        )
        current = orders.recipient(session, order, region)
        if current is not None:
            numbers.add(current)
        for number in sorted(numbers):
            opt_outs.keep(session, order.tenant_id, number, "tracking")
        uow.commit()
        return len(numbers)


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
