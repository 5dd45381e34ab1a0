"""Why the server refuses an image: each refusal carries a stable problem code (``media.*``)
and the HTTP status the API maps it to. Raised before anything is kept."""

from __future__ import annotations


class MediaRefused(ValueError):
    """The bytes are not an image the server keeps; nothing was stored."""

    code = "media.invalid"
    status = 422

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class UnsupportedType(MediaRefused):
    code = "media.unsupported_type"
    status = 415


class CorruptImage(MediaRefused):
    code = "media.corrupt"


class TooManyPixels(MediaRefused):
    code = "media.too_many_pixels"


class PolyglotImage(MediaRefused):
    code = "media.polyglot"
