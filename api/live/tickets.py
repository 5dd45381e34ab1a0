"""Stream tickets: a browser's ``EventSource`` cannot send an ``Authorization`` header.

A dispatcher's page asks the API for a ticket with its bearer token
(``POST /v1/live/tickets``) and opens ``/live/console?ticket=…``. The ticket is a
JWT signed with the server's secret that names only the login session and user,
and lives :data:`TICKET_TTL` — long enough to connect, short enough that a URL
left in a log is worthless. It is not the authority: the stream server checks
the session in the database on every connect and reconnect
(:func:`api.live.access.open_console`), and again while the stream lives.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from api.auth.actor import Actor
from api.db import utcnow
from api.live.errors import NotForConsole

TICKET_TTL = timedelta(seconds=60)
_ALGORITHM = "HS256"
_TYPE = "live"


@dataclass(frozen=True)
class Ticket:
    ticket: str
    expires_at: datetime


@dataclass(frozen=True)
class TicketClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    tenant_id: uuid.UUID


def issue(actor: Actor, secret: str, ttl: timedelta = TICKET_TTL) -> Ticket:
    """A ticket for the console stream of ``actor``'s tenant (dispatchers and admins
    signed in as people: an API key has no session to check again later)."""
    if not actor.is_office or actor.user_id is None or actor.session_id is None:
        raise NotForConsole()
    expires = utcnow() + ttl
    payload = {
        "typ": _TYPE,
        "sub": str(actor.user_id),
        "sid": str(actor.session_id),
        "tid": str(actor.tenant_id),
        "exp": int(expires.timestamp()),
    }
    return Ticket(jwt.encode(payload, secret, algorithm=_ALGORITHM), expires)


def read(ticket: str, secret: str) -> TicketClaims | None:
    """The ticket's claims, or None if it is forged, expired, malformed or another token."""
    try:
        payload = jwt.decode(
            ticket, secret, algorithms=[_ALGORITHM], options={"require": ["exp", "sub", "sid"]}
        )
        if payload.get("typ") != _TYPE:
            return None
        return TicketClaims(
            user_id=uuid.UUID(payload["sub"]),
            session_id=uuid.UUID(payload["sid"]),
            tenant_id=uuid.UUID(payload["tid"]),
        )
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        return None
