"""``/v1/service-desk/kpis``: the service desk's KPIs for a period (a thin view)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.auth.permissions import Permission
from api.http.blueprint import Blueprint
from api.http.context import read_uow
from api.http.guard import current_actor, requires
from api.servicedesk import kpi_services
from api.servicedesk.kpi_schemas import KpiArgs, KpiSchema

blp = Blueprint(
    "service_desk_kpis",
    __name__,
    url_prefix="/v1",
    description="Service desk KPIs: first-contact resolution, response and resolution times, "
    "escalation rate, SLA attainment, CSAT",
)


@blp.route("/service-desk/kpis")
class Kpis(MethodView):
    @requires(Permission.SERVICE_DESK_READ)
    @blp.arguments(KpiArgs, location="query")
    @blp.response(200, KpiSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """KPIs over the orders created in `[from, to)` (default: the last 30 days), of a
        team, a category (and below) and priorities if given. Cancelled orders are only
        counted. Times are median and 90th percentile (nearest rank) in seconds, wall clock
        and business time (the SLA calendar). A period that ends before it starts or spans
        more than 366 days is 422 (`errors[].field` `to`)."""
        return kpi_services.kpis(read_uow(), current_actor(), args)
