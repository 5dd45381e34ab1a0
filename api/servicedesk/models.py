"""Business calendars of a tenant: weekly hours, a holiday country, and per-date overrides.

Hours are stored as minutes since local midnight (``[[540, 720], [780, 1080]]``)
under the weekday number (Monday = ``"0"``); the API speaks ``"09:00"``.
A calendar belongs to a team, or is the tenant's default when ``team_id`` is null.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, TenantOwned, Timestamped, Versioned, new_id
from api.servicedesk.hours import show_day, show_week


class BusinessCalendar(Base, TenantOwned, Timestamped, Versioned):
    __tablename__ = "business_calendars"
    __table_args__ = (
        # One calendar per team, and at most one tenant default (team_id null).
        Index("uq_business_calendars_team", "tenant_id", "team_id", unique=True),
        Index(
            "uq_business_calendars_default",
            "tenant_id",
            unique=True,
            sqlite_where=text("team_id IS NULL"),
            postgresql_where=text("team_id IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120))
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    time_zone: Mapped[str] = mapped_column(String(64))
    weekly_hours: Mapped[dict[str, Any]]
    # ISO 3166 code: "CN" from chinese-calendar (with make-up workdays), others from holidays.
    holiday_country: Mapped[str | None] = mapped_column(String(8))
    # Hours of a make-up workday; null: those of the first weekday that has hours.
    makeup_hours: Mapped[list[Any] | None]

    @property
    def shown_weekly_hours(self) -> dict[str, list[dict[str, str]]]:
        return show_week(self.weekly_hours)

    @property
    def shown_makeup_hours(self) -> list[dict[str, str]] | None:
        return None if self.makeup_hours is None else show_day(self.makeup_hours)


class CalendarDay(Base, TenantOwned):
    """One date of one calendar set by hand: a workday with these hours, or ``[]`` = a day off."""

    __tablename__ = "business_calendar_days"

    calendar_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("business_calendars.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    hours: Mapped[list[Any]]
    note: Mapped[str | None] = mapped_column(String(200))


class SlaPolicy(Base, TenantOwned, Timestamped, Versioned):
    """Targets in business minutes for the orders it matches (see ``api.servicedesk.policies``)."""

    __tablename__ = "sla_policies"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120))
    priority: Mapped[str | None] = mapped_column(String(16))
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE")
    )
    customer_tier: Mapped[str | None] = mapped_column(String(16))
    # Null: the tenant's default calendar (or round-the-clock UTC when it has none).
    calendar_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("business_calendars.id", ondelete="RESTRICT")
    )
    first_response_minutes: Mapped[int | None]
    arrival_minutes: Mapped[int | None]
    resolution_minutes: Mapped[int | None]


class WorkOrderSla(Base, TenantOwned):
    """An order's SLA clocks, computed by the server only (no client can write this table)."""

    __tablename__ = "work_order_slas"

    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True
    )
    policy_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="SET NULL")
    )
    # "running", "paused" (waiting), "stopped" (finished order) or "none" (no policy).
    state: Mapped[str] = mapped_column(String(16))
    first_response_due_at: Mapped[datetime | None]
    arrival_due_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    computed_at: Mapped[datetime]
    # Met marks, set once by the step that met the target (an edit never overrides them):
    # when (the step's occurred time), by which action, and whether it was past due then.
    first_response_met_at: Mapped[datetime | None]
    first_response_met_by: Mapped[str | None] = mapped_column(String(32))
    first_response_breached: Mapped[bool | None]
    arrival_met_at: Mapped[datetime | None]
    arrival_met_by: Mapped[str | None] = mapped_column(String(32))
    arrival_breached: Mapped[bool | None]


class PriorityRule(Base, TenantOwned, Timestamped, Versioned):
    """A JSON Logic condition and the priority it gives; lower ``position`` is checked first."""

    __tablename__ = "priority_rules"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int]
    logic: Mapped[dict[str, Any]]
    priority: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)


class PriorityDecision(Base, TenantOwned):
    """Why an order has its priority: the rule that fired and what the caller asked for."""

    __tablename__ = "work_order_priority_decisions"

    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True
    )
    rule_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("priority_rules.id", ondelete="SET NULL")
    )
    rule_name: Mapped[str] = mapped_column(String(120))
    # The rule set version that decided (``priority_rule_set_versions.number``).
    rule_set_version: Mapped[int | None]
    requested_priority: Mapped[str | None] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[datetime]


class PriorityRuleSetVersion(Base, TenantOwned):
    """One saved state of a tenant's whole priority rule set, immutable once written.

    Every save (create, change, delete of a rule, or a rollback) writes the next
    ``number`` with the full content, so an order's decision names the exact set
    that made it and a rollback is a new version with old content, never an edit.
    """

    __tablename__ = "priority_rule_set_versions"
    __table_args__ = (
        Index("uq_priority_rule_set_versions_number", "tenant_id", "number", unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    number: Mapped[int]
    # [{"id", "name", "position", "logic", "priority", "active"}], in the order they apply.
    rules: Mapped[list[Any]]
    # Why this version exists: "create", "update", "delete" or "rollback".
    cause: Mapped[str] = mapped_column(String(16))
    rolled_back_to: Mapped[int | None]  # a rollback: the number whose content it restores
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime]
