"""Repair request errors."""

from __future__ import annotations

from api.errors.base import NotFound


class RepairLinkNotFound(NotFound):
    code = "repair.link_not_found"
    titles = {
        "en": "This repair link is not valid (the label may have been replaced)",
        "zh-CN": "报修链接无效（标签可能已更换）",
    }
