"""Checks every create and update service makes before it writes.

* Client-supplied ids (offline devices mint UUIDv7s) must be unused across all
  tenants, because ids are global primary keys. A taken id is answered exactly
  like any other unusable id (422 on the ``id`` field), whoever's row holds it, so
  the answer is never an oracle for another tenant's rows.
* An update names the version the client read (``If-Match``); a different
  current version is a 412.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from api.errors.base import FieldProblem
from api.errors.common import StaleVersion, ValidationFailed


def ensure_unused_id(session: Session, model: type[Any], entity_id: uuid.UUID | None) -> None:
    if entity_id is not None and session.get(model, entity_id) is not None:
        raise ValidationFailed(
            errors=[FieldProblem("id", "invalid", "Not a usable id; mint a new UUIDv7")]
        )


def check_version(entity: Any, expected: int) -> None:
    if entity.version != expected:
        raise StaleVersion(extra={"current_version": entity.version})


def pick(data: Mapping[str, Any], allowed: Iterable[str]) -> dict[str, Any]:
    """The subset of validated input a use case may write (no mass assignment)."""
    names = set(allowed)
    return {key: value for key, value in data.items() if key in names}
