"""Tenant settings the office tunes: repeat-issue detection (api.assets.repeats) and
geofenced arrival (api.location.arrivals)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.audit import services as audit
from api.audit.changes import apply_changes
from api.auth.actor import Actor
from api.db import UnitOfWork
from api.tenants.models import Tenant

REPEAT_FIELDS = frozenset({"repeat_window_days", "repeat_threshold", "repeat_opens_preventive"})
ARRIVAL_FIELDS = frozenset({"arrival_mode", "geofence_radius_m"})


def tenant_settings(uow: UnitOfWork, actor: Actor) -> Tenant:
    """The caller's tenant, whose columns are its settings."""
    with uow:
        return uow.session.get_one(Tenant, actor.tenant_id)


def repeat_settings(uow: UnitOfWork, actor: Actor) -> Tenant:
    with uow:
        return uow.session.get_one(Tenant, actor.tenant_id)


def set_repeat_settings(uow: UnitOfWork, actor: Actor, values: Mapping[str, Any]) -> Tenant:
    return set_settings(uow, actor, values, REPEAT_FIELDS)


def set_settings(
    uow: UnitOfWork, actor: Actor, values: Mapping[str, Any], names: frozenset[str]
) -> Tenant:
    """Replace the settings ``names`` of the caller's tenant (audited)."""
    with uow:
        tenant = uow.session.get_one(Tenant, actor.tenant_id)
        diff = apply_changes(tenant, dict(values), names)
        audit.record(uow.session, actor, "update", "tenant", tenant.id, diff)
        uow.commit()
        return tenant
