"""The push side of sync (PROTOCOL.md § 7): devices' mutations applied exactly once.

:mod:`service` is the use case behind ``POST /v1/sync/push``: versions, the
device's lock and exactly-once position, replays answered from stored receipts.
:mod:`engine` runs one mutation in a savepoint and turns any refusal into a
``rejected`` receipt and a quarantine entry; :mod:`orders` and :mod:`evidence`
carry out the mutations by the merge rules of ``sync_protocol``.
"""
