"""The KPI use case: check the period, then read (:mod:`api.servicedesk.kpi_queries`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from api.auth.actor import Actor
from api.db import UnitOfWork, utcnow
from api.errors.base import FieldProblem
from api.errors.common import ValidationFailed
from api.servicedesk.kpi_queries import KpiFilter, service_desk_kpis

DEFAULT_PERIOD = timedelta(days=30)
MAX_PERIOD = timedelta(days=366)


def kpis(uow: UnitOfWork, actor: Actor, args: Mapping[str, Any]) -> dict[str, Any]:
    now = utcnow()
    end: datetime = args.get("end") or now
    start: datetime = args.get("start") or end - DEFAULT_PERIOD
    if end <= start:
        raise ValidationFailed(
            errors=[FieldProblem("to", "out_of_range", "`to` is not after `from`")]
        )
    if end - start > MAX_PERIOD:
        raise ValidationFailed(
            errors=[FieldProblem("to", "out_of_range", "A period spans at most 366 days")]
        )
    where = KpiFilter(
        start=start,
        end=end,
        team_id=args.get("team_id"),
        category_id=args.get("category_id"),
        priority=tuple(args.get("priority") or ()),
    )
    with uow:
        return service_desk_kpis(uow.session, actor, where, now)
