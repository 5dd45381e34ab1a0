"""Site errors."""

from __future__ import annotations

from api.errors.base import Conflict, NotFound


class SiteNotFound(NotFound):
    code = "site.not_found"
    titles = {"en": "No such site", "zh-CN": "站点不存在"}


class SiteInUse(Conflict):
    code = "site.in_use"
    titles = {
        "en": "The site has assets or work orders; deactivate it instead",
        "zh-CN": "该站点仍有设备或工单，请改为停用",
    }
