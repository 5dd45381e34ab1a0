"""Media: blob stores (filesystem, S3), resumable uploads and the image pipeline.

Built so far: ``media.blobs`` (the content-addressed ``BlobStore`` port and its
filesystem adapter). Still to come with the media issue: S3 storage, resumable
(tus) uploads and the image pipeline (see ``docs/roadmap.md``)."""
