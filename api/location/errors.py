"""Location errors (request-level; a single bad fix is reported per fix, not raised)."""

from __future__ import annotations

from api.errors.base import Conflict, Forbidden, InvalidInput, NotFound


class NotATechnician(Forbidden):
    code = "location.not_a_technician"
    titles = {
        "en": "Only a technician's login records positions",
        "zh-CN": "只有技师账号可以上报位置",
    }


class BatchTooLarge(InvalidInput):
    code = "location.batch_too_large"
    titles = {"en": "Too many fixes in one batch", "zh-CN": "单批位置点过多"}


class NoPositionYet(NotFound):
    code = "location.no_position"
    titles = {"en": "No position has been recorded yet", "zh-CN": "尚无位置记录"}


class NoVisitYet(NotFound):
    code = "location.no_visit"
    titles = {"en": "No arrival has been detected yet", "zh-CN": "尚未检测到到达"}


class NotOnTheWay(Conflict):
    code = "location.not_en_route"
    titles = {
        "en": "The technician's position is shown only while they are on the way",
        "zh-CN": "仅在技师前往途中显示其位置",
    }


class JobNotStarted(Conflict):
    code = "location.job_not_started"
    titles = {
        "en": "Nobody has set off for this job yet",
        "zh-CN": "尚无技师出发前往此工单",
    }


class SiteNotPlaced(Conflict):
    code = "location.site_not_placed"
    titles = {
        "en": "The job's site has no position",
        "zh-CN": "工单现场没有坐标",
    }
