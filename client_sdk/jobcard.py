"""What a technician reads about a job before going: who, where, how urgent, when.

Also how people name orders when they type: by the number printed on the job
sheet, in full (``WO-000220``) or just its digits (``220``), as well as by ID.
Everything here reads the device's replica, so it works offline.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from client_sdk.replica import Replica
from client_sdk.view import OrderView
from sync_protocol.entities import Table
from sync_protocol.errors import JSONValue
from sync_protocol.workorder_status import Status

# Work that is over for the technician: ``jobs`` leaves it out unless asked (or unsynced).
FINISHED = frozenset({Status.COMPLETED, Status.CLOSED, Status.CANCELLED})

_NUMBER = re.compile(r"^([A-Za-z]*)-?0*(\d+)$")  # WO-000220, wo-220, 000220, 220


def same_number(number: JSONValue, typed: str) -> bool:
    """Whether ``typed`` names the order numbered ``number``: the number itself (any
    case), or its digits without leading zeros, with or without the prefix."""
    typed = typed.strip()
    if not isinstance(number, str) or not typed:
        return False
    if number.casefold() == typed.casefold():
        return True
    ours, theirs = _NUMBER.match(number), _NUMBER.match(typed)
    if ours is None or theirs is None:
        return False
    if theirs.group(1) and theirs.group(1).casefold() != ours.group(1).casefold():
        return False  # "XY-220" is not "WO-000220"
    return int(ours.group(2)) == int(theirs.group(2))


@dataclass(frozen=True)
class JobCard:
    """The order's customer, place, priority and schedule, as far as the device knows."""

    customer: str | None
    contact: str | None  # the customer's primary contact (else the first), with a phone
    site: str | None
    address: str | None
    access_notes: str | None
    priority: str | None
    scheduled_start: str | None
    scheduled_end: str | None
    timezone: str | None

    def to_json(self) -> dict[str, JSONValue]:
        return dict(asdict(self))

    def lines(self) -> list[str]:
        rows = [
            ("Customer", self.customer),
            ("Contact", self.contact),
            ("Site", self.site),
            ("Address", self.address),
            ("Access", self.access_notes),
            ("Priority", self.priority),
            ("Schedule", self.schedule()),
        ]
        return [f"  {label + ':':<10} {value}" for label, value in rows if value]

    def schedule(self) -> str:
        """The scheduled window in the site's local time (where the technician will be)."""
        if not self.scheduled_start and not self.scheduled_end:
            return "not scheduled yet"
        zone = _zone(self.timezone)
        start = _local(self.scheduled_start, zone)
        end = _local(self.scheduled_end, zone)
        if start and end and start[:10] == end[:10]:
            end = end[11:]
        window = " – ".join(part for part in (start, end) if part)
        return f"{window} ({zone.key})" if zone else f"{window} UTC"


def job_card(replica: Replica, view: OrderView) -> JobCard:
    row = view.row or {}
    customer = _row(replica, Table.CUSTOMERS, row.get("customer_id"))
    site = _row(replica, Table.SITES, row.get("site_id"))
    address = " ".join(str(site[k]) for k in ("city", "address") if site.get(k)) or None
    return JobCard(
        customer=_text(customer.get("name")),
        contact=_contact(replica, row.get("customer_id")),
        site=_text(site.get("name")),
        address=address,
        access_notes=_text(site.get("access_notes")),
        priority=_text(row.get("priority")),
        scheduled_start=_text(row.get("scheduled_start")),
        scheduled_end=_text(row.get("scheduled_end")),
        timezone=_text(site.get("timezone")),
    )


def _contact(replica: Replica, customer_id: JSONValue) -> str | None:
    contacts = [
        r.row
        for r in replica.rows(Table.CONTACTS)
        if r.row is not None and r.row.get("customer_id") == customer_id
    ]
    if not contacts:
        return None
    best = min(contacts, key=lambda c: (not c.get("is_primary"), str(c.get("name") or "")))
    parts = (best.get("name"), best.get("job_title"), best.get("phone"))
    return " ".join(str(p) for p in parts if p) or None


def _row(replica: Replica, table: Table, ident: JSONValue) -> Mapping[str, JSONValue]:
    if not isinstance(ident, str):
        return {}
    stored = replica.get(table, ident)
    return stored.row if stored is not None and stored.row is not None else {}


def _text(value: JSONValue) -> str | None:
    return value if isinstance(value, str) and value else None


def _zone(name: str | None) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _local(stamp: str | None, zone: ZoneInfo | None) -> str | None:
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    return (moment.astimezone(zone) if zone else moment).strftime("%Y-%m-%d %H:%M")
