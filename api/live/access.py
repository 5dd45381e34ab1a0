"""Who may watch what: the stream server's checks, run on every connect and reconnect.

- **Console** (``/live/console?ticket=…``): the ticket's login session must be
  live and its user a dispatcher or admin of the ticket's tenant, read from the
  database now (:func:`api.auth.services.session_identity`), not from the ticket.
  :meth:`StreamAccess.still_allowed` asks again for every open console stream
  while it lives, so a logout or a demotion ends the stream too.
- **Tracking** (``/live/t/<token>``): the token must open its link
  (:func:`api.tracking.links.open_link`: unknown, expired, revoked are one 404),
  counted by the tracking page's rate limit when the stream opens. What it sends
  is :func:`api.tracking.page.view`, the very data ``/v1/tracking/<token>``
  answers, so the public rules (first name only, position only while on the
  way) hold by construction; each refresh opens the link again.

These are plain functions over a unit of work; the asyncio server runs them on
its thread pool.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from api.auth.permissions import Role
from api.auth.services import session_identity
from api.db import UnitOfWorkFactory
from api.http.ratelimit import RateLimiter
from api.live import tickets
from api.live.errors import NotForConsole, TicketInvalid
from api.tracking import links, page
from api.tracking.schemas import TrackingSchema
from api.workorders.states import Status
from dispatch.routing import Router

FINISHED = frozenset({Status.COMPLETED, Status.CLOSED, Status.CANCELLED})
_SCHEMA = TrackingSchema()


@dataclass(frozen=True)
class ConsoleGrant:
    tenant_id: uuid.UUID
    session_id: uuid.UUID
    user_id: uuid.UUID


@dataclass(frozen=True)
class TrackingView:
    """One reading of a tracking link: the public body, and what the server needs to
    route changes to it (never sent)."""

    tenant_id: uuid.UUID
    work_order_id: uuid.UUID
    technician_id: uuid.UUID | None
    finished: bool
    body: dict[str, Any]


class StreamAccess:
    def __init__(
        self,
        uows: UnitOfWorkFactory,
        secret: str,
        tracking_limiter: RateLimiter,
        public_url: str,
        router: Router | None = None,
    ) -> None:
        self._uows = uows
        self._secret = secret
        self._limiter = tracking_limiter
        self.public_url = public_url  # "": the address the stream was opened at
        self._router = router

    def open_console(self, ticket: str | None) -> ConsoleGrant:
        claims = tickets.read(ticket, self._secret) if ticket else None
        if claims is None:
            raise TicketInvalid()
        grant = ConsoleGrant(claims.tenant_id, claims.session_id, claims.user_id)
        if not self.still_allowed([grant]):
            raise NotForConsole() if self._session_live(grant) else TicketInvalid()
        return grant

    def still_allowed(self, grants: Iterable[ConsoleGrant]) -> set[ConsoleGrant]:
        """The grants whose session is still live as a dispatcher or admin of its tenant."""
        allowed = set()
        with self._uows.read_connection() as connection:
            for grant in set(grants):
                identity = session_identity(connection, grant.session_id, grant.user_id)
                if (
                    identity is not None
                    and identity.tenant_id == grant.tenant_id
                    and identity.role in (Role.ADMIN, Role.DISPATCHER)
                ):
                    allowed.add(grant)
        return allowed

    def _session_live(self, grant: ConsoleGrant) -> bool:
        with self._uows.read_connection() as connection:
            return session_identity(connection, grant.session_id, grant.user_id) is not None

    def open_tracking(
        self, token: str, language: str | None, address: str, public_url: str
    ) -> TrackingView:
        """The first reading of a stream, counted like a page view."""
        links.check_shape(token)
        self._limiter.hit(f"tracking-token:{token}", f"tracking-ip:{address}")
        return self.read_tracking(token, language, public_url)

    def read_tracking(self, token: str, language: str | None, public_url: str) -> TrackingView:
        """The link's public view now; ``tracking.link_not_found`` once it no longer opens."""
        with self._uows.reader() as uow:
            body = page.view(uow.session, token, language, public_url, self._router)
            _, order = links.open_link(uow.session, token)
            return TrackingView(
                tenant_id=order.tenant_id,
                work_order_id=order.id,
                technician_id=order.assignee_id,
                finished=order.status in FINISHED,
                body=_SCHEMA.dump(body),
            )
