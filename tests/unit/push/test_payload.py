"""A push message must fit a push service's 4 kB, whatever reason was typed."""

from __future__ import annotations

import json
import uuid

from hypothesis import given
from hypothesis import strategies as st

from api.notifications.channels import Message
from api.push.notifier import MAX_PAYLOAD_BYTES, payload


def _message(title: str, reason: str | None) -> Message:
    notification_id = uuid.uuid4()
    return Message(
        notification_id=notification_id,
        title=title,
        body=f"原因：{reason}" if reason else None,
        data={"notification_id": str(notification_id), "work_order_id": "x", "reason": reason},
        url="/work-orders/x",
        urgent=True,
    )


def test_a_short_notification_is_sent_whole() -> None:
    message = _message("工单 WO-000001 已取消", "客户不在家")
    assert json.loads(payload(message)) == {
        "title": message.title,
        "body": message.body,
        "data": message.data,
        "url": message.url,
    }


@given(
    title=st.text(min_size=1, max_size=300),
    reason=st.none() | st.text(alphabet="取消原因很长的说明", max_size=1000),
)
def test_any_notification_fits_and_keeps_its_title_url_and_id(
    title: str, reason: str | None
) -> None:
    message = _message(title, reason)
    content = json.loads(payload(message))
    assert len(payload(message)) <= MAX_PAYLOAD_BYTES
    assert content["title"] == title and content["url"] == message.url
    assert content["data"]["notification_id"] == str(message.notification_id)
    if content["body"] != message.body:  # shortened: a prefix of the reason, marked
        assert content["body"].endswith("…") and message.body.startswith(content["body"][:-1])
