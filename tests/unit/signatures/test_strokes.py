"""The stroke validator: what a device drew is accepted exactly when it is a bounded,
finite, non-degenerate drawing on its canvas, and it re-reads to itself."""

from __future__ import annotations

import io
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from signatures.render import render_png, render_svg
from signatures.strokes import MAX_POINTS, MAX_STROKES, StrokeError, read_drawing

FAST = settings(max_examples=60, deadline=None)
W, H = 400, 200


@st.composite
def strokes(draw: st.DrawFn, *, min_points: int = 1) -> list[list[float]]:
    size = draw(st.integers(min_points, 30))
    xs = draw(st.lists(st.floats(0, W), min_size=size, max_size=size))
    ys = draw(st.lists(st.floats(0, H), min_size=size, max_size=size))
    ts = sorted(draw(st.lists(st.integers(0, 60_000), min_size=size, max_size=size)))
    ps = draw(st.lists(st.floats(0, 1), min_size=size, max_size=size))
    return [[x, y, t, p] for x, y, t, p in zip(xs, ys, ts, ps, strict=True)]


def _signature_like(extra: list[list[list[float]]]) -> dict[str, Any]:
    """A real signature's worth of ink plus whatever else was drawn."""
    base = [[10, 10, 0, 0.5], [200, 150, 10, 0.5]]
    return {"width": W, "height": H, "strokes": [base, *extra]}


@FAST
@given(st.lists(strokes(), max_size=8))
def test_valid_drawings_are_accepted_and_read_back_to_themselves(
    extra: list[list[list[float]]],
) -> None:
    drawing = read_drawing(_signature_like(extra))
    assert read_drawing(drawing.to_json()) == drawing
    assert read_drawing(drawing.to_json()).sha256() == drawing.sha256()
    assert drawing.point_count == 2 + sum(len(s) for s in extra)


@FAST
@given(
    st.lists(strokes(), min_size=1, max_size=5),
    st.data(),
    st.sampled_from([math.nan, math.inf, -math.inf]),
)
def test_a_single_nan_or_infinity_anywhere_is_refused(
    extra: list[list[list[float]]], data: st.DataObject, bad: float
) -> None:
    i = data.draw(st.integers(0, len(extra) - 1))
    j = data.draw(st.integers(0, len(extra[i]) - 1))
    k = data.draw(st.integers(0, 3))
    extra[i][j][k] = bad
    with pytest.raises(StrokeError) as refused:
        read_drawing(_signature_like(extra))
    assert (refused.value.code, refused.value.field) == ("invalid_point", f"strokes[{i + 1}][{j}]")


@FAST
@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=30,
    )
)
def test_arbitrary_json_is_refused_with_a_stroke_error_or_accepted(junk: Any) -> None:
    for value in (junk, {"width": W, "height": H, "strokes": junk}):
        try:
            read_drawing(value)
        except StrokeError as refused:
            assert refused.code in {
                "empty",
                "too_many_strokes",
                "too_many_points",
                "invalid_point",
                "invalid_canvas",
                "degenerate",
            }


@FAST
@given(st.floats(0, W), st.floats(0, H), st.integers(1, 20))
def test_a_dot_or_a_tiny_tick_is_not_a_signature(x: float, y: float, count: int) -> None:
    jitter = [[min(W, x + (i % 2) * 0.5), y, i, 0.5] for i in range(count)]
    with pytest.raises(StrokeError) as refused:
        read_drawing({"width": W, "height": H, "strokes": [jitter]})
    assert refused.value.code == "degenerate"


def test_millions_of_points_are_refused_before_they_are_read() -> None:
    point = [1, 1, 0, 0.5]
    million = {"width": W, "height": H, "strokes": [[point] * 1_000_000]}
    with pytest.raises(StrokeError) as refused:
        read_drawing(million)
    assert refused.value.code == "too_many_points"
    just_over = {"width": W, "height": H, "strokes": [[point] * 5_000, [point] * 5_001]}
    with pytest.raises(StrokeError):
        read_drawing(just_over)
    many = {"width": W, "height": H, "strokes": [[point]] * (MAX_STROKES + 1)}
    with pytest.raises(StrokeError) as refused:
        read_drawing(many)
    assert refused.value.code == "too_many_strokes"
    assert MAX_POINTS == 10_000


@pytest.mark.parametrize(
    ("drawing", "code", "field"),
    [
        ({"width": 0, "height": 10, "strokes": [[[0, 0, 0, 0]]]}, "invalid_canvas", "width"),
        ({"width": 10, "height": True, "strokes": []}, "invalid_canvas", "height"),
        ({"width": 10, "height": 10, "strokes": [[]]}, "empty", "strokes[0]"),
        (
            {"width": 10, "height": 10, "strokes": [[[1, 1, 5, 0], [2, 2, 4, 0]]]},
            "invalid_point",
            "strokes[0][1]",
        ),
        (
            {"width": 10, "height": 10, "strokes": [[[1, 1, 0, 1.5]]]},
            "invalid_point",
            "strokes[0][0]",
        ),
        ({"width": 10, "height": 10, "strokes": [[[1, 1, 0]]]}, "invalid_point", "strokes[0][0]"),
        (
            {"width": 10, "height": 10, "strokes": [[[1, True, 0, 0]]]},
            "invalid_point",
            "strokes[0][0]",
        ),
        (
            {"width": 10, "height": 10, "strokes": [[[1, 1, 0, 0]]], "ink": 1},
            "invalid_canvas",
            "ink",
        ),
    ],
)
def test_bad_drawings_name_the_reason_and_the_place(
    drawing: dict[str, Any], code: str, field: str
) -> None:
    with pytest.raises(StrokeError) as refused:
        read_drawing(drawing)
    assert (refused.value.code, refused.value.field) == (code, field)


@FAST
@given(st.lists(strokes(), max_size=5))
def test_renderings_draw_every_stroke_at_the_canvas_shape(extra: list[list[list[float]]]) -> None:
    drawing = read_drawing(_signature_like(extra))
    assert render_svg(drawing).count("<path") == len(drawing.strokes)
    image = Image.open(io.BytesIO(render_png(drawing, max_width=200)))
    assert image.size == (200, 100)
    assert image.getextrema() != ((255, 255), (255, 255), (255, 255))  # some ink
