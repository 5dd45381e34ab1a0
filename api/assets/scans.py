"""Scanning a code: which asset it names, or a provisional one for the office to settle.

A scan is checked like any barcode (:mod:`api.assets.codes`), so a misread
check digit is refused before it can create anything. The checked value is
looked up in the actor's tenant only: another tenant's asset with the same code
is invisible, and the scan behaves as for an unknown code. An unknown code with
a place (a site, or a work order whose site it is) becomes a *provisional*
asset there; the office later confirms it (:func:`confirm_asset`) or merges it
into the asset it really is (:func:`merge_asset`), which moves every reference.
The online endpoint and the ``scan_code`` sync mutation share :func:`identify`.

A printed label's QR code (``<public_url>/r/<label_token>``, :mod:`api.assets.labels`)
names its asset by the token: scanning it finds the asset of the actor's tenant that
carries it, and a label of no such asset (another tenant's, a replaced one) is
``asset.label_unknown``. A label never becomes a provisional asset, so its token is
never stored, synced or shown as a barcode.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import scoping
from api.assets.codes import apply_code, checked_code
from api.assets.errors import (
    AssetLabelUnknown,
    AssetNotFound,
    AssetNotProvisional,
    MergeIntoItself,
)
from api.assets.labels import token_in
from api.assets.models import Asset, Symbology
from api.assets.queries import access_asset
from api.assets.report import ScanReport, scan_report
from api.audit import services as audit
from api.audit.changes import snapshot
from api.auth.actor import Actor
from api.db import UnitOfWork
from api.db.checks import check_version, ensure_unused_id
from api.errors.base import FieldlineError
from api.evidence.errors import from_media
from api.evidence.models import PartUsed, Photo, Reading
from api.sites.models import Site
from api.sites.queries import access_site
from api.tenants.models import Tenant
from api.workorders.models import WorkOrderAsset
from media.decode import decode_codes
from media.validate import MediaRefused

PROVISIONAL_NAME = "待确认设备"
PROVISIONAL_NAME_EN = "Unconfirmed asset"


@dataclass(frozen=True)
class Identified:
    asset: Asset
    created: bool  # a provisional asset was made for an unknown code


def identify(
    session: Session,
    actor: Actor,
    code: str,
    symbology: Symbology | None,
    site: Site | None,
    new_id: uuid.UUID | None = None,
) -> Identified:
    """The asset the code names in the actor's tenant; else a provisional one at ``site``.

    Without a site an unknown code is ``asset.not_found``. A code that names an
    asset of this tenant the actor may not see is ``asset.not_found`` too: a
    second asset with the same code would make the code ambiguous.
    """
    labelled = _labelled(session, actor, code)
    if labelled is not None:
        return Identified(labelled, created=False)
    scanned = checked_code(code, symbology)
    asset = session.scalars(
        select(Asset).where(
            Asset.tenant_id == actor.tenant_id, Asset.barcode_value == scanned.value
        )
    ).one_or_none()
    if asset is not None:
        _check_visible(session, actor, asset)
        return Identified(asset, created=False)
    if site is None:
        raise AssetNotFound()
    ensure_unused_id(session, Asset, new_id)
    asset = Asset(
        tenant_id=actor.tenant_id,
        site_id=site.id,
        customer_id=site.customer_id,
        name=PROVISIONAL_NAME,
        name_en=PROVISIONAL_NAME_EN,
        barcode_symbology=symbology,
        provisional=True,
    )
    if new_id is not None:
        asset.id = new_id
    apply_code(asset, scanned)
    session.add(asset)
    session.flush()  # the audit entry names its id
    audit.record(
        session,
        actor,
        "create",
        "asset",
        asset.id,
        snapshot(asset, ["site_id", "barcode_value", "barcode_symbology", "provisional"]),
    )
    return Identified(asset, created=True)


def _labelled(session: Session, actor: Actor, code: str) -> Asset | None:
    """The asset whose label ``code`` is, or None if ``code`` is no label's URL; a label
    of no asset the actor may see is ``asset.label_unknown``."""
    token = token_in(code)
    if token is None:
        return None
    asset = session.scalars(
        select(Asset).where(
            Asset.tenant_id == actor.tenant_id, Asset.label_token == token, scoping.assets(actor)
        )
    ).one_or_none()
    if asset is None:
        raise AssetLabelUnknown()
    return asset


def _check_visible(session: Session, actor: Actor, asset: Asset) -> None:
    """``asset.not_found`` for an asset of the tenant the actor may not see."""
    if actor.is_office:
        return
    visible = select(Asset.id).where(Asset.id == asset.id, scoping.assets(actor))
    if session.scalar(visible) is None:
        raise AssetNotFound()


def scan(
    reader: UnitOfWork,
    writer: Callable[[], UnitOfWork],
    actor: Actor,
    code: str,
    symbology: Symbology | None,
    site_id: uuid.UUID | None,
    new_id: uuid.UUID | None = None,
) -> ScanReport:
    """Online scan: the asset with its site, warranty, history and open orders.

    A known code (nearly every scan) is answered from ``reader``, which takes no write
    lock; only an unknown code with a place opens ``writer`` for the provisional asset.
    """
    with reader:
        session = reader.session
        labelled = _labelled(session, actor, code)
        if labelled is not None:
            return scan_report(session, actor, labelled, created=False)
        scanned = checked_code(code, symbology)
        # The asset with its site and the tenant's time zone in one round trip: the
        # report needs all three, and a scan is mostly this one read.
        known = session.execute(
            select(Asset, Site, Tenant.timezone)
            .join(Site, Site.id == Asset.site_id)
            .join(Tenant, Tenant.id == Asset.tenant_id)
            .where(Asset.tenant_id == actor.tenant_id, Asset.barcode_value == scanned.value)
        ).one_or_none()
        if known is not None:
            asset, site, zone = known
            _check_visible(session, actor, asset)
            return scan_report(session, actor, asset, created=False, place=(site, zone))
        if site_id is None:
            raise AssetNotFound()
    uow = writer()
    with uow:
        session = uow.session
        site = access_site(session, actor, site_id) if site_id is not None else None
        found = identify(session, actor, code, symbology, site, new_id)
        report = scan_report(session, actor, found.asset, created=found.created)
        if found.created:
            uow.commit()
        return report


def confirm_asset(
    uow: UnitOfWork, actor: Actor, asset_id: uuid.UUID, expected_version: int | None
) -> Asset:
    """The office accepts a provisional asset as a real one (it may rename it first)."""
    with uow:
        asset = access_asset(uow.session, actor, asset_id)
        if expected_version is not None:
            check_version(asset, expected_version)
        if not asset.provisional:
            raise AssetNotProvisional()
        asset.provisional = False
        change = {"provisional": {"before": True, "after": False}}
        audit.record(uow.session, actor, "update", "asset", asset.id, change)
        uow.commit()
        return asset


def merge_asset(
    uow: UnitOfWork,
    actor: Actor,
    asset_id: uuid.UUID,
    expected_version: int | None,
    into_id: uuid.UUID,
) -> Asset:
    """Fold a provisional asset into ``into_id``: its order links and evidence move there,
    the target takes the scanned code if it has none, and the provisional asset goes."""
    with uow:
        session = uow.session
        source = access_asset(session, actor, asset_id)
        if expected_version is not None:
            check_version(source, expected_version)
        if not source.provisional:
            raise AssetNotProvisional()
        target = access_asset(session, actor, into_id)
        if target.id == source.id:
            raise MergeIntoItself()
        moved = _move_references(session, source, target)
        code = (source.barcode_value, source.barcode_symbology)
        gs1 = (source.gs1_gtin, source.gs1_serial, source.gs1_lot, source.gs1_expires_on)
        audit.record(
            session,
            actor,
            "merge",
            "asset",
            source.id,
            {"merged_into": {"after": str(target.id)}, "references_moved": {"after": moved}},
        )
        session.delete(source)
        session.flush()  # the code is free only once the provisional row is gone
        if target.barcode_value is None and code[0] is not None:
            target.barcode_value, target.barcode_symbology = code
            target.gs1_gtin, target.gs1_serial, target.gs1_lot, target.gs1_expires_on = gs1
            change = {"barcode_value": {"before": None, "after": code[0]}}
            audit.record(session, actor, "update", "asset", target.id, change)
        uow.commit()
        return target


def _move_references(session: Session, source: Asset, target: Asset) -> int:
    """Re-point order links and evidence from ``source`` to ``target``; how many moved."""
    moved = 0
    links = session.scalars(select(WorkOrderAsset).where(WorkOrderAsset.asset_id == source.id))
    already = set(
        session.scalars(
            select(WorkOrderAsset.work_order_id).where(WorkOrderAsset.asset_id == target.id)
        )
    )
    for link in links.all():
        # Through the ORM, so sync capture sees each order's asset_ids change.
        session.delete(link)
        if link.work_order_id not in already:
            session.add(
                WorkOrderAsset(
                    tenant_id=link.tenant_id, work_order_id=link.work_order_id, asset_id=target.id
                )
            )
        moved += 1
    session.flush()
    for model in (PartUsed, Reading, Photo):
        column = model.__table__.c.asset_id
        for item in session.scalars(select(model).where(column == source.id)):
            # Evidence stays append-only in content; only which asset it names moves.
            item.asset_id = target.id  # type: ignore[attr-defined]
            moved += 1
    return moved


@dataclass(frozen=True)
class PhotoCode:
    """One code read in a photo: its stored form if it passed its checks, and its asset."""

    code: str
    symbology: Symbology | None
    format: str
    problem: str | None  # the barcode.* code it failed with, if any
    asset: Asset | None


def codes_in_photo(uow: UnitOfWork, actor: Actor, photo: bytes) -> list[PhotoCode]:
    """Every code in the photo and the asset (of the caller's tenant, visible to them) it
    names. Read-only: an unknown code is reported, never made into a provisional asset."""
    try:
        decoded = decode_codes(photo)
    except MediaRefused as refusal:
        raise from_media(refusal) from None
    found: list[PhotoCode] = []
    with uow:
        session = uow.session
        for item in decoded:
            symbology = Symbology(item.symbology) if item.symbology else None
            try:
                labelled = _labelled(session, actor, item.text)
                if labelled is not None:
                    found.append(PhotoCode(item.text, symbology, item.format, None, labelled))
                    continue
                scanned = checked_code(item.text, symbology)
            except FieldlineError as error:
                found.append(PhotoCode(item.text, symbology, item.format, error.code, None))
                continue
            asset = session.scalars(
                select(Asset).where(
                    Asset.tenant_id == actor.tenant_id,
                    Asset.barcode_value == scanned.value,
                    scoping.assets(actor),
                )
            ).one_or_none()
            found.append(PhotoCode(scanned.value, symbology, item.format, None, asset))
    return found
