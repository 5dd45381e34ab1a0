"""Work order errors: not found, and the two ways a status change is refused."""

from __future__ import annotations

from api.errors.base import Conflict, Forbidden, NotFound


class WorkOrderNotFound(NotFound):
    code = "work_order.not_found"
    titles = {"en": "No such work order", "zh-CN": "工单不存在"}


class IllegalTransition(Conflict):
    """The status does not allow the action; ``current_status``/``allowed_actions`` say why."""

    code = "work_order.illegal_transition"
    titles = {
        "en": "This action is not possible in the work order's current status",
        "zh-CN": "工单当前状态下不能执行此操作",
    }


class TransitionForbidden(Forbidden):
    code = "work_order.transition_forbidden"
    titles = {
        "en": "You may not take this action on the work order",
        "zh-CN": "您无权对该工单执行此操作",
    }


class WorkOrderLocked(Conflict):
    code = "work_order.locked"
    titles = {
        "en": "A closed or cancelled work order cannot be edited; reopen it first",
        "zh-CN": "已关闭或已取消的工单不能编辑，请先重新打开",
    }
