"""Office decisions on suggestions, and the tenant's duplicate settings.

Dismissing says "not a duplicate": the suggestion stays (``dismissed``, with who
and when) so the pair is never offered again, and the decision is audited in the
new order's chain. Dismissing twice is the same as once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from api.audit import services as audit
from api.auth.actor import Actor
from api.db import UnitOfWork, utcnow
from api.duplicates import queries
from api.duplicates.errors import SuggestionDecided, SuggestionNotFound
from api.duplicates.models import DISMISSED, MERGED
from api.duplicates.queries import SuggestionView
from api.tenants.models import Tenant
from api.tenants.settings import set_settings
from api.workorders.queries import access_work_order

SETTINGS_FIELDS = frozenset({"duplicate_window_hours", "duplicate_min_score"})


def dismiss_suggestion(
    uow: UnitOfWork, actor: Actor, work_order_id: uuid.UUID, suggestion_id: uuid.UUID
) -> SuggestionView:
    with uow:
        session = uow.session
        access_work_order(session, actor, work_order_id)
        row = queries.access_suggestion(session, actor, suggestion_id)
        if work_order_id not in (row.work_order_id, row.candidate_id):
            raise SuggestionNotFound()
        if row.state == MERGED:
            raise SuggestionDecided()
        if row.state != DISMISSED:
            row.state, row.decided_at, row.decided_by = DISMISSED, utcnow(), actor.principal_id
            changes = {
                "state": {"before": "open", "after": DISMISSED},
                "candidate_id": {"after": str(row.candidate_id)},
            }
            audit.record(
                session,
                actor,
                "dismiss",
                "duplicate_suggestion",
                row.id,
                changes,
                work_order_id=row.work_order_id,
            )
        view = queries.suggestion_view(session, row, work_order_id)
        uow.commit()
        return view


def duplicate_settings(uow: UnitOfWork, actor: Actor) -> Tenant:
    with uow:
        return uow.session.get_one(Tenant, actor.tenant_id)


def set_duplicate_settings(uow: UnitOfWork, actor: Actor, values: Mapping[str, Any]) -> Tenant:
    return set_settings(uow, actor, values, SETTINGS_FIELDS)
