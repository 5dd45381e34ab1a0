"""A JPEG decoded while its bytes arrive (media.draft) judges it as validating the whole
file does: the same size, or the same refusal; and it never outlives its upload."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from media import draft
from media.draft import DraftDecode
from media.validate import MediaRefused, validate_image


def _jpeg(size: tuple[int, int] = (640, 480), **save: object) -> bytes:
    pixels = random.Random(1).randbytes(3 * size[0] * size[1])
    out = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(out, "JPEG", **save)
    return out.getvalue()


def _mpo() -> bytes:
    """Two frames (a phone's depth or stereo pair): Pillow seeks between them."""
    first, second = Image.new("RGB", (320, 240), "red"), Image.new("RGB", (320, 240), "blue")
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second])
    return out.getvalue()


GOOD = _jpeg()
CORRUPT = bytearray(GOOD)
CORRUPT[len(GOOD) // 2 : len(GOOD) // 2 + 4000] = b"\xff\xc0" * 2000  # markers amid the data

CASES = {
    "baseline": GOOD,
    "progressive": _jpeg(progressive=True),
    "multi-picture": _mpo(),
    "trailing bytes after the image": GOOD + b"\x00" * 5000,
    "truncated": GOOD[: len(GOOD) * 2 // 3],
    "entropy-coded data overwritten": bytes(CORRUPT),
    "over the side limit": _jpeg((20_001, 8)),
    "a JPEG's magic bytes and nothing else": b"\xff\xd8\xff\xe0" + bytes(3000),
}


def _judged_from_the_file(data: bytes) -> tuple[str, object]:
    try:
        info = validate_image(data)
    except MediaRefused as refusal:
        return ("refused", refusal.code)
    return ("accepted", (info.width, info.height))


def _judged_as_it_arrives(data: bytes, pieces: list[int]) -> tuple[str, object]:
    decode = DraftDecode.start("test")
    assert decode is not None
    at = 0
    for size in pieces:
        decode.feed(data[at : at + size])
        at += size
    decode.feed(data[at:])
    outcome = decode.finish()
    assert outcome is not None
    assert not decode.alive
    try:
        return ("accepted", outcome.result())
    except MediaRefused as refusal:
        return ("refused", refusal.code)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("pieces", ["one piece", "1-byte header pieces", "odd pieces"])
def test_decoding_as_the_bytes_arrive_judges_as_decoding_the_file(case: str, pieces: str) -> None:
    data = CASES[case]
    sizes = {
        "one piece": [],
        "1-byte header pieces": [1] * 700,
        "odd pieces": [3, 997, 65_537, 7] * 4,
    }[pieces]

    assert _judged_as_it_arrives(data, sizes) == _judged_from_the_file(data)


def test_a_closed_decode_ends_its_thread_and_gives_no_answer() -> None:
    decode = DraftDecode.start("test")
    assert decode is not None
    decode.feed(GOOD[:5000])  # the decoder now waits for more

    decode.close()

    decode._thread.join(timeout=30)
    assert not decode.alive
    assert decode.finish() is None


def test_an_idle_decode_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """A client that never sends the rest (or sends it to another worker) does not keep
    a thread waiting for good: the upload is then decoded from its file."""
    monkeypatch.setattr(draft, "IDLE_SECONDS", 0.05)
    decode = DraftDecode.start("test")
    assert decode is not None
    decode.feed(GOOD[:5000])

    decode._thread.join(timeout=30)

    assert not decode.alive
    assert decode.finish() is None


def test_a_header_too_large_to_keep_gives_no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(draft, "MAX_HEADER_BYTES", 1000)
    comment = b"\xff\xfe" + (2 + 60_000).to_bytes(2, "big") + b"c" * 60_000  # a COM segment
    data = GOOD[:2] + comment + GOOD[2:]
    assert validate_image(data).width == 640  # a fine JPEG, decoded from the file instead
    decode = DraftDecode.start("test")
    assert decode is not None

    decode.feed(data)

    assert decode.finish() is None


def test_no_more_decoders_than_slots_run_at_once() -> None:
    started = [DraftDecode.start("test") for _ in range(draft.MAX_DECODERS + 1)]
    try:
        assert started[-1] is None
        assert len([decode for decode in started if decode is not None]) <= draft.MAX_DECODERS
        assert started[0] is not None
    finally:
        for decode in started:
            if decode is not None:
                decode.close()
    for decode in started:
        if decode is not None:
            decode._thread.join(timeout=30)
    again = DraftDecode.start("test")  # the slots came back
    assert again is not None
    again.close()


def test_feeding_waits_for_the_decoder_instead_of_holding_every_byte(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(draft, "BUFFER_BYTES", 64 * 1024)
    data = _jpeg((1600, 1200), quality=100)
    decode = DraftDecode.start("test")
    assert decode is not None
    held: list[int] = []
    source = decode._source

    for at in range(0, len(data), 16 * 1024):
        decode.feed(data[at : at + 16 * 1024])
        with source.cond:
            held.append(sum(len(chunk) for _, chunk in source._chunks))

    assert decode.finish() is not None
    assert max(held) < len(data) // 2
