"""Short-lived links to stored bytes: signed by the app, or presigned by the store itself.

A client never fetches a photo by its hash: it gets a link from a listing it was
allowed to read. :class:`LinkSigner` makes the app's own links, an HMAC-SHA256
signature (itsdangerous, keyed with the app secret) over what the link serves: the
tenant, the blob, what it is (``thumb``, ``display``, ``original``...), its type,
the download name, and when the link expires. Changing any of them, or using the
link after it expired, is refused. Expiry times are rounded up to the next
:attr:`~LinkSigner.granularity` seconds, so a photo listed twice in a few minutes
gets the same URL and a browser's cache (keyed by URL) serves the second view.

A store that can hand out links of its own (S3: presigned GET URLs, served by the
bucket or a CDN in front of it) implements :class:`PresigningStore`; the app then
passes those out instead and the bytes never go through it.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from itsdangerous import BadSignature, URLSafeSerializer

DEFAULT_TTL = 15 * 60  # how long a link stays valid at least
_SALT = "fieldline.blob-link.v1"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@runtime_checkable
class PresigningStore(Protocol):
    """A store that can give a URL a browser may fetch the bytes from directly (optional)."""

    def presigned_url(
        self,
        tenant_id: uuid.UUID,
        sha256: str,
        *,
        content_type: str,
        filename: str,
        expires_in: int,
    ) -> str: ...


@dataclass(frozen=True)
class BlobLink:
    """What a link serves."""

    tenant_id: uuid.UUID
    sha256: str
    variant: str  # "original", "thumb", "display", "annotated"
    content_type: str
    filename: str
    expires: int  # POSIX seconds


class LinkRefused(Exception):
    """Base of the refusals: nothing is served."""


class LinkExpired(LinkRefused):
    """The link was genuine but its time is up."""


class LinkInvalid(LinkRefused):
    """The link was not made by this server, or was altered."""


class LinkSigner:
    def __init__(self, secret: str, *, ttl: int = DEFAULT_TTL, granularity: int = 300) -> None:
        self._serializer = URLSafeSerializer(secret, salt=_SALT)
        self.ttl = ttl
        self.granularity = granularity

    def expiry(self, now: float) -> int:
        """When a link made at ``now`` expires: at least :attr:`ttl` later, rounded up."""
        return math.ceil((now + self.ttl) / self.granularity) * self.granularity

    def sign(self, link: BlobLink) -> str:
        return str(
            self._serializer.dumps(
                [
                    link.tenant_id.hex,
                    link.sha256,
                    link.variant,
                    link.content_type,
                    link.filename,
                    link.expires,
                ]
            )
        )

    def verify(self, token: str, now: float) -> BlobLink:
        """The link ``token`` stands for; :class:`LinkInvalid` or :class:`LinkExpired`."""
        try:
            tenant, sha256, variant, content_type, filename, expires = self._serializer.loads(token)
            link = BlobLink(
                uuid.UUID(hex=tenant), sha256, variant, content_type, filename, int(expires)
            )
        except (BadSignature, ValueError, TypeError) as exc:
            raise LinkInvalid("the link is not one this server made") from exc
        if now >= link.expires:
            raise LinkExpired("the link has expired")
        return link


def safe_filename(name: str) -> str:
    """``name`` reduced to ASCII letters, digits, ``.``, ``_`` and ``-`` (for
    ``Content-Disposition``: nothing a header or a file system could misread)."""
    cleaned = _UNSAFE.sub("_", name).strip("._") or "photo"
    return cleaned[:100]
