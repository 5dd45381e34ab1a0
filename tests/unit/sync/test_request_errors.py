"""Sync refusals map onto catalogued API errors with the protocol's code and titles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.errors.base import CATALOGUE as API_CATALOGUE
from api.errors.problem import status_for
from api.sync.errors import REQUEST_ERRORS, from_protocol
from api.sync.services import read_cursor, write_cursor
from sync_protocol.errors import CATALOGUE, Level, ProtocolError


def test_every_request_level_sync_code_is_an_api_error_with_both_titles() -> None:
    wanted = {c for c, info in CATALOGUE.items() if info.level in (Level.INPUT, Level.REQUEST)}
    assert set(REQUEST_ERRORS) == wanted
    for code, error_class in REQUEST_ERRORS.items():
        assert API_CATALOGUE[code] is error_class
        assert error_class.titles == CATALOGUE[code].titles


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("sync.malformed_json", 400),
        ("sync.unknown_field", 422),
        ("sync.scope_forbidden", 403),
        ("sync.device_mismatch", 403),
        ("sync.schema_too_new", 409),
        ("sync.batch_too_large", 413),
        ("sync.unsupported_media_type", 415),
    ],
)
def test_statuses_follow_the_kind_of_refusal(code: str, status: int) -> None:
    assert status_for(REQUEST_ERRORS[code]()) == status


def test_a_protocol_error_keeps_its_field_and_extra_members() -> None:
    error = ProtocolError("sync.seq_gap", "Expected 10", "mutations[0].seq", {"expected_seq": 10})
    api_error = from_protocol(error)
    assert api_error.code == "sync.seq_gap" and api_error.detail == "Expected 10"
    assert api_error.extra == {
        "expected_seq": 10,
        "field": "mutations[0].seq",
        "errors": [{"field": "mutations[0].seq", "code": "sync.seq_gap", "message": "Expected 10"}],
    }


@pytest.mark.parametrize("cursor", ["c1.", "c2.5", "c1.-1", "c1.1e3", "c1.٣", "41"])
def test_only_cursors_the_server_wrote_are_read(cursor: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        read_cursor("taxonomy", cursor)
    assert caught.value.code == "sync.invalid_value" and caught.value.field == "cursors.taxonomy"


def test_cursors_round_trip() -> None:
    assert read_cursor("taxonomy", write_cursor(1041)) == 1041
    assert read_cursor("taxonomy", None) == 0


def test_protocol_md_gives_the_http_status_of_every_request_level_code() -> None:
    spec = (Path(__file__).resolve().parents[3] / "sync_protocol" / "PROTOCOL.md").read_text()
    rows = dict(re.findall(r"^\| `(sync\.[a-z_]+)` \| \w+ \| ([^|]+) \|", spec, re.MULTILINE))
    assert set(rows) == set(CATALOGUE)
    for code, error_class in REQUEST_ERRORS.items():
        assert rows[code].split()[0] == str(status_for(error_class())), code
    for code, info in CATALOGUE.items():
        if info.level is Level.RESET:
            assert rows[code].strip() == "409 `reset_required`", code
        elif code not in REQUEST_ERRORS:
            assert rows[code].strip() == "200 (receipt)", code
