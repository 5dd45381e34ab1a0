"""Upload refusals (tus 1.0). Statuses follow the tus specification where it names one:
412 for an unsupported ``Tus-Resumable``, 409 for a wrong ``Upload-Offset``, 410 for an
expired upload, 413 past ``Tus-Max-Size``, 460 for an ``Upload-Checksum`` mismatch."""

from __future__ import annotations

from api.errors import common
from api.errors.base import (
    BadRequest,
    ChecksumFailed,
    Conflict,
    FieldlineError,
    Gone,
    InvalidInput,
    Locked,
    NotFound,
    PreconditionFailed,
)
from media import tus


class UploadNotFound(NotFound):
    code = "upload.not_found"
    titles = {"en": "No such upload", "zh-CN": "上传不存在"}


class UploadVersionUnsupported(PreconditionFailed):
    code = "upload.version_unsupported"
    titles = {
        "en": "Send Tus-Resumable: 1.0.0 (the tus version this server speaks)",
        "zh-CN": "请发送 Tus-Resumable: 1.0.0（服务器支持的 tus 版本）",
    }


class UploadInvalidHeader(BadRequest):
    code = "upload.invalid_header"
    titles = {"en": "A tus header is missing or malformed", "zh-CN": "tus 请求头缺失或格式错误"}


class UploadChecksumAlgorithmUnsupported(BadRequest):
    code = "upload.checksum_algorithm_unsupported"
    titles = {
        "en": "Upload-Checksum must use sha256",
        "zh-CN": "Upload-Checksum 须使用 sha256",
    }


class UploadMetadataInvalid(InvalidInput):
    code = "upload.metadata_invalid"
    titles = {
        "en": "Upload-Metadata needs the photo's sha256 and filetype",
        "zh-CN": "Upload-Metadata 须包含照片的 sha256 和 filetype",
    }


class UploadUnsupportedMediaType(common.UnsupportedMediaType):
    code = "upload.unsupported_media_type"
    titles = {
        "en": "This type of content cannot be uploaded here",
        "zh-CN": "此处不能上传该类型的内容",
    }


class UploadOffsetMismatch(Conflict):
    code = "upload.offset_mismatch"
    titles = {
        "en": "Upload-Offset is not the upload's current offset; HEAD it and resume",
        "zh-CN": "Upload-Offset 与上传的当前偏移量不符；请先 HEAD 再续传",
    }


class UploadExpired(Gone):
    code = "upload.expired"
    titles = {"en": "The upload expired; start a new one", "zh-CN": "上传已过期，请重新上传"}


class UploadTooLarge(common.PayloadTooLarge):
    code = "upload.too_large"
    titles = {"en": "The upload is too large", "zh-CN": "上传内容过大"}


class UploadLocked(Locked):
    code = "upload.locked"
    titles = {
        "en": "Another request is writing to this upload; retry shortly",
        "zh-CN": "另一个请求正在写入此上传，请稍后重试",
    }


class UploadChecksumMismatch(ChecksumFailed):
    code = "upload.checksum_mismatch"
    titles = {
        "en": "The request body does not match Upload-Checksum; nothing was kept",
        "zh-CN": "请求体与 Upload-Checksum 不符，未保存任何内容",
    }


class UploadHashMismatch(InvalidInput):
    code = "upload.hash_mismatch"
    titles = {
        "en": "The uploaded bytes do not hash to the sha256 in Upload-Metadata; upload removed",
        "zh-CN": "上传内容的哈希与 Upload-Metadata 中的 sha256 不符，上传已删除",
    }


_BY_CODE: dict[str, type[FieldlineError]] = {
    cls.code: cls
    for cls in (
        UploadVersionUnsupported,
        UploadInvalidHeader,
        UploadChecksumAlgorithmUnsupported,
        UploadOffsetMismatch,
        UploadExpired,
        UploadTooLarge,
        UploadLocked,
        UploadChecksumMismatch,
    )
}


def from_tus(error: tus.TusError) -> FieldlineError:
    """The API error for a refusal of the tus engine (same code, same detail)."""
    return _BY_CODE[error.code](str(error))
