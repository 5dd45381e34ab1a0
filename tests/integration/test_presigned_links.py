"""With photos in S3, links are presigned by S3: the bucket itself serves the bytes, with
the type, an inline download name and long private caching, until the link expires;
an altered link is refused by S3 itself."""

from __future__ import annotations

import hashlib
import io
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from api.evidence.photo_reads import Linker
from media.links import LinkSigner, PresigningStore
from media.stores import open_blob_store
from tests.support.s3_server import S3Server, running_s3_server


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    with running_s3_server() as server:
        yield server


def test_an_s3_store_presigns_links_the_bucket_serves(s3_server: S3Server) -> None:
    store = open_blob_store(f"s3://{s3_server.new_bucket()}/photos", s3_server.settings())
    assert isinstance(store, PresigningStore)
    tenant = uuid.uuid4()
    data = b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(range(64))
    digest = hashlib.sha256(data).hexdigest()
    store.put(tenant, digest, io.BytesIO(data), len(data))
    linker = Linker(store, LinkSigner("a-secret-that-is-long-enough-for-hmac"), time.time())

    url, expires_at = linker.link(tenant, digest, "thumb", "image/webp", "photo-1-thumb.webp")

    assert url.startswith(s3_server.endpoint_url) and "Signature" in url
    assert expires_at.timestamp() > time.time() + 14 * 60
    response = httpx.get(url)
    assert response.status_code == 200 and response.content == data
    # S3 answers with these headers (moto serves the bytes but ignores the overrides).
    asked = dict(httpx.URL(url).params)
    assert asked["response-content-type"] == "image/webp"
    assert asked["response-content-disposition"] == 'inline; filename="photo-1-thumb.webp"'
    assert asked["response-cache-control"] == "private, max-age=31536000, immutable"
    tampered = url.replace(digest, hashlib.sha256(b"other").hexdigest())
    assert httpx.get(tampered).status_code == 403
