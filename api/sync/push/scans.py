"""``scan_code`` (PROTOCOL.md § 8.8): a code scanned at a job, named or made provisional.

The order gives the place and the scope: the writer must reach the order, and an
unknown code becomes a provisional asset at the order's site with the device's
``id``, through the same :func:`api.assets.scans.identify` the online scan uses.
The asset is linked to the order (if it is the order's customer's), so it and its
history enter the device's scope with the order's next change.
A code that fails its symbology's check is ``sync.barcode_invalid``; a code
naming an asset the writer may not see, or a printed label of no asset of theirs
(another tenant's, a replaced one), is ``sync.not_in_scope``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.assets.errors import (
    AssetLabelUnknown,
    AssetNotFound,
    BarcodeCheckDigitInvalid,
    BarcodeGS1Invalid,
    BarcodeMalformed,
)
from api.assets.scans import identify
from api.errors.common import ValidationFailed
from api.sites.models import Site
from api.sync.push.access import order_for_update
from api.sync.push.orders import Done
from api.sync.push.writer import Writer
from api.workorders.models import WorkOrderAsset
from api.workorders.services import link_assets
from sync_protocol.errors import ProtocolError
from sync_protocol.hlc import HLC
from sync_protocol.merge import Outcome
from sync_protocol.mutations import ScanCode


def scan(session: Session, writer: Writer, args: ScanCode, sent: HLC) -> Done:
    order = order_for_update(session, writer, args.work_order_id, sent, "args.work_order_id")
    site = session.get_one(Site, order.site_id)
    try:
        found = identify(session, writer.actor, args.code, args.symbology, site, args.id)
    except (BarcodeCheckDigitInvalid, BarcodeMalformed, BarcodeGS1Invalid) as error:
        raise ProtocolError("sync.barcode_invalid", f"{error.code}: {error}", "args.code") from None
    except (AssetNotFound, AssetLabelUnknown):
        raise ProtocolError(
            "sync.not_in_scope", "No such asset in your scope", "args.code"
        ) from None
    except ValidationFailed:
        raise ProtocolError("sync.id_reused", "The id is taken", "args.id") from None
    asset = found.asset
    linked = session.scalar(
        select(WorkOrderAsset.asset_id).where(
            WorkOrderAsset.work_order_id == order.id, WorkOrderAsset.asset_id == asset.id
        )
    )
    if linked is None and asset.customer_id == order.customer_id:
        # The technician scanned the unit they work on: it joins the order, and so the
        # device's scope (the order's asset_ids, its asset and asset history rows).
        link_assets(session, order, [asset.id])
    return Done(Outcome.APPLIED, asset.id)
