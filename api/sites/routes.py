"""``/v1/sites``: thin views over the site services."""

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
from api.http.pagination import page_schema
from api.sites import queries, services
from api.sites.schemas import SiteCreateSchema, SiteListArgs, SiteSchema, SiteUpdateSchema

blp = Blueprint(
    "sites", __name__, url_prefix="/v1", description="Customer sites (where work happens)"
)


@blp.route("/sites")
class Sites(MethodView):
    @requires(Permission.SITES_READ)
    @blp.arguments(SiteListArgs, location="query")
    @blp.response(200, page_schema(SiteSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """List sites, oldest first. Customer contacts see their customer's sites;
        technicians the sites of their assigned work orders."""
        with read_uow() as uow:
            return queries.list_sites(uow.session, current_actor(), **args)

    @requires(Permission.SITES_WRITE)
    @idempotent
    @blp.arguments(SiteCreateSchema)
    @blp.response(201, SiteSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a site for a customer."""
        site = services.create_site(new_uow(), current_actor(), data)
        return site, etag_header(site.version)


@blp.route("/sites/<uuid:site_id>")
class SiteById(MethodView):
    @requires(Permission.SITES_READ)
    @blp.response(200, SiteSchema)
    def get(self, site_id: uuid.UUID) -> Any:
        """Read a site."""
        with read_uow() as uow:
            site = queries.access_site(uow.session, current_actor(), site_id)
        return site, etag_header(site.version)

    @requires(Permission.SITES_WRITE)
    @if_match
    @blp.arguments(SiteUpdateSchema)
    @blp.response(200, SiteSchema)
    def patch(self, changes: dict[str, Any], site_id: uuid.UUID, version: int) -> Any:
        """Change some fields of a site. Needs `If-Match`. `position: null` clears it."""
        site = services.update_site(new_uow(), current_actor(), site_id, version, changes)
        return site, etag_header(site.version)

    @requires(Permission.SITES_WRITE)
    @if_match
    @blp.response(204)
    def delete(self, site_id: uuid.UUID, version: int) -> None:
        """Delete a site that has no assets or work orders. Needs `If-Match`."""
        services.delete_site(new_uow(), current_actor(), site_id, version)
