"""The catalogue of sync codes: complete, documented, bilingual, and the only codes in use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sync_protocol.errors import CATALOGUE, Level, ProtocolError

PACKAGE = Path(__file__).resolve().parents[3] / "sync_protocol"
CODE = re.compile(r"\bsync\.[a-z][a-z_]*[a-z]\b")


def codes_in(text: str) -> set[str]:
    return set(CODE.findall(text))


def test_every_code_used_in_sync_protocol_is_catalogued() -> None:
    used = set().union(*(codes_in(path.read_text()) for path in PACKAGE.glob("*.py")))
    assert used, "the scan found no codes at all"
    assert used - set(CATALOGUE) == set()


def test_every_code_named_in_the_spec_is_catalogued() -> None:
    assert codes_in((PACKAGE / "PROTOCOL.md").read_text()) - set(CATALOGUE) == set()


def test_every_catalogued_code_is_in_the_spec_table_with_its_level() -> None:
    spec = (PACKAGE / "PROTOCOL.md").read_text()
    for code, info in CATALOGUE.items():
        assert f"| `{code}` | {info.level.value} |" in spec, code


def test_every_code_is_dotted_and_titled_in_english_and_chinese() -> None:
    for code, info in CATALOGUE.items():
        assert CODE.fullmatch(code), code
        assert info.en.strip() and info.zh_cn.strip(), code
        assert info.titles == {"en": info.en, "zh-CN": info.zh_cn}
        assert re.search(r"[\u4e00-\u9fff]", info.zh_cn), f"{code} has no Chinese title"
    assert len({info.en for info in CATALOGUE.values()}) == len(CATALOGUE)


def test_a_protocol_error_refuses_a_code_that_is_not_catalogued() -> None:
    with pytest.raises(ValueError, match="uncatalogued"):
        ProtocolError("sync.made_up")


def test_a_protocol_error_carries_code_field_and_context_for_clients() -> None:
    error = ProtocolError("sync.seq_gap", "Expected 10", "mutations[0].seq", {"expected_seq": 10})
    assert error.level is Level.REQUEST
    assert error.to_json() == {
        "code": "sync.seq_gap",
        "title": CATALOGUE["sync.seq_gap"].en,
        "detail": "Expected 10",
        "field": "mutations[0].seq",
        "expected_seq": 10,
    }
    assert error.under("mutations[2]").field == "mutations[2].mutations[0].seq"
    assert ProtocolError("sync.wrong_type", field="[0]").under("items").field == "items[0]"
    assert ProtocolError("sync.too_long").detail == CATALOGUE["sync.too_long"].en
