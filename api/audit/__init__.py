"""The audit log: who created, changed or moved what, with before/after values."""
