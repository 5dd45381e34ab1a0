"""Authentication use cases: log in, refresh, log out, revoke, and identify a caller.

Refresh tokens rotate on every use. A technician's phone holds one session per
``device_id``: logging in again on the same device replaces the old session.

Renewing is idempotent for a short grace period (``AuthSettings.refresh_grace``):
a refresh token's successor is derived from it (:func:`tokens.successor_secret`),
so presenting a just-rotated token again, as two browser tabs sharing one cookie
do when both find their access token expired, returns the same successor instead
of ending the session. Renewals of one token are serialised by locking its row.
A spent token presented after the grace period, or after its successor was spent
in turn, is reuse: the session is revoked.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, select, update

from api.auth import errors, tokens
from api.auth.actor import Actor
from api.auth.models import ApiKey, AuthSession, RefreshToken
from api.auth.passwords import verify_password
from api.auth.permissions import Permission, Role
from api.auth.session_cache import SessionCache, SessionIdentity
from api.customers.models import Contact
from api.db import UnitOfWork, UnitOfWorkFactory, utcnow
from api.technicians.models import Technician
from api.tenants.services import get_tenant_by_slug
from api.users.models import User


@dataclass(frozen=True)
class AuthSettings:
    secret_key: str
    access_ttl: timedelta = timedelta(minutes=15)
    refresh_ttl: timedelta = timedelta(days=30)
    # How long a rotated refresh token still yields its (same) successor: the gap
    # between two tabs' renewals is a round trip, a thief's replay comes later.
    refresh_grace: timedelta = timedelta(seconds=30)
    clock: Callable[[], datetime] = utcnow


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: uuid.UUID
    user: User


@dataclass(frozen=True)
class LoginCommand:
    tenant: str
    email: str
    password: str
    device_id: str | None = None
    user_agent: str | None = None


def log_in(uow: UnitOfWork, settings: AuthSettings, cmd: LoginCommand) -> IssuedTokens:
    with uow:
        session = uow.session
        tenant = get_tenant_by_slug(session, cmd.tenant)
        user = None
        if tenant is not None:
            user = session.scalars(
                select(User).where(User.tenant_id == tenant.id, User.email == cmd.email.lower())
            ).one_or_none()
        password_ok = verify_password(user.password_hash if user else None, cmd.password)
        if user is None or not password_ok or not user.active:
            raise errors.InvalidCredentials()
        if cmd.device_id:
            session.execute(
                update(AuthSession)
                .where(
                    AuthSession.user_id == user.id,
                    AuthSession.device_id == cmd.device_id,
                    AuthSession.revoked_at.is_(None),
                )
                .values(revoked_at=utcnow(), revoked_reason="replaced")
            )
        auth_session = AuthSession(
            tenant_id=user.tenant_id,
            user_id=user.id,
            device_id=cmd.device_id,
            user_agent=(cmd.user_agent or "")[:300] or None,
            expires_at=utcnow() + settings.refresh_ttl,
        )
        session.add(auth_session)
        session.flush()  # the session row needs its id before the tokens can name it
        refresh_secret = tokens.new_secret()
        _store_refresh_token(uow, auth_session, refresh_secret)
        issued = _issue(uow, settings, user, auth_session, refresh_secret)
        uow.commit()
        return issued


def refresh(uow: UnitOfWork, settings: AuthSettings, refresh_token: str) -> IssuedTokens:
    with uow:
        session = uow.session
        now = settings.clock()
        # The row lock makes concurrent renewals of one token take turns (PostgreSQL;
        # SQLite's write transactions begin IMMEDIATE, which serialises them anyway).
        stored = session.get(RefreshToken, tokens.digest(refresh_token), with_for_update=True)
        if stored is None:
            raise errors.InvalidRefreshToken()
        auth_session = session.get(AuthSession, stored.session_id)
        if auth_session is None or auth_session.revoked_at is not None:
            raise errors.InvalidRefreshToken()
        successor = tokens.successor_secret(refresh_token, settings.secret_key)
        if stored.used_at is not None and not _renewed_within_grace(
            uow, settings, stored.used_at, successor, now
        ):
            auth_session.revoked_at = now
            auth_session.revoked_reason = "refresh_token_reused"
            uow.commit()  # the revocation must stick even though the call fails
            raise errors.RefreshTokenReused()
        user = session.get(User, auth_session.user_id)
        if auth_session.expires_at <= now or user is None or not user.active:
            raise errors.InvalidRefreshToken()
        if stored.used_at is None:
            stored.used_at = now
            auth_session.last_used_at = now
            auth_session.expires_at = now + settings.refresh_ttl
            _store_refresh_token(uow, auth_session, successor)
        issued = _issue(uow, settings, user, auth_session, successor)
        uow.commit()
        return issued


def _renewed_within_grace(
    uow: UnitOfWork, settings: AuthSettings, used_at: datetime, successor: str, now: datetime
) -> bool:
    """True if a spent token may renew again: it was rotated moments ago and its
    successor is still unspent (so this is the other tab, not a later replay)."""
    if now - used_at > settings.refresh_grace:
        return False
    issued = uow.session.get(RefreshToken, tokens.digest(successor))
    return issued is not None and issued.used_at is None


def revoke_session(uow: UnitOfWork, actor: Actor, session_id: uuid.UUID, reason: str) -> None:
    """Revoke one of the actor's own sessions (admins may revoke anyone's in their tenant)."""
    with uow:
        auth_session = uow.session.get(AuthSession, session_id)
        visible = auth_session is not None and auth_session.tenant_id == actor.tenant_id
        if visible and actor.role is not Role.ADMIN:
            visible = auth_session is not None and auth_session.user_id == actor.user_id
        if auth_session is None or not visible:
            raise errors.SessionNotFound()
        if auth_session.revoked_at is None:
            auth_session.revoked_at = utcnow()
            auth_session.revoked_reason = reason
        uow.commit()


def list_sessions(uow: UnitOfWork, actor: Actor) -> list[AuthSession]:
    with uow:
        return list(
            uow.session.scalars(
                select(AuthSession)
                .where(
                    AuthSession.tenant_id == actor.tenant_id,
                    AuthSession.user_id == actor.user_id,
                    AuthSession.revoked_at.is_(None),
                )
                .order_by(AuthSession.created_at.desc())
            )
        )


def _store_refresh_token(uow: UnitOfWork, auth_session: AuthSession, secret: str) -> None:
    uow.session.add(
        RefreshToken(
            tenant_id=auth_session.tenant_id,
            token_hash=tokens.digest(secret),
            session_id=auth_session.id,
        )
    )


def _issue(
    uow: UnitOfWork,
    settings: AuthSettings,
    user: User,
    auth_session: AuthSession,
    refresh_secret: str,
) -> IssuedTokens:
    """A fresh access token for the session, handed out with ``refresh_secret``."""
    session = uow.session
    technician_id = customer_id = None
    if user.role is Role.TECHNICIAN:
        technician_id = session.scalars(
            select(Technician.id).where(Technician.user_id == user.id)
        ).first()
    elif user.role is Role.CUSTOMER_CONTACT:
        customer_id = session.scalars(
            select(Contact.customer_id).where(Contact.user_id == user.id)
        ).first()
    claims = tokens.AccessClaims(
        user_id=user.id,
        tenant_id=user.tenant_id,
        session_id=auth_session.id,
        role=user.role,
        technician_id=technician_id,
        customer_id=customer_id,
    )
    access, _ = tokens.mint_access_token(claims, settings.secret_key, settings.access_ttl)
    return IssuedTokens(
        access_token=access,
        refresh_token=refresh_secret,
        expires_in=int(settings.access_ttl.total_seconds()),
        session_id=auth_session.id,
        user=user,
    )


def identify(
    uows: UnitOfWorkFactory,
    settings: AuthSettings,
    bearer: str,
    reader: Callable[[], Connection] | None = None,
    sessions: SessionCache | None = None,
) -> Actor | None:
    """The actor behind a bearer credential (access token or API key), or None.

    ``reader`` gives the read-only connection to check the session on (the
    request's, which its view reuses); without it one is checked out here.
    ``sessions`` (PostgreSQL only) spares that check for a session seen live lately;
    see :mod:`api.auth.session_cache` for when a revocation takes effect.
    """
    parsed_key = tokens.parse_api_key(bearer)
    if parsed_key is not None:
        return _identify_api_key(uows(), *parsed_key)
    claims = tokens.read_access_token(bearer, settings.secret_key)
    if claims is None:
        return None
    identity = None if sessions is None else sessions.lookup(claims.session_id, claims.user_id)
    if identity is None:
        generation = sessions.generation() if sessions is not None else None
        if reader is None:
            with uows.read_connection() as connection:
                identity = _live_identity(connection, claims)
        else:
            identity = _live_identity(reader(), claims)
        if identity is None:
            return None
        if sessions is not None:
            sessions.remember(generation, claims.session_id, claims.user_id, identity)
    # Only the user and session come from the token: the signature proves who logged
    # in, the rows say what they may do today. A token re-signed with another
    # tenant's id or a higher role (a leaked key) gains nothing.
    return Actor(
        tenant_id=identity.tenant_id,
        role=identity.role,
        user_id=claims.user_id,
        session_id=claims.session_id,
        technician_id=identity.technician_id,
        customer_id=identity.customer_id,
    )


# Runs on every authenticated request, so it is built once: a prebuilt Core
# statement skips building expressions and its cache key, and returns plain rows.
_SESSION_STATE = (
    select(
        AuthSession.revoked_at,
        User.active,
        User.tenant_id,
        User.role,
        Technician.id.label("technician_id"),
        Contact.customer_id,
    )
    .join(User, (User.id == AuthSession.user_id) & (User.tenant_id == AuthSession.tenant_id))
    .outerjoin(Technician, Technician.user_id == User.id)
    .outerjoin(Contact, Contact.user_id == User.id)
    .where(AuthSession.id == bindparam("session_id"), AuthSession.user_id == bindparam("user_id"))
)


def _live_identity(connection: Connection, claims: tokens.AccessClaims) -> SessionIdentity | None:
    """The identity of the token's session if it is live, else None.

    Checked on every request, so revoking a session (or deactivating its user)
    stops its access tokens at once, and a change of role or link takes effect on
    the next request.
    """
    return session_identity(connection, claims.session_id, claims.user_id)


def session_identity(
    connection: Connection, session_id: uuid.UUID, user_id: uuid.UUID
) -> SessionIdentity | None:
    """Who the login session acts as today, or None if it is revoked, its user is
    inactive or it never existed: for credentials other than access tokens that name a
    session (the live streams' tickets, checked on every connect and while open)."""
    try:
        row = connection.execute(
            _SESSION_STATE, {"session_id": session_id, "user_id": user_id}
        ).one_or_none()
    finally:
        # End the lookup's transaction (a no-op under PostgreSQL's autocommit reads),
        # so a view reading on this connection starts from a fresh snapshot on SQLite.
        connection.rollback()
    if row is None or row.revoked_at is not None or not row.active:
        return None
    role = Role(row.role)
    return SessionIdentity(
        tenant_id=row.tenant_id,
        role=role,
        technician_id=row.technician_id if role is Role.TECHNICIAN else None,
        customer_id=row.customer_id if role is Role.CUSTOMER_CONTACT else None,
    )


def _identify_api_key(uow: UnitOfWork, key_id: uuid.UUID, secret: str) -> Actor | None:
    with uow:
        key = uow.session.get(ApiKey, key_id)
        if (
            key is None
            or key.revoked_at is not None
            or not tokens.same_digest(secret, key.secret_hash)
        ):
            return None
        if key.expires_at is not None and key.expires_at <= utcnow():
            return None
        if key.last_used_at is None or utcnow() - key.last_used_at > timedelta(minutes=1):
            key.last_used_at = utcnow()  # throttled: a write per request would serialise reads
            uow.commit()
        return Actor(
            tenant_id=key.tenant_id,
            role=Role.INTEGRATION,
            api_key_id=key.id,
            scopes=frozenset(Permission(s) for s in key.scopes),
        )
