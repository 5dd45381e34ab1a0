"""Tenant settings the office tunes: repeat-issue detection (api.assets.repeats),
geofenced arrival (api.location.arrivals) and likely duplicates (api.duplicates)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.audit import services as audit
from api.audit.changes import apply_changes
from api.auth.actor import Actor
from api.db import UnitOfWork
from api.errors.base import FieldProblem
from api.errors.common import ValidationFailed
from api.tenants.models import Tenant

REPEAT_FIELDS = frozenset(
    {
        "repeat_window_days",
        "repeat_threshold",
        "repeat_opens_preventive",
        "repeat_preventive_category_id",
    }
)
ARRIVAL_FIELDS = frozenset({"arrival_mode", "geofence_radius_m"})
DISPATCH_FIELDS = frozenset({"dispatch_mode", "offer_timeout_s", "offer_max_declines"})


def tenant_settings(uow: UnitOfWork, actor: Actor) -> Tenant:
    """The caller's tenant, whose columns are its settings."""
    with uow:
        return uow.session.get_one(Tenant, actor.tenant_id)


def repeat_settings(uow: UnitOfWork, actor: Actor) -> Tenant:
    with uow:
        return uow.session.get_one(Tenant, actor.tenant_id)


def set_repeat_settings(uow: UnitOfWork, actor: Actor, values: Mapping[str, Any]) -> Tenant:
    """Replace the repeat-issue settings; the preventive category must be a usable leaf."""
    # Imported here: the work order services import this package's services.
    from api.workorders.services import category_problems

    with uow:
        category = values.get("repeat_preventive_category_id")
        problems = category_problems(uow.session, actor, category)
        if problems:
            raise ValidationFailed(
                errors=[
                    FieldProblem("repeat_preventive_category_id", p.code, p.message)
                    for p in problems
                ]
            )
        tenant = uow.session.get_one(Tenant, actor.tenant_id)
        diff = apply_changes(tenant, dict(values), REPEAT_FIELDS)
        audit.record(uow.session, actor, "update", "tenant", tenant.id, diff)
        uow.commit()
        return tenant


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
