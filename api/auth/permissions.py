"""Roles and the permissions each one holds.

Every endpoint declares exactly one :class:`Permission` (see
:mod:`api.http.guard`); a test fails if one does not. Row-level visibility
inside a tenant (a customer contact sees only their customer, a technician
only what their assignments need) is a separate concern handled by each
domain's accessors.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    TECHNICIAN = "technician"
    CUSTOMER_CONTACT = "customer_contact"
    INTEGRATION = "integration"  # an API key, never a person


class Permission(StrEnum):
    TENANT_MANAGE = "tenant:manage"
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"
    API_KEYS_MANAGE = "api_keys:manage"
    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"
    SITES_READ = "sites:read"
    SITES_WRITE = "sites:write"
    ASSETS_READ = "assets:read"
    ASSETS_WRITE = "assets:write"
    ASSETS_SCAN = "assets:scan"  # look up a code; an unknown one makes a provisional asset
    TECHNICIANS_READ = "technicians:read"
    TECHNICIANS_WRITE = "technicians:write"
    TEAMS_READ = "teams:read"
    TEAMS_WRITE = "teams:write"
    CATEGORIES_READ = "categories:read"
    CATEGORIES_WRITE = "categories:write"
    WORK_ORDERS_READ = "work_orders:read"
    WORK_ORDERS_CREATE = "work_orders:create"
    WORK_ORDERS_UPDATE = "work_orders:update"
    WORK_ORDERS_TRANSITION = "work_orders:transition"
    WORK_ORDERS_NOTE = "work_orders:note"
    AUDIT_READ = "audit:read"
    SERVICE_DESK_READ = "service_desk:read"  # business calendars (later SLA policies, rules)
    SERVICE_DESK_MANAGE = "service_desk:manage"
    NOTIFICATIONS_READ = "notifications:read"
    SYNC = "sync"  # pull (and later push) a device replica
    SYNC_INBOX = "sync:inbox"  # resolve conflicts, settle quarantine, read device health
    SYNC_DEVICES_MANAGE = "sync:devices:manage"  # retire a device
    SELF = "self"  # one's own profile and sessions
    LIVE_CONSOLE = "live:console"  # the console's event stream (a person's session: no keys)


_ALL = frozenset(Permission)

_READ_REFERENCE = frozenset(
    {
        Permission.CUSTOMERS_READ,
        Permission.SITES_READ,
        Permission.ASSETS_READ,
        Permission.CATEGORIES_READ,
        Permission.WORK_ORDERS_READ,
        Permission.WORK_ORDERS_NOTE,
        Permission.NOTIFICATIONS_READ,
        Permission.SELF,
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: _ALL,
    Role.DISPATCHER: _ALL
    - {
        Permission.TENANT_MANAGE,
        Permission.USERS_WRITE,
        Permission.API_KEYS_MANAGE,
        Permission.SYNC_DEVICES_MANAGE,
    },
    Role.TECHNICIAN: _READ_REFERENCE
    | {
        Permission.TECHNICIANS_READ,
        Permission.TEAMS_READ,
        Permission.WORK_ORDERS_TRANSITION,
        Permission.SYNC,
        Permission.ASSETS_SCAN,
    },
    Role.CUSTOMER_CONTACT: _READ_REFERENCE
    | {Permission.WORK_ORDERS_CREATE, Permission.WORK_ORDERS_TRANSITION},
    # An API key's permissions are its scopes, chosen when it is created.
    Role.INTEGRATION: frozenset(),
}

# Scopes an API key may be given: everything but managing people and keys.
GRANTABLE_SCOPES = _ALL - {
    Permission.TENANT_MANAGE,
    Permission.USERS_WRITE,
    Permission.API_KEYS_MANAGE,
    Permission.SYNC_DEVICES_MANAGE,  # retiring a device locks a person out, like managing users
    Permission.SELF,
    Permission.LIVE_CONSOLE,
}

PERSON_ROLES = (Role.ADMIN, Role.DISPATCHER, Role.TECHNICIAN, Role.CUSTOMER_CONTACT)
