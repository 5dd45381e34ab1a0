"""Workflow errors: bad definitions (refused when saved) and refused step actions."""

from __future__ import annotations

from api.errors.base import Conflict, Forbidden, InvalidInput, NotFound


class DefinitionNotFound(NotFound):
    code = "workflow.not_found"
    titles = {"en": "No such workflow definition", "zh-CN": "流程定义不存在"}


class DefinitionVersionNotFound(NotFound):
    code = "workflow.version_not_found"
    titles = {"en": "No such version of the workflow", "zh-CN": "流程版本不存在"}


class DefinitionTaken(Conflict):
    code = "workflow.taken"
    titles = {
        "en": "This category (or the tenant default) already has a workflow",
        "zh-CN": "该分类（或租户默认）已有流程定义",
    }


class Loop(InvalidInput):
    code = "workflow.loop"
    titles = {"en": "The steps form a loop", "zh-CN": "流程步骤形成了循环"}


class UnreachableStep(InvalidInput):
    code = "workflow.unreachable_step"
    titles = {"en": "No path from the start reaches a step", "zh-CN": "有步骤无法从起点到达"}


class UnknownStep(InvalidInput):
    code = "workflow.unknown_step"
    titles = {"en": "A step names a step that does not exist", "zh-CN": "引用了不存在的步骤"}


class DuplicateStep(InvalidInput):
    code = "workflow.duplicate_step"
    titles = {"en": "A step key or next step appears twice", "zh-CN": "步骤标识或后续步骤重复"}


class NoApprovers(InvalidInput):
    code = "workflow.no_approvers"
    titles = {
        "en": "A countersign or any-of step needs approvers",
        "zh-CN": "会签或或签步骤需要审批人",
    }


class UnknownRole(InvalidInput):
    code = "workflow.unknown_role"
    titles = {
        "en": "A step may be owned by admin, dispatcher or technician only",
        "zh-CN": "步骤负责角色只能是管理员、调度员或技师",
    }


class UnknownTeam(InvalidInput):
    code = "workflow.unknown_team"
    titles = {"en": "A step names a team that does not exist", "zh-CN": "步骤引用了不存在的班组"}


class InvalidStep(InvalidInput):
    code = "workflow.invalid_step"
    titles = {"en": "A step is not consistent", "zh-CN": "步骤定义不一致"}


class StepNotActive(Conflict):
    code = "workflow.step_not_active"
    titles = {"en": "This step is not waiting for anyone", "zh-CN": "该步骤当前无需处理"}


class NotYourStep(Forbidden):
    code = "workflow.not_your_step"
    titles = {
        "en": "Only the step's team or role may act on it (or an admin, with a reason)",
        "zh-CN": "只有该步骤的班组或角色可以处理（管理员须说明理由）",
    }


class WrongAction(Conflict):
    code = "workflow.wrong_action"
    titles = {
        "en": "This step is done by another action (complete or approve)",
        "zh-CN": "该步骤需要另一种操作（完成或审批）",
    }


class StatusRequired(Conflict):
    code = "workflow.status_required"
    titles = {
        "en": "This step is done by the order's status, not by hand",
        "zh-CN": "该步骤随工单状态完成，不能手动完成",
    }


class NoWorkflow(NotFound):
    code = "workflow.no_run"
    titles = {"en": "This order follows no workflow", "zh-CN": "该工单没有流程"}
