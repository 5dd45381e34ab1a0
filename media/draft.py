"""A JPEG's validating decode, run while its bytes arrive (a tus upload's appends).

:func:`media.validate.decode_jpeg_stream` (the 1/8-scale draft decode that reads every
entropy-coded block) runs on a thread of its own, reading the upload's bytes from an
:class:`_Arriving` file that blocks until they are fed in. Pillow releases the GIL while
it decodes, so the decode runs on another core beside the receive, and the last byte
only waits for the decode of what arrived last instead of decoding the whole file.

One :class:`DraftDecode` follows one upload across its appends in one process (the
running state of :mod:`media.tus` carries it). It gives an answer only if it was fed
every byte from the first, in order, and finished; in every other case
(:meth:`DraftDecode.close`, a decoder idle for :data:`IDLE_SECONDS`, a header too large
to keep, no free decoder slot) it gives ``None`` and the image is decoded from the
staged file at the end, as before. Nothing else depends on it: the refusal it reports is
the one :func:`media.validate.validate_image` would raise from the file.

Memory: the decoder keeps the bytes fed but not decoded yet, at most
:data:`BUFFER_BYTES` (feeding more waits for the decoder, so a receive never runs ahead
of it by more), plus, until the decode starts, the header it parsed.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from typing import BinaryIO, cast

from PIL import Image, ImageFile

from media.validate import Decoded, decode_jpeg_stream

JPEG_MAGIC = b"\xff\xd8\xff"
# Bytes fed but not decoded yet that one decoder holds before a feed waits for it.
BUFFER_BYTES = 2 * 1024 * 1024
# A decoder left without bytes this long gives up (an upload whose client went away, or
# whose next append reached another worker); the upload is then decoded from its file.
IDLE_SECONDS = 120.0
# A feed waits this long at most for a decoder that does not take bytes; it then gives
# up the decoder rather than hold the request.
STALL_SECONDS = 30.0
# The header (everything before the entropy-coded data) is kept to seek back to; past
# this it is no photo's header, and the decoder gives up.
MAX_HEADER_BYTES = 4 * 1024 * 1024
# Decoder threads one process runs at once; an upload that finds none free is decoded
# from its file at the end.
MAX_DECODERS = 8
# Pillow reads the entropy-coded data this much at a time (its default is 64 KiB). It
# decodes each read without the GIL, but takes the GIL back after each one, and while the
# receiving thread runs Python (the markup scan) that can take up to the interpreter's
# switch interval (5 ms): with 64 KiB reads the decode ran at a fraction of its speed
# until the receive paused. 1 MiB reads measured best (fed 1 MiB at a time alongside the
# hash and the scan: 64 KiB 0.36 s, 1 MiB 0.24 s, 4 MiB 0.41 s for 50 MB).
DECODE_READ_BYTES = 1024 * 1024

_slots = threading.BoundedSemaphore(MAX_DECODERS)


class _GaveUp(Exception):
    """The decoder stopped without an answer (closed, idle, or a header too large)."""


class _Arriving:
    """The upload's bytes as a file for Pillow: ``read`` blocks until the bytes are fed or
    the end is announced. Until :meth:`stream` it keeps every byte (Pillow parses the
    header, then seeks back to the start to decode); after it, only bytes not read yet."""

    def __init__(self) -> None:
        self._chunks: deque[tuple[int, bytes]] = deque()  # (offset, bytes), in order
        self._position = 0  # the next byte to read
        self._fed = 0  # bytes fed so far
        self._ended = False  # no byte will be fed after ``_fed``
        self._stopped = False  # the decoder gave up, or was told to stop
        self._keep = True  # keep bytes behind ``_position`` (before :meth:`stream`)
        self._wanted = 0  # how many bytes the decoder waits for, while it waits
        self.cond = threading.Condition()

    # -- the feeding side (a request thread) -------------------------------------------

    def feed(self, chunk: bytes) -> bool:
        """Add the next bytes; False if the decoder no longer takes any."""
        with self.cond:
            while not self._stopped and self._fed - self._position > BUFFER_BYTES:
                if self._fed - self._position < self._wanted:
                    break  # the decoder waits for more than is here: never both wait
                if not self.cond.wait(STALL_SECONDS):
                    self._stop()
            if self._stopped:
                return False
            self._chunks.append((self._fed, chunk))
            self._fed += len(chunk)
            self.cond.notify_all()
            return True

    def end(self) -> None:
        with self.cond:
            self._ended = True
            self.cond.notify_all()

    def stop(self) -> None:
        with self.cond:
            self._stop()

    def _stop(self) -> None:
        self._stopped = True
        self._chunks.clear()
        self.cond.notify_all()

    @property
    def stopped(self) -> bool:
        return self._stopped

    # -- the reading side (the decoder thread) -----------------------------------------

    def stream(self) -> None:
        """From now on, bytes already read are let go (the decode reads straight on)."""
        with self.cond:
            self._keep = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET, /) -> int:
        with self.cond:
            if whence == os.SEEK_CUR:
                offset += self._position
            elif whence != os.SEEK_SET:  # the end is not known while bytes arrive
                self._stop()
            lowest = self._chunks[0][0] if self._chunks else self._position
            if self._stopped or offset < lowest:
                self._stop()
                raise _GaveUp("the decoder cannot seek there")
            self._position = offset
            return offset

    def read(self, size: int | None = -1, /) -> bytes:
        """``size`` bytes (fewer only at the end), blocking until they arrived; once
        streaming, what arrived of them (at least one byte before the end), and no more
        than the rest of one fed chunk, so a whole chunk is handed on without a copy:
        Pillow's decode loop takes short reads as they come."""
        with self.cond:
            if size is None or size < 0:  # "all of it" would keep every byte: not here
                self._stop()
                size = 0
            wanted = size if self._keep else min(size, 1)
            while not self._stopped and not self._ended and self._fed - self._position < wanted:
                self._wanted = wanted
                self.cond.notify_all()  # a feed waiting for room may go on
                self._wait()
            self._wanted = 0
            if self._stopped:
                raise _GaveUp("the decoder was stopped")
            data = self._take(min(size, max(0, self._fed - self._position)))
            if self._keep and self._position > MAX_HEADER_BYTES:
                self._stop()
                raise _GaveUp("the header is too large to keep")
            self.cond.notify_all()  # a feed may be waiting for room
            return data

    def _wait(self) -> None:
        if not self.cond.wait(IDLE_SECONDS):
            self._stop()

    def _take(self, size: int) -> bytes:
        """``size`` bytes from ``_position`` (fed already; once streaming, no further than
        the end of the chunk it is in), letting go of what is read."""
        pieces: list[bytes] = []
        at, end = self._position, self._position + size
        for start, chunk in self._chunks:
            if start + len(chunk) <= at:
                continue
            if start >= end:
                break
            if not self._keep:
                end = min(end, start + len(chunk))
            low, high = max(at, start) - start, min(end, start + len(chunk)) - start
            pieces.append(chunk if (low, high) == (0, len(chunk)) else chunk[low:high])
        self._position = end
        if not self._keep:
            while self._chunks and self._chunks[0][0] + len(self._chunks[0][1]) <= end:
                self._chunks.popleft()
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)


class DraftDecode:
    """The validating decode of one upload's JPEG, fed as its bytes arrive."""

    def __init__(self, name: str) -> None:
        self._source = _Arriving()
        self._outcome: Decoded | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @classmethod
    def start(cls, name: str) -> DraftDecode | None:
        """A running decoder, or None when this process runs :data:`MAX_DECODERS` already."""
        if not _slots.acquire(blocking=False):
            return None
        decode = cls(name)
        try:
            decode._thread.start()
        except BaseException:
            _slots.release()
            raise
        return decode

    def feed(self, chunk: bytes) -> None:
        self._source.feed(chunk)

    def finish(self) -> Decoded | None:
        """Every byte was fed: the decode's outcome, once it has decoded them all (None if
        it gave up, or was given up)."""
        self._source.end()
        self._thread.join(STALL_SECONDS)
        if self._thread.is_alive():
            self.close()
            return None
        return self._outcome

    def close(self) -> None:
        """Give the decode up: its thread ends, its bytes are let go (no wait)."""
        self._source.stop()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        outcome: Decoded | None = None
        try:
            outcome = decode_jpeg_stream(cast(BinaryIO, self._source), self._streaming)
        except _GaveUp:
            pass
        finally:
            # Stopped before it ended, whatever Pillow made of that is no answer.
            self._outcome = None if self._source.stopped else outcome
            self._source.stop()  # the bytes are let go; later feeds are dropped
            _slots.release()

    def _streaming(self, image: Image.Image) -> None:
        self._source.stream()
        if isinstance(image, ImageFile.ImageFile):
            image.decodermaxblock = DECODE_READ_BYTES
