"""`/v1/workflow-definitions` (versioned) and an order's run: `/v1/work-orders/{id}/workflow`."""

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
from api.workflows import action_services, definition_services, queries
from api.workflows.models import WorkflowDefinition, WorkflowVersion
from api.workflows.schemas import (
    WorkflowActionSchema,
    WorkflowDefinitionCreateSchema,
    WorkflowDefinitionSchema,
    WorkflowDefinitionUpdateSchema,
    WorkflowDefinitionVersionSchema,
    WorkflowRunSchema,
)

blp = Blueprint(
    "workflows",
    __name__,
    url_prefix="/v1",
    description="Workflow steps per category (serial, parallel, countersign, any-of) and "
    "each order's run",
)


@blp.route("/workflow-definitions")
class Definitions(MethodView):
    @requires(Permission.SERVICE_DESK_READ)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(WorkflowDefinitionSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """List the tenant's workflow definitions, oldest first, with their current steps."""
        actor = current_actor()
        with read_uow() as uow:
            stmt = select(WorkflowDefinition).where(WorkflowDefinition.tenant_id == actor.tenant_id)
            page = paginate(uow.session, stmt, WorkflowDefinition.id, **args)
            items = [definition_services.present_definition(uow.session, d) for d in page.items]
            return {"items": items, "next_cursor": page.next_cursor}

    @requires(Permission.SERVICE_DESK_MANAGE)
    @idempotent
    @blp.arguments(WorkflowDefinitionCreateSchema)
    @blp.response(201, WorkflowDefinitionSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Save a workflow for a category (or the tenant default). Checked in full now: a
        loop, a step no path reaches, an unknown step, an empty approver set, a role that
        cannot own a step or a team that is not the tenant's is a 422 with its own code."""
        definition = definition_services.create_definition(new_uow(), current_actor(), data)
        with read_uow() as uow:
            shown = definition_services.present_definition(uow.session, definition)
        return shown, etag_header(definition.version)


@blp.route("/workflow-definitions/<uuid:definition_id>")
class DefinitionById(MethodView):
    @requires(Permission.SERVICE_DESK_READ)
    @blp.response(200, WorkflowDefinitionSchema)
    def get(self, definition_id: uuid.UUID) -> Any:
        """Read a definition and its current steps."""
        with read_uow() as uow:
            definition = queries.access_definition(uow.session, current_actor(), definition_id)
            shown = definition_services.present_definition(uow.session, definition)
        return shown, etag_header(definition.version)

    @requires(Permission.SERVICE_DESK_MANAGE)
    @if_match
    @blp.arguments(WorkflowDefinitionUpdateSchema)
    @blp.response(200, WorkflowDefinitionSchema)
    def patch(self, changes: dict[str, Any], definition_id: uuid.UUID, version: int) -> Any:
        """Rename, (de)activate, or give new steps. New steps are a new version: orders
        already under way keep the version they started with. Needs `If-Match`."""
        definition = definition_services.update_definition(
            new_uow(), current_actor(), definition_id, version, changes
        )
        with read_uow() as uow:
            shown = definition_services.present_definition(uow.session, definition)
        return shown, etag_header(definition.version)


@blp.route("/workflow-definitions/<uuid:definition_id>/versions")
class DefinitionVersions(MethodView):
    @requires(Permission.SERVICE_DESK_READ)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(WorkflowDefinitionVersionSchema))
    def get(self, args: dict[str, Any], definition_id: uuid.UUID) -> Any:
        """Every version of the definition, newest first; none is ever changed."""
        with read_uow() as uow:
            definition = queries.access_definition(uow.session, current_actor(), definition_id)
            stmt = select(WorkflowVersion).where(WorkflowVersion.definition_id == definition.id)
            page = paginate(uow.session, stmt, WorkflowVersion.id, descending=True, **args)
            return {"items": [_version(v) for v in page.items], "next_cursor": page.next_cursor}


@blp.route("/workflow-definitions/<uuid:definition_id>/versions/<uuid:workflow_version_id>")
class DefinitionVersionById(MethodView):
    @requires(Permission.SERVICE_DESK_READ)
    @blp.response(200, WorkflowDefinitionVersionSchema)
    def get(self, definition_id: uuid.UUID, workflow_version_id: uuid.UUID) -> Any:
        """One version of the definition (ids from the versions list, which gives numbers)."""
        with read_uow() as uow:
            found = queries.access_version(
                uow.session, current_actor(), definition_id, workflow_version_id
            )
            return _version(found)


@blp.route("/work-orders/<uuid:work_order_id>/workflow")
class OrderWorkflow(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.response(200, WorkflowRunSchema)
    def get(self, work_order_id: uuid.UUID) -> Any:
        """The order's workflow: the version it follows, every step, the current step(s) and
        who must act, and its history. `workflow.no_run` (404) when no workflow applies."""
        with read_uow() as uow:
            return action_services.read_run(uow.session, current_actor(), work_order_id)


@blp.route("/work-orders/<uuid:work_order_id>/workflow/actions")
class OrderWorkflowActions(MethodView):
    @requires(Permission.WORK_ORDERS_TRANSITION)
    @blp.arguments(WorkflowActionSchema)
    @blp.response(200, WorkflowRunSchema)
    def post(self, command: dict[str, Any], work_order_id: uuid.UUID) -> Any:
        """Complete, approve or reject (with a `comment`) a current step, as a member of its
        team or role; an admin may act on any step with an `override_reason`. Steps never
        change the order's status: a step that waits for a status is done by the status."""
        return action_services.take_action(new_uow(), current_actor(), work_order_id, command)


def _version(version: WorkflowVersion) -> dict[str, Any]:
    return {
        "id": version.id,
        "number": version.number,
        "start": version.content["start"],
        "steps": version.content["steps"],
        "created_by": version.created_by,
        "created_at": version.created_at,
    }
