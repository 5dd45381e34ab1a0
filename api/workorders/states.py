"""Work order statuses, priorities and note visibilities.

Defined once in :mod:`sync_protocol` so the server and the offline client spell
every value the same way (the database stores the values); re-exported here for
the models, schemas and rules.
"""

from __future__ import annotations

from sync_protocol.entities import NoteVisibility, Priority
from sync_protocol.workorder_status import Status

__all__ = ["NoteVisibility", "Priority", "Status"]
