"""Tenant use cases: creating a tenant with its first admin, allocating numbers."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.tenants.models import Tenant, TenantCounter


def next_number(session: Session, tenant_id: uuid.UUID, name: str) -> int:
    """Allocate the next value of a per-tenant counter inside the caller's transaction.

    The UPDATE takes a row lock (PostgreSQL) or the write lock (SQLite), so two
    concurrent transactions can never get the same number.
    """
    result = session.execute(
        update(TenantCounter)
        .where(TenantCounter.tenant_id == tenant_id, TenantCounter.name == name)
        .values(value=TenantCounter.value + 1)
        .returning(TenantCounter.value)
    ).scalar_one_or_none()
    if result is not None:
        return result
    session.add(TenantCounter(tenant_id=tenant_id, name=name, value=1))
    session.flush()  # flush now: a concurrent first allocation must hit the primary key
    return 1


def tenant_locale(session: Session, tenant_id: uuid.UUID) -> str:
    """The tenant's language: every user's default."""
    locale = session.scalar(select(Tenant.locale).where(Tenant.id == tenant_id))
    return locale or "zh-CN"


def get_tenant_by_slug(session: Session, slug: str) -> Tenant | None:
    return session.scalars(select(Tenant).where(Tenant.slug == slug)).one_or_none()


def create_tenant(
    session: Session,
    *,
    slug: str,
    name: str,
    name_en: str | None = None,
    timezone: str = "Asia/Shanghai",
    locale: str = "zh-CN",
) -> Tenant:
    """A new, empty tenant; :func:`api.users.services.create_tenant_with_admin` adds its admin.

    ``locale`` is the language its users get unless they choose another.
    """
    tenant = Tenant(slug=slug, name=name, name_en=name_en, timezone=timezone, locale=locale)
    session.add(tenant)
    session.flush()  # the tenant id is needed by the rows the caller adds next
    return tenant
