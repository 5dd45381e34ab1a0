"""Technician errors."""

from __future__ import annotations

from api.errors.base import Conflict, NotFound


class TechnicianNotFound(NotFound):
    code = "technician.not_found"
    titles = {"en": "No such technician", "zh-CN": "技师不存在"}


class EmployeeNoTaken(Conflict):
    code = "technician.employee_no_taken"
    titles = {
        "en": "Another technician of this tenant has this employee number",
        "zh-CN": "该工号已被本租户的其他技师使用",
    }


class NoTechnicianPhoto(NotFound):
    code = "technician.no_photo"
    titles = {"en": "This technician has no photo", "zh-CN": "该技师没有照片"}
