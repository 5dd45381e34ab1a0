"""Which blob store holds the bytes: one setting, read in one place.

``open_blob_store`` turns a location into a :class:`~media.blobs.BlobStore`: a folder
path means :class:`~media.blobs.FilesystemBlobStore` (the default), and
``s3://bucket/prefix`` means :class:`~media.s3.S3BlobStore` on any S3-compatible
service (AWS, MinIO, Ceph, moto). The app builds its store once at start-up and every
feature (sync uploads, photo reads, garbage collection, tus) uses that one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from media.blobs import BlobStore, FilesystemBlobStore


@dataclass(frozen=True)
class S3Settings:
    """Where and as whom to reach S3; ``None`` leaves the choice to boto3's usual
    chain (``AWS_*`` variables, ``~/.aws``, an instance role)."""

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None


class BadBlobLocation(ValueError):
    """The setting names no store Fieldline knows."""


def open_blob_store(location: str, s3: S3Settings | None = None) -> BlobStore:
    """The store at ``location``: ``s3://bucket[/prefix]`` or a folder path."""
    if location.startswith("s3://"):
        bucket, _, prefix = location.removeprefix("s3://").partition("/")
        if len(bucket) < 3:
            raise BadBlobLocation(f"{location!r}: an S3 bucket name has at least 3 characters")
        from media.s3 import S3BlobStore  # boto3 loads only when S3 is configured

        return S3BlobStore.connect(bucket, prefix.strip("/"), s3 or S3Settings())
    if "://" in location:
        raise BadBlobLocation(f"{location!r}: use a folder path or s3://bucket/prefix")
    return FilesystemBlobStore(Path(location))
