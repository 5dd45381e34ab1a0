"""Tenants, users and tokens."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from api.auth import services as auth_services
from api.auth.actor import Actor
from api.auth.permissions import Role
from api.db import UnitOfWorkFactory
from api.users import services as user_services
from api.users.models import User

SECRET = "test-secret-key-that-is-long-enough-for-hs256"
PASSWORD = "correct-horse-42"
SETTINGS = auth_services.AuthSettings(secret_key=SECRET, access_ttl=timedelta(minutes=15))

_counter = itertools.count(1)


@dataclass(frozen=True)
class World:
    """A tenant with its first admin, ready for a test."""

    tenant_id: uuid.UUID
    slug: str
    admin: User
    admin_token: str

    @property
    def admin_actor(self) -> Actor:
        return Actor(tenant_id=self.tenant_id, role=Role.ADMIN, user_id=self.admin.id)


class CoreFactories:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self.uow = uow

    def tenant(self, slug: str | None = None, locale: str = "zh-CN") -> World:
        slug = slug or f"tenant-{next(_counter)}-{uuid.uuid4().hex[:6]}"
        admin = user_services.create_tenant_with_admin(
            self.uow(),
            slug=slug,
            name=f"租户 {slug}",
            admin_email=f"admin@{slug}.test",
            admin_password=PASSWORD,
            locale=locale,
            secret=SECRET,
        )
        return World(admin.tenant_id, slug, admin, self.token(slug, admin.email))

    def token(
        self, slug: str, email: str, password: str = PASSWORD, device_id: str | None = None
    ) -> str:
        command = auth_services.LoginCommand(
            tenant=slug, email=email, password=password, device_id=device_id
        )
        return auth_services.log_in(self.uow(), SETTINGS, command).access_token

    def user(self, world: World, role: Role, **extra: Any) -> tuple[User, str]:
        """A user with this role and a token; link it with ``technician_id``/``contact_id``."""
        n = next(_counter)
        data = {
            "email": f"{role.value}{n}@{world.slug}.test",
            "name": f"{role.value} {n}",
            "role": role,
            "password": PASSWORD,
        }
        data.update(extra)
        user = user_services.create_user(self.uow(), world.admin_actor, data)
        return user, self.token(world.slug, user.email)
