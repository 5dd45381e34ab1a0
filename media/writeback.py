"""Starting the write-back of bytes as they are written, so a closing fsync is short.

A tus append writes its body to the staged file a piece at a time and fsyncs once, at
the end (the offset is recorded only after it). Left to the kernel, most of a large
body's pages are still dirty then, and that fsync writes them all while the client
waits for its answer (about 15 ms for 50 MB here, on the way to the upload's last
byte). :func:`start_writeback` asks Linux to start writing a piece out as soon as it
is written (``sync_file_range`` with ``SYNC_FILE_RANGE_WRITE``: it queues the writes
without waiting for them, and makes nothing durable: the fsync still does that), so the
closing fsync only waits for the last pieces. Elsewhere (no such call) it does nothing.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable

_SYNC_FILE_RANGE_WRITE = 2  # <linux/fs.h>


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Start writing out ``length`` bytes of ``fd`` from ``offset`` (no wait). A failure
    is not reported here: the fsync that follows reports any write error."""
    if _sync_file_range is not None:
        _sync_file_range(fd, offset, length, _SYNC_FILE_RANGE_WRITE)


def _load() -> Callable[[int, int, int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        call = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):  # a libc without it
        return None
    call.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    call.restype = ctypes.c_int
    return call


# ctypes releases the GIL for the call, as for any foreign function of a CDLL.
_sync_file_range = _load()
