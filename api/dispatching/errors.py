"""Dispatch errors."""

from __future__ import annotations

from api.errors.base import Conflict


class SiteNotPlaced(Conflict):
    code = "dispatch.site_not_placed"
    titles = {
        "en": "The work order's site has no position, so no one can be found near it",
        "zh-CN": "工单地点没有坐标，无法查找附近的技师",
    }
