"""What the demo builders share: the seeded generator, the clock, and a row collector.

The models have no ``relationship()`` between most tables, so SQLAlchemy's unit of
work cannot order INSERTs across tables by foreign key. Builders therefore hand
their rows to :meth:`DemoContext.add`, and :meth:`DemoContext.write` adds them to the
session table by table in foreign-key order, one batched flush per table.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Table
from sqlalchemy.orm import Session

from api.db import Timestamped
from api.demo.data import DISTRICTS, GIVEN_NAMES, SURNAMES
from api.models import Base

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Customers, sites and staff "joined" this long before the load, well before any order.
ONBOARDED_DAYS_AGO = 180

T = TypeVar("T")


@dataclass
class DemoContext:
    session: Session
    rng: random.Random
    tenant_id: uuid.UUID
    now: datetime
    password_hash: str
    _rows: dict[Table, list[Any]] = field(default_factory=lambda: defaultdict(list))
    _used_names: set[str] = field(default_factory=set)
    _used_phones: set[str] = field(default_factory=set)

    @property
    def today(self) -> date:
        return self.now.astimezone(SHANGHAI).date()

    @property
    def onboarded_at(self) -> datetime:
        return self.now - timedelta(days=ONBOARDED_DAYS_AGO)

    def add(self, row: T, at: datetime | None = None) -> T:
        """Collect a row; timestamped rows default to the onboarding date, not load time."""
        if isinstance(row, Timestamped) and row.created_at is None:
            row.created_at = row.updated_at = at or self.onboarded_at
        self._rows[row.__table__].append(row)  # type: ignore[attr-defined]
        return row

    def collected(self, model: type[T]) -> list[T]:
        """The rows of ``model`` collected so far (not yet written)."""
        return list(self._rows.get(model.__table__, []))  # type: ignore[attr-defined]

    def write(self) -> Counter[str]:
        """Flush every collected row, parents before children; returns rows per table."""
        counts: Counter[str] = Counter()
        for table in Base.metadata.sorted_tables:
            rows = self._rows.pop(table, [])
            if rows:
                self.session.add_all(rows)
                self.session.flush()  # per table: see the module docstring
                counts[table.name] = len(rows)
        assert not self._rows, "a demo row's table is missing from the metadata"
        return counts

    def person(self) -> tuple[str, str]:
        """A (Chinese, pinyin) name not used before in this tenant."""
        while True:
            surname, surname_en = self.rng.choice(SURNAMES)
            given, given_en = self.rng.choice(GIVEN_NAMES)
            if surname + given not in self._used_names:
                self._used_names.add(surname + given)
                return surname + given, f"{surname_en} {given_en}"

    def reserve_name(self, name: str) -> None:
        self._used_names.add(name)

    def mobile(self, prefix: str) -> str:
        while True:
            number = f"{prefix}{self.rng.randrange(10**8):08d}"
            if number not in self._used_phones:
                self._used_phones.add(number)
                return number

    def point(self, district: str) -> tuple[float, float]:
        d = DISTRICTS[district]
        lat = d.lat + self.rng.uniform(-d.jitter, d.jitter)
        lon = d.lon + self.rng.uniform(-d.jitter, d.jitter)
        return round(lat, 6), round(lon, 6)

    def street_address(self, district: str) -> tuple[str, str]:
        d = DISTRICTS[district]
        road, road_en = self.rng.choice(d.roads)
        number = self.rng.randint(1, 2000)
        return f"上海市{d.name}{road}{number}号", f"No. {number} {road_en}, {d.name_en}, Shanghai"

    def minutes(self, low: int, high: int) -> timedelta:
        return timedelta(minutes=self.rng.randint(low, high))
