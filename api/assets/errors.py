"""Asset errors."""

from __future__ import annotations

from api.errors.base import Conflict, NotFound


class AssetNotFound(NotFound):
    code = "asset.not_found"
    titles = {"en": "No such asset", "zh-CN": "设备不存在"}


class AssetBarcodeTaken(Conflict):
    code = "asset.barcode_taken"
    titles = {
        "en": "Another asset already carries this barcode",
        "zh-CN": "该条码已绑定到其他设备",
    }


class AssetInUse(Conflict):
    code = "asset.in_use"
    titles = {
        "en": "The asset is on work orders; deactivate it instead",
        "zh-CN": "该设备已关联工单，请改为停用",
    }
