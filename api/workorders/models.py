"""Work order tables: the order, its assets, its status history and its notes.

History is append-only. Notes are evidence: nothing changes them but a recorded void.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, TenantOwned, Timestamped, Versioned, enum_type, new_id, utcnow
from api.evidence.models import EvidenceRecord
from api.workorders.states import Priority, Status


class WorkOrder(Base, TenantOwned, Timestamped, Versioned):
    __tablename__ = "work_orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_work_orders_tenant_status", "tenant_id", "status"),
        Index("ix_work_orders_tenant_assignee", "tenant_id", "assignee_id"),
        Index("ix_work_orders_tenant_customer", "tenant_id", "customer_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    site_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sites.id", ondelete="RESTRICT"), index=True
    )
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("categories.id", ondelete="RESTRICT")
    )
    priority: Mapped[Priority] = mapped_column(enum_type(Priority), default=Priority.MEDIUM)
    status: Mapped[Status] = mapped_column(enum_type(Status), default=Status.NEW)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("technicians.id", ondelete="RESTRICT")
    )
    requested_start: Mapped[datetime | None]
    requested_end: Mapped[datetime | None]
    scheduled_start: Mapped[datetime | None]
    scheduled_end: Mapped[datetime | None]
    sla_due_at: Mapped[datetime | None]
    # What the service desk weighs (escalation and priority facts): a complaint, and the
    # amount at stake in the tenant's currency (a claim, a contract value). Office data.
    complaint: Mapped[bool] = mapped_column(default=False, server_default=false())
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    # Skills this order needs beyond its category's ([{"skill", "level"}], sorted by skill;
    # api.categories.skills merges both). The dispatcher's, like the schedule.
    required_skills: Mapped[list[dict[str, Any]]] = mapped_column(
        default=list, server_default=text("'[]'")
    )
    resolution: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(32), default="api")
    created_by: Mapped[uuid.UUID | None]
    completed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # Offline sync (PROTOCOL.md § 8): the technician's actuals, the HLC of the write
    # that set the status, and one LWW register stamp per plain field
    # ({field: {"hlc": ..., "party": ...}}; a field without one counts as HLC 0).
    actual_start: Mapped[datetime | None]
    actual_end: Mapped[datetime | None]
    status_hlc: Mapped[str | None] = mapped_column(String(90))
    field_hlcs: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    # An order a technician created offline stays in their scope until someone is assigned.
    creator_technician_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    create_digest: Mapped[str | None] = mapped_column(String(64))  # of create_work_order's args
    # The workflow's current steps and who must act (api.workflows.runs), server-owned:
    # {"state", "workflow", "version", "steps": [...]}; null when no workflow applies.
    current_steps: Mapped[dict[str, Any] | None]


class WorkOrderAsset(Base, TenantOwned):
    __tablename__ = "work_order_assets"

    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True
    )
    asset_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assets.id", ondelete="RESTRICT"), primary_key=True, index=True
    )


class StatusChange(Base, TenantOwned):
    """One transition in a work order's life: who, when, from, to, why.

    Two times (PROTOCOL.md § 7.3): ``occurred_at`` is when it happened where it
    happened (a device's step at the device's time, skew-corrected and bounded;
    an office step when the office took it), ``recorded_at`` when the server
    stored it. People read the first; the second is the order of record.
    """

    __tablename__ = "work_order_status_changes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[Status | None] = mapped_column(enum_type(Status))
    to_status: Mapped[Status] = mapped_column(enum_type(Status))
    reason: Mapped[str | None] = mapped_column(String(1000))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID | None]
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Note(Base, EvidenceRecord):
    """A note is evidence (PROTOCOL.md § 8.3): append-only, voided rather than deleted."""

    __tablename__ = "work_order_notes"

    body: Mapped[str] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(16), default="internal")
