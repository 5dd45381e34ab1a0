"""The demo company's customers: contacts, sites with addresses, barcoded assets.

Three customers have a contact who logs in (``contact01..03@demo.fieldline.dev``).
Every asset carries a unique barcode: mostly QR or Code 128 labels
(``FL-A-000123``), and some manufacturer EAN-13 codes with valid check digits.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from api.assets.models import Asset, Symbology
from api.auth.permissions import Role
from api.customers.models import Contact, Customer, CustomerTier
from api.db import new_id
from api.demo.context import DemoContext
from api.demo.data import (
    ACCESS_NOTES,
    CONTACT_PHONE_PREFIXES,
    CONTACT_TITLES,
    CUSTOMERS,
    SITE_SUFFIXES,
    CustomerSeed,
)
from api.demo.equipment import EQUIPMENT, KIND_EQUIPMENT
from api.demo.logins import LOGIN_CONTACT_NAMES, contact_email
from api.sites.models import Site
from api.users.models import User

# Customers (by position in the table) whose first contact logs in: an office
# tower, a shopping mall and a hospital, all VIPs with plenty of work.
LOGIN_CUSTOMERS = (0, 3, 4)
VIP_PROMISE = "VIP客户：2小时响应，4小时到场 / VIP: response within 2 h, on site within 4 h"


@dataclass
class SiteBundle:
    site: Site
    assets: list[tuple[Asset, str]] = field(default_factory=list)  # (asset, equipment key)


@dataclass
class Account:
    customer: Customer
    seed: CustomerSeed
    sites: list[SiteBundle]
    login: User | None  # the contact who logs in, if any


def build_accounts(ctx: DemoContext) -> list[Account]:
    labels = itertools.count(1)  # asset label numbers, unique in the tenant
    accounts = []
    for index, seed in enumerate(CUSTOMERS):
        customer = _customer(ctx, index, seed)
        login = None
        if index in LOGIN_CUSTOMERS:
            login = _login_contact(ctx, customer, LOGIN_CUSTOMERS.index(index) + 1)
        for n in range(ctx.rng.randint(1, 3) - (login is not None)):
            _contact(ctx, customer, primary=login is None and n == 0)
        sites = [
            _site(ctx, customer, seed, suffix, labels)
            for suffix in _site_suffixes(ctx, seed, vip=customer.tier is CustomerTier.VIP)
        ]
        accounts.append(Account(customer, seed, sites, login))
    return accounts


def _customer(ctx: DemoContext, index: int, seed: CustomerSeed) -> Customer:
    name, name_en = seed.name
    return ctx.add(
        Customer(
            id=new_id(),
            tenant_id=ctx.tenant_id,
            code=f"C{index + 1:03d}",
            name=name,
            name_en=name_en,
            tier=CustomerTier.VIP if seed.vip else CustomerTier.STANDARD,
            phone=f"021-{ctx.rng.randint(5000_0000, 6999_9999)}",
            email=f"service@customer{index + 1:02d}.example.com",
            notes=VIP_PROMISE if seed.vip else None,
        )
    )


def _login_contact(ctx: DemoContext, customer: Customer, number: int) -> User:
    name, name_en = LOGIN_CONTACT_NAMES[number - 1]
    ctx.reserve_name(name)
    email = contact_email(number)
    user = ctx.add(
        User(
            id=new_id(),
            tenant_id=ctx.tenant_id,
            email=email,
            name=name,
            role=Role.CUSTOMER_CONTACT,
            password_hash=ctx.password_hash,  # the shared hash: see staff._user
            locale="zh-CN",
        )
    )
    ctx.add(
        Contact(
            id=new_id(),
            tenant_id=ctx.tenant_id,
            customer_id=customer.id,
            name=name,
            name_en=name_en,
            job_title=CONTACT_TITLES[0][0],
            phone=ctx.mobile("139"),
            email=email,
            is_primary=True,
            user_id=user.id,
        )
    )
    return user


def _contact(ctx: DemoContext, customer: Customer, *, primary: bool) -> None:
    name, name_en = ctx.person()
    handle = name_en.lower().replace(" ", ".")
    ctx.add(
        Contact(
            id=new_id(),
            tenant_id=ctx.tenant_id,
            customer_id=customer.id,
            name=name,
            name_en=name_en,
            job_title=ctx.rng.choice(CONTACT_TITLES)[0],
            phone=ctx.mobile(ctx.rng.choice(CONTACT_PHONE_PREFIXES)),
            email=f"{handle}@{(customer.code or 'c').lower()}.example.com",
            is_primary=primary,
        )
    )


def _site_suffixes(ctx: DemoContext, seed: CustomerSeed, *, vip: bool) -> list[tuple[str, str]]:
    options = SITE_SUFFIXES[seed.kind]
    count = ctx.rng.randint(2, 3) if vip else ctx.rng.choice((1, 1, 2, 3))
    return list(options[: min(len(options), count)])


def _site(
    ctx: DemoContext,
    customer: Customer,
    seed: CustomerSeed,
    suffix: tuple[str, str],
    labels: Iterator[int],
) -> SiteBundle:
    lat, lon = ctx.point(seed.district)
    address, address_en = ctx.street_address(seed.district)
    notes = ctx.rng.choice(ACCESS_NOTES) if ctx.rng.random() < 0.7 else None
    site = ctx.add(
        Site(
            id=new_id(),
            tenant_id=ctx.tenant_id,
            customer_id=customer.id,
            name=f"{seed.core}{suffix[0]}",
            name_en=f"{seed.core_en}{suffix[1]}",
            address=address,
            address_en=address_en,
            city="上海",
            lat=lat,
            lon=lon,
            access_notes=f"{notes[0]} / {notes[1]}" if notes else None,
        )
    )
    kinds = KIND_EQUIPMENT[seed.kind]
    weights = [len(kinds) - i for i in range(len(kinds))]  # typical equipment more often
    picked = ctx.rng.choices(kinds, weights=weights, k=ctx.rng.randint(2, 6))
    numbers: Counter[str] = Counter()
    bundle = SiteBundle(site)
    for kind in sorted(picked, key=kinds.index):
        numbers[kind] += 1
        bundle.assets.append((_asset(ctx, site, kind, numbers[kind], next(labels)), kind))
    return bundle


def _asset(ctx: DemoContext, site: Site, kind: str, number: int, label: int) -> Asset:
    rng = ctx.rng
    spec = EQUIPMENT[kind]
    manufacturer, models = rng.choice(spec.makes)
    installed = ctx.today - timedelta(days=rng.randint(200, 4000))
    value, symbology = _barcode(rng.random(), label)
    return ctx.add(
        Asset(
            id=new_id(),
            tenant_id=ctx.tenant_id,
            site_id=site.id,
            customer_id=site.customer_id,
            name=f"{number}号{spec.name}",
            name_en=f"{spec.name_en} No. {number}",
            manufacturer=manufacturer,
            model=rng.choice(models),
            serial_number=f"{spec.serial_prefix}{installed.year}{rng.randint(100000, 999999)}",
            barcode_value=value,
            barcode_symbology=symbology,
            installed_on=installed,
            warranty_ends_on=installed + timedelta(days=365 * rng.choice((2, 3, 5))),
        )
    )


def _barcode(draw: float, label: int) -> tuple[str, Symbology]:
    """Our own labels (QR or Code 128), or the maker's EAN-13 for about one in ten."""
    if draw < 0.1:
        return ean13(f"693{label:09d}"), Symbology.EAN_13  # 690-699: GS1 China
    return f"FL-A-{label:06d}", Symbology.QR if draw < 0.7 else Symbology.CODE_128


def ean13(first12: str) -> str:
    """Append the EAN-13 check digit (weights 1,3,1,3… from the left)."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)
