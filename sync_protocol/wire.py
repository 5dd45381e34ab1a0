"""Strict reading and canonical writing of protocol JSON.

:class:`ObjectReader` reads one JSON object the way the protocol demands: unknown
keys, missing keys, wrong JSON types (``true`` is not an integer, ``41.0`` is
not a ``seq``), non-canonical UUIDs, NUL characters and lone surrogates are all
:class:`~sync_protocol.errors.ProtocolError` with a field path, never a
``KeyError`` or ``TypeError`` deeper in. :func:`canonical_json` is the one byte
form used for digests and checksums; client and server must produce the same
bytes for the same value, so it is defined here and in ``PROTOCOL.md`` (§ 3).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar
from uuid import RFC_4122, UUID

from sync_protocol.errors import JSONValue, ProtocolError
from sync_protocol.hlc import HLC

E = TypeVar("E", bound=StrEnum)

MAX_DEPTH = 32  # nesting of free-form JSON (mutation args, row images)

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII)
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,6})?Z", re.ASCII
)


def decode(text: str | bytes) -> JSONValue:
    """Parse a request body; anything but strict JSON (NaN, bad UTF-8, deep nesting) is refused."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        value: JSONValue = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:
        raise ProtocolError("sync.malformed_json", str(error)[:200]) from None
    return value


def canonical_json(value: JSONValue) -> bytes:
    """Keys sorted, no whitespace, UTF-8, non-ASCII unescaped (equals sorted ``JSON.stringify``)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with ``Z``; microseconds only when present."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    text = moment.isoformat(timespec="seconds")[:19]  # zero-padded; faster than strftime
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def parse_timestamp(text: str, field: str | None = None) -> datetime:
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise ProtocolError("sync.invalid_timestamp", "Expected e.g. 2025-03-01T08:30:00Z", field)
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    micro = int((match.group(7) or ".0")[1:].ljust(6, "0"))
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    except ValueError:
        raise ProtocolError("sync.invalid_timestamp", "No such date or time", field) from None


def check_text(value: str, field: str) -> str:
    """Text the database can store: no NUL, valid Unicode (no lone surrogates)."""
    if "\x00" in value:
        raise ProtocolError("sync.invalid_value", "Text may not contain NUL", field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ProtocolError("sync.invalid_value", "Text is not valid Unicode", field) from None
    return value


def check_json(value: object, field: str, depth: int = 0) -> JSONValue:
    """A free-form JSON value, validated as deeply as a typed field would be."""
    if depth > MAX_DEPTH:
        raise ProtocolError("sync.invalid_value", "Nested too deeply", field)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ProtocolError("sync.invalid_value", "Numbers must be finite", field)
        return value
    if isinstance(value, str):
        return check_text(value, field)
    if isinstance(value, list):
        return [check_json(item, f"{field}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, dict):
        result: dict[str, JSONValue] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ProtocolError("sync.wrong_type", "Object keys must be strings", field)
            check_text(key, field)
            result[key] = check_json(item, f"{field}.{key}", depth + 1)
        return result
    raise ProtocolError("sync.wrong_type", f"Not a JSON value: {type(value).__name__}", field)


def read_text(value: object, path: str, *, max_len: int, min_len: int = 0) -> str:
    if type(value) is not str:
        raise ProtocolError("sync.wrong_type", "Expected a string", path)
    check_text(value, path)
    if len(value) > max_len:
        raise ProtocolError("sync.too_long", f"At most {max_len} characters", path)
    if len(value.strip()) < min_len:
        raise ProtocolError("sync.invalid_value", f"At least {min_len} non-blank characters", path)
    return value


def read_int(value: object, path: str, *, minimum: int, maximum: int) -> int:
    if type(value) is not int:
        raise ProtocolError("sync.wrong_type", "Expected an integer", path)
    if not minimum <= value <= maximum:
        raise ProtocolError("sync.invalid_value", f"Must be between {minimum} and {maximum}", path)
    return value


def read_choice(value: object, path: str, kind: type[E]) -> E:
    text = read_text(value, path, max_len=64)
    try:
        return kind(text)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise ProtocolError("sync.invalid_value", f"Expected one of: {allowed}", path) from None


class ObjectReader:
    """Reads the members of one JSON object, refusing keys outside ``keys``."""

    def __init__(self, value: object, path: str, keys: frozenset[str]) -> None:
        self.path = path
        if type(value) is not dict:
            raise ProtocolError("sync.wrong_type", "Expected an object", path or None)
        for key in sorted(value, key=str):
            if type(key) is not str or key not in keys:
                raise ProtocolError("sync.unknown_field", f"Unknown field {key!r}", self.at(key))
        self._value: dict[str, object] = value

    def at(self, key: object) -> str:
        return f"{self.path}.{key}" if self.path else str(key)

    def has(self, key: str) -> bool:
        return self._value.get(key) is not None

    def raw(self, key: str, *, optional: bool = False) -> object:
        if key not in self._value or self._value[key] is None:
            if optional:
                return None
            raise ProtocolError("sync.missing_field", f"{key} is required", self.at(key))
        return self._value[key]

    def text(self, key: str, *, max_len: int, min_len: int = 0) -> str:
        return read_text(self.raw(key), self.at(key), max_len=max_len, min_len=min_len)

    def optional_text(self, key: str, *, max_len: int, min_len: int = 0) -> str | None:
        return self.text(key, max_len=max_len, min_len=min_len) if self.has(key) else None

    def integer(self, key: str, *, minimum: int, maximum: int) -> int:
        return read_int(self.raw(key), self.at(key), minimum=minimum, maximum=maximum)

    def boolean(self, key: str) -> bool:
        value = self.raw(key)
        if type(value) is not bool:
            raise ProtocolError("sync.wrong_type", "Expected true or false", self.at(key))
        return value

    def uuid(self, key: str, *, v7: bool = False) -> UUID:
        return read_uuid(self.text(key, max_len=36), self.at(key), v7=v7)

    def optional_uuid(self, key: str) -> UUID | None:
        return self.uuid(key) if self.has(key) else None

    def hlc(self, key: str) -> HLC:
        return HLC.parse(self.text(key, max_len=128), self.at(key))

    def optional_hlc(self, key: str) -> HLC | None:
        return self.hlc(key) if self.has(key) else None

    def timestamp(self, key: str) -> datetime:
        return parse_timestamp(self.text(key, max_len=40), self.at(key))

    def optional_timestamp(self, key: str) -> datetime | None:
        return self.timestamp(key) if self.has(key) else None

    def choice(self, key: str, kind: type[E]) -> E:
        return read_choice(self.raw(key), self.at(key), kind)

    def obj(self, key: str, keys: frozenset[str]) -> ObjectReader:
        return ObjectReader(self.raw(key), self.at(key), keys)

    def items(self, key: str, *, max_items: int) -> Iterator[tuple[str, object]]:
        """``(path, item)`` for each element of a JSON array."""
        value = self.raw(key)
        if type(value) is not list:
            raise ProtocolError("sync.wrong_type", "Expected an array", self.at(key))
        if len(value) > max_items:
            raise ProtocolError("sync.too_long", f"At most {max_items} items", self.at(key))
        return ((f"{self.at(key)}[{i}]", item) for i, item in enumerate(value))

    def optional_items(self, key: str, *, max_items: int) -> list[tuple[str, object]]:
        return list(self.items(key, max_items=max_items)) if self.has(key) else []

    def uuid_list(self, key: str, *, max_items: int) -> tuple[UUID, ...]:
        """An array of distinct canonical UUIDs."""
        result: list[UUID] = []
        for path, item in self.items(key, max_items=max_items):
            value = read_uuid(read_text(item, path, max_len=36), path)
            if value in result:
                raise ProtocolError("sync.invalid_value", "Listed twice", path)
            result.append(value)
        return tuple(result)

    def mapping(self, key: str, *, max_items: int) -> Iterator[tuple[str, str, object]]:
        """``(path, member name, member value)`` for each member of a JSON object."""
        value = self.raw(key)
        if type(value) is not dict:
            raise ProtocolError("sync.wrong_type", "Expected an object", self.at(key))
        if len(value) > max_items:
            raise ProtocolError("sync.too_long", f"At most {max_items} members", self.at(key))
        for name in sorted(value, key=str):
            if type(name) is not str:
                raise ProtocolError("sync.wrong_type", "Object keys must be strings", self.at(key))
            yield f"{self.at(key)}.{name}", check_text(name, self.at(key)), value[name]

    def optional_mapping(self, key: str, *, max_items: int) -> list[tuple[str, str, object]]:
        return list(self.mapping(key, max_items=max_items)) if self.has(key) else []

    def json_object(self, key: str) -> dict[str, JSONValue]:
        value = self.raw(key)
        if type(value) is not dict:
            raise ProtocolError("sync.wrong_type", "Expected an object", self.at(key))
        checked = check_json(value, self.at(key))
        assert isinstance(checked, dict)
        return checked


def read_uuid(text: str, field: str | None, *, v7: bool = False) -> UUID:
    """Canonical lowercase hyphenated UUIDs only; ``v7`` also demands version 7, RFC variant."""
    if _UUID.fullmatch(text) is None:
        raise ProtocolError("sync.invalid_uuid", "Expected a lowercase hyphenated UUID", field)
    value = UUID(text)
    if v7 and (value.version != 7 or value.variant != RFC_4122):
        raise ProtocolError("sync.invalid_uuid", "Client-generated IDs must be UUIDv7", field)
    return value


def text_map(value: Mapping[str, str]) -> dict[str, JSONValue]:
    """A ``{str: str}`` mapping as a JSON object (sorted, so output is stable)."""
    return {key: value[key] for key in sorted(value)}


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")
