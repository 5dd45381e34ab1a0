"""Web Push errors."""

from __future__ import annotations

from api.errors.base import Conflict, InvalidInput, NotFound


class PushSubscriptionNotFound(NotFound):
    code = "push.subscription_not_found"
    titles = {"en": "No such push subscription", "zh-CN": "推送订阅不存在"}


class PushEndpointRefused(InvalidInput):
    """Push services are reached over HTTPS; plain http only to this host, for tests."""

    code = "push.endpoint_refused"
    titles = {
        "en": "The push endpoint must be an https:// URL",
        "zh-CN": "推送端点必须是 https:// 地址",
    }


class TooManyPushSubscriptions(Conflict):
    """An order's tracking link has as many browsers subscribed as it may have."""

    code = "push.too_many_subscriptions"
    titles = {
        "en": "This order already notifies as many browsers as it can",
        "zh-CN": "此工单的通知订阅已达上限",
    }


class VapidKeyUnavailable(Conflict):
    """The tenant's VAPID private key opens with neither the old nor the new secret."""

    code = "push.vapid_key_unavailable"
    titles = {
        "en": "The tenant's Web Push key cannot be opened with the server's secret",
        "zh-CN": "无法用服务器密钥打开租户的 Web Push 密钥",
    }
