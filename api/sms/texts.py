"""What a customer's text says about their order, in zh-CN and en.

Each kind is one step a customer hears about by SMS. ``params`` are what a
template provider (Alibaba Cloud) fills into the template registered for the
kind; :func:`render` writes the same words for a provider that sends text
(Twilio). Chinese texts start with the sender's name in 【】, as mainland carriers
require of application-to-person messages. Every text carries the tracking link.
"""

from __future__ import annotations

from types import MappingProxyType

LOCALES = ("zh-CN", "en")

# Order status -> kind of text; en_route has a variant with the expected arrival.
KINDS = MappingProxyType(
    {
        "assigned": "assigned",
        "en_route": "en_route",
        "completed": "completed",
        "cancelled": "cancelled",
    }
)
EN_ROUTE_ETA = "en_route_eta"
NOTICE = "notice"  # a person's in-app notification, sent through the notifier port

_TEXTS = MappingProxyType(
    {
        "zh-CN": {
            "assigned": (
                "【{sender}】您的工单{number}已安排{technician}上门服务，查看进度：{link}"
            ),
            "en_route": "【{sender}】{technician}已出发前往您处，实时位置：{link}",
            EN_ROUTE_ETA: (
                "【{sender}】{technician}已出发前往您处，预计{eta}分钟后到达，实时位置：{link}"
            ),
            "completed": "【{sender}】您的工单{number}已完成，查看服务报告并评价：{link}",
            "cancelled": "【{sender}】您的工单{number}已取消，详情：{link}",
            NOTICE: "【{sender}】{title}",
        },
        "en": {
            "assigned": (
                "{sender}: technician {technician} will handle your work order {number}. "
                "Track it: {link}"
            ),
            "en_route": "{sender}: {technician} is on the way. Live location: {link}",
            EN_ROUTE_ETA: (
                "{sender}: {technician} is on the way and should arrive in about {eta} min. "
                "Live location: {link}"
            ),
            "completed": (
                "{sender}: work order {number} is done. See the report and rate the work: {link}"
            ),
            "cancelled": "{sender}: work order {number} was cancelled. Details: {link}",
            NOTICE: "{sender}: {title}",
        },
    }
)


def locale_of(tenant_locale: str | None) -> str:
    return "en" if (tenant_locale or "").lower().startswith("en") else "zh-CN"


def render(kind: str, locale: str, params: dict[str, str]) -> str:
    """The text of ``kind`` in ``locale`` (zh-CN if unknown) with ``params`` filled in."""
    texts = _TEXTS.get(locale, _TEXTS["zh-CN"])
    return texts[kind].format(**params)
