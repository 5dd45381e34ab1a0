"""The tus engine without HTTP: header parsers (round trips, refusals) and the staging
file's rules (appends start at the recorded offset; refused bodies leave nothing)."""

from __future__ import annotations

import base64
import hashlib
import io
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from media import tus

KEYS = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=","),
    min_size=1,
    max_size=12,
)
NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


@given(
    st.dictionaries(
        KEYS,
        st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40),
        max_size=6,
    )
)
def test_metadata_survives_a_round_trip(metadata: dict[str, str]) -> None:
    assert tus.parse_metadata(tus.encode_metadata(metadata)) == metadata


@pytest.mark.parametrize(
    "header",
    [
        "a b c",
        "name " + base64.b64encode(b"a\x00b").decode(),
        "sha256 !!!",
        "a YQ==,a YQ==",
        "k " + base64.b64encode(b"\xff").decode(),
    ],
)
def test_malformed_metadata_is_refused(header: str) -> None:
    with pytest.raises(tus.InvalidHeader):
        tus.parse_metadata(header)


def test_a_key_without_a_value_has_an_empty_value() -> None:
    assert tus.parse_metadata("is_confidential,filename cHVtcC5qcGc=") == {
        "is_confidential": "",
        "filename": "pump.jpg",
    }


@given(st.integers(min_value=0, max_value=2**62))
def test_offsets_round_trip_and_signs_are_refused(offset: int) -> None:
    assert tus.parse_offset(str(offset)) == offset
    with pytest.raises(tus.InvalidHeader):
        tus.parse_offset(f"-{offset}")
    with pytest.raises(tus.InvalidHeader):
        tus.parse_offset(f"+{offset}")


def test_checksums_are_sha256_of_the_right_size() -> None:
    digest = hashlib.sha256(b"x").digest()
    good = tus.parse_checksum("sha256 " + base64.b64encode(digest).decode())
    assert good == tus.Checksum("sha256", digest)
    assert tus.parse_checksum(None) is None
    with pytest.raises(tus.ChecksumAlgorithmUnsupported):
        tus.parse_checksum("sha1 " + base64.b64encode(digest[:20]).decode())
    with pytest.raises(tus.InvalidHeader):
        tus.parse_checksum("sha256 " + base64.b64encode(digest[:20]).decode())


def test_an_append_must_start_at_the_recorded_offset_of_a_live_upload() -> None:
    live = tus.UploadState(
        length=10, offset=4, expires_at=NOW + timedelta(hours=1), completed=False
    )
    tus.check_append(live, 4, NOW)
    with pytest.raises(tus.OffsetMismatch):
        tus.check_append(live, 3, NOW)
    expired = tus.UploadState(10, 4, NOW - timedelta(seconds=1), completed=False)
    with pytest.raises(tus.UploadExpired):
        tus.check_append(expired, 4, NOW)
    done = tus.UploadState(10, 10, NOW + timedelta(hours=1), completed=True)
    with pytest.raises(tus.OffsetMismatch):
        tus.check_append(done, 10, NOW)


def test_bytes_past_the_recorded_offset_are_dropped_before_an_append(tmp_path: Path) -> None:
    area = tus.StagingArea(tmp_path)
    upload_id = uuid.uuid4()
    area.create(upload_id)
    with area.locked(upload_id) as staged:
        staged.append(0, io.BytesIO(b"abcdef"), 10, None, 6)  # recorded: never (a crash)
        appended = staged.append(3, io.BytesIO(b"XYZ"), 7, None, 3)  # the record said 3

    assert appended == tus.Appended(6, interrupted=False)
    assert area.path(upload_id).read_bytes() == b"abcXYZ"


def test_a_refused_body_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    area = tus.StagingArea(tmp_path)
    upload_id = uuid.uuid4()
    area.create(upload_id)
    wrong = tus.Checksum("sha256", hashlib.sha256(b"other").digest())
    with area.locked(upload_id) as staged:
        staged.append(0, io.BytesIO(b"abc"), 10, None, 3)
        with pytest.raises(tus.ChunkChecksumMismatch):
            staged.append(3, io.BytesIO(b"def"), 7, wrong, 3)
        with pytest.raises(tus.UploadTooLarge):
            staged.append(3, io.BytesIO(b"d" * 8), 7, None, 8)  # said so: nothing read
        with pytest.raises(tus.UploadTooLarge):
            staged.append(3, io.BytesIO(b"d" * 8), 7, None, None)  # chunked: found out
        short = staged.append(3, io.BytesIO(b"de"), 7, None, 4)  # 2 of 4 bytes came

    assert short == tus.Appended(5, interrupted=True)
    assert area.path(upload_id).read_bytes() == b"abcde"


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    area = tus.StagingArea(tmp_path)
    upload_id = uuid.uuid4()
    area.create(upload_id)
    with area.locked(upload_id), pytest.raises(tus.UploadLocked), area.locked(upload_id):
        pass
    with area.locked(upload_id):  # released with the first holder
        pass


class Cut(io.RawIOBase):
    """A body whose connection drops after ``limit`` bytes."""

    def __init__(self, data: bytes, limit: int) -> None:
        self.data, self.limit, self.position = data, limit, 0

    def read(self, size: int = -1, /) -> bytes:
        if self.position >= self.limit:
            raise ConnectionError("reset")
        chunk = self.data[self.position : min(self.position + size, self.limit)]
        self.position += len(chunk)
        return chunk


APPENDS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=40),  # bytes the client sends
        st.sampled_from(["whole", "cut", "bad checksum", "checksum", "unrecorded"]),
        st.integers(min_value=0, max_value=40),  # where a cut happens
    ),
    max_size=12,
)


@given(APPENDS)
def test_the_staged_bytes_are_always_the_upload_up_to_its_recorded_offset(
    appends: list[tuple[int, str, int]],
) -> None:
    """Whatever mix of whole, cut, refused and never-recorded appends arrives, the staged
    file holds exactly the upload's first ``offset`` bytes once the next append starts,
    so finished bytes are always the client's bytes."""
    data = bytes(range(100)) * 2
    with tempfile.TemporaryDirectory() as folder:
        area = tus.StagingArea(Path(folder))
        upload_id = uuid.uuid4()
        area.create(upload_id)
        recorded = 0
        for size, kind, cut in appends:
            body = data[recorded : recorded + size]
            room = len(data) - recorded
            digest = hashlib.sha256(body if kind != "bad checksum" else b"?").digest()
            checksum = tus.Checksum("sha256", digest) if "checksum" in kind else None
            stream = Cut(body, min(cut, len(body))) if kind == "cut" else io.BytesIO(body)
            with area.locked(upload_id) as staged:
                try:
                    appended = staged.append(recorded, stream, room, checksum, len(body))
                except tus.ChunkChecksumMismatch:
                    assert kind == "bad checksum"  # even for an empty body
                    continue
            if kind != "unrecorded":  # else the server died before recording the offset
                recorded = appended.offset
            assert area.path(upload_id).read_bytes()[:recorded] == data[:recorded]
        with area.locked(upload_id) as staged:
            staged.append(recorded, io.BytesIO(b""), len(data) - recorded, None, 0)
        assert area.path(upload_id).read_bytes() == data[:recorded]
