"""Sign-off errors."""

from __future__ import annotations

from api.errors.base import Conflict, NotFound


class SignOffNotFound(NotFound):
    code = "signoff.not_found"
    titles = {"en": "This work order has no sign-off", "zh-CN": "该工单没有签收记录"}


class SignOffAlreadyRecorded(Conflict):
    """A sign-off is immutable: a second one for the same order is refused."""

    code = "signoff.already_recorded"
    titles = {
        "en": "The work order already has a signature or a recorded refusal",
        "zh-CN": "该工单已有签名或拒签记录",
    }


class SignOffIdTaken(Conflict):
    code = "signoff.id_reused"
    titles = {
        "en": "This ID already names a different sign-off",
        "zh-CN": "该 ID 已用于另一条签收记录",
    }
