"""In-app notifications, produced by the worker from outbox events."""
