"""Reading users: tenant-scoped accessors."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.http.pagination import Page, paginate
from api.users.errors import UserNotFound
from api.users.models import User


def access_user(session: Session, actor: Actor, user_id: uuid.UUID) -> User:
    user = session.scalars(
        select(User).where(User.id == user_id, User.tenant_id == actor.tenant_id)
    ).one_or_none()
    if user is None:
        raise UserNotFound()
    return user


def describe_me(session: Session, actor: Actor) -> dict[str, Any]:
    assert actor.user_id is not None
    user = access_user(session, actor, actor.user_id)
    return {
        "id": user.id,
        "tenant_id": user.tenant_id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "locale": user.locale,
        "technician_id": actor.technician_id,
        "customer_id": actor.customer_id,
    }


def list_users(
    session: Session, actor: Actor, *, limit: int, cursor: str | None, role: list[Any] | None = None
) -> Page:
    stmt = select(User).where(User.tenant_id == actor.tenant_id)
    if role:
        stmt = stmt.where(User.role.in_(role))
    return paginate(session, stmt, User.id, limit=limit, cursor=cursor)
