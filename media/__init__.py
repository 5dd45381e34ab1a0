"""Media: blob stores (filesystem, S3), resumable uploads and the image pipeline.

``media.blobs`` is the content-addressed ``BlobStore`` port and its filesystem
adapter, ``media.s3`` the S3-compatible adapter, ``media.stores`` picks one from
configuration; ``media.validate`` judges images before they are kept and
``media.derive`` makes their derivatives."""
