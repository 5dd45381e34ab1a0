"""Row images as a device receives them: read for a list of IDs (see
:mod:`api.sync.syncables` for what an image holds). On PostgreSQL the database
renders them (:mod:`api.sync.rendered`); elsewhere each value is converted here.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.lists import among
from api.sync.rendered import rendered_images
from api.sync.syncables import BY_TABLE, LINKED, Row, wire_columns, wire_value
from api.workorders.models import WorkOrderAsset
from sync_protocol.entities import Table


def materialise(
    session: Session, tenant_id: uuid.UUID, table: Table, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Row]:
    """The current images of these rows of the tenant; absent rows are left out."""
    wanted = list(set(ids))  # any order: the images come back keyed by ID
    if not wanted:
        return {}
    if session.get_bind().dialect.name == "postgresql":
        return rendered_images(session.connection(), tenant_id, table, wanted)
    return converted_images(session, tenant_id, table, wanted)


def converted_images(
    session: Session, tenant_id: uuid.UUID, table: Table, ids: list[uuid.UUID]
) -> dict[uuid.UUID, Row]:
    """The images with every value converted by :func:`wire_value` (any database):
    SQLite's, and what the rendered images are held equal to."""
    syncable = BY_TABLE[table]
    columns = wire_columns(syncable)
    names = [c.name for c in columns]
    at = names.index("id")
    images: dict[uuid.UUID, Row] = {}
    for chunk in _chunks(ids):
        query = select(*columns).where(
            syncable.model.tenant_id == tenant_id, syncable.model.id.in_(chunk)
        )
        for record in session.execute(query):
            images[record[at]] = {n: wire_value(v) for n, v in zip(names, record, strict=True)}
    if table in LINKED:
        for order_id, asset_ids in _asset_ids(session, tenant_id, images).items():
            images[order_id]["asset_ids"] = [str(a) for a in sorted(asset_ids)]
    return images


def _asset_ids(
    session: Session, tenant_id: uuid.UUID, orders: dict[uuid.UUID, Row]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    links: dict[uuid.UUID, list[uuid.UUID]] = {order_id: [] for order_id in orders}
    for chunk in _chunks(list(orders)):
        query = select(WorkOrderAsset.work_order_id, WorkOrderAsset.asset_id).where(
            WorkOrderAsset.tenant_id == tenant_id,
            among(session, WorkOrderAsset.work_order_id, chunk),
        )
        for order_id, asset_id in session.execute(query):
            links[order_id].append(asset_id)
    return links


def group_by_table(keys: Iterable[tuple[Table, uuid.UUID]]) -> dict[Table, set[uuid.UUID]]:
    grouped: dict[Table, set[uuid.UUID]] = defaultdict(set)
    for table, row_id in keys:
        grouped[table].add(row_id)
    return grouped


def _chunks(items: list[uuid.UUID], size: int = 500) -> Iterable[list[uuid.UUID]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
