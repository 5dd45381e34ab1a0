"""Starting the write-back of a staged piece changes no byte and reports nothing itself."""

from __future__ import annotations

import os
from pathlib import Path

from media.writeback import start_writeback


def test_pieces_written_back_as_they_are_written_read_back_whole_after_the_fsync(
    tmp_path: Path,
) -> None:
    pieces = [os.urandom(100_000) for _ in range(3)]
    fd = os.open(tmp_path / "staged", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        offset = 0
        for piece in pieces:
            os.write(fd, piece)
            start_writeback(fd, offset, len(piece))
            offset += len(piece)
        os.fsync(fd)
    finally:
        os.close(fd)

    assert (tmp_path / "staged").read_bytes() == b"".join(pieces)


def test_a_descriptor_that_cannot_be_written_back_is_left_to_its_fsync() -> None:
    read_end, write_end = os.pipe()  # no file range to write back: no error raised here
    try:
        os.write(write_end, b"bytes")
        start_writeback(write_end, 0, 5)
        assert os.read(read_end, 5) == b"bytes"
    finally:
        os.close(read_end)
        os.close(write_end)
