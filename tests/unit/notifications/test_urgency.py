"""Which notifications wake a phone (Web Push ``Urgency: high``)."""

from __future__ import annotations

import uuid

from api.notifications.channels import Message
from api.notifications.models import Notification


def _notification(kind: str, **data: str) -> Notification:
    return Notification(
        id=uuid.uuid4(), kind=kind, title="t", title_en="t", body=None, data=dict(data)
    )


def test_an_escalation_is_urgent_as_are_the_steps_a_customer_waits_for() -> None:
    assert Message.of(_notification("work_order.escalated", work_order_id="x")).urgent
    assert Message.of(_notification("work_order.status_changed", to_status="en_route")).urgent
    assert not Message.of(_notification("work_order.status_changed", to_status="paused")).urgent
    assert not Message.of(_notification("work_order.arrival_suggested")).urgent
