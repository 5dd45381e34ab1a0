"""Service desk errors: business calendars."""

from __future__ import annotations

from api.errors.base import Conflict, InvalidInput, NotFound


class CalendarNotFound(NotFound):
    code = "business_calendar.not_found"
    titles = {"en": "No such business calendar", "zh-CN": "工作日历不存在"}


class ImpossibleHours(InvalidInput):
    code = "business_calendar.impossible_hours"
    titles = {
        "en": "Working hours must start before they end, within 00:00-24:00",
        "zh-CN": "工作时段须在 00:00-24:00 之内且开始早于结束",
    }


class OverlappingHours(InvalidInput):
    code = "business_calendar.overlapping_intervals"
    titles = {"en": "Working intervals of one day overlap", "zh-CN": "同一天的工作时段相互重叠"}


class UnknownTimeZone(InvalidInput):
    code = "business_calendar.unknown_time_zone"
    titles = {"en": "Unknown time zone (use an IANA name)", "zh-CN": "未知时区（请使用 IANA 名称）"}


class UnknownHolidayCountry(InvalidInput):
    code = "business_calendar.unknown_country"
    titles = {
        "en": "No public holiday data for this country",
        "zh-CN": "没有该国家的法定节假日数据",
    }


class CalendarTaken(Conflict):
    code = "business_calendar.taken"
    titles = {
        "en": "This team (or the tenant default) already has a calendar",
        "zh-CN": "该班组（或租户默认）已有工作日历",
    }


class PolicyNotFound(NotFound):
    code = "sla_policy.not_found"
    titles = {"en": "No such SLA policy", "zh-CN": "SLA 策略不存在"}


class PolicyDuplicate(Conflict):
    code = "sla_policy.duplicate"
    titles = {
        "en": "Another SLA policy has exactly these criteria",
        "zh-CN": "已有条件完全相同的 SLA 策略",
    }


class PolicyWithoutTarget(InvalidInput):
    code = "sla_policy.no_target"
    titles = {
        "en": "An SLA policy needs at least one target",
        "zh-CN": "SLA 策略至少需要一个时限",
    }


class RuleNotFound(NotFound):
    code = "priority_rule.not_found"
    titles = {"en": "No such priority rule", "zh-CN": "优先级规则不存在"}


class RuleInvalid(InvalidInput):
    code = "priority_rule.invalid_logic"
    titles = {
        "en": "The rule is not valid JSON Logic over the known facts",
        "zh-CN": "规则不是基于已知字段的有效 JSON Logic",
    }


class RuleVersionNotFound(NotFound):
    code = "priority_rule.version_not_found"
    titles = {"en": "No such version of the priority rules", "zh-CN": "优先级规则版本不存在"}


class EscalationRuleNotFound(NotFound):
    code = "escalation_rule.not_found"
    titles = {"en": "No such escalation rule", "zh-CN": "升级规则不存在"}


class EscalationRuleInvalid(InvalidInput):
    code = "escalation_rule.invalid"
    titles = {
        "en": "The escalation rule's condition, trigger or action is not valid",
        "zh-CN": "升级规则的条件、触发或动作无效",
    }


class SlaAlreadyPaused(Conflict):
    code = "sla.already_paused"
    titles = {"en": "The order's SLA clocks are already paused", "zh-CN": "该工单的 SLA 计时已暂停"}


class SlaNotPaused(Conflict):
    code = "sla.not_paused"
    titles = {
        "en": "The order's SLA clocks are not paused by the office",
        "zh-CN": "该工单的 SLA 计时未被人工暂停",
    }


class SlaFinished(Conflict):
    code = "sla.order_finished"
    titles = {
        "en": "A finished order's SLA clocks are stopped for good",
        "zh-CN": "已结束工单的 SLA 计时已停止",
    }
