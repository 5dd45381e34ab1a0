"""The untrusted-text scanner: finds every NUL and lone surrogate, counts depth as the parser
does, and never recurses (so no input can overflow it)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sync_protocol.untrusted import (
    DEEP_MARKER,
    find_bad_text,
    may_hold_bad_text,
    raw_depth,
    storable,
    visible,
)

clean_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))
bad_char = st.sampled_from(["\x00", "\ud800", "\udbff", "\udc00", "\udfff"])
finite = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.none() | st.booleans() | st.integers() | finite | clean_text
clean_json = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(clean_text, children, max_size=4)
    ),
    max_leaves=20,
)


def _depth(value: Any) -> int:
    """Depth by the definition: containers count, scalars do not (recursive: small inputs)."""
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


def _plant(value: Any, bad: str, where: int, as_key: bool) -> tuple[Any, bool]:
    """``value`` with ``bad`` put into its ``where``-th string (or key); False if none."""
    strings: list[tuple[Any, Any, bool]] = []

    def walk(item: Any, parent: Any, slot: Any) -> None:
        if isinstance(item, str):
            strings.append((parent, slot, False))
        elif isinstance(item, list):
            for i, child in enumerate(item):
                walk(child, item, i)
        elif isinstance(item, dict):
            for key, child in list(item.items()):
                strings.append((item, key, True))
                walk(child, item, key)

    holder = [value]
    walk(value, holder, 0)
    candidates = [s for s in strings if s[2] == as_key] or strings
    if not candidates:
        return value, False
    parent, slot, is_key = candidates[where % len(candidates)]
    if is_key:
        parent[slot + bad] = parent.pop(slot)
    else:
        parent[slot] = parent[slot] + bad
    return holder[0], True


@given(clean_json, bad_char, st.integers(0, 100), st.booleans())
@settings(max_examples=300)
def test_a_nul_or_lone_surrogate_anywhere_is_found_and_its_raw_form_flagged(
    value: Any, bad: str, where: int, as_key: bool
) -> None:
    planted, done = _plant(value, bad, where, as_key)
    raw = json.dumps(planted).encode()  # ensure_ascii: bad characters as \u escapes
    if not done:
        assert find_bad_text(planted) is None
        return
    found = find_bad_text(planted)
    assert found is not None
    assert found.kind == ("nul" if bad == "\x00" else "surrogate")
    assert may_hold_bad_text(raw)
    assert find_bad_text(json.loads(raw)) == found
    # What is kept of it is storable: UTF-8 encodable, NUL-free, the same shape.
    kept = storable(planted)
    text = json.dumps(kept, ensure_ascii=False)
    text.encode("utf-8")
    assert "\x00" not in text and find_bad_text(kept) is None


@given(clean_json)
@settings(max_examples=300)
def test_clean_json_is_never_flagged_and_its_depth_is_the_parsers(value: Any) -> None:
    raw = json.dumps(value, ensure_ascii=False).encode()
    assert find_bad_text(value) is None
    assert raw_depth(raw) == _depth(value) == raw_depth(json.dumps(value).encode())
    limit = _depth(value)
    assert find_bad_text(value, max_depth=limit) is None
    if limit:
        assert find_bad_text(value, max_depth=limit - 1) is not None
    assert storable(value) == json.loads(json.dumps(value))


@given(st.text(alphabet='[]{}"\\ax', max_size=60))
def test_brackets_inside_strings_do_not_count(text: str) -> None:
    assert raw_depth(json.dumps([text, {"k": text}]).encode()) == 2
    assert raw_depth(json.dumps({text: [text]}).encode()) == 2


def test_raw_bad_bytes_without_any_escape_are_flagged() -> None:
    assert may_hold_bad_text(b'["a\x00b"]')
    assert may_hold_bad_text(b'{"k": "\xed\xa0\x80"}')  # CESU-8 of a lone surrogate
    assert not may_hold_bad_text('{"name": "技师 ü", "n": [1, 2]}'.encode())


@given(st.text(alphabet="[]{}ax", max_size=30), st.text(alphabet="[]{}ax", max_size=30))
def test_brackets_in_strings_without_escapes_do_not_count(one: str, two: str) -> None:
    raw = json.dumps([one, {two: [one, two]}, two], ensure_ascii=False).encode()
    assert b"\\" not in raw
    assert raw_depth(raw) == 3


def test_depth_is_counted_without_recursion_and_stops_at_the_limit() -> None:
    raw = b"[" * 1_000_000 + b"]" * 1_000_000
    assert raw_depth(raw, limit=64) == 65
    assert raw_depth(raw) == 1_000_000
    deep: Any = "x"
    for _ in range(100_000):
        deep = [deep]
    found = find_bad_text(deep, max_depth=64)
    assert found is not None and found.kind == "depth" and found.path == "[0]" * 64
    assert find_bad_text(deep) is None  # no limit: walked to the bottom, no RecursionError
    kept = storable(deep, 3)
    assert kept == [[[DEEP_MARKER]]]


def test_paths_and_visible_text() -> None:
    found = find_bad_text({"site": {"names": ["ok", "b\x00d"]}})
    assert found is not None and found.path == "site.names[1]"
    found = find_bad_text({"a": {"k\ud800": 1}})
    assert found is not None and found.path == "a.k\\ud800"
    assert visible("a\x00b\udfff") == "a\\u0000b\\udfff"
    assert not may_hold_bad_text(b'{"name": "\\u00e9t\\u00e9 \xe2\x82\xac"}')
    assert may_hold_bad_text(b'{"name": "\\ud83d"}')
    assert may_hold_bad_text(b'{"name": "\xed\xa0\x80"}')  # CESU-8 bytes of U+D800
