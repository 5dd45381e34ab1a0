"""QR labels for assets: one label as SVG or PNG, or a printable A4 sheet of them as PDF.

Each label's QR code holds a URL (the asset's public repair-request page); segno
draws it with error correction level M, enough for a scuffed sticker, and the
quiet zone the QR standard asks for. The sheet is laid out for common A4 label
stock: 3 columns by 8 rows of 70 x 37 mm, with the QR at the left and the asset's
name and code beside it. reportlab writes the PDF: its built-in ``STSong-Light``
CID font prints Chinese names without shipping a font file (every PDF reader
carries the Adobe CJK fonts it maps to), and the QR is drawn as vector squares,
so it prints sharp at any size.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

__all__ = ["Label", "SheetLayout", "label_png", "label_sheet_pdf", "label_svg"]

ERROR_CORRECTION = "m"
_FONT = "STSong-Light"
MAX_LABELS = 2400  # 100 A4 pages: past that, print in batches


@dataclass(frozen=True)
class Label:
    url: str  # what the QR code holds
    title: str  # the asset's name
    subtitle: str = ""  # its code or serial, small


@dataclass(frozen=True)
class SheetLayout:
    """A4 label stock, in millimetres (defaults: 3 x 8 labels of 70 x 37 mm, no gaps)."""

    columns: int = 3
    rows: int = 8
    width: float = 70.0
    height: float = 37.0
    top: float = 0.5
    left: float = 0.0

    @property
    def per_page(self) -> int:
        return self.columns * self.rows


def label_svg(url: str, *, scale: int = 4) -> bytes:
    """The QR code alone as SVG (``scale`` units per module, 4-module quiet zone)."""
    out = io.BytesIO()
    segno.make_qr(url, error=ERROR_CORRECTION).save(out, kind="svg", scale=scale, xmldecl=True)
    return out.getvalue()


def label_png(url: str, *, scale: int = 8) -> bytes:
    """The QR code alone as PNG (``scale`` pixels per module, 4-module quiet zone)."""
    out = io.BytesIO()
    segno.make_qr(url, error=ERROR_CORRECTION).save(out, kind="png", scale=scale)
    return out.getvalue()


def label_sheet_pdf(labels: Sequence[Label], layout: SheetLayout | None = None) -> bytes:
    """An A4 PDF with one label per ``layout`` cell, as many pages as needed."""
    if not labels or len(labels) > MAX_LABELS:
        raise ValueError(f"between 1 and {MAX_LABELS} labels")
    layout = layout or SheetLayout()
    _register_font()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    pdf.setTitle("Fieldline asset labels")
    pdf.setCreator("Fieldline")
    page_height = A4[1]
    for index, label in enumerate(labels):
        if index and index % layout.per_page == 0:
            pdf.showPage()
        cell = index % layout.per_page
        column, row = cell % layout.columns, cell // layout.columns
        x = (layout.left + column * layout.width) * mm
        top = page_height - (layout.top + row * layout.height) * mm
        _draw_label(pdf, label, x, top, layout)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def _draw_label(pdf: canvas.Canvas, label: Label, x: float, top: float, lay: SheetLayout) -> None:
    pad = 2.5 * mm
    side = lay.height * mm - 2 * pad  # the QR square, quiet zone included
    _draw_qr(pdf, label.url, x + pad, top - pad - side, side)
    text_x = x + pad + side + 1.5 * mm
    width = lay.width * mm - (text_x - x) - pad
    y = top - pad - 9
    for text, size, most in ((label.title, 9.0, 3), (label.subtitle, 6.5, 2)):
        font = _font_for(text)
        pdf.setFont(font, size)
        for line in _wrap(text, width, font, size)[:most]:
            pdf.drawString(text_x, y, line)
            y -= size + 2


def _draw_qr(pdf: canvas.Canvas, url: str, x: float, y: float, side: float) -> None:
    qr = segno.make_qr(url, error=ERROR_CORRECTION)
    matrix = [list(row) for row in qr.matrix_iter(scale=1, border=4)]
    module = side / len(matrix)
    pdf.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                # One rectangle per dark run: fewer path operations, no hairline seams.
                pdf.rect(x + start * module, y + side - (r + 1) * module,
                         (c - start) * module, module, stroke=0, fill=1)  # fmt: skip
            else:
                c += 1


def _font_for(text: str) -> str:
    """Helvetica where it has every glyph (it prints Latin text better); else the CJK font."""
    return "Helvetica" if all(ord(c) < 0x100 for c in text) else _FONT


def _wrap(text: str, width: float, font: str, size: float) -> list[str]:
    """Greedy wrap by glyph width; CJK text has no spaces, so any character may break."""
    lines: list[str] = []
    current = ""
    for char in text:
        if pdfmetrics.stringWidth(current + char, font, size) > width and current:
            lines.append(current)
            current = char.lstrip()
        else:
            current += char
    if current:
        lines.append(current)
    return lines


def _register_font() -> None:
    if _FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(_FONT))
