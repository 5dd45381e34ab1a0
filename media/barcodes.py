"""Barcode values: what each symbology may carry, check digits, and GS1 element strings.

A scanner hands over text and (usually) the symbology it read. Before a value
names an asset it is checked here: EAN-13, EAN-8 and UPC-A end in a GS1 mod-10
check digit; Code 128 and Code 39 carry only their character sets; QR, Data
Matrix and PDF417 have error correction in the symbol, not in the text, so their
content is checked for length and stray control characters. A value that is a
GS1 element string (``]C1``/``]d2``/``]Q3`` symbology identifier, a leading FNC1
as ``GS``, or the human-readable ``(01)...(21)...`` form) is parsed with biip,
its GTIN check digit verified, and stored in the human-readable form, so the
same label scanned by two different readers names the same asset.

Pure functions: no I/O, no Flask. :class:`InvalidBarcode` carries a ``reason``
the API maps to a stable problem code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from biip import ParseError
from biip.gs1_messages import GS1Message

__all__ = [
    "GS1Fields",
    "InvalidBarcode",
    "Reason",
    "ScannedCode",
    "gs1_check_digit",
    "parse_gs1",
    "validate_code",
]

GS = "\x1d"  # ASCII group separator: FNC1 as scanners transmit it
# AIM symbology identifiers that announce GS1 data (GS1-128, GS1 DataMatrix, GS1 QR).
_GS1_IDENTIFIERS = ("]C1", "]d2", "]Q3", "]e0")
_GTIN_LENGTHS = {"ean_13": 13, "upc_a": 12, "ean_8": 8}
_CODE_39 = re.compile(r"[0-9A-Z \-.$/+%]+")
# Bytes the symbol can hold; our column holds 256 characters, so that is the real limit.
MAX_LENGTH = 256


class Reason(StrEnum):
    CHECK_DIGIT = "check_digit"  # a GTIN (EAN/UPC, or GS1 AI 01) whose last digit is wrong
    MALFORMED = "malformed"  # wrong length or a character the symbology cannot carry
    GS1 = "gs1"  # announced as GS1 but not a valid element string


class InvalidBarcode(ValueError):
    """The value cannot be a barcode of that symbology; ``reason`` says why."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class GS1Fields:
    """The element strings Fieldline keeps (others stay in the value itself)."""

    gtin: str | None = None  # AI 01
    serial: str | None = None  # AI 21
    lot: str | None = None  # AI 10
    expiry: date | None = None  # AI 17 (day 00 means the month's last day)


@dataclass(frozen=True)
class ScannedCode:
    """A checked value: ``value`` is the key to store and look up (GS1 in HRI form)."""

    value: str
    symbology: str | None
    gs1: GS1Fields | None = None


def gs1_check_digit(payload: str) -> int:
    """The GS1 mod-10 check digit for ``payload`` (all digits but the last).

    From the right, digits are weighted 3, 1, 3, 1, ...; the check digit brings
    the weighted sum up to a multiple of ten.
    """
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return (10 - total % 10) % 10


def validate_code(value: str, symbology: str | None) -> ScannedCode:
    """Check ``value`` against ``symbology`` (an ``api.assets`` Symbology value).

    Without a symbology only what every symbology shares is checked (length, no
    control characters), and a GS1 element string is still recognised.
    """
    if not value or len(value) > MAX_LENGTH:
        raise InvalidBarcode(Reason.MALFORMED, f"between 1 and {MAX_LENGTH} characters")
    if _is_gs1(value):
        if symbology not in {None, "code_128", "data_matrix", "qr"}:
            raise InvalidBarcode(Reason.GS1, f"{symbology} cannot carry GS1 element strings")
        fields, hri = _parse(value)
        return ScannedCode(hri, symbology, fields)
    if symbology in _GTIN_LENGTHS:
        _check_gtin(value, _GTIN_LENGTHS[symbology])
    elif symbology == "code_128":
        # Code 128 sets A-C cover ASCII 0-127; FNC4 reaches Latin-1, nothing beyond.
        if any(ord(c) > 0xFF for c in value):
            raise InvalidBarcode(Reason.MALFORMED, "Code 128 carries Latin-1 characters only")
    elif symbology == "code_39":
        if not _CODE_39.fullmatch(value):
            raise InvalidBarcode(Reason.MALFORMED, "Code 39 carries 0-9, A-Z, space and -.$/+%")
    elif any(ord(c) < 0x20 and c not in "\t\r\n" + GS for c in value):
        raise InvalidBarcode(Reason.MALFORMED, "control characters are not barcode content")
    return ScannedCode(value, symbology)


def parse_gs1(value: str) -> GS1Fields:
    """The AI 01/21/10/17 fields of a GS1 element string (any of the accepted forms)."""
    return _parse(value)[0]


def _is_gs1(value: str) -> bool:
    return value.startswith((*_GS1_IDENTIFIERS, GS)) or (
        value.startswith("(") and re.match(r"\(\d{2,4}\)", value) is not None
    )


def _parse(value: str) -> tuple[GS1Fields, str]:
    try:
        if value.startswith("("):
            message = GS1Message.parse_hri(value)
        else:
            raw = value[3:] if value.startswith(_GS1_IDENTIFIERS) else value
            message = GS1Message.parse(raw.lstrip(GS))
    except ParseError as exc:
        raise InvalidBarcode(Reason.GS1, str(exc)) from None
    found: dict[str, str | date | None] = {}
    for element in message.element_strings:
        if element.gtin_error:
            raise InvalidBarcode(Reason.CHECK_DIGIT, element.gtin_error)
        found.setdefault(element.ai.ai, element.date or element.value)
    expiry = found.get("17")
    return (
        GS1Fields(
            gtin=_text(found.get("01")),
            serial=_text(found.get("21")),
            lot=_text(found.get("10")),
            expiry=expiry if isinstance(expiry, date) else None,
        ),
        message.as_hri(),
    )


def _text(value: str | date | None) -> str | None:
    return value if isinstance(value, str) else None


def _check_gtin(value: str, length: int) -> None:
    if len(value) != length or not value.isascii() or not value.isdigit():
        raise InvalidBarcode(Reason.MALFORMED, f"exactly {length} digits")
    expected = gs1_check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise InvalidBarcode(Reason.CHECK_DIGIT, f"check digit should be {expected}")
