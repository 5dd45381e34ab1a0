"""Escalation tables: the rules (tenant data), what fired, explicit SLA pauses, the sweep's index.

``work_order_escalations`` has one row per (order, rule, level) that fired, and
a unique constraint on exactly that: two workers, or one worker restarted
mid-sweep, insert the same escalation at most once. ``escalation_checks`` holds
each open order's next check time and nothing else, so the sweep is one range
scan of an index and an order with nothing left to check has no row at all.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, TenantOwned, Timestamped, Versioned, new_id


class EscalationRule(Base, TenantOwned, Timestamped, Versioned):
    """When (trigger) an order that matches (condition) is escalated, and to whom (action)."""

    __tablename__ = "escalation_rules"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[int]  # 1, 2 or 3: shown to people, and part of the once-only key
    logic: Mapped[dict[str, Any]]  # JSON Logic over the order's facts ({} = every order)
    # That category and every one below it; null: any category.
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE")
    )
    # "created" (time since creation), "status" (time in the current status) or "sla".
    trigger: Mapped[str] = mapped_column(String(16))
    minutes: Mapped[int | None]  # for created/status
    business_time: Mapped[bool] = mapped_column(default=False)  # created/status: calendar time
    sla_target: Mapped[str | None] = mapped_column(String(16))  # first_response/arrival/resolution
    percent: Mapped[int | None]  # of that target, e.g. 75 (warning) or 100 (breach)
    # notify_supervisor, notify_managers, notify_assignee or raise_priority.
    action: Mapped[str] = mapped_column(String(32))
    # notify_supervisor: this team's supervisor; null: the assignee's team's.
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    active: Mapped[bool] = mapped_column(default=True)


class Escalation(Base, TenantOwned):
    """One escalation that fired: kept when its rule is deleted (the order's history)."""

    __tablename__ = "work_order_escalations"
    __table_args__ = (
        UniqueConstraint("work_order_id", "rule_id", "level", name="uq_escalation_once"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    rule_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("escalation_rules.id", ondelete="SET NULL")
    )
    rule_name: Mapped[str] = mapped_column(String(120))
    level: Mapped[int]
    action: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime]  # when the trigger was reached
    fired_at: Mapped[datetime]  # when the sweep acted (due_at or a little later)
    recipients: Mapped[list[Any]]  # user ids notified
    priority_before: Mapped[str | None] = mapped_column(String(16))
    priority_after: Mapped[str | None] = mapped_column(String(16))


class SlaPause(Base, TenantOwned):
    """An explicit stop of an order's SLA clocks by the office, with its reason."""

    __tablename__ = "sla_pauses"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(String(1000))
    resume_reason: Mapped[str | None] = mapped_column(String(1000))
    started_by: Mapped[uuid.UUID | None]
    ended_by: Mapped[uuid.UUID | None]


class EscalationCheck(Base, TenantOwned):
    """When the sweep should next look at an open order (no row: nothing to check)."""

    __tablename__ = "escalation_checks"
    __table_args__ = (Index("ix_escalation_checks_due", "due_at"),)

    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True
    )
    due_at: Mapped[datetime]
