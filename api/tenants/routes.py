"""``/v1/tenant/...``: settings of the caller's own tenant (thin views)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate

from api.auth.permissions import Permission
from api.http.blueprint import Blueprint
from api.http.context import new_uow, read_uow
from api.http.guard import current_actor, requires
from api.http.schemas import Schema
from api.tenants import settings

blp = Blueprint("tenant", __name__, url_prefix="/v1", description="Your tenant's settings")


class RepeatSettingsSchema(Schema):
    repeat_window_days = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=90),
        metadata={"description": "Orders created within this many days count (default 3)"},
    )
    repeat_threshold = fields.Integer(
        required=True,
        validate=validate.Range(min=2, max=50),
        metadata={"description": "This many orders of one category on one asset flag it (3)"},
    )
    repeat_opens_preventive = fields.Boolean(
        required=True,
        metadata={"description": "Also open a preventive maintenance order (default false)"},
    )
    repeat_preventive_category_id = fields.UUID(
        allow_none=True,
        load_default=None,
        metadata={
            "description": "The preventive order's category (a third-level one); "
            "null: the category of the repeats"
        },
    )


@blp.route("/tenant/repeat-issue-settings")
class RepeatIssueSettings(MethodView):
    @requires(Permission.TENANT_MANAGE)
    @blp.response(200, RepeatSettingsSchema)
    def get(self) -> Any:
        """When the same asset with orders of the same category is flagged to the office."""
        return settings.repeat_settings(read_uow(), current_actor())

    @requires(Permission.TENANT_MANAGE)
    @blp.arguments(RepeatSettingsSchema)
    @blp.response(200, RepeatSettingsSchema)
    def put(self, values: dict[str, Any]) -> Any:
        """Replace the repeat-issue settings (audited)."""
        return settings.set_repeat_settings(new_uow(), current_actor(), values)


class ArrivalSettingsSchema(Schema):
    arrival_mode = fields.String(
        required=True,
        validate=validate.OneOf(["suggest", "auto"]),
        metadata={
            "description": "suggest: ask the technician to confirm a detected arrival "
            "(default); auto: move the order on site, dated at the arrival"
        },
    )
    geofence_radius_m = fields.Integer(
        required=True,
        validate=validate.Range(min=25, max=2000),
        metadata={"description": "How near the site counts as there (default 100 m)"},
    )


@blp.route("/tenant/arrival-settings")
class ArrivalSettings(MethodView):
    @requires(Permission.TENANT_MANAGE)
    @blp.response(200, ArrivalSettingsSchema)
    def get(self) -> Any:
        """How technicians' GPS fixes turn into arrivals at a job's site."""
        return settings.tenant_settings(read_uow(), current_actor())

    @requires(Permission.TENANT_MANAGE)
    @blp.arguments(ArrivalSettingsSchema)
    @blp.response(200, ArrivalSettingsSchema)
    def put(self, values: dict[str, Any]) -> Any:
        """Replace the arrival settings (audited)."""
        return settings.set_settings(new_uow(), current_actor(), values, settings.ARRIVAL_FIELDS)
