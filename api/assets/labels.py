"""QR labels: the public URL each asset's label carries, and sheets of labels to print.

A label's QR code opens ``<public_url>/r/<label_token>``, the asset's public
repair-request page. The token is random (192 bits) and unique across tenants,
so it names one asset without revealing its id, and guessing one is hopeless.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import scoping
from api.assets.errors import AssetNotFound
from api.assets.models import LABEL_TOKEN, Asset, new_label_token
from api.assets.queries import access_asset
from api.audit import services as audit
from api.auth.actor import Actor
from api.db import UnitOfWork
from media.labels import Label, label_sheet_pdf

# The path a label's URL ends with (any host: a label printed under an earlier public
# URL is still ours); the token as new_label_token makes it.
_LABEL_PATH = re.compile(rf"/r/({LABEL_TOKEN.pattern})/?$")


def repair_url(public_url: str, asset: Asset) -> str:
    return f"{public_url.rstrip('/')}/r/{asset.label_token}"


def token_in(code: str) -> str | None:
    """The label token if ``code`` is a label's URL (what scanning a printed label
    reads), else None."""
    if len(code) > 2048 or not code.lower().startswith(("http://", "https://")):
        return None
    try:
        path = urlsplit(code.strip()).path
    except ValueError:
        return None
    found = _LABEL_PATH.search(path)
    return found.group(1) if found else None


def label_url(session: Session, actor: Actor, asset_id: uuid.UUID, public_url: str) -> str:
    """The URL the asset's label holds; 404 for an asset the actor may not see."""
    return repair_url(public_url, access_asset(session, actor, asset_id))


def label_sheet(
    session: Session, actor: Actor, asset_ids: Sequence[uuid.UUID], public_url: str
) -> bytes:
    """A PDF of the assets' labels in the order given; any asset not visible is a 404."""
    wanted = list(dict.fromkeys(asset_ids))
    found = {
        asset.id: asset
        for asset in session.scalars(
            select(Asset).where(
                Asset.id.in_(wanted), Asset.tenant_id == actor.tenant_id, scoping.assets(actor)
            )
        )
    }
    if len(found) != len(wanted):
        raise AssetNotFound()
    return label_sheet_pdf([_label(found[i], public_url) for i in wanted])


def _label(asset: Asset, public_url: str) -> Label:
    code = asset.serial_number or asset.barcode_value or ""
    return Label(repair_url(public_url, asset), asset.name, code)


def replace_label(uow: UnitOfWork, actor: Actor, asset_id: uuid.UUID, public_url: str) -> str:
    """A new token for the asset's label (a lost, copied or abused one stops working at
    once: its repair link is 404 from now on); the new label's URL."""
    with uow:
        asset = access_asset(uow.session, actor, asset_id)
        asset.label_token = new_label_token()
        # The token itself never goes into the audit log: it is a credential.
        audit.record(uow.session, actor, "update", "asset", asset.id, {"label_token": {}})
        uow.commit()
        return repair_url(public_url, asset)
