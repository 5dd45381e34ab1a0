"""Team errors."""

from __future__ import annotations

from api.errors.base import Conflict, NotFound


class TeamNotFound(NotFound):
    code = "team.not_found"
    titles = {"en": "No such team", "zh-CN": "班组不存在"}


class TeamNameTaken(Conflict):
    code = "team.name_taken"
    titles = {"en": "Another team already uses this name", "zh-CN": "该班组名称已被使用"}


class TeamNotEmpty(Conflict):
    code = "team.not_empty"
    titles = {
        "en": "The team still has technicians; move them to another team first",
        "zh-CN": "该班组仍有技师，请先将其调至其他班组",
    }
