"""Untrusted text: NUL, lone surrogates and nesting depth, found without recursion.

Three things a JSON body can carry that no field rule catches, each of which
used to surface as a 500: a NUL character (PostgreSQL refuses it in text and
JSONB), a lone UTF-16 surrogate (``"\\ud800"``: it cannot be encoded to UTF-8;
JavaScript clients produce it when they cut a string inside an emoji), and
nesting deep enough to overflow a recursive parser or encoder.

* :func:`raw_depth` measures the nesting of raw JSON bytes *before* parsing, by
  counting brackets outside strings (a regular expression skips the strings), so
  100,000 nested arrays cost a linear scan, never a ``RecursionError``.
* :func:`find_bad_text` walks a parsed value with an explicit stack and returns
  the first string or key with a NUL or a lone surrogate, or the first place
  nested past a limit, with its path (``site.name``, ``items[2]``).
* :func:`may_hold_bad_text` is the fast path: raw JSON can only carry a NUL or
  a surrogate as a ``\\u`` escape (or as CESU-8 bytes, which Python's JSON
  decoder lets through), so a body without either is never walked.
* :func:`storable` makes a refused value safe to keep (quarantine, receipts):
  bad characters become their visible ``\\uXXXX`` escapes, and whatever is
  nested past the limit becomes a marker string.

No Flask here: the HTTP guard (``api.http.hostile``) and the sync push
(``sync_protocol.messages``) share it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from sync_protocol.errors import JSONValue

DEFAULT_MAX_DEPTH = 64
# A sync body (push, WatermelonDB push) nested deeper than this is refused whole: the
# parser could not read it. Shallower, a too-deep value inside one mutation's ``args``
# (or one record) rejects that one alone (PROTOCOL.md § 6.1).
ENVELOPE_MAX_DEPTH = 512

# A JSON string, escapes included; unrolled, so it never backtracks.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_ALIKE = bytes.maketrans(b"[{]}", b"(())")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_NOT_BRACKETS_OR_QUOTES = bytes(b for b in range(256) if b not in b'[]{}"')
_PASSES = 8
# What a body must contain to hold a NUL or a surrogate once parsed.
_SUSPECT_RAW = re.compile(rb"\\u(?:0000|[dD][89abcdefABCDEF])|\xed[\xa0-\xbf]|\x00")
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
DEEP_MARKER = "…nested too deeply…"


@dataclass(frozen=True)
class BadText:
    """Where a value is unusable: ``path`` (``""`` for the root), ``reason`` and a ``kind``."""

    path: str
    kind: str  # "nul", "surrogate" or "depth"
    reason: str


def raw_depth(raw: bytes, limit: int | None = None) -> int:
    """The deepest nesting of ``[``/``{`` in raw JSON, strings skipped.

    With ``limit``, stops as soon as the depth passes it (and returns that depth).
    Malformed JSON gives some number (never less than the parser would reach);
    the parser refuses it afterwards.
    """
    brackets = _brackets_outside_strings(raw)
    # Each pass takes out the innermost pairs, one level of depth, at C speed: wide
    # bodies (many small objects) shrink to little or nothing in a few passes.
    peeled = 0
    while brackets and peeled < _PASSES:
        shorter = brackets.replace(b"()", b"")
        if len(shorter) == len(brackets):
            break
        brackets, peeled = shorter, peeled + 1
    depth = deepest = peeled
    for byte in brackets:  # what is left: a linear scan, stopping past the limit
        if byte == 0x28:  # "("
            depth += 1
            if depth > deepest:
                deepest = depth
                if limit is not None and deepest > limit:
                    return deepest
        else:
            depth -= 1
    return deepest


def _brackets_outside_strings(raw: bytes) -> bytes:
    """The brackets of raw JSON outside its strings, made alike (``(`` and ``)``).

    Fast path, two passes at C speed, for a body without a backslash (no escapes,
    so every ``"`` opens or closes a string): keep only brackets and quotes, then
    take out the adjacent quote pairs. A string without brackets inside becomes
    ``""`` and goes; if any quote is left, some string held a bracket (the first
    such string's opening quote ends an odd run of quotes), and the regular
    expression that skips strings does the work instead."""
    if b"\\" not in raw:
        kept = raw.translate(_ALIKE, _NOT_BRACKETS_OR_QUOTES).replace(b'""', b"")
        if b'"' not in kept:
            return kept
    # Strings out, then everything but brackets, brackets made alike.
    return _STRING.sub(b"", raw).translate(_ALIKE, _NOT_BRACKETS)


def may_hold_bad_text(raw: bytes) -> bool:
    """False when the raw JSON cannot hold a NUL or a lone surrogate once parsed."""
    if b"\\" not in raw and b"\x00" not in raw and b"\xed" not in raw:
        return False  # each of the three patterns needs one of these bytes
    return _SUSPECT_RAW.search(raw) is not None


def bad_char(text: str) -> str | None:
    """``"nul"``, ``"surrogate"`` or None for a string."""
    found = _BAD_CHAR.search(text)
    if found is None:
        return None
    return "nul" if found.group() == "\x00" else "surrogate"


_REASONS = {
    "nul": "Text may not contain NUL (U+0000)",
    "surrogate": "Text is not valid Unicode (a lone surrogate, U+D800-U+DFFF)",
}


def find_bad_text(value: object, max_depth: int | None = None, base: str = "") -> BadText | None:
    """The first bad string, key or too-deep place in ``value`` (see the module docstring).

    Depth counts containers: ``{"a": [1]}`` has depth 2, a scalar 0, as :func:`raw_depth`.
    """
    stack: list[tuple[object, str, int]] = [(value, base, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            kind = bad_char(item)
            if kind is not None:
                return BadText(path, kind, _REASONS[kind])
            continue
        if not isinstance(item, dict | list):
            continue
        depth += 1
        if max_depth is not None and depth > max_depth:
            return BadText(path, "depth", f"Nested more than {max_depth} levels deep")
        if isinstance(item, dict):
            children: list[tuple[object, str, int]] = []
            for key, child in item.items():
                if isinstance(key, str):
                    kind = bad_char(key)
                    if kind is not None:
                        return BadText(_join(path, visible(key)), kind, _REASONS[kind])
                children.append((child, _join(path, str(key)), depth))
            stack.extend(reversed(children))
        else:
            stack.extend(
                (child, f"{path}[{i}]", depth) for i, child in reversed(list(enumerate(item)))
            )
    return None


def visible(text: str) -> str:
    """``text`` with NUL and lone surrogates written as ``\\uXXXX`` (storable, printable)."""
    if _BAD_CHAR.search(text) is None:
        return text
    return _BAD_CHAR.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def storable(value: object, max_depth: int = DEFAULT_MAX_DEPTH) -> JSONValue:
    """A copy of ``value`` any database and encoder accepts (see the module docstring)."""
    root: list[JSONValue] = [None]
    # (source, container to fill, key or index in it, depth of source)
    stack: list[tuple[object, list[JSONValue] | dict[str, JSONValue], object, int]] = [
        (value, root, 0, 0)
    ]
    while stack:
        item, into, slot, depth = stack.pop()
        copied: JSONValue
        if isinstance(item, str):
            copied = visible(item)
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                copied = DEEP_MARKER
            elif isinstance(item, dict):
                copied = {}
                for key, child in item.items():
                    name = visible(str(key))
                    copied[name] = None
                    stack.append((child, copied, name, depth + 1))
            else:
                copied = [None] * len(item)
                stack.extend((child, copied, i, depth + 1) for i, child in enumerate(item))
        elif isinstance(item, float) and not math.isfinite(item):
            copied = str(item)  # NaN and infinities: no JSON for them
        elif item is None or isinstance(item, bool | int | float):
            copied = item
        else:
            copied = visible(str(item))
        into[slot] = copied  # type: ignore[index,call-overload]
    return root[0]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
