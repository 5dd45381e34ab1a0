"""Media: blob stores (filesystem, S3), resumable uploads and the image pipeline.

Not built yet: the media issue builds it (see ``docs/roadmap.md``)."""
