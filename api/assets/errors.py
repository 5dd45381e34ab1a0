"""Asset errors."""

from __future__ import annotations

from api.errors.base import Conflict, InvalidInput, NotFound


class AssetNotFound(NotFound):
    code = "asset.not_found"
    titles = {"en": "No such asset", "zh-CN": "设备不存在"}


class AssetLabelUnknown(NotFound):
    code = "asset.label_unknown"
    titles = {
        "en": "This label is not one of your assets' labels",
        "zh-CN": "该标签不属于本单位的设备",
    }


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


class BarcodeCheckDigitInvalid(InvalidInput):
    code = "barcode.check_digit_invalid"
    titles = {
        "en": "The barcode's check digit is wrong (a misread or mistyped code)",
        "zh-CN": "条码校验位错误（可能误读或输错）",
    }


class BarcodeMalformed(InvalidInput):
    code = "barcode.malformed"
    titles = {
        "en": "This symbology cannot carry that value (length or characters)",
        "zh-CN": "该码制无法承载此内容（长度或字符不符）",
    }


class BarcodeGS1Invalid(InvalidInput):
    code = "barcode.gs1_invalid"
    titles = {
        "en": "The GS1 element string cannot be parsed",
        "zh-CN": "GS1 元素串无法解析",
    }


class AssetNotProvisional(Conflict):
    code = "asset.not_provisional"
    titles = {
        "en": "Only a provisional asset can be confirmed or merged",
        "zh-CN": "只有待确认设备可以确认或合并",
    }


class MergeIntoItself(InvalidInput):
    code = "asset.merge_into_itself"
    titles = {"en": "An asset cannot be merged into itself", "zh-CN": "设备不能合并到自身"}
