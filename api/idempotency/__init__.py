"""Idempotency-Key support for creates: a replay returns the first response."""
