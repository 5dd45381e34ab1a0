"""Signature strokes as drawn on a device: read, bounded, and refused when degenerate.

The wire form is ``{"width": W, "height": H, "strokes": [[[x, y, t, p], ...], ...]}``:
a canvas in CSS pixels, and per stroke its points with ``x``/``y`` on the canvas,
``t`` milliseconds since the capture began (never decreasing within a stroke) and
``p`` the pen pressure in [0, 1] (devices without pressure send 0.5). Every number
must be finite. A drawing is refused when it is empty, too large (more than
:data:`MAX_STROKES` strokes or :data:`MAX_POINTS` points in all, so a hostile or
buggy client cannot make the server render millions of points) or degenerate: a
dot or a short tick is not a signature, so the ink must be at least
:data:`MIN_INK` pixels long and span at least :data:`MIN_EXTENT` pixels.

:func:`read_drawing` raises :class:`StrokeError` with a stable ``code`` and a
field path relative to the drawing (``strokes[3][2]``); callers map it to their
own error type (problem+json online, a rejected receipt in sync).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass

MAX_STROKES = 200
MAX_POINTS = 10_000
MAX_CANVAS = 4096
MAX_T_MS = 10 * 60 * 1000  # ten minutes of signing is more than anyone needs
MIN_INK = 20.0
MIN_EXTENT = 10.0


class StrokeError(ValueError):
    """Why a drawing is refused: ``code`` is one of ``empty``, ``too_many_strokes``,
    ``too_many_points``, ``invalid_point``, ``invalid_canvas``, ``degenerate``."""

    def __init__(self, code: str, message: str, field: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    t: float
    pressure: float


@dataclass(frozen=True)
class Drawing:
    """A validated signature drawing; :meth:`to_json` is its canonical wire form."""

    width: int
    height: int
    strokes: tuple[tuple[Point, ...], ...]

    @property
    def point_count(self) -> int:
        return sum(len(stroke) for stroke in self.strokes)

    def to_json(self) -> dict[str, object]:
        return {
            "width": self.width,
            "height": self.height,
            "strokes": [[[p.x, p.y, p.t, p.pressure] for p in stroke] for stroke in self.strokes],
        }

    def sha256(self) -> str:
        """The signature's hash: SHA-256 of its JSON with sorted keys and no spaces."""
        text = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(text.encode("ascii")).hexdigest()


def read_drawing(raw: object) -> Drawing:
    """A :class:`Drawing` from decoded JSON, or :class:`StrokeError` (see the module docstring)."""
    if type(raw) is not dict:
        raise StrokeError("invalid_canvas", "Expected an object with width, height, strokes", "")
    unknown = sorted(str(key) for key in raw if key not in {"width", "height", "strokes"})
    if unknown:
        raise StrokeError("invalid_canvas", f"Unknown member {unknown[0]!r}", unknown[0])
    width = _canvas_side(raw.get("width"), "width")
    height = _canvas_side(raw.get("height"), "height")
    strokes_raw = raw.get("strokes")
    if type(strokes_raw) is not list or not strokes_raw:
        raise StrokeError("empty", "Draw at least one stroke", "strokes")
    if len(strokes_raw) > MAX_STROKES:
        raise StrokeError("too_many_strokes", f"At most {MAX_STROKES} strokes", "strokes")
    total = sum(len(s) if type(s) is list else 0 for s in strokes_raw)
    if total > MAX_POINTS:
        # Counted before any point is read: millions of points cost one len() each stroke.
        raise StrokeError("too_many_points", f"At most {MAX_POINTS} points in all", "strokes")
    strokes = tuple(
        _stroke(stroke, f"strokes[{i}]", width, height) for i, stroke in enumerate(strokes_raw)
    )
    drawing = Drawing(width, height, strokes)
    _check_not_degenerate(drawing)
    return drawing


def ink_length(drawing: Drawing) -> float:
    """The total length of the strokes' polylines, in canvas pixels."""
    length = 0.0
    for stroke in drawing.strokes:
        for a, b in itertools.pairwise(stroke):
            length += math.hypot(b.x - a.x, b.y - a.y)
    return length


def _canvas_side(value: object, field: str) -> int:
    if type(value) is not int or not 1 <= value <= MAX_CANVAS:
        raise StrokeError("invalid_canvas", f"An integer from 1 to {MAX_CANVAS}", field)
    return value


def _stroke(raw: object, path: str, width: int, height: int) -> tuple[Point, ...]:
    if type(raw) is not list or not raw:
        raise StrokeError("empty", "A stroke needs at least one point", path)
    points: list[Point] = []
    for j, item in enumerate(raw):
        point = _point(item, f"{path}[{j}]", width, height)
        if points and point.t < points[-1].t:
            raise StrokeError("invalid_point", "Times may not go backwards", f"{path}[{j}]")
        points.append(point)
    return tuple(points)


def _point(raw: object, path: str, width: int, height: int) -> Point:
    if type(raw) is not list or len(raw) != 4:
        raise StrokeError("invalid_point", "Expected [x, y, t, pressure]", path)
    numbers: list[float] = []
    for value in raw:
        # bool is an int to Python but not a number to anyone drawing a signature.
        if type(value) not in (int, float) or not math.isfinite(value):
            raise StrokeError("invalid_point", "Coordinates must be finite numbers", path)
        numbers.append(float(value))
    x, y, t, pressure = numbers
    if not (0 <= x <= width and 0 <= y <= height):
        raise StrokeError("invalid_point", "The point is outside the canvas", path)
    if not 0 <= t <= MAX_T_MS:
        raise StrokeError("invalid_point", f"t must be 0 to {MAX_T_MS} ms", path)
    if not 0 <= pressure <= 1:
        raise StrokeError("invalid_point", "Pressure must be 0 to 1", path)
    return Point(x, y, t, pressure)


def _check_not_degenerate(drawing: Drawing) -> None:
    xs = [p.x for stroke in drawing.strokes for p in stroke]
    ys = [p.y for stroke in drawing.strokes for p in stroke]
    extent = max(max(xs) - min(xs), max(ys) - min(ys))
    if extent < MIN_EXTENT or ink_length(drawing) < MIN_INK:
        raise StrokeError(
            "degenerate",
            f"Too small to be a signature (at least {MIN_INK:g} px of ink spanning "
            f"{MIN_EXTENT:g} px)",
            "strokes",
        )
