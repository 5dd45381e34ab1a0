"""Persistence: the declarative base, column types, engines and the unit of work.

Every model in ``api/`` derives from :class:`Base`. Tenant-owned tables mix in
:class:`TenantOwned`; mutable aggregates mix in :class:`Versioned` so concurrent
writers are caught by SQLAlchemy's optimistic version check as well as by the
API's ``If-Match`` header.
"""

from __future__ import annotations

from api.db.base import Base, TenantOwned, Timestamped, Versioned, enum_type, new_id, utcnow
from api.db.engine import make_engine
from api.db.uow import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "Base",
    "TenantOwned",
    "Timestamped",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "Versioned",
    "enum_type",
    "make_engine",
    "new_id",
    "utcnow",
]
