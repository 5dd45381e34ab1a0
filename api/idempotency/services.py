"""Idempotency records: claim a key, replay a finished response, release on failure.

The record is claimed in its own short transaction before the create runs, so
two concurrent requests with one key cannot both run (the second gets
``idempotency.in_progress``). Creates carry client-generated IDs, so even a
crash between the create and storing its response cannot produce a duplicate:
the retried create meets the primary key.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from api.db import UnitOfWork, utcnow
from api.errors.common import IdempotencyInProgress, IdempotencyKeyReused
from api.idempotency.models import IdempotencyRecord

RETENTION = timedelta(hours=24)
STALE_CLAIM = timedelta(minutes=2)


@dataclass(frozen=True)
class Replay:
    status: int
    body: Any
    headers: dict[str, str]


def claim(
    uow: UnitOfWork, tenant_id: uuid.UUID, principal_id: uuid.UUID, key: str, request_hash: str
) -> Replay | None:
    """None if this request should run now; a :class:`Replay` if it already ran."""
    with uow:
        session = uow.session
        record = session.scalars(
            select(IdempotencyRecord).where(
                IdempotencyRecord.tenant_id == tenant_id,
                IdempotencyRecord.principal_id == principal_id,
                IdempotencyRecord.key == key,
            )
        ).one_or_none()
        now = utcnow()
        if record is not None:
            expired = record.expires_at <= now
            abandoned = record.response_status is None and record.created_at <= now - STALE_CLAIM
            if not (expired or abandoned):
                if record.request_hash != request_hash:
                    raise IdempotencyKeyReused()
                if record.response_status is None:
                    raise IdempotencyInProgress()
                return Replay(
                    record.response_status, record.response_body, record.response_headers or {}
                )
            session.delete(record)
            session.flush()  # free the unique key before re-claiming it below
        session.add(
            IdempotencyRecord(
                tenant_id=tenant_id,
                principal_id=principal_id,
                key=key,
                request_hash=request_hash,
                expires_at=now + RETENTION,
            )
        )
        try:
            uow.commit()
        except IntegrityError as exc:
            raise IdempotencyInProgress() from exc
        return None


def complete(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    principal_id: uuid.UUID,
    key: str,
    replay: Replay,
) -> None:
    with uow:
        record = uow.session.scalars(
            select(IdempotencyRecord).where(
                IdempotencyRecord.tenant_id == tenant_id,
                IdempotencyRecord.principal_id == principal_id,
                IdempotencyRecord.key == key,
            )
        ).one()
        record.response_status = replay.status
        record.response_body = replay.body
        record.response_headers = replay.headers
        uow.commit()


def release(uow: UnitOfWork, tenant_id: uuid.UUID, principal_id: uuid.UUID, key: str) -> None:
    """Forget a claim whose request failed, so a corrected retry may use the key."""
    with uow:
        uow.session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.tenant_id == tenant_id,
                IdempotencyRecord.principal_id == principal_id,
                IdempotencyRecord.key == key,
                IdempotencyRecord.response_status.is_(None),
            )
        )
        uow.commit()
