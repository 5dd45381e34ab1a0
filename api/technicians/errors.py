"""Technician errors."""

from __future__ import annotations

from api.errors.base import NotFound


class TechnicianNotFound(NotFound):
    code = "technician.not_found"
    titles = {"en": "No such technician", "zh-CN": "技师不存在"}
