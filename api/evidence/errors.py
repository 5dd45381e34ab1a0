"""Evidence errors, and the API's answer to photo bytes that are not an image it keeps."""

from __future__ import annotations

from api.errors.base import Conflict, FieldlineError, Forbidden, InvalidInput, NotFound
from api.errors.common import UnsupportedMediaType
from media.validate import MediaRefused


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


class MediaUnsupportedType(UnsupportedMediaType):
    """The bytes are not a JPEG, PNG, WebP or HEIC/HEIF image (by their magic bytes)."""

    code = "media.unsupported_type"
    titles = {
        "en": "The file is not a JPEG, PNG, WebP or HEIC image",
        "zh-CN": "文件不是 JPEG、PNG、WebP 或 HEIC 图片",
    }


class MediaCorrupt(InvalidInput):
    """Pillow cannot verify or fully decode the image: truncated or damaged."""

    code = "media.corrupt"
    titles = {"en": "The image is truncated or corrupt", "zh-CN": "图片不完整或已损坏"}


class MediaTooManyPixels(InvalidInput):
    """Over 50 megapixels or 20,000 pixels a side, or a decompression bomb."""

    code = "media.too_many_pixels"
    titles = {"en": "The image has too many pixels", "zh-CN": "图片像素过多"}


class MediaPolyglot(InvalidInput):
    """The image also carries HTML or script that a browser could run."""

    code = "media.polyglot"
    titles = {"en": "The image carries markup or script", "zh-CN": "图片中夹带了网页标记或脚本"}


MEDIA_ERRORS = (MediaUnsupportedType, MediaCorrupt, MediaTooManyPixels, MediaPolyglot)
_BY_CODE: dict[str, type[FieldlineError]] = {kind.code: kind for kind in MEDIA_ERRORS}


def from_media(refusal: MediaRefused) -> FieldlineError:
    """The API error for bytes :mod:`media.validate` refused: the same code and detail."""
    return _BY_CODE.get(refusal.code, MediaCorrupt)(refusal.detail)


class MediaLinkExpired(Forbidden):
    """A genuine link whose time is up: list the photos again for fresh links."""

    code = "media.link_expired"
    titles = {"en": "This link has expired", "zh-CN": "链接已过期"}


class MediaLinkInvalid(NotFound):
    """Not a link this server made, or one that was altered."""

    code = "media.link_invalid"
    titles = {"en": "No such link", "zh-CN": "链接无效"}
