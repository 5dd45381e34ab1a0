"""The tenant-configurable 3-level category taxonomy (e.g. department → domain → symptom)."""
