"""Reading barcodes and QR codes in a photo, for devices that cannot scan (zxing-cpp).

The photo is checked like every image first (:mod:`media.validate`: type by magic
bytes, a full decode, pixel limits, polyglots), then scaled down to at most
``MAX_SIDE`` pixels on its longer side (codes in a phone photo stay readable, and
a 12-megapixel frame would cost several times longer), and every code zxing-cpp
finds is reported with its symbology in Fieldline's names (``None`` for one
Fieldline does not register, e.g. Aztec).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import zxingcpp
from PIL import Image, ImageOps

from media.validate import validate_image

__all__ = ["DecodedCode", "decode_codes"]

MAX_SIDE = 2400
MAX_CODES = 20

_SYMBOLOGIES: dict[str, str] = {
    "QRCode": "qr",
    "MicroQRCode": "qr",
    "DataMatrix": "data_matrix",
    "Code128": "code_128",
    "Code39": "code_39",
    "Code39Std": "code_39",
    "EAN13": "ean_13",
    "EAN8": "ean_8",
    "UPCA": "upc_a",
    "PDF417": "pdf_417",
    "CompactPDF417": "pdf_417",
}


@dataclass(frozen=True)
class DecodedCode:
    text: str
    symbology: str | None  # Fieldline's name, or None for a kind it does not register
    format: str  # zxing-cpp's name of the format, e.g. "EAN13"


def decode_codes(data: bytes) -> list[DecodedCode]:
    """The codes in the photo, in zxing-cpp's reading order (at most ``MAX_CODES``)."""
    validate_image(data)
    with Image.open(io.BytesIO(data)) as opened:
        opened.draft("L", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a reduced scale
        image = ImageOps.exif_transpose(opened).convert("L")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    found: list[DecodedCode] = []
    for result in zxingcpp.read_barcodes(image)[:MAX_CODES]:
        name = result.format.name
        found.append(DecodedCode(result.text, _SYMBOLOGIES.get(name), name))
    return found
