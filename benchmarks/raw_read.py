"""The initial pull's baseline: the same rows read raw and encoded, with no sync machinery.

The scope's members (one ``SELECT``), then for every table one ``SELECT *`` of the
rows the scope holds (``id = ANY(...)``) on a plain psycopg connection (no
SQLAlchemy, no row images, no pages, no HTTP), each row turned into a dict of its
columns and the whole encoded with orjson (which writes UUIDs and timestamps
itself). This is a floor: what reading and encoding the rows costs at least on
this machine and database, so the pull's rows/s can be read as a ratio to it.
"""

from __future__ import annotations

import statistics
import time
import uuid

import orjson
import psycopg

import api.models  # noqa: F401 - every model, so the syncable tables are known
from api.sync.syncables import BY_TABLE


def raw_read(
    database_url: str, tenant_id: uuid.UUID, scope: str, runs: int = 3
) -> dict[str, float]:
    """Rows and the median seconds of ``runs`` reads of the scope's rows (plus encoding)."""
    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    timings: list[float] = []
    rows = 0
    with psycopg.connect(url, autocommit=True) as connection:
        for _ in range(max(1, runs)):
            started = time.perf_counter()
            rows = 0
            members: dict[str, list[uuid.UUID]] = {}
            for table_name, row_id in connection.execute(
                "SELECT table_name, row_id FROM sync_scope_members "
                "WHERE tenant_id = %s AND scope = %s",
                (tenant_id, scope),
            ):
                members.setdefault(table_name, []).append(row_id)
            for table, syncable in sorted(BY_TABLE.items(), key=lambda i: i[0].value):
                name = syncable.model.__table__.name
                cursor = connection.execute(
                    f"SELECT * FROM {name} WHERE tenant_id = %s AND id = ANY(%s)",
                    (tenant_id, members.get(table.value, [])),
                )
                names = [c.name for c in cursor.description or ()]
                found = [dict(zip(names, record, strict=True)) for record in cursor.fetchall()]
                orjson.dumps(found, default=str)
                rows += len(found)
            timings.append(time.perf_counter() - started)
    seconds = statistics.median(timings)
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds if seconds else 0.0}
