"""What a spatial search returns (:class:`Located`, :class:`Placed`) and the interface
both databases' indexes implement (:class:`SpatialIndex`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection

FIX = "fix"
HOME = "home"


@dataclass(frozen=True)
class Located:
    technician_id: uuid.UUID
    lat: float
    lon: float
    source: str  # FIX or HOME
    fixed_at: datetime | None  # the fix's time; None for a home base
    approx_m: float  # spherical distance to the query point


@dataclass(frozen=True)
class Placed:
    """A technician of the short list with the facts dispatch's rules read, from the
    same query as their position (:meth:`SpatialIndex.shortlist`)."""

    located: Located
    name: str
    active: bool
    certifications: Sequence[Mapping[str, Any]]
    working_hours: Mapping[str, Any]
    timezone: str
    skills: Mapping[str, int]
    open_orders: int  # their orders in one of the ``open_statuses``


class SpatialIndex(Protocol):
    def nearest(
        self,
        connection: Connection,
        tenant_id: uuid.UUID,
        lat: float,
        lon: float,
        *,
        fresh_since: datetime,
        limit: int,
        skill: tuple[str, int] | None = None,
    ) -> list[Located]:
        """The ``limit`` technicians nearest to (lat, lon) by effective position;
        with ``skill`` (name, minimum level), only active ones who have it."""
        ...

    def shortlist(
        self,
        connection: Connection,
        tenant_id: uuid.UUID,
        lat: float,
        lon: float,
        *,
        fresh_since: datetime,
        limit: int,
        open_statuses: Sequence[str],
    ) -> list[Placed]:
        """:meth:`nearest`, each with their facts (name, active, certifications,
        working hours, time zone, skills from the row's ``skill_levels``, and how many
        orders in ``open_statuses`` they hold), in one query."""
        ...

    def qualified(
        self,
        connection: Connection,
        tenant_id: uuid.UUID,
        lat: float,
        lon: float,
        *,
        fresh_since: datetime,
        limit: int,
        skills: Mapping[str, int],
        open_statuses: Sequence[str],
    ) -> list[Placed]:
        """The ``limit`` nearest technicians who are active and hold every skill of
        ``skills`` at its level (the row's ``skill_levels``), with their facts, as
        :meth:`shortlist` gives them: the index filters, so a rare skill costs no
        widening. Run on the database driver (plain rows, SQL text written once per
        number of skills): SQLAlchemy's per-statement work cost more than the query."""
        ...
