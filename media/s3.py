"""The ``BlobStore`` adapter for S3-compatible object storage (AWS S3, MinIO, Ceph, moto).

Objects are keyed ``<prefix>/<tenant_id>/<sha[:2]>/<sha>``, like the filesystem
adapter's paths. A ``put`` streams the body into an anonymous local temp file while
hashing it (one chunk in memory at a time), checks the SHA-256 and the caller's
``check`` there, and only then uploads the file: an S3 object appears whole when its
PUT (or multipart upload) completes, so readers never see unverified or half-sent
bytes, and a refused upload never reaches the bucket. The temp file has no name
(``tempfile.TemporaryFile``), so a crash leaves nothing on disk; an upload cut off
by a crash can leave an incomplete multipart upload, which :meth:`S3BlobStore.sweep`
aborts (an ``AbortIncompleteMultipartUpload`` lifecycle rule on the bucket does too).
"""

from __future__ import annotations

import io
import tempfile
import uuid
from collections.abc import Set
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from media.blobs import (
    CHUNK_BYTES,
    BlobCheck,
    BlobMissing,
    ByteSource,
    StoredBlob,
    check_digest,
    copy_verified,
    verify_file,
)
from media.links import safe_filename

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from media.stores import S3Settings

# One part in memory at a time: a threaded transfer would buffer a part per thread.
_TRANSFER = TransferConfig(
    multipart_threshold=16 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024, use_threads=False
)


class S3BlobStore:
    """Blobs as objects in ``bucket`` under ``prefix`` (see the module docstring)."""

    def __init__(
        self, client: S3Client, bucket: str, prefix: str = "", spool_dir: str | None = None
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.spool_dir = spool_dir  # where bodies wait while verified; None: the system temp

    @classmethod
    def connect(cls, bucket: str, prefix: str, settings: S3Settings) -> S3BlobStore:
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.endpoint_url,
            region_name=settings.region,
            aws_access_key_id=settings.access_key_id,
            aws_secret_access_key=settings.secret_access_key,
            config=BotoConfig(
                # Presigned links too: botocore presigns with SigV2 in us-east-1 (and for
                # a custom endpoint in it) unless told, and S3 refuses SigV2 on buckets
                # made since June 2020. SigV4 also signs the response-* overrides.
                signature_version="s3v4",
                # Self-hosted S3 (MinIO, Ceph) is addressed by path, AWS by virtual host.
                s3={"addressing_style": "path" if settings.endpoint_url else "auto"},
            ),
        )
        return cls(client, bucket, prefix)

    def key(self, tenant_id: uuid.UUID, sha256: str) -> str:
        check_digest(sha256)
        return f"{self._tenant_prefix(tenant_id)}{sha256[:2]}/{sha256}"

    def put(
        self,
        tenant_id: uuid.UUID,
        sha256: str,
        stream: ByteSource,
        max_bytes: int,
        check: BlobCheck | None = None,
    ) -> StoredBlob:
        key = self.key(tenant_id, sha256)
        with tempfile.TemporaryFile(dir=self.spool_dir) as spool:
            size = copy_verified(stream, spool, sha256, max_bytes)
            if check is not None:
                spool.seek(0)
                check(spool)
            spool.seek(0)
            extra = {"Metadata": {"sha256": sha256}}
            self.client.upload_fileobj(spool, self.bucket, key, ExtraArgs=extra, Config=_TRANSFER)
        return StoredBlob(sha256, size)

    def put_file(
        self,
        tenant_id: uuid.UUID,
        sha256: str,
        path: Path,
        max_bytes: int,
        check: BlobCheck | None = None,
        *,
        hashed: bool = False,
    ) -> StoredBlob:
        """See :meth:`media.blobs.BlobStore.put_file`: the file is judged where it lies and
        uploaded from there (no spooled copy); it stays at ``path``."""
        key = self.key(tenant_id, sha256)
        size = verify_file(path, sha256, max_bytes, hashed=hashed)
        with path.open("rb") as source:
            if check is not None:
                check(source)
                source.seek(0)
            extra = {"Metadata": {"sha256": sha256}}
            self.client.upload_fileobj(source, self.bucket, key, ExtraArgs=extra, Config=_TRANSFER)
        return StoredBlob(sha256, size)

    def exists(self, tenant_id: uuid.UUID, sha256: str) -> bool:
        return self._head(self.key(tenant_id, sha256)) is not None

    def open(self, tenant_id: uuid.UUID, sha256: str) -> BinaryIO:
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=self.key(tenant_id, sha256))
        except ClientError as error:
            if _missing(error):
                raise BlobMissing(sha256) from None
            raise
        return io.BufferedReader(_StreamingBody(found["Body"]), CHUNK_BYTES)

    def presigned_url(
        self,
        tenant_id: uuid.UUID,
        sha256: str,
        *,
        content_type: str,
        filename: str,
        expires_in: int,
    ) -> str:
        """A GET URL the bucket (or a CDN in front of it) serves for ``expires_in``
        seconds, answering with this type, an inline ``Content-Disposition`` and
        year-long private caching (the bytes never change): :class:`media.links.PresigningStore`."""
        return str(
            self.client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": self.key(tenant_id, sha256),
                    "ResponseContentType": content_type,
                    "ResponseContentDisposition": f'inline; filename="{safe_filename(filename)}"',
                    "ResponseCacheControl": "private, max-age=31536000, immutable",
                },
                ExpiresIn=expires_in,
            )
        )

    def delete(self, tenant_id: uuid.UUID, sha256: str) -> bool:
        key = self.key(tenant_id, sha256)
        if self._head(key) is None:  # S3 deletes idempotently: ask first to answer False
            return False
        self.client.delete_object(Bucket=self.bucket, Key=key)
        return True

    def sweep(self, tenant_id: uuid.UUID, keep: Set[str], older_than: float) -> int:
        """Delete the tenant's objects not in ``keep`` last written before ``older_than``
        (a POSIX time), and abort its multipart uploads begun before then; how many
        objects went.

        Each object's age is read again just before it is deleted, so an upload that
        rewrote it since the listing keeps it; S3 has no atomic rename, so a rewrite
        landing between that read and the delete (milliseconds) is the one window left,
        and the device's next ``HEAD`` then says 404 and it uploads again (§ 10).
        """
        tenant_prefix = self._tenant_prefix(tenant_id)
        swept = 0
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=tenant_prefix
        ):
            for item in page.get("Contents", []):
                name = item["Key"].rsplit("/", 1)[-1]
                if name in keep or item["LastModified"].timestamp() >= older_than:
                    continue
                head = self._head(item["Key"])
                if head is not None and head["LastModified"].timestamp() < older_than:
                    self.client.delete_object(Bucket=self.bucket, Key=item["Key"])
                    swept += 1
        self._abort_stale_uploads(tenant_prefix, older_than)
        return swept

    def _abort_stale_uploads(self, tenant_prefix: str, older_than: float) -> None:
        listing = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=tenant_prefix)
        for upload in listing.get("Uploads", []):
            if upload["Initiated"].timestamp() < older_than:
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )

    def _tenant_prefix(self, tenant_id: uuid.UUID) -> str:
        return f"{self.prefix}{tenant_id}/"

    def _head(self, key: str) -> Any:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _missing(error):
                return None
            raise


def _missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}


class _StreamingBody(io.RawIOBase):
    """botocore's response body as a raw file, so callers get an ordinary ``BinaryIO``."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()
