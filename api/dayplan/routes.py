"""``/v1/day-plans``: optimise a day, then apply the plan in one call."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.views import MethodView

from api.auth.permissions import Permission
from api.dayplan import services
from api.dayplan.schemas import ApplyRequestSchema, PlanRequestSchema, PlanSchema
from api.http.blueprint import Blueprint
from api.http.context import new_uow, read_uow
from api.http.guard import current_actor, requires
from api.workorders.schemas import WorkOrderSchema

blp = Blueprint("dayplan", __name__, url_prefix="/v1", description="Day plans (route optimisation)")


@blp.route("/day-plans")
class DayPlans(MethodView):
    @requires(Permission.WORK_ORDERS_UPDATE)
    @blp.arguments(PlanRequestSchema)
    @blp.response(200, PlanSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Plan a day: which technician visits which open orders, in what order, with
        ETAs (OR-Tools vehicle routing with time windows, skills, shifts and breaks).

        Nothing changes until the plan is applied. Accepted orders stay with their
        technician; `pinned` ones also keep their time. Orders and technicians
        left out come with the reason."""
        result = services.plan_day(
            read_uow(),
            current_actor(),
            data["date"],
            pinned=data["pinned"],
            time_limit_s=data["time_limit_s"],
        )
        return _present(result)


@blp.route("/day-plans/apply")
class ApplyDayPlan(MethodView):
    @requires(Permission.WORK_ORDERS_UPDATE)
    @blp.arguments(ApplyRequestSchema)
    @blp.response(200, WorkOrderSchema(many=True))
    def post(self, data: dict[str, Any]) -> Any:
        """Apply a plan in one call: assign and schedule each visit, all or nothing
        (send each order's `version` to refuse a plan made from stale data)."""
        return services.apply_plan(new_uow(), current_actor(), data["visits"])


def _present(result: services.DayPlan) -> dict[str, Any]:
    def at(seconds: int) -> Any:
        return result.day_start + timedelta(seconds=seconds)

    return {
        "date": result.day,
        "routes": [
            {
                "technician_id": technician,
                "visits": [
                    {
                        "work_order_id": visit.job_id,
                        "arrive_at": at(visit.arrive_s),
                        "scheduled_end": at(visit.arrive_s + result.durations[visit.job_id]),
                        "travel_s": visit.travel_s,
                    }
                    for visit in visits
                ],
            }
            for technician, visits in result.plan.routes.items()
        ],
        "unassigned": [
            {"id": job, "reason": "fits in no technician's day"} for job in result.plan.unassigned
        ]
        + [{"id": order, "reason": why} for order, why in result.left_out],
        "idle": [{"id": tech, "reason": why} for tech, why in result.idle],
        "travel_s": result.plan.travel_s,
        "greedy_travel_s": result.greedy_travel_s,
    }
