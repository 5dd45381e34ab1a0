"""A JPEG's structure checked as its bytes arrive, without decoding its pixels.

A JPEG is a row of marker segments and, after each start-of-scan (SOS) segment, the
scan's entropy-coded data, ended by the end-of-image marker (EOI). :class:`JpegCheck`
walks all of it in one pass over bytes fed in pieces of any size, the way libjpeg reads
it (the same markers end a scan, the same ones are fatal, the same padding between
segments is skipped), and refuses:

- a file that ends before its EOI (truncated), or has no frame or no scan before it;
- a marker libjpeg stops on: a second start-of-image or start-of-frame, a reserved or
  extension marker, a segment whose length field is impossible;
- a table or scan header libjpeg would refuse: a Huffman table that overflows its code
  lengths, a table index past the last, a scan naming a component its frame lacks or a
  table never defined, an impossible progression;
- a frame over the pixel limits (from its header, before any pixel is decoded).

What it does not do is decode the entropy-coded data, which is where a JPEG's decode
spends its time (Huffman decoding every block: 0.17 s for 50 MB of photo here, against
about 0.01 s for this walk). libjpeg treats errors inside that data as warnings (it
fills what it cannot decode and goes on), so a full decode refuses nothing there that
this walk lets through: the case that matters is a truncated file, refused here by its
missing EOI. ``tests/unit/media/test_jpeg_check.py`` checks it by property: every
corruption of a set of JPEGs that a full decode refuses, the walk refuses too.

The frame and the first scan are read by libjpeg itself as well
(:meth:`JpegCheck._run_probe`): the header's tables and the first 16 KiB of the first
scan, without the metadata segments and with the frame cut to its first rows, are
decoded through Pillow, so what libjpeg refuses in a header (an unsupported frame type,
a malformed table, a scan it cannot start) is refused here too, for about a millisecond.

Memory: the segment being read (at most 64 KiB, a segment's largest), and until the
probe ran, its tables (about 2 KiB, at most :data:`MAX_PROBE_HEADER`) and 16 KiB.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import numpy as np
from PIL import Image

from media.refusals import CorruptImage, MediaRefused, TooManyPixels

# Marker codes (the byte after 0xFF).
_SOI, _EOI, _SOS, _DHT, _DQT = 0xD8, 0xD9, 0xDA, 0xC4, 0xDB
_DRI, _DAC, _DNL, _COM, _APP0, _APP14 = 0xDD, 0xCC, 0xDC, 0xFE, 0xE0, 0xEE
# Start-of-frame codes: C0-CF but for DHT (C4), JPG (C8) and DAC (CC).
_SOF = frozenset(range(0xC0, 0xD0)) - {_DHT, 0xC8, _DAC}
_PROGRESSIVE = frozenset({0xC2, 0xC6, 0xCA, 0xCE})
_ARITHMETIC = frozenset({0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
# Codes after 0xFF that neither end a scan nor count between segments: a stuffed data
# byte (00), the restart markers (D0-D7, where libjpeg resynchronises) and TEM (01).
_PASSING = frozenset({0x00, 0x01, *range(0xD0, 0xD8)})
# Segments read (checked, and kept for the probe); other APPn, COM and DNL are skipped.
_READ = frozenset({*_SOF, _DHT, _DQT, _DRI, _DAC, _SOS, _APP0, _APP14})
_SKIPPED = frozenset({*range(0xE0, 0xF0), _COM, _DNL}) - _READ
# For a sequential frame libjpeg fills in the standard Huffman tables 0 and 1 of each
# class when a file lacks them (Motion JPEG frames do); a progressive frame gets none.
_STANDARD_TABLES = {(0, 0): True, (0, 1): True, (1, 0): True, (1, 1): True}

PROBE_SCAN_BYTES = 16 * 1024  # of the first scan's entropy-coded data, read by libjpeg
# The tables and headers kept for the probe: an encoder writes about 2 KiB of them; past
# this a file is refused rather than held (an upload's walk may wait hours for its rest).
MAX_PROBE_HEADER = 64 * 1024
# Of APP0 (JFIF) and APP14 (Adobe) libjpeg reads this much; the rest (a thumbnail) is not kept.
_APP_READ_BYTES = 14
_VECTOR_FROM = 4096  # shorter pieces are searched with bytes.find (numpy's calls cost more)
_VECTOR_SPAN = 256 * 1024  # searched at a time: a span of 0xFF makes an index array 8x its size
# Marker segments in one file: a photo has about 20 (a progressive one up to about 40);
# each costs Python work, so a file made of millions of empty ones is refused instead.
MAX_SEGMENTS = 4096
_NOT_FF = re.compile(rb"[^\xff]")
_HUFFMAN_TABLES = 4  # per class (libjpeg's NUM_HUFF_TBLS)
_ARITHMETIC_TABLES = 16  # per class (NUM_ARITH_TBLS)
_QUANTISATION_TABLES = 4
_MAX_BLOCKS_IN_MCU = 10

# States of the walk: looking for a marker, reading a length, reading or skipping a segment.
_MARKER, _LENGTH, _SEGMENT, _SKIP, _DONE = range(5)


class JpegCheck:
    """The walk of :mod:`media.jpeg_check` over one JPEG's bytes, fed in order.

    :meth:`update` never raises (a refusal is kept and later bytes are ignored), so a
    receive can feed every piece and ask once, at the end, with :meth:`result`."""

    def __init__(self, max_pixels: int, max_side: int) -> None:
        self.max_pixels = max_pixels
        self.max_side = max_side
        self._state = _MARKER
        self._refusal: MediaRefused | None = None
        self._head = b""  # the first two bytes, while they arrive (SOI)
        self._in_scan = False  # the search runs through entropy-coded data
        self._ff_pending = False  # the last piece ended in 0xFF whose code is still to come
        self._marker = 0
        self._length = b""  # the length field, while its two bytes arrive
        self._remaining = 0  # of the segment being read or skipped
        self._segment = bytearray()
        self._frame: _Frame | None = None
        self._huffman: dict[tuple[int, int], bool] = {}  # (class, index) -> fit where used
        self._scans = 0
        self._segments = 0
        self._probe: _Probe | None = _Probe()  # None once libjpeg has read it

    def update(self, data: bytes) -> None:
        if self._state == _DONE or self._refusal is not None or not data:
            return
        try:
            at = self._start(data)
            while at < len(data) and self._state != _DONE:
                at = self._step(data, at)
        except MediaRefused as refusal:
            self._refusal = refusal

    def result(self) -> tuple[int, int]:
        """Every byte was fed: the image's width and height, or the refusal."""
        if self._refusal is not None:
            raise self._refusal
        if self._state != _DONE or self._frame is None:
            raise CorruptImage("the image is truncated: it ends before its end-of-image marker")
        return self._frame.width, self._frame.height

    # -- the walk ---------------------------------------------------------------------------

    def _start(self, data: bytes) -> int:
        """Take the SOI the file starts with; the index in ``data`` after it."""
        if len(self._head) == 2:
            return 0
        needed = 2 - len(self._head)
        self._head += data[:needed]
        if len(self._head) == 2 and self._head != b"\xff\xd8":
            raise CorruptImage("the bytes do not start as a JPEG")
        return min(needed, len(data))

    def _step(self, data: bytes, at: int) -> int:
        if self._state == _MARKER:
            return self._search(data, at)
        if self._state == _LENGTH:
            needed = 2 - len(self._length)
            self._length += data[at : at + needed]
            if len(self._length) == 2:
                self._begin_segment(int.from_bytes(self._length, "big"))
            return at + needed
        end = min(len(data), at + self._remaining)
        if self._state == _SEGMENT:
            self._segment += data[at:end]
        self._remaining -= end - at
        if self._remaining == 0:
            self._end_segment() if self._state == _SEGMENT else self._expect_marker()
        return end

    def _search(self, data: bytes, at: int) -> int:
        """Look for the next marker from ``at``, through entropy-coded data or the bytes
        libjpeg skips between segments; the index after its code, or the piece's end."""
        begin = at
        if self._ff_pending:
            at = _past_ff(data, at)
            if at == len(data):
                return at
            self._ff_pending = False
            if data[at] not in _PASSING:
                return self._found(data[at], at)
            at += 1
        code_at = _next_marker(data, at)
        end = len(data) if code_at is None else code_at
        if self._in_scan and self._probe is not None and self._probe.take_scan(data, begin, end):
            self._run_probe()
        if code_at is None:
            self._ff_pending = data[-1] == 0xFF
            return len(data)
        return self._found(data[code_at], code_at)

    def _found(self, marker: int, code_at: int) -> int:
        if self._in_scan:
            self._in_scan = False
            if self._probe is not None:
                self._run_probe()
        self._marker = marker
        self._segments += 1
        if self._segments > MAX_SEGMENTS:
            raise CorruptImage("the image has more segments than any encoder writes")
        if marker == _EOI:
            if self._frame is None or self._scans == 0:
                raise CorruptImage("the image ends before it has a frame and a scan")
            self._state = _DONE
        elif marker == _SOI:
            raise CorruptImage("the image has a second start-of-image marker")
        elif marker in _READ or marker in _SKIPPED:
            self._length = b""
            self._state = _LENGTH
        else:
            raise CorruptImage(f"the image has a marker no decoder reads (0xFF{marker:02X})")
        return code_at + 1

    def _expect_marker(self) -> None:
        self._state = _MARKER

    def _begin_segment(self, length: int) -> None:
        if length < 2:
            raise CorruptImage("the image has a segment with an impossible length")
        self._remaining = length - 2
        self._segment = bytearray()
        self._state = _SKIP if self._marker in _SKIPPED else _SEGMENT
        if self._remaining == 0:
            self._end_segment() if self._state == _SEGMENT else self._expect_marker()

    def _end_segment(self) -> None:
        marker, payload = self._marker, bytes(self._segment)
        self._segment = bytearray()
        self._state = _MARKER
        if self._probe is not None:
            self._probe.take_segment(marker, payload)
        if marker in _SOF:
            self._read_frame(marker, payload)
        elif marker == _DHT:
            self._huffman.update(_huffman_tables(payload))
        elif marker == _DQT:
            _check_quantisation(payload)
        elif marker == _DRI and len(payload) != 2:
            raise CorruptImage("the image has a restart interval of the wrong length")
        elif marker == _DAC:
            _check_arithmetic(payload)
        elif marker == _SOS:
            if self._frame is None:
                raise CorruptImage("the image has a scan before its frame")
            self._frame.check_scan(payload, self._huffman)
            self._scans += 1
            self._in_scan = True

    def _read_frame(self, marker: int, payload: bytes) -> None:
        if self._frame is not None:
            raise CorruptImage("the image has a second start-of-frame marker")
        frame = _Frame.parse(marker, payload)
        width, height = frame.width, frame.height
        if width > self.max_side or height > self.max_side or width * height > self.max_pixels:
            raise TooManyPixels(f"the image is {width}×{height} pixels, over the limit")
        self._frame = frame

    def _run_probe(self) -> None:
        """libjpeg (through Pillow) reads the header and the first scan's start: what it
        refuses there, a full decode would have refused."""
        probe, self._probe = self._probe, None
        assert probe is not None and self._frame is not None
        try:
            with Image.open(io.BytesIO(probe.jpeg(self._frame)), formats=["JPEG"]) as image:
                image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()
        except Exception as exc:  # Pillow raises many types for broken input
            raise CorruptImage("the image's header or first scan is corrupt") from exc


class _Probe:
    """What libjpeg is given to read: the segments it reads, up to the first scan, and
    the first :data:`PROBE_SCAN_BYTES` of that scan."""

    def __init__(self) -> None:
        self._data = bytearray(b"\xff\xd8")
        self._frame_at = -1  # where the frame's height is in ``_data``
        self._scan_bytes = 0

    def take_segment(self, marker: int, payload: bytes) -> None:
        if marker in (_APP0, _APP14):
            payload = payload[:_APP_READ_BYTES]
        if len(self._data) + len(payload) > MAX_PROBE_HEADER:
            raise CorruptImage("the image's header holds more tables than any encoder writes")
        if marker in _SOF:
            self._frame_at = len(self._data) + 5
        self._data += bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload

    def take_scan(self, data: bytes, start: int, end: int) -> bool:
        """Keep ``data[start:end]`` of the first scan; True once the probe has enough."""
        taken = min(end - start, PROBE_SCAN_BYTES - self._scan_bytes)
        self._data += data[start : start + taken]
        self._scan_bytes += taken
        return self._scan_bytes >= PROBE_SCAN_BYTES

    def jpeg(self, frame: _Frame) -> bytes:
        """The probe as a JPEG: ended by an EOI, its frame cut to its first rows of blocks
        (libjpeg decodes those and stops instead of filling the rest of a large image)."""
        rows = min(frame.height, 8 * frame.max_vertical).to_bytes(2, "big")
        at = self._frame_at
        return bytes(self._data[:at] + rows + self._data[at + 2 :]).rstrip(b"\xff") + b"\xff\xd9"


@dataclass(frozen=True)
class _Frame:
    """A start-of-frame segment: the coding, the size and the components."""

    marker: int
    height: int
    width: int
    sampling: dict[int, tuple[int, int]]  # component id -> (horizontal, vertical)

    @classmethod
    def parse(cls, marker: int, payload: bytes) -> _Frame:
        if len(payload) < 6 or payload[5] == 0 or len(payload) != 6 + 3 * payload[5]:
            raise CorruptImage("the image's frame header has the wrong length")
        height, width = int.from_bytes(payload[1:3], "big"), int.from_bytes(payload[3:5], "big")
        if width == 0 or height == 0:
            raise CorruptImage("the image's frame has no width or no height")
        sampling = {
            payload[at]: (payload[at + 1] >> 4, payload[at + 1] & 0x0F)
            for at in range(6, len(payload), 3)
        }
        return cls(marker, height, width, sampling)

    @property
    def max_vertical(self) -> int:
        return max(1, *(vertical for _, vertical in self.sampling.values()))

    def check_scan(self, payload: bytes, huffman: dict[tuple[int, int], bool]) -> None:
        """A start-of-scan header, as libjpeg checks it before decoding the scan."""
        count = payload[0] if payload else 0
        if not 1 <= count <= 4 or len(payload) != 4 + 2 * count:
            raise CorruptImage("the image has a scan header of the wrong length")
        members = [(payload[1 + 2 * i], payload[2 + 2 * i]) for i in range(count)]
        if len({component for component, _ in members}) != count or any(
            component not in self.sampling for component, _ in members
        ):
            raise CorruptImage("the image has a scan of a component its frame lacks")
        if count > 1 and sum(h * v for h, v in (self.sampling[c] for c, _ in members)) > (
            _MAX_BLOCKS_IN_MCU
        ):
            raise CorruptImage("the image has a scan with too many blocks in a unit")
        start, end, approximation = payload[-3], payload[-2], payload[-1]
        high, low = approximation >> 4, approximation & 0x0F
        progressive = self.marker in _PROGRESSIVE
        if progressive:
            bad = (end != 0) if start == 0 else (start > end or end > 63 or count != 1)
            if bad or (high != 0 and low != high - 1) or low > 13:
                raise CorruptImage("the image has a scan with an impossible progression")
        uses_dc = not progressive or (start == 0 and high == 0)
        uses_ac = not progressive or start != 0
        for _, tables in members:
            used = [(0, tables >> 4)] if uses_dc else []
            used += [(1, tables & 0x0F)] if uses_ac else []
            if self.marker in _ARITHMETIC:
                if any(index >= _ARITHMETIC_TABLES for _, index in used):
                    raise CorruptImage("the image has a scan naming a table past the last")
            elif any(self._huffman_table(huffman, table) is not True for table in used):
                raise CorruptImage("the image has a scan naming a Huffman table it lacks")

    def _huffman_table(
        self, huffman: dict[tuple[int, int], bool], table: tuple[int, int]
    ) -> bool | None:
        if table in huffman or self.marker in _PROGRESSIVE:
            return huffman.get(table)
        return _STANDARD_TABLES.get(table)


def _next_marker(data: bytes, at: int) -> int | None:
    """Where the code of the next marker that counts is (the byte after a run of 0xFF
    that is not a stuffed byte, a restart or TEM), from ``at``; None if the piece holds
    none (its last byte may be a 0xFF whose code is in the next piece)."""
    if len(data) - at < _VECTOR_FROM:
        while (ff := data.find(b"\xff", at)) >= 0:
            code_at = _past_ff(data, ff + 1)
            if code_at == len(data):
                return None
            if data[code_at] not in _PASSING:
                return code_at
            at = code_at + 1
        return None
    array = np.frombuffer(data, dtype=np.uint8)
    for start in range(at, len(data) - 1, _VECTOR_SPAN):
        span = array[start : start + _VECTOR_SPAN + 1]  # one byte more: the last 0xFF's code
        ffs = np.flatnonzero(span[:-1] == 0xFF)
        codes = span[ffs + 1]
        ends = ffs[(codes != 0xFF) & (codes > 0x01) & ((codes & 0xF8) != 0xD0)]
        if ends.size:
            return start + int(ends[0]) + 1
    return None


def _past_ff(data: bytes, at: int) -> int:
    """The index of the first byte from ``at`` that is not 0xFF (or the piece's end)."""
    found = _NOT_FF.search(data, at)
    return len(data) if found is None else found.start()


def _huffman_tables(payload: bytes) -> dict[tuple[int, int], bool]:
    """The tables a DHT segment defines, as libjpeg reads them: (class, index) -> whether
    it may serve where it is used (an AC table always, a DC one if its symbols are at
    most 15: libjpeg checks that when a scan uses it); a table libjpeg refuses raises."""
    tables: dict[tuple[int, int], bool] = {}
    at = 0
    while len(payload) - at > 16:
        kind, index = payload[at] >> 4, payload[at] & 0x0F
        counts = payload[at + 1 : at + 17]
        total = sum(counts)
        if total > 256 or total > len(payload) - at - 17:
            raise CorruptImage("the image has a Huffman table longer than its segment")
        if kind > 1 or index >= _HUFFMAN_TABLES:
            raise CorruptImage("the image has a Huffman table past the last")
        code, last = 0, max(length for length in range(16) if counts[length]) if total else -1
        for length in range(last + 1):
            code += counts[length]
            if code >= 1 << (length + 1):
                raise CorruptImage("the image has a Huffman table with too many codes")
            code <<= 1
        symbols = payload[at + 17 : at + 17 + total]
        tables[(kind, index)] = kind == 1 or all(symbol <= 15 for symbol in symbols)
        at += 17 + total
    if at != len(payload):
        raise CorruptImage("the image has a Huffman table segment of the wrong length")
    return tables


def _check_quantisation(payload: bytes) -> None:
    """A DQT segment, as libjpeg reads it (a short last table is filled out, not refused)."""
    remaining, at = len(payload), 0
    while remaining > 0:
        precision, index = payload[at] >> 4, payload[at] & 0x0F
        remaining -= 1
        if index >= _QUANTISATION_TABLES:
            raise CorruptImage("the image has a quantisation table past the last")
        width = 2 if precision else 1
        count = min(64, remaining // width)
        remaining -= count * width
        at = len(payload) - remaining
    if remaining != 0:
        raise CorruptImage("the image has a quantisation table segment of the wrong length")


def _check_arithmetic(payload: bytes) -> None:
    """A DAC segment, as libjpeg reads it."""
    if len(payload) % 2:
        raise CorruptImage("the image has an arithmetic-coding segment of the wrong length")
    for at in range(0, len(payload), 2):
        index, value = payload[at], payload[at + 1]
        if index >= 2 * _ARITHMETIC_TABLES:
            raise CorruptImage("the image has an arithmetic-coding table past the last")
        if index < _ARITHMETIC_TABLES and (value & 0x0F) > (value >> 4):
            raise CorruptImage("the image has an impossible arithmetic-coding condition")
