"""Loading (and reloading) the demo tenant in one transaction.

``fieldline demo`` calls :func:`load_demo`; it writes the ORM rows directly rather
than through the services (a few thousand rows, audited use cases would add
nothing a visitor needs) and commits once, so a failed load leaves nothing behind
and a reset either fully replaces the old demo or keeps it untouched.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from collections.abc import Callable

from sqlalchemy import Table, delete
from sqlalchemy.orm import Session

from api.auth.passwords import hash_password
from api.categories.models import Category
from api.db import UnitOfWorkFactory, utcnow
from api.demo.accounts import build_accounts
from api.demo.context import DemoContext
from api.demo.logins import DEMO_LOGINS, DEMO_PASSWORD, DEMO_SLUG
from api.demo.logins import print_logins as _print_logins
from api.demo.orders import build_work_orders
from api.demo.positions import build_positions
from api.demo.staff import build_staff
from api.demo.taxonomy import build_categories
from api.models import Base
from api.tenants.models import Tenant
from api.tenants.services import create_tenant, get_tenant_by_slug

__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "DEMO_SLUG", "load_demo", "print_logins"]

SEED = 20261125  # same seed, same people, places and orders on every load


def load_demo(uow_factory: UnitOfWorkFactory, *, reset: bool) -> str | None:
    """Create the demo tenant; ``None`` if it exists and ``reset`` is false.

    With ``reset`` the existing demo tenant and everything it owns is deleted
    first, in the same transaction.
    """
    started = time.perf_counter()
    with uow_factory() as uow:
        session = uow.session
        existing = get_tenant_by_slug(session, DEMO_SLUG)
        if existing is not None:
            if not reset:
                return None
            delete_tenant(session, existing.id)
        counts = _build(session)
        uow.commit()
    elapsed = time.perf_counter() - started
    return (
        f"demo tenant {DEMO_SLUG!r} loaded in {elapsed:.1f} s: "
        f"{counts['technicians']} technicians in {counts['teams']} teams, "
        f"{counts['customers']} customers ({counts['contacts']} contacts), "
        f"{counts['sites']} sites, {counts['assets']} assets, "
        f"{counts['categories']} categories, {counts['work_orders']} work orders "
        f"({counts['work_order_status_changes']} status changes, "
        f"{counts['work_order_notes']} notes), {counts['users']} users"
    )


def print_logins(echo: Callable[[str], object]) -> None:
    """Print each role's demo login (tenant, email, password)."""
    _print_logins(echo)


def delete_tenant(session: Session, tenant_id: uuid.UUID) -> None:
    """Delete a tenant and every row it owns, children before parents.

    Every ``tenant_id`` cascades from ``tenants``, but work orders and categories
    reference other tenant rows with ON DELETE RESTRICT, and a cascade visits
    tables in no guaranteed order; deleting table by table in reverse dependency
    order never trips a RESTRICT. This also clears the tenant's outbox messages,
    whose ``tenant_id`` is plain data: they would point at rows that are gone.
    """
    for table in reversed(Base.metadata.sorted_tables):
        if "tenant_id" not in table.c:
            continue
        if table is Category.__table__:
            _delete_categories(session, table, tenant_id)
        else:
            session.execute(delete(table).where(table.c.tenant_id == tenant_id))
    session.execute(delete(Tenant).where(Tenant.id == tenant_id))


def _delete_categories(session: Session, table: Table, tenant_id: uuid.UUID) -> None:
    # parent_id is RESTRICT too: leaves first, then their parents.
    for level in (3, 2, 1):
        session.execute(delete(table).where(table.c.tenant_id == tenant_id, table.c.level == level))


def _build(session: Session) -> Counter[str]:
    tenant = create_tenant(
        session,
        slug=DEMO_SLUG,
        name="申城机电服务有限公司",
        name_en="Shencheng M&E Services Co., Ltd.",
        timezone="Asia/Shanghai",
    )
    ctx = DemoContext(
        session=session,
        rng=random.Random(SEED),  # noqa: S311 - demo data, not secrets
        tenant_id=tenant.id,
        now=utcnow(),
        password_hash=hash_password(DEMO_PASSWORD),
    )
    staff = build_staff(ctx)
    accounts = build_accounts(ctx)
    categories = build_categories(ctx)
    build_work_orders(ctx, staff, accounts, categories)
    build_positions(ctx)
    return ctx.write()
