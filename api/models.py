"""Imports every model module so ``Base.metadata`` knows every table.

Alembic's autogenerate and the test suite's schema check both rely on this
list being complete; a test compares it with the ``models.py`` files on disk.
"""

from __future__ import annotations

from api.assets import models as assets
from api.audit import models as audit
from api.auth import models as auth
from api.categories import models as categories
from api.customers import models as customers
from api.db import Base
from api.dispatching import models as dispatching
from api.duplicates import models as duplicates
from api.evidence import models as evidence
from api.idempotency import models as idempotency
from api.live import capture as _live_capture  # noqa: F401 - commits tell the live streams
from api.location import models as location
from api.notifications import models as notifications
from api.outbox import models as outbox
from api.push import models as push
from api.ratelimits import models as ratelimits
from api.servicedesk import escalation_models as escalations
from api.servicedesk import models as servicedesk
from api.signoff import models as signoff
from api.sites import models as sites
from api.sms import models as sms
from api.sync import models as sync
from api.teams import models as teams
from api.technicians import models as technicians
from api.tenants import models as tenants
from api.tracking import models as tracking
from api.uploads import models as uploads
from api.users import models as users
from api.workflows import models as workflows
from api.workorders import models as workorders

__all__ = [
    "Base",
    "assets",
    "audit",
    "auth",
    "categories",
    "customers",
    "dispatching",
    "duplicates",
    "escalations",
    "evidence",
    "idempotency",
    "location",
    "notifications",
    "outbox",
    "push",
    "ratelimits",
    "servicedesk",
    "signoff",
    "sites",
    "sms",
    "sync",
    "teams",
    "technicians",
    "tenants",
    "tracking",
    "uploads",
    "users",
    "workflows",
    "workorders",
]
