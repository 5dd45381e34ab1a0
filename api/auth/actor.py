"""The actor: who is calling, for which tenant, with which powers.

Services take an :class:`Actor` rather than a request. It is built once per
request from a verified token or API key and never from client-supplied IDs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from api.auth.permissions import ROLE_PERMISSIONS, Permission, Role


@dataclass(frozen=True)
class Actor:
    tenant_id: uuid.UUID
    role: Role
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    technician_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    scopes: frozenset[Permission] = field(default_factory=frozenset)

    @property
    def permissions(self) -> frozenset[Permission]:
        return self.scopes if self.role is Role.INTEGRATION else ROLE_PERMISSIONS[self.role]

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def is_office(self) -> bool:
        """Sees the whole tenant: admins, dispatchers and integrations."""
        return self.role in (Role.ADMIN, Role.DISPATCHER, Role.INTEGRATION)

    @property
    def principal_id(self) -> uuid.UUID | None:
        """Who audit entries name: the user, the API key, or nobody (the system)."""
        return self.user_id or self.api_key_id

    @property
    def kind(self) -> str:
        if self.user_id:
            return "user"
        return "api_key" if self.api_key_id else "system"


def system_actor(tenant_id: uuid.UUID) -> Actor:
    """The actor for work the server does on its own (demo loading, worker jobs)."""
    return Actor(tenant_id=tenant_id, role=Role.INTEGRATION, scopes=frozenset(Permission))
