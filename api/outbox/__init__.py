"""The transactional outbox: side effects recorded with the change, run by the worker."""
