"""Texting a customer about their order: assigned, on the way (with the ETA), done, cancelled.

The status-change handler queues ``sms.status_changed``; with an SMS channel
configured, its handler picks the number (the customer's primary contact's
mobile, else the customer's), writes one :class:`SmsMessage` with the words in the
language of the contact it goes to (the one their login chose; else the tenant's)
and the order's tracking link, and queues ``sms.send``.
Before writing it checks the number's opt-out and its per-number limit, holding
the number's turn (:mod:`api.sms.number_lock`) so that two workers cannot both
find room: a text not sent for either is kept as ``suppressed`` with the reason.
``sms.send`` calls the provider: a transient failure is retried by the outbox with its
backoff, up to ``max_attempts``; a refusal, or the last failed attempt, marks the
text ``failed`` for good. Without an SMS channel both handlers do nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.customers.models import Contact, Customer
from api.db import new_id, utcnow
from api.notifications.channels import DeliveryFailed, Notifier
from api.outbox.models import OutboxMessage
from api.outbox.services import publish
from api.outbox.worker import Handler
from api.sms import number_lock, opt_outs, phones, texts
from api.sms.models import SmsMessage, SmsOptOut, SmsStatus
from api.sms.notifier import SmsNotifier
from api.sms.providers import Sms, SmsRefused
from api.technicians.models import Technician
from api.tenants.models import Tenant
from api.tracking import links, page, rules
from api.users.models import User
from api.workorders.models import WorkOrder
from dispatch.routing import Router

STATUS_CHANGED = "sms.status_changed"
SEND = "sms.send"


def queue_status_change(session: Session, event: dict[str, Any]) -> None:
    """Queue a possible text for a step customers hear about by SMS (called by the
    status-change handler, in the worker's transaction)."""
    if event["to_status"] not in texts.KINDS:
        return
    payload = {k: event[k] for k in ("tenant_id", "work_order_id", "to_status")}
    publish(session, uuid.UUID(event["tenant_id"]), STATUS_CHANGED, payload)


def handlers(channels: Sequence[Notifier], router: Router | None = None) -> dict[str, Handler]:
    sms = next((c for c in channels if isinstance(c, SmsNotifier)), None)

    def status_changed(session: Session, message: OutboxMessage) -> None:
        if sms is not None:
            _write(session, sms, message, router)

    def send(session: Session, message: OutboxMessage) -> None:
        if sms is not None:
            _send(session, sms, message)

    return {STATUS_CHANGED: status_changed, SEND: send}


@dataclass(frozen=True)
class Addressee:
    number: str  # E.164
    locale: str | None  # the language the contact's login chose (None: no login, or no contact)


def addressee(session: Session, order: WorkOrder, region: str) -> Addressee | None:
    """Who a text about ``order`` goes to: its customer's primary contact's mobile, else
    another contact's, else the customer's own (None if none can take one)."""
    contacts = session.execute(
        select(Contact.phone, User.locale)
        .outerjoin(User, (User.id == Contact.user_id) & (User.tenant_id == Contact.tenant_id))
        .where(Contact.tenant_id == order.tenant_id, Contact.customer_id == order.customer_id)
        .order_by(Contact.is_primary.desc(), Contact.id)
    ).all()
    customer = session.scalar(
        select(Customer.phone).where(
            Customer.tenant_id == order.tenant_id, Customer.id == order.customer_id
        )
    )
    for raw, locale in [*contacts, (customer, None)]:
        number = phones.textable(raw, region)
        if number is not None:
            return Addressee(number, locale)
    return None


def recipient(session: Session, order: WorkOrder, region: str) -> str | None:
    """The number of :func:`addressee`."""
    found = addressee(session, order, region)
    return found.number if found is not None else None


def _write(
    session: Session, sms: SmsNotifier, message: OutboxMessage, router: Router | None
) -> None:
    tenant_id = uuid.UUID(message.payload["tenant_id"])
    already = session.scalar(
        select(SmsMessage.id).where(SmsMessage.source_message_id == message.id)
    )
    order = session.scalars(
        select(WorkOrder).where(
            WorkOrder.tenant_id == tenant_id,
            WorkOrder.id == uuid.UUID(message.payload["work_order_id"]),
        )
    ).one_or_none()
    status = message.payload["to_status"]
    if already is not None or order is None or not _still(order, status):
        return  # done before, gone, or out of date (arrived before this was read)
    settings = sms.settings
    to = addressee(session, order, settings.default_region)
    if to is None:
        return
    phone = to.number
    tenant = session.get(Tenant, tenant_id)
    assert tenant is not None
    locale = texts.locale_of(to.locale or tenant.locale)
    kind, params = _words(session, order, status, tenant, locale, settings.sender_name, router)
    params["link"] = links.link_to_text(session, order, settings.public_url).url
    row = SmsMessage(
        id=new_id(),  # the limit's count leaves this row out, and the send message names it
        tenant_id=tenant_id,
        work_order_id=order.id,
        source_message_id=message.id,
        phone=phone,
        kind=kind,
        locale=locale,
        params=params,
        body=texts.render(kind, locale, params),
        provider=sms.provider.name,
    )
    session.add(row)
    reason = _held_back(session, sms, row)
    if reason is not None:
        row.status, row.reason, row.finished_at = SmsStatus.SUPPRESSED, reason, utcnow()
        return
    publish(session, tenant_id, SEND, {"tenant_id": str(tenant_id), "sms_id": str(row.id)})


# The statuses in which each step's text is still true when the worker gets to it: an
# "assigned" text once the technician is on the way would say less than the next one.
_STILL_TRUE = {
    "assigned": {"assigned", "accepted"},
    "en_route": {"en_route"},
    "completed": {"completed", "closed"},
    "cancelled": {"cancelled"},
}


def _still(order: WorkOrder, status: str) -> bool:
    return order.status.value in _STILL_TRUE[status]


def _words(
    session: Session,
    order: WorkOrder,
    status: str,
    tenant: Tenant,
    locale: str,
    sender_name: str,
    router: Router | None,
) -> tuple[str, dict[str, str]]:
    kind = texts.KINDS[status]
    sender = sender_name or (tenant.name_en if locale == "en" and tenant.name_en else tenant.name)
    params = {"sender": sender, "number": order.number, "technician": ""}
    technician = (
        session.get(Technician, order.assignee_id) if order.assignee_id is not None else None
    )
    if technician is not None and technician.tenant_id == order.tenant_id:
        params["technician"] = rules.addressed_as(technician.name, technician.name_en, locale) or ""
    if kind == "en_route":
        seconds = page.eta_seconds(session, order, router)
        if seconds is not None:
            kind, params["eta"] = texts.EN_ROUTE_ETA, str(max(1, round(seconds / 60)))
    return kind, params


def _held_back(session: Session, sms: SmsNotifier, row: SmsMessage) -> str | None:
    """Why ``row`` is not to be sent (``opted_out``, ``rate_limited``, ``no_template``)."""
    if _opted_out(session, row.tenant_id, row.phone):
        return "opted_out"
    number_lock.take_turn(session, row.tenant_id, row.phone)  # until this row is committed
    count, seconds = sms.settings.window()
    recent = session.scalar(
        select(func.count())
        .select_from(SmsMessage)
        .where(
            SmsMessage.tenant_id == row.tenant_id,
            SmsMessage.phone == row.phone,
            SmsMessage.status.in_([SmsStatus.PENDING, SmsStatus.SENT]),
            SmsMessage.created_at > utcnow() - timedelta(seconds=seconds),
            SmsMessage.id != row.id,
        )
    )
    if (recent or 0) >= count:
        return "rate_limited"
    if not sms.provider.supports(row.kind, row.locale):
        return "no_template"
    return None


def _send(session: Session, sms: SmsNotifier, message: OutboxMessage) -> None:
    row = session.scalars(
        select(SmsMessage).where(
            SmsMessage.tenant_id == uuid.UUID(message.payload["tenant_id"]),
            SmsMessage.id == uuid.UUID(message.payload["sms_id"]),
        )
    ).one_or_none()
    if row is None or row.status is not SmsStatus.PENDING:
        return
    row.attempts = message.attempts
    if _opted_out(session, row.tenant_id, row.phone):  # since it was written
        row.status, row.reason, row.finished_at = SmsStatus.SUPPRESSED, "opted_out", utcnow()
        return
    text = Sms(row.phone, row.kind, row.locale, dict(row.params), row.body, str(row.id))
    try:
        row.provider_message_id = sms.text(text)[:64]
    except SmsRefused as refused:
        row.status, row.reason, row.finished_at = SmsStatus.FAILED, refused.code, utcnow()
        if refused.opted_out:
            opt_outs.keep(session, row.tenant_id, row.phone, "provider")
        return
    except DeliveryFailed as failed:
        if message.attempts < sms.settings.max_attempts:
            raise  # the outbox tries again after its backoff
        row.status, row.reason, row.finished_at = SmsStatus.FAILED, str(failed)[:200], utcnow()
        return
    row.status, row.finished_at = SmsStatus.SENT, utcnow()


def _opted_out(session: Session, tenant_id: uuid.UUID, phone: str) -> bool:
    found = session.scalar(
        select(SmsOptOut.id).where(SmsOptOut.tenant_id == tenant_id, SmsOptOut.phone == phone)
    )
    return found is not None
