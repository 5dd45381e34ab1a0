"""Evidence errors."""

from __future__ import annotations

from api.errors.base import Conflict, Forbidden, NotFound


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


class MediaLinkExpired(Forbidden):
    """A genuine link whose time is up: list the photos again for fresh links."""

    code = "media.link_expired"
    titles = {"en": "This link has expired", "zh-CN": "链接已过期"}


class MediaLinkInvalid(NotFound):
    """Not a link this server made, or one that was altered."""

    code = "media.link_invalid"
    titles = {"en": "No such link", "zh-CN": "链接无效"}
