"""Tracking errors. A link that is unknown, expired or revoked is one answer:
the public cannot tell which, so a stale link reveals nothing about the order."""

from __future__ import annotations

from api.errors.base import Conflict, NotFound


class TrackingLinkNotFound(NotFound):
    code = "tracking.link_not_found"
    titles = {
        "en": "This tracking link is not valid (it may have expired or been replaced)",
        "zh-CN": "跟踪链接无效（可能已过期或已更换）",
    }


class NoTrackingLink(NotFound):
    code = "tracking.no_link"
    titles = {
        "en": "This work order has no active tracking link",
        "zh-CN": "该工单没有有效的跟踪链接",
    }


class NotCompletedYet(Conflict):
    code = "tracking.not_completed"
    titles = {
        "en": "The work can be rated once it is done",
        "zh-CN": "工单完成后才能评价",
    }


class AlreadyRated(Conflict):
    code = "tracking.already_rated"
    titles = {"en": "This work order has already been rated", "zh-CN": "该工单已评价"}


class NotRated(NotFound):
    code = "tracking.not_rated"
    titles = {"en": "This work order has not been rated", "zh-CN": "该工单尚未评价"}


class NoReportYet(NotFound):
    code = "tracking.no_report"
    titles = {
        "en": "The service report is not ready yet",
        "zh-CN": "服务报告尚未出具",
    }


class NoTechnicianPhotoShown(NotFound):
    code = "tracking.no_technician_photo"
    titles = {"en": "No technician's photo to show", "zh-CN": "没有可显示的技师照片"}
