"""Barcode values as assets hold them: media.barcodes' checks, in the API's errors."""

from __future__ import annotations

from api.assets.errors import BarcodeCheckDigitInvalid, BarcodeGS1Invalid, BarcodeMalformed
from api.assets.models import Asset, Symbology
from api.errors.base import FieldlineError
from media.barcodes import InvalidBarcode, Reason, ScannedCode, validate_code

_ERRORS: dict[Reason, type[FieldlineError]] = {
    Reason.CHECK_DIGIT: BarcodeCheckDigitInvalid,
    Reason.MALFORMED: BarcodeMalformed,
    Reason.GS1: BarcodeGS1Invalid,
}


def checked_code(value: str, symbology: Symbology | None) -> ScannedCode:
    """The value in its stored form; 422 with a ``barcode.*`` code if it cannot be one."""
    try:
        return validate_code(value, Symbology(symbology).value if symbology else None)
    except InvalidBarcode as exc:
        raise _ERRORS[exc.reason](exc.message) from None


def apply_code(asset: Asset, code: ScannedCode | None) -> None:
    """Store the checked value and its GS1 fields (cleared when the barcode goes)."""
    gs1 = code.gs1 if code else None
    asset.barcode_value = code.value if code else None
    asset.gs1_gtin = gs1.gtin if gs1 else None
    asset.gs1_serial = gs1.serial if gs1 else None
    asset.gs1_lot = gs1.lot if gs1 else None
    asset.gs1_expires_on = gs1.expiry if gs1 else None
