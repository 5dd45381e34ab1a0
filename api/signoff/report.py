"""The completion report: everything a sealed work order says, as plain JSON.

:func:`build_report` reads the order, its customer, site, assets, timeline,
evidence (not voided: voided items are hidden from reports, PROTOCOL.md § 8.3)
and sign-off, and returns a value for :func:`signatures.canonical.canonical_bytes`.
Every evidence item carries ``sha256``: the hash of its own canonical JSON (a
photo also its bytes' ``content_sha256``), so one item can be shown to be part
of a sealed report without revealing the others. Times are RFC 3339 UTC:
``occurred_at`` is when it happened where it happened, ``recorded_at`` when the
server stored it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.assets.models import Asset
from api.categories.models import Category
from api.customers.models import Customer
from api.evidence.models import EvidenceRecord, PartUsed, Photo, Reading, TimeEntry
from api.signoff.models import SealedReport, WorkOrderSignOff
from api.signoff.queries import find_sign_off
from api.sites.models import Site
from api.technicians.models import Technician
from api.workorders.models import Note, StatusChange, WorkOrder, WorkOrderAsset
from signatures.canonical import canonical_bytes, sha256_hex
from sync_protocol.wire import format_timestamp

FORMAT = "fieldline.completion-report/1"


def build_report(
    session: Session,
    order: WorkOrder,
    *,
    report_id: uuid.UUID,
    version: int,
    previous: SealedReport | None,
    reason: str | None,
    sealed_at: datetime,
) -> dict[str, Any]:
    tenant = order.tenant_id
    customer = session.get_one(Customer, order.customer_id)
    site = session.get_one(Site, order.site_id)
    return {
        "format": FORMAT,
        "report": {
            "id": str(report_id),
            "version": version,
            "sealed_at": _ts(sealed_at),
            "amends": (
                {"id": str(previous.id), "version": previous.version, "sha256": previous.sha256}
                if previous
                else None
            ),
            "amendment_reason": reason,
        },
        "tenant_id": str(tenant),
        "work_order": _order(session, order),
        "customer": {
            "id": str(customer.id),
            "code": customer.code,
            "name": customer.name,
            "name_en": customer.name_en,
        },
        "site": {
            "id": str(site.id),
            "name": site.name,
            "name_en": site.name_en,
            "address": site.address,
            "address_en": site.address_en,
            "city": site.city,
            "lat": site.lat,
            "lon": site.lon,
        },
        "assets": [_asset(a) for a in _assets(session, order)],
        "timeline": [_step(c) for c in _timeline(session, order)],
        "evidence": _evidence(session, order),
        "sign_off": _sign_off(find_sign_off(session, tenant, order.id)),
    }


def _order(session: Session, order: WorkOrder) -> dict[str, Any]:
    category = session.get(Category, order.category_id) if order.category_id else None
    assignee = session.get(Technician, order.assignee_id) if order.assignee_id else None
    return {
        "id": str(order.id),
        "number": order.number,
        "title": order.title,
        "description": order.description,
        "status": order.status.value,
        "priority": order.priority.value,
        "category": {"id": str(category.id), "code": category.code, "name": category.name}
        if category
        else None,
        "assignee": {"id": str(assignee.id), "name": assignee.name, "name_en": assignee.name_en}
        if assignee
        else None,
        "resolution": order.resolution,
        "actual_start": _ts(order.actual_start),
        "actual_end": _ts(order.actual_end),
        "completed_at": _ts(order.completed_at),
        "created_at": _ts(order.created_at),
    }


def _assets(session: Session, order: WorkOrder) -> Sequence[Asset]:
    return session.scalars(
        select(Asset)
        .join(WorkOrderAsset, WorkOrderAsset.asset_id == Asset.id)
        .where(WorkOrderAsset.work_order_id == order.id, Asset.tenant_id == order.tenant_id)
        .order_by(Asset.id)
    ).all()


def _asset(asset: Asset) -> dict[str, Any]:
    return {
        "id": str(asset.id),
        "name": asset.name,
        "name_en": asset.name_en,
        "manufacturer": asset.manufacturer,
        "model": asset.model,
        "serial_number": asset.serial_number,
    }


def _timeline(session: Session, order: WorkOrder) -> Sequence[StatusChange]:
    return session.scalars(
        select(StatusChange)
        .where(StatusChange.tenant_id == order.tenant_id, StatusChange.work_order_id == order.id)
        .order_by(StatusChange.recorded_at, StatusChange.id)
    ).all()


def _step(change: StatusChange) -> dict[str, Any]:
    return {
        "action": change.action,
        "from": change.from_status.value if change.from_status else None,
        "to": change.to_status.value,
        "reason": change.reason,
        "actor_kind": change.actor_kind,
        "actor_id": _id(change.actor_id),
        "occurred_at": _ts(change.occurred_at),
        "recorded_at": _ts(change.recorded_at),
    }


_KINDS: dict[str, tuple[type[EvidenceRecord], tuple[str, ...]]] = {
    "photos": (Photo, ("sha256", "content_type", "size", "caption", "taken_at", "asset_id")),
    "parts": (PartUsed, ("description", "quantity", "unit", "part_number", "asset_id")),
    "readings": (Reading, ("metric", "value", "unit", "taken_at", "asset_id")),
    "time_entries": (TimeEntry, ("activity", "started_at", "ended_at", "note")),
    "notes": (Note, ("body",)),
}


def _evidence(session: Session, order: WorkOrder) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for kind, (model, columns) in _KINDS.items():
        rows = session.scalars(
            select(model)
            .where(
                model.tenant_id == order.tenant_id,
                model.work_order_id == order.id,
                model.voided_at.is_(None),
            )
            .order_by(model.occurred_at, model.id)
        ).all()
        found[kind] = [_item(row, columns) for row in rows]
    return found


def _item(row: EvidenceRecord, columns: tuple[str, ...]) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": str(row.id),
        "author_kind": row.author_kind,
        "author_id": _id(row.author_id),
        "device_id": _id(row.device_id),
        "occurred_at": _ts(row.occurred_at),
        "recorded_at": _ts(row.created_at),
        "visibility": getattr(row, "visibility", None),
    }
    for name in columns:
        item[name] = _plain(getattr(row, name))
    if "sha256" in item:
        item["content_sha256"] = item.pop("sha256")  # the photo's bytes
    item["sha256"] = sha256_hex(canonical_bytes(item))
    return item


def _sign_off(row: WorkOrderSignOff | None) -> dict[str, Any] | None:
    if row is None:
        return None
    position = (
        {"lat": row.gps_lat, "lon": row.gps_lon, "accuracy_m": row.gps_accuracy_m}
        if row.gps_lat is not None
        else None
    )
    return {
        "id": str(row.id),
        "outcome": row.outcome,
        "signer": {"name": row.signer_name, "role": row.signer_role},
        "consent_text": row.consent_text,
        "refusal_reason": row.refusal_reason,
        "signature_sha256": row.signature_sha256,
        "point_count": row.point_count,
        "gps_fix": position,
        "device_id": _id(row.device_id),
        "author_kind": row.author_kind,
        "author_id": _id(row.author_id),
        "occurred_at": _ts(row.occurred_at),
        "recorded_at": _ts(row.created_at),
    }


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return _ts(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _ts(value: datetime | None) -> str | None:
    return format_timestamp(value) if value is not None else None


def _id(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None
