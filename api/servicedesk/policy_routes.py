"""``/v1/sla-policies`` and ``/v1/work-orders/{id}/sla``: thin views."""

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
from api.servicedesk import policy_services as services
from api.servicedesk.models import SlaPolicy, WorkOrderSla
from api.servicedesk.policy_schemas import (
    OrderSlaSchema,
    PolicyCreateSchema,
    PolicySchema,
    PolicyUpdateSchema,
)
from api.workorders.queries import access_work_order

blp = Blueprint(
    "sla_policies",
    __name__,
    url_prefix="/v1",
    description="SLA policies: first response, arrival and resolution targets in business time",
)


@blp.route("/sla-policies")
class Policies(MethodView):
    @requires(Permission.SERVICE_DESK_READ)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(PolicySchema))
    def get(self, args: dict[str, Any]) -> Any:
        """List the tenant's SLA policies, oldest first."""
        actor = current_actor()
        with read_uow() as uow:
            stmt = select(SlaPolicy).where(SlaPolicy.tenant_id == actor.tenant_id)
            return paginate(uow.session, stmt, SlaPolicy.id, **args)

    @requires(Permission.SERVICE_DESK_MANAGE)
    @idempotent
    @blp.arguments(PolicyCreateSchema)
    @blp.response(201, PolicySchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a policy. The most specific matching policy applies to an order (more
        criteria named, then the deeper category); unfinished orders are recomputed."""
        policy = services.create_policy(new_uow(), current_actor(), data)
        return policy, etag_header(policy.version)


@blp.route("/sla-policies/<uuid:policy_id>")
class PolicyById(MethodView):
    @requires(Permission.SERVICE_DESK_READ)
    @blp.response(200, PolicySchema)
    def get(self, policy_id: uuid.UUID) -> Any:
        """Read a policy."""
        with read_uow() as uow:
            policy = services.access_policy(uow.session, current_actor(), policy_id)
        return policy, etag_header(policy.version)

    @requires(Permission.SERVICE_DESK_MANAGE)
    @if_match
    @blp.arguments(PolicyUpdateSchema)
    @blp.response(200, PolicySchema)
    def patch(self, changes: dict[str, Any], policy_id: uuid.UUID, version: int) -> Any:
        """Change a policy (needs `If-Match`); unfinished orders are recomputed."""
        policy = services.update_policy(new_uow(), current_actor(), policy_id, version, changes)
        return policy, etag_header(policy.version)

    @requires(Permission.SERVICE_DESK_MANAGE)
    @if_match
    @blp.response(204)
    def delete(self, policy_id: uuid.UUID, version: int) -> None:
        """Delete a policy (needs `If-Match`); unfinished orders are recomputed."""
        services.delete_policy(new_uow(), current_actor(), policy_id, version)


@blp.route("/work-orders/<uuid:work_order_id>/sla")
class OrderSla(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.response(200, OrderSlaSchema)
    def get(self, work_order_id: uuid.UUID) -> Any:
        """The order's SLA due times, computed by the server (never writable by a client)."""
        with read_uow() as uow:
            order = access_work_order(uow.session, current_actor(), work_order_id)
            row = uow.session.get(WorkOrderSla, order.id)
            if row is None:
                return {"policy_id": None, "state": "none", "computed_at": None}
            return row
