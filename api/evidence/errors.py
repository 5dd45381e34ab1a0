"""Evidence errors."""

from __future__ import annotations

from api.errors.base import Conflict, NotFound


class PhotoNotFound(NotFound):
    code = "photo.not_found"
    titles = {"en": "No such photo", "zh-CN": "照片不存在"}


class EvidenceNotFound(NotFound):
    code = "evidence.not_found"
    titles = {"en": "No such item on this work order", "zh-CN": "该工单没有此记录"}


class PhotoBytesNotReady(Conflict):
    """The photo is recorded but its bytes have not arrived (or did not match)."""

    code = "photo.bytes_not_ready"
    titles = {
        "en": "The photo's bytes have not been uploaded yet",
        "zh-CN": "照片文件尚未上传",
    }
