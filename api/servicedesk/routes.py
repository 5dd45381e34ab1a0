"""``/v1/business-calendars``: thin views over the business calendar services."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from api.auth.permissions import Permission
from api.http.blueprint import Blueprint
from api.http.context import new_uow, read_uow
from api.http.etag import etag_header, if_match
from api.http.guard import current_actor, requires
from api.http.idempotency import idempotent
from api.http.pagination import PageArgs, page_schema
from api.servicedesk import queries, services
from api.servicedesk.schemas import (
    CalendarCreateSchema,
    CalendarSchema,
    CalendarUpdateSchema,
    DayListSchema,
    DayRangeArgs,
    DaySchema,
    DaySetSchema,
)

blp = Blueprint(
    "business_calendars",
    __name__,
    url_prefix="/v1",
    description="Business calendars: working hours, public holidays, make-up workdays (调休)",
)


@blp.route("/business-calendars")
class Calendars(MethodView):
    @requires(Permission.SERVICE_DESK_READ)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(CalendarSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """List the tenant's business calendars, oldest first."""
        with read_uow() as uow:
            return queries.list_calendars(uow.session, current_actor(), **args)

    @requires(Permission.SERVICE_DESK_MANAGE)
    @idempotent
    @blp.arguments(CalendarCreateSchema)
    @blp.response(201, CalendarSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a calendar for a team, or the tenant default (`team_id` null).

        Hours that cannot exist (`18:00`-`09:00`, `25:00`) are
        `business_calendar.impossible_hours`; overlapping intervals of one day
        `business_calendar.overlapping_intervals`."""
        row = services.create_calendar(new_uow(), current_actor(), data)
        return row, etag_header(row.version)


@blp.route("/business-calendars/<uuid:calendar_id>")
class CalendarById(MethodView):
    @requires(Permission.SERVICE_DESK_READ)
    @blp.response(200, CalendarSchema)
    def get(self, calendar_id: uuid.UUID) -> Any:
        """Read a calendar."""
        with read_uow() as uow:
            row = queries.access_calendar(uow.session, current_actor(), calendar_id)
        return row, etag_header(row.version)

    @requires(Permission.SERVICE_DESK_MANAGE)
    @if_match
    @blp.arguments(CalendarUpdateSchema)
    @blp.response(200, CalendarSchema)
    def patch(self, changes: dict[str, Any], calendar_id: uuid.UUID, version: int) -> Any:
        """Change some fields of a calendar. Needs `If-Match`."""
        row = services.update_calendar(new_uow(), current_actor(), calendar_id, version, changes)
        return row, etag_header(row.version)

    @requires(Permission.SERVICE_DESK_MANAGE)
    @if_match
    @blp.response(204)
    def delete(self, calendar_id: uuid.UUID, version: int) -> None:
        """Delete a calendar and its per-date overrides. Needs `If-Match`."""
        services.delete_calendar(new_uow(), current_actor(), calendar_id, version)


@blp.route("/business-calendars/<uuid:calendar_id>/days")
class CalendarDays(MethodView):
    @requires(Permission.SERVICE_DESK_READ)
    @blp.arguments(DayRangeArgs, location="query")
    @blp.response(200, DayListSchema)
    def get(self, args: dict[str, Any], calendar_id: uuid.UUID) -> Any:
        """Each date from `from` to `to` (inclusive, at most 366 days): its working hours
        and why (`override`, `holiday`, `makeup` or `weekly`)."""
        with read_uow() as uow:
            return queries.resolved_days(
                uow.session, current_actor(), calendar_id, args.get("start"), args.get("end")
            )


@blp.route("/business-calendars/<uuid:calendar_id>/days/<day>")
class CalendarDay(MethodView):
    @requires(Permission.SERVICE_DESK_MANAGE)
    @blp.arguments(DaySetSchema)
    @blp.response(200, DaySchema)
    def put(self, data: dict[str, Any], calendar_id: uuid.UUID, day: str) -> Any:
        """Set one date by hand (`YYYY-MM-DD`): a workday with `hours`, or `hours: []` a day off.
        It wins over the weekly hours, public holidays and make-up workdays."""
        return services.set_day(new_uow(), current_actor(), calendar_id, day, data)

    @requires(Permission.SERVICE_DESK_MANAGE)
    @blp.response(204)
    def delete(self, calendar_id: uuid.UUID, day: str) -> None:
        """Forget a date's override: it follows the weekly hours and holidays again."""
        services.clear_day(new_uow(), current_actor(), calendar_id, day)
