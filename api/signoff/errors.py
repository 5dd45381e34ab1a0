"""Sign-off errors."""

from __future__ import annotations

from api.errors.base import Conflict, InvalidInput, NotFound


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


class OrderNotCompleted(Conflict):
    """Only a completed (or closed) order has a completion report to seal."""

    code = "report.order_not_completed"
    titles = {
        "en": "Only a completed work order can be sealed",
        "zh-CN": "只有已完成的工单才能封存报告",
    }


class ReportAlreadySealed(Conflict):
    """A sealed report is never edited: send an amendment ``reason`` to seal a new version."""

    code = "report.already_sealed"
    titles = {
        "en": "The report is sealed; changes are amendments with a reason",
        "zh-CN": "报告已封存，修改须以附理由的修订版本提交",
    }


class ReportNotFound(NotFound):
    code = "report.not_found"
    titles = {"en": "No such report", "zh-CN": "报告不存在"}


class ReportSealInvalid(InvalidInput):
    """The uploaded report and seal do not verify; ``reason`` says which check failed."""

    code = "report.seal_invalid"
    titles = {
        "en": "The report does not match its seal",
        "zh-CN": "报告与其封印不符",
    }


class SigningKeyUnavailable(Conflict):
    """The tenant's signing key does not open with this server's secret key."""

    code = "report.signing_key_unavailable"
    titles = {
        "en": "The signing key cannot be opened with this server's secret",
        "zh-CN": "无法用本服务器的密钥打开签名密钥",
    }


class SignOffRequired(Conflict):
    """The order's category requires the customer's signature or a recorded refusal.

    The same code is the sync receipt's (PROTOCOL.md § 8.7), so clients branch once."""

    code = "sync.sign_off_required"
    titles = {
        "en": "Completing this work order needs the customer's signature or a recorded refusal",
        "zh-CN": "完成此工单需要客户签名或拒签记录",
    }


class ReportPdfNotReady(Conflict):
    """The worker has not rendered the report's PDF yet; try again shortly."""

    code = "report.pdf_not_ready"
    titles = {"en": "The report's PDF is not ready yet", "zh-CN": "报告 PDF 尚未生成"}
