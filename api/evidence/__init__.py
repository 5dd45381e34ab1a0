"""Evidence a technician records on a work order: parts used, readings, time entries, photos.

Evidence is append-only (PROTOCOL.md § 8.3): rows are added under the client's
UUIDv7 and never updated except to record a void (who, when, why) or, for a
photo, the arrival of its bytes. Notes are evidence too; they live with the
work order (:mod:`api.workorders.models`) because they predate offline sync.
"""
