"""Day-plan errors."""

from __future__ import annotations

from api.errors.base import Conflict, Forbidden


class OfficeOnly(Forbidden):
    code = "dayplan.office_only"
    titles = {"en": "Only the office plans the day", "zh-CN": "只有调度可以排程"}


class PinsDoNotFit(Conflict):
    code = "dayplan.pins_do_not_fit"
    titles = {
        "en": "The pinned visits cannot all be kept within their technicians' shifts",
        "zh-CN": "固定的上门安排无法在技师的班次内全部完成",
    }
