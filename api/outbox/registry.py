"""Which handler runs each outbox topic. Domains add their handlers here."""

from __future__ import annotations

from collections.abc import Sequence

import api.models  # noqa: F401 - handlers need every table mapped, not just the ones they import
from api.assets.repeats import TOPIC as REPEAT_ISSUE
from api.assets.repeats import handle_repeat_issue
from api.dispatching.handlers import dispatch_handler, notify_offered
from api.dispatching.offers import TOPIC_OFFERED
from api.dispatching.requests import TOPIC_REQUESTED
from api.evidence.pipeline import TOPIC as PHOTO_PROCESS
from api.evidence.pipeline import photo_handler
from api.location.handlers import notify_arrival_suggested
from api.notifications import delivery
from api.notifications.channels import Notifier
from api.notifications.handlers import notify_status_change
from api.outbox.worker import Handler
from api.push import tracking as tracking_push
from api.servicedesk.escalation_notices import notify_escalation
from api.servicedesk.escalation_sweep import TOPIC as ESCALATED
from api.signoff.pdf_job import TOPIC as REPORT_PDF
from api.signoff.pdf_job import pdf_handler
from api.sms import orders as sms_orders
from api.workflows.notices import TOPIC as STEP_WAITING
from api.workflows.notices import notify_step_waiting
from dispatch.routing import Router
from media.blobs import BlobStore

HANDLERS: dict[str, Handler] = {
    "work_order.status_changed": notify_status_change,
    "work_order.arrival_suggested": notify_arrival_suggested,
    REPEAT_ISSUE: handle_repeat_issue,
    ESCALATED: notify_escalation,
    TOPIC_REQUESTED: dispatch_handler(),
    TOPIC_OFFERED: notify_offered,
    STEP_WAITING: notify_step_waiting,
    # Without channels, a notification stays in the app (and tests need no push service).
    **delivery.handlers(()),
    **tracking_push.handlers(()),
    **sms_orders.handlers(()),
}


def handlers(
    store: BlobStore, channels: Sequence[Notifier] = (), router: Router | None = None
) -> dict[str, Handler]:
    """Every topic's handler, those that keep bytes storing them in ``store``, those
    that deliver notifications sending them through ``channels`` (Web Push, email, SMS), and
    auto-dispatch ranking with ``router``'s travel times (the straight line without)."""
    return {
        **HANDLERS,
        **delivery.handlers(channels),
        **tracking_push.handlers(channels),
        **sms_orders.handlers(channels, router),
        PHOTO_PROCESS: photo_handler(store),
        REPORT_PDF: pdf_handler(store),
        **({TOPIC_REQUESTED: dispatch_handler(router)} if router is not None else {}),
    }
