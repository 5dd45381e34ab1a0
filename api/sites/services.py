"""Site use cases. Each owns one unit of work and audits what it changes.

The API speaks of a site's ``position`` (``{"lat", "lon"}`` or null); the table
keeps two columns. The mapping lives here so both halves always change together.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, select

from api.assets.models import Asset
from api.audit import services as audit
from api.audit.changes import apply_changes, snapshot
from api.auth.actor import Actor
from api.customers.queries import access_customer
from api.db import UnitOfWork
from api.db.checks import check_version, ensure_unused_id, pick
from api.sites.errors import SiteInUse
from api.sites.models import Site
from api.sites.queries import access_site
from api.workorders.models import WorkOrder

SITE_FIELDS = frozenset(
    {
        "name",
        "name_en",
        "address",
        "address_en",
        "city",
        "lat",
        "lon",
        "access_notes",
        "timezone",
        "active",
    }
)


def create_site(uow: UnitOfWork, actor: Actor, data: Mapping[str, Any]) -> Site:
    with uow:
        session = uow.session
        # Through the customer accessor: another tenant's customer is a 404 here too.
        customer = access_customer(session, actor, data["customer_id"])
        site_id = data.get("id") or None
        ensure_unused_id(session, Site, site_id)
        site = Site(tenant_id=actor.tenant_id, customer_id=customer.id)
        if site_id:
            site.id = site_id
        apply_changes(site, _columns(data), SITE_FIELDS)
        session.add(site)
        session.flush()  # assigns defaults (timezone, id) before the audit snapshot
        audit.record(
            session, actor, "create", "site", site.id, snapshot(site, SITE_FIELDS | {"customer_id"})
        )
        uow.commit()
        return site


def update_site(
    uow: UnitOfWork,
    actor: Actor,
    site_id: uuid.UUID,
    expected_version: int,
    changes: Mapping[str, Any],
) -> Site:
    with uow:
        session = uow.session
        site = access_site(session, actor, site_id)
        check_version(site, expected_version)
        diff = apply_changes(site, _columns(changes), SITE_FIELDS)
        audit.record(session, actor, "update", "site", site.id, diff)
        uow.commit()
        return site


def delete_site(uow: UnitOfWork, actor: Actor, site_id: uuid.UUID, expected_version: int) -> None:
    with uow:
        session = uow.session
        site = access_site(session, actor, site_id)
        check_version(site, expected_version)
        in_use = session.scalar(
            select(
                exists().where(Asset.site_id == site.id)
                | exists().where(WorkOrder.site_id == site.id)
            )
        )
        if in_use:
            raise SiteInUse()
        audit.record(
            session, actor, "delete", "site", site.id, snapshot(site, ["name", "customer_id"])
        )
        session.delete(site)
        uow.commit()


def _columns(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validated input as column values: ``position`` becomes ``lat``/``lon`` (null clears both)."""
    columns = pick(data, SITE_FIELDS - {"lat", "lon"})
    if "position" in data:
        position = data["position"]
        columns["lat"] = position["lat"] if position else None
        columns["lon"] = position["lon"] if position else None
    return columns
