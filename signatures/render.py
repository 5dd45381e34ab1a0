"""A validated drawing drawn again: SVG for the web, PNG for the PDF report.

Both scale the device's canvas and vary the line width with the pen pressure
(a light touch draws thinner), so the image looks like what the customer saw
under their finger. Rendering is pure: same drawing, same bytes.
"""

from __future__ import annotations

import io
import itertools

from PIL import Image, ImageDraw

from signatures.strokes import Drawing, Point

INK = (20, 30, 90)
BASE_WIDTH = 2.5  # at pressure 0.5, in canvas pixels


def render_svg(drawing: Drawing) -> str:
    """An SVG document with one path per stroke (a dot is a short round-capped segment)."""
    paths = []
    for stroke in drawing.strokes:
        width = _width(sum(p.pressure for p in stroke) / len(stroke))
        points = stroke if len(stroke) > 1 else (stroke[0], stroke[0])
        d = "M" + " L".join(f"{_num(p.x)} {_num(p.y)}" for p in points)
        paths.append(f'<path d="{d}" stroke-width="{_num(width)}"/>')
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {drawing.width} {drawing.height}" '
        f'width="{drawing.width}" height="{drawing.height}">'
        '<g fill="none" stroke="#141e5a" stroke-linecap="round" stroke-linejoin="round">'
        + "".join(paths)
        + "</g></svg>"
    )


def render_png(drawing: Drawing, *, max_width: int = 600) -> bytes:
    """A PNG on white, at most ``max_width`` pixels wide (aspect kept)."""
    scale = min(1.0, max_width / drawing.width)
    size = (max(1, round(drawing.width * scale)), max(1, round(drawing.height * scale)))
    image = Image.new("RGB", size, "white")
    pen = ImageDraw.Draw(image)
    for stroke in drawing.strokes:
        if len(stroke) == 1:
            _dot(pen, stroke[0], scale)
            continue
        for a, b in itertools.pairwise(stroke):
            width = max(1, round(_width((a.pressure + b.pressure) / 2) * scale))
            pen.line([(a.x * scale, a.y * scale), (b.x * scale, b.y * scale)], INK, width)
            _dot(pen, b, scale)  # round joins
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _dot(pen: ImageDraw.ImageDraw, p: Point, scale: float) -> None:
    r = max(0.5, _width(p.pressure) * scale / 2)
    x, y = p.x * scale, p.y * scale
    pen.ellipse([x - r, y - r, x + r, y + r], fill=INK)


def _width(pressure: float) -> float:
    return BASE_WIDTH * (0.4 + 1.2 * pressure)


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")
