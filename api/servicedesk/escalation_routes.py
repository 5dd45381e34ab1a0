"""``/v1/escalation-rules``, an order's escalations, and explicit SLA pauses: thin views."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from sqlalchemy import select

from api.auth.permissions import Permission
from api.http.blueprint import Blueprint
from api.http.context import new_uow, read_uow
from api.http.etag import etag_header, if_match
from api.http.guard import current_actor, requires
from api.http.idempotency import idempotent
from api.http.pagination import PageArgs, page_schema, paginate
from api.servicedesk import escalation_services as services
from api.servicedesk import pausing
from api.servicedesk.escalation_models import Escalation, EscalationRule
from api.servicedesk.escalation_schemas import (
    EscalationListSchema,
    EscalationRuleCreateSchema,
    EscalationRuleSchema,
    EscalationRuleUpdateSchema,
    PauseArgsSchema,
    ResumeArgsSchema,
    SlaPauseListSchema,
    SlaPauseSchema,
)
from api.workorders.queries import access_work_order

blp = Blueprint(
    "escalations",
    __name__,
    url_prefix="/v1",
    description="Escalation rules as data, the escalations each order had, and explicit SLA pauses",
)


@blp.route("/escalation-rules")
class Rules(MethodView):
    @requires(Permission.SERVICE_DESK_READ)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(EscalationRuleSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """List the tenant's escalation rules, oldest first."""
        actor = current_actor()
        with read_uow() as uow:
            stmt = select(EscalationRule).where(EscalationRule.tenant_id == actor.tenant_id)
            return paginate(uow.session, stmt, EscalationRule.id, **args)

    @requires(Permission.SERVICE_DESK_MANAGE)
    @idempotent
    @blp.arguments(EscalationRuleCreateSchema)
    @blp.response(201, EscalationRuleSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Save a rule; open orders are replanned. A condition, trigger or action that cannot
        work is `escalation_rule.invalid` (422) now, never an error in the worker."""
        rule = services.create_escalation_rule(new_uow(), current_actor(), data)
        return rule, etag_header(rule.version)


@blp.route("/escalation-rules/<uuid:escalation_rule_id>")
class RuleById(MethodView):
    @requires(Permission.SERVICE_DESK_READ)
    @blp.response(200, EscalationRuleSchema)
    def get(self, escalation_rule_id: uuid.UUID) -> Any:
        """Read a rule."""
        with read_uow() as uow:
            rule = services.access_escalation_rule(uow.session, current_actor(), escalation_rule_id)
        return rule, etag_header(rule.version)

    @requires(Permission.SERVICE_DESK_MANAGE)
    @if_match
    @blp.arguments(EscalationRuleUpdateSchema)
    @blp.response(200, EscalationRuleSchema)
    def patch(self, changes: dict[str, Any], escalation_rule_id: uuid.UUID, version: int) -> Any:
        """Change a rule (needs `If-Match`); open orders are replanned."""
        rule = services.update_escalation_rule(
            new_uow(), current_actor(), escalation_rule_id, version, changes
        )
        return rule, etag_header(rule.version)

    @requires(Permission.SERVICE_DESK_MANAGE)
    @if_match
    @blp.response(204)
    def delete(self, escalation_rule_id: uuid.UUID, version: int) -> None:
        """Delete a rule (needs `If-Match`); what it fired stays in the orders' history."""
        services.delete_escalation_rule(new_uow(), current_actor(), escalation_rule_id, version)


@blp.route("/work-orders/<uuid:work_order_id>/escalations")
class OrderEscalations(MethodView):
    @requires(Permission.SERVICE_DESK_READ)
    @blp.response(200, EscalationListSchema)
    def get(self, work_order_id: uuid.UUID) -> Any:
        """The escalations this order had, in the order they fired."""
        with read_uow() as uow:
            order = access_work_order(uow.session, current_actor(), work_order_id)
            rows = uow.session.scalars(
                select(Escalation)
                .where(
                    Escalation.tenant_id == order.tenant_id, Escalation.work_order_id == order.id
                )
                .order_by(Escalation.fired_at, Escalation.level, Escalation.id)
            )
            return {"items": list(rows)}


@blp.route("/work-orders/<uuid:work_order_id>/sla/pauses")
class OrderPauses(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.response(200, SlaPauseListSchema)
    def get(self, work_order_id: uuid.UUID) -> Any:
        """The explicit pauses of the order's SLA clocks, oldest first."""
        with read_uow() as uow:
            return {"items": pausing.list_pauses(uow.session, current_actor(), work_order_id)}

    @requires(Permission.SERVICE_DESK_MANAGE)
    @blp.arguments(PauseArgsSchema)
    @blp.response(201, SlaPauseSchema)
    def post(self, args: dict[str, Any], work_order_id: uuid.UUID) -> Any:
        """Pause the order's SLA clocks, with a reason (the order's status does not change).
        Due times and escalations wait until the clocks are resumed; `sla.already_paused`
        (409) while a pause is open, `sla.order_finished` (409) for a finished order."""
        return pausing.pause_clocks(new_uow(), current_actor(), work_order_id, args["reason"])


@blp.route("/work-orders/<uuid:work_order_id>/sla/resume")
class OrderResume(MethodView):
    @requires(Permission.SERVICE_DESK_MANAGE)
    @blp.arguments(ResumeArgsSchema)
    @blp.response(200, SlaPauseSchema)
    def post(self, args: dict[str, Any], work_order_id: uuid.UUID) -> Any:
        """End the open explicit pause (`sla.not_paused`, 409, if there is none); due times
        are recomputed and what came due before the pause is escalated now."""
        return pausing.resume_clocks(new_uow(), current_actor(), work_order_id, args.get("reason"))
