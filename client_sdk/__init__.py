"""The reference offline client: local SQLite replica, outbox, sync loop, upload
queue and the technician CLI.

Not built yet: the sync issue builds it (see ``docs/roadmap.md``)."""
