"""``/v1/priority-rules`` (with a dry run) and ``/v1/work-orders/{id}/priority-decision``."""

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
from api.servicedesk import rule_services as services
from api.servicedesk import rule_versions as versions
from api.servicedesk.models import PriorityDecision, PriorityRule, PriorityRuleSetVersion
from api.servicedesk.rule_schemas import (
    DecisionSchema,
    DryRunArgsSchema,
    DryRunSchema,
    RuleCreateSchema,
    RuleSchema,
    RuleUpdateSchema,
    RuleVersionSchema,
)
from api.workorders.queries import access_work_order

blp = Blueprint(
    "priority_rules",
    __name__,
    url_prefix="/v1",
    description="Priority rules as data (JSON Logic): the first rule that holds sets a new "
    "order's priority",
)


@blp.route("/priority-rules")
class Rules(MethodView):
    @requires(Permission.SERVICE_DESK_READ)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(RuleSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """List the tenant's priority rules, oldest first (they apply by `position`)."""
        actor = current_actor()
        with read_uow() as uow:
            stmt = select(PriorityRule).where(PriorityRule.tenant_id == actor.tenant_id)
            return paginate(uow.session, stmt, PriorityRule.id, **args)

    @requires(Permission.SERVICE_DESK_MANAGE)
    @idempotent
    @blp.arguments(RuleCreateSchema)
    @blp.response(201, RuleSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Save a rule. A condition that is not JSON Logic over the known facts is
        `priority_rule.invalid_logic` (422) now, never an error at an order's creation."""
        rule = services.create_rule(new_uow(), current_actor(), data)
        return rule, etag_header(rule.version)


@blp.route("/priority-rules/dry-run")
class DryRun(MethodView):
    @requires(Permission.SERVICE_DESK_READ)
    @blp.arguments(DryRunArgsSchema)
    @blp.response(200, DryRunSchema)
    def post(self, args: dict[str, Any]) -> Any:
        """What a rule set (or the saved rules) would do to the latest orders. Changes nothing."""
        with read_uow() as uow:
            return services.dry_run(uow.session, current_actor(), args)


@blp.route("/priority-rules/<uuid:rule_id>")
class RuleById(MethodView):
    @requires(Permission.SERVICE_DESK_READ)
    @blp.response(200, RuleSchema)
    def get(self, rule_id: uuid.UUID) -> Any:
        """Read a rule."""
        with read_uow() as uow:
            rule = services.access_rule(uow.session, current_actor(), rule_id)
        return rule, etag_header(rule.version)

    @requires(Permission.SERVICE_DESK_MANAGE)
    @if_match
    @blp.arguments(RuleUpdateSchema)
    @blp.response(200, RuleSchema)
    def patch(self, changes: dict[str, Any], rule_id: uuid.UUID, version: int) -> Any:
        """Change a rule. Needs `If-Match`."""
        rule = services.update_rule(new_uow(), current_actor(), rule_id, version, changes)
        return rule, etag_header(rule.version)

    @requires(Permission.SERVICE_DESK_MANAGE)
    @if_match
    @blp.response(204)
    def delete(self, rule_id: uuid.UUID, version: int) -> None:
        """Delete a rule. Needs `If-Match`."""
        services.delete_rule(new_uow(), current_actor(), rule_id, version)


@blp.route("/priority-rule-versions")
class RuleVersions(MethodView):
    @requires(Permission.SERVICE_DESK_READ)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(RuleVersionSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Every saved version of the tenant's rule set, newest first. Each create, change or
        delete of a rule, and each rollback, writes one; none is ever changed."""
        actor = current_actor()
        with read_uow() as uow:
            stmt = select(PriorityRuleSetVersion).where(
                PriorityRuleSetVersion.tenant_id == actor.tenant_id
            )
            return paginate(uow.session, stmt, PriorityRuleSetVersion.id, descending=True, **args)


@blp.route("/priority-rule-versions/<uuid:version_id>")
class RuleVersionById(MethodView):
    @requires(Permission.SERVICE_DESK_READ)
    @blp.response(200, RuleVersionSchema)
    def get(self, version_id: uuid.UUID) -> Any:
        """One version of the rule set, with its whole content."""
        with read_uow() as uow:
            return versions.access_version(uow.session, current_actor(), version_id=version_id)


@blp.route("/priority-rule-versions/<uuid:version_id>/rollback")
class RuleVersionRollback(MethodView):
    @requires(Permission.SERVICE_DESK_MANAGE)
    @blp.response(201, RuleVersionSchema)
    def post(self, version_id: uuid.UUID) -> Any:
        """Make this version's rules the current ones again. The rollback is itself a new
        version (with this one's content): history is never rewritten."""
        return versions.roll_back(new_uow(), current_actor(), version_id)


@blp.route("/work-orders/<uuid:work_order_id>/priority-decision")
class OrderDecision(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.response(200, DecisionSchema)
    def get(self, work_order_id: uuid.UUID) -> Any:
        """Why the order has its priority: the rule that fired and the priority asked for
        (all null when no rule fired)."""
        with read_uow() as uow:
            order = access_work_order(uow.session, current_actor(), work_order_id)
            found = uow.session.get(PriorityDecision, order.id)
            return found or {}
