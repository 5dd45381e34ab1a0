"""SMS errors."""

from __future__ import annotations

from api.errors.base import InvalidInput, NotFound


class NotAMobileNumber(InvalidInput):
    code = "sms.not_a_mobile_number"
    titles = {
        "en": "Not a mobile number that can receive texts",
        "zh-CN": "不是可接收短信的手机号码",
    }


class OptOutNotFound(NotFound):
    code = "sms.opt_out_not_found"
    titles = {"en": "No such SMS opt-out", "zh-CN": "短信退订记录不存在"}
