"""API key use cases: create (the secret is shown once), list, revoke."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from api.audit import services as audit
from api.auth import tokens
from api.auth.actor import Actor
from api.auth.errors import ApiKeyNotFound, ScopeNotGrantable
from api.auth.models import ApiKey
from api.auth.permissions import GRANTABLE_SCOPES, Permission
from api.db import UnitOfWork, new_id, utcnow
from api.http.pagination import Page, paginate


def create_api_key(uow: UnitOfWork, actor: Actor, data: Mapping[str, Any]) -> tuple[ApiKey, str]:
    scopes = sorted(set(data["scopes"]))
    if any(Permission(s) not in GRANTABLE_SCOPES for s in scopes):
        raise ScopeNotGrantable()
    with uow:
        secret = tokens.new_secret()
        key = ApiKey(
            id=new_id(),
            tenant_id=actor.tenant_id,
            name=data["name"],
            secret_hash=tokens.digest(secret),
            scopes=scopes,
            created_by=actor.user_id,
            expires_at=data.get("expires_at"),
        )
        uow.session.add(key)
        audit.record(
            uow.session,
            actor,
            "create",
            "api_key",
            key.id,
            {"name": {"after": key.name}, "scopes": {"after": scopes}},
        )
        uow.commit()
        return key, tokens.format_api_key(key.id, secret)


def list_api_keys(uow: UnitOfWork, actor: Actor, *, limit: int, cursor: str | None) -> Page:
    with uow:
        stmt = select(ApiKey).where(ApiKey.tenant_id == actor.tenant_id)
        return paginate(uow.session, stmt, ApiKey.id, limit=limit, cursor=cursor)


def revoke_api_key(uow: UnitOfWork, actor: Actor, key_id: uuid.UUID) -> None:
    with uow:
        key = uow.session.scalars(
            select(ApiKey).where(ApiKey.id == key_id, ApiKey.tenant_id == actor.tenant_id)
        ).one_or_none()
        if key is None:
            raise ApiKeyNotFound()
        if key.revoked_at is None:
            key.revoked_at = utcnow()
            audit.record(uow.session, actor, "revoke", "api_key", key.id, {})
        uow.commit()
