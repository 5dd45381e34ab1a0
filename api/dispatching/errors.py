"""Dispatch errors."""

from __future__ import annotations

from api.errors.base import Conflict, NotFound


class SiteNotPlaced(Conflict):
    code = "dispatch.site_not_placed"
    titles = {
        "en": "The work order's site has no position, so no one can be found near it",
        "zh-CN": "工单地点没有坐标，无法查找附近的技师",
    }


class OfferNotFound(NotFound):
    code = "offer.not_found"
    titles = {"en": "No such offer", "zh-CN": "派单邀约不存在"}


class OfferClosed(Conflict):
    code = "offer.closed"
    titles = {
        "en": "The offer is no longer open (answered, timed out or withdrawn)",
        "zh-CN": "该派单邀约已结束（已答复、已超时或已撤回）",
    }


class OfferExpired(Conflict):
    code = "offer.expired"
    titles = {
        "en": "The offer's time to answer has passed",
        "zh-CN": "该派单邀约已超过答复时限",
    }


class OfferIneligible(Conflict):
    code = "offer.ineligible"
    titles = {
        "en": "You no longer qualify for this job (skills, shift, capacity or status)",
        "zh-CN": "您已不再符合该工单的要求（技能、班次、工作量或状态）",
    }
