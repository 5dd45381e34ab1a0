"""The reference offline client of the sync protocol, and the technician CLI.

A :class:`~client_sdk.device.Device` is one installation: a local SQLite file
holding the replica (server row images, cursors, checksums), the durable
outbox (device ID, seq, persisted HLC), the local quarantine and the photo
upload queue. Actions are recorded offline and shown at once (server image +
pending mutations, :mod:`client_sdk.view`); :class:`~client_sdk.sync.SyncEngine`
pushes, uploads and pulls (PROTOCOL.md § 6–12). :mod:`client_sdk.http` is the
typed HTTP client; :mod:`client_sdk.cli` is ``fieldline-tech``. Merge rules are
never re-implemented here: they come from :mod:`sync_protocol`. Usage:
``docs/client_sdk.md``.
"""
