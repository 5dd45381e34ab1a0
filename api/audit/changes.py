"""Applying whitelisted field changes to an entity and describing what changed.

Services never ``setattr`` from a payload: they pass the fields a schema
validated and the set of fields the use case allows, and get back the
before/after diff the audit log records.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

Diff = dict[str, dict[str, Any]]


def jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def apply_changes(entity: Any, changes: Mapping[str, Any], allowed: Iterable[str]) -> Diff:
    allowed_set = set(allowed)
    unexpected = set(changes) - allowed_set
    if unexpected:
        # Schemas should have refused these; reaching here is a programming error.
        raise ValueError(f"fields not allowed here: {sorted(unexpected)}")
    diff: Diff = {}
    for name, new in changes.items():
        old = getattr(entity, name)
        if old != new:
            diff[name] = {"before": jsonable(old), "after": jsonable(new)}
            setattr(entity, name, new)
    return diff


def snapshot(entity: Any, fields: Iterable[str]) -> Diff:
    """A create's audit entry: every listed field as an "after" value."""
    return {name: {"after": jsonable(getattr(entity, name))} for name in fields}
