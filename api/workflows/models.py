"""Workflow tables: definitions and their immutable versions, each order's run and its events.

A definition belongs to a category (and, unless a deeper category has its own,
to every category below it) or, with ``category_id`` null, to every order of
the tenant that no category's definition covers. Editing a definition writes
a new version; an order's run keeps the version it started with.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, TenantOwned, Timestamped, Versioned, new_id


class WorkflowDefinition(Base, TenantOwned, Timestamped, Versioned):
    __tablename__ = "workflow_definitions"
    __table_args__ = (
        # One definition per category, and at most one tenant-wide (category null).
        Index("uq_workflow_definitions_category", "tenant_id", "category_id", unique=True),
        Index(
            "uq_workflow_definitions_default",
            "tenant_id",
            unique=True,
            sqlite_where=text("category_id IS NULL"),
            postgresql_where=text("category_id IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120))
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("categories.id", ondelete="RESTRICT")
    )
    # An inactive definition starts no new runs; runs already started go on.
    active: Mapped[bool] = mapped_column(default=True)
    current_version: Mapped[int]


class WorkflowVersion(Base, TenantOwned):
    """One saved content of a definition; never changed once written."""

    __tablename__ = "workflow_definition_versions"
    __table_args__ = (
        Index("uq_workflow_definition_versions", "definition_id", "number", unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    definition_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workflow_definitions.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    # {"start": [...], "steps": [...]}, normalised (api.workflows.definitions.as_json).
    content: Mapped[dict[str, Any]]
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime]


class WorkflowRun(Base, TenantOwned):
    """An order's workflow: the version it follows and where each step stands."""

    __tablename__ = "work_order_workflows"

    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True
    )
    definition_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workflow_definitions.id", ondelete="RESTRICT"), index=True
    )
    version_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workflow_definition_versions.id", ondelete="RESTRICT")
    )
    # "active", "finished" (every step done) or "cancelled" (the order was cancelled).
    state: Mapped[str] = mapped_column(String(16))
    # {step key: {"status": "waiting" | "active" | "done", "approved": [decider index, ...]}}
    steps: Mapped[dict[str, Any]]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class WorkflowEvent(Base, TenantOwned):
    """One thing that happened to an order's workflow; append-only."""

    __tablename__ = "work_order_workflow_events"
    __table_args__ = (Index("ix_work_order_workflow_events_order", "work_order_id", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE")
    )
    step: Mapped[str | None] = mapped_column(String(64))
    # started, activated, completed, approved, rejected, returned, done_by_status,
    # finished, cancelled, resumed
    kind: Mapped[str] = mapped_column(String(32))
    approver: Mapped[dict[str, Any] | None]  # approved: the approver it counted for
    comment: Mapped[str | None] = mapped_column(String(2000))
    override_reason: Mapped[str | None] = mapped_column(String(1000))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID | None]
    at: Mapped[datetime]
