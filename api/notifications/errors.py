"""Notification errors."""

from __future__ import annotations

from api.errors.base import NotFound


class NotificationNotFound(NotFound):
    code = "notification.not_found"
    titles = {"en": "No such notification", "zh-CN": "通知不存在"}
