"""Tenant settings the office tunes: here, repeat-issue detection (api.assets.repeats)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.audit import services as audit
from api.audit.changes import apply_changes
from api.auth.actor import Actor
from api.db import UnitOfWork
from api.tenants.models import Tenant

REPEAT_FIELDS = frozenset({"repeat_window_days", "repeat_threshold", "repeat_opens_preventive"})


def repeat_settings(uow: UnitOfWork, actor: Actor) -> Tenant:
    with uow:
        return uow.session.get_one(Tenant, actor.tenant_id)


def set_repeat_settings(uow: UnitOfWork, actor: Actor, values: Mapping[str, Any]) -> Tenant:
    with uow:
        tenant = uow.session.get_one(Tenant, actor.tenant_id)
        diff = apply_changes(tenant, dict(values), REPEAT_FIELDS)
        audit.record(uow.session, actor, "update", "tenant", tenant.id, diff)
        uow.commit()
        return tenant
