"""Asset use cases. Each owns one unit of work and audits what it changes.

An asset's ``customer_id`` is a copy of its site's, kept so customer-scoped
reads need no join; it is never written from input, only from the site.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from api.assets.codes import apply_code, checked_code
from api.assets.errors import AssetBarcodeTaken, AssetInUse
from api.assets.models import Asset, Symbology
from api.assets.queries import access_asset
from api.audit import services as audit
from api.audit.changes import Diff, apply_changes, snapshot
from api.auth.actor import Actor
from api.db import UnitOfWork
from api.db.checks import check_version, ensure_unused_id, pick
from api.errors.base import FieldProblem
from api.errors.common import ValidationFailed
from api.sites.queries import access_site
from api.workorders.models import WorkOrderAsset
from media.barcodes import ScannedCode

ASSET_FIELDS = frozenset(
    {
        "name",
        "name_en",
        "manufacturer",
        "model",
        "serial_number",
        "barcode_value",
        "barcode_symbology",
        "installed_on",
        "warranty_ends_on",
        "notes",
        "active",
    }
)
PLACE_FIELDS = frozenset({"site_id", "customer_id"})


def create_asset(uow: UnitOfWork, actor: Actor, data: Mapping[str, Any]) -> Asset:
    with uow:
        session = uow.session
        # Through the site accessor: another tenant's site is a 404 here too.
        site = access_site(session, actor, data["site_id"])
        asset_id = data.get("id") or None
        ensure_unused_id(session, Asset, asset_id)
        fields = pick(data, ASSET_FIELDS)
        code = _code(fields.get("barcode_value"), fields.get("barcode_symbology"))
        _check_barcode(session, actor, code.value if code else None)
        asset = Asset(tenant_id=actor.tenant_id, site_id=site.id, customer_id=site.customer_id)
        if asset_id:
            asset.id = asset_id
        apply_changes(asset, fields, ASSET_FIELDS)
        apply_code(asset, code)
        _check_symbology(asset)
        session.add(asset)
        session.flush()  # assigns defaults (active, id) before the audit snapshot
        audit.record(
            session,
            actor,
            "create",
            "asset",
            asset.id,
            snapshot(asset, ASSET_FIELDS | PLACE_FIELDS),
        )
        uow.commit()
        return asset


def update_asset(
    uow: UnitOfWork,
    actor: Actor,
    asset_id: uuid.UUID,
    expected_version: int,
    changes: Mapping[str, Any],
) -> Asset:
    """Change fields; a new ``site_id`` moves the asset, and its customer with the site's."""
    with uow:
        session = uow.session
        asset = access_asset(session, actor, asset_id)
        check_version(asset, expected_version)
        diff: Diff = {}
        if "site_id" in changes and changes["site_id"] != asset.site_id:
            site = access_site(session, actor, changes["site_id"])
            place = {"site_id": site.id, "customer_id": site.customer_id}
            diff |= apply_changes(asset, place, PLACE_FIELDS)
        fields = pick(changes, ASSET_FIELDS)
        code = None
        if {"barcode_value", "barcode_symbology"} & fields.keys():
            # Either half of the key changing re-checks the pair as it will be.
            code = _code(
                fields.get("barcode_value", asset.barcode_value),
                fields.get("barcode_symbology", asset.barcode_symbology),
            )
            if code is not None and code.value != asset.barcode_value:
                _check_barcode(session, actor, code.value)
        diff |= apply_changes(asset, fields, ASSET_FIELDS)
        if {"barcode_value", "barcode_symbology"} & fields.keys():
            apply_code(asset, code)
        _check_symbology(asset)
        audit.record(session, actor, "update", "asset", asset.id, diff)
        uow.commit()
        return asset


def delete_asset(uow: UnitOfWork, actor: Actor, asset_id: uuid.UUID, expected_version: int) -> None:
    with uow:
        session = uow.session
        asset = access_asset(session, actor, asset_id)
        check_version(asset, expected_version)
        if session.scalar(select(exists().where(WorkOrderAsset.asset_id == asset.id))):
            raise AssetInUse()
        audit.record(
            session,
            actor,
            "delete",
            "asset",
            asset.id,
            snapshot(asset, ["name", "site_id", "barcode_value"]),
        )
        session.delete(asset)
        uow.commit()


def _code(value: str | None, symbology: Symbology | None) -> ScannedCode | None:
    return checked_code(value, symbology) if value is not None else None


def _check_barcode(session: Session, actor: Actor, barcode_value: str | None) -> None:
    """Barcodes are unique per tenant: a scan must name exactly one asset."""
    if barcode_value is not None and session.scalar(
        select(
            exists().where(Asset.tenant_id == actor.tenant_id, Asset.barcode_value == barcode_value)
        )
    ):
        raise AssetBarcodeTaken()


def _check_symbology(asset: Asset) -> None:
    """A symbology describes a barcode; on its own it would mean nothing."""
    if asset.barcode_symbology is not None and asset.barcode_value is None:
        raise ValidationFailed(
            errors=[
                FieldProblem("barcode_value", "required", "Required when barcode_symbology is set.")
            ]
        )
