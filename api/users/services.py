"""User use cases: create people who log in, link them to a technician or a
customer contact, change roles and passwords, deactivate.

Changing a user's role or deactivating them revokes their sessions, so the old
powers do not live on in an access token.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.audit.changes import apply_changes, snapshot
from api.auth.actor import Actor, system_actor
from api.auth.models import AuthSession
from api.auth.passwords import hash_password
from api.auth.permissions import Role
from api.customers.models import Contact
from api.customers.queries import access_contact
from api.db import UnitOfWork, utcnow
from api.db.checks import check_version, ensure_unused_id
from api.errors.base import FieldProblem
from api.errors.common import ValidationFailed
from api.push import vapid
from api.technicians.models import Technician
from api.tenants.services import create_tenant, tenant_locale
from api.users.errors import EmailTaken, WeakPassword
from api.users.models import User
from api.users.queries import access_user

USER_FIELDS = frozenset({"email", "name", "role", "locale", "active", "manager"})
# Who may be a tenant manager (the escalation target "the managers"): people of the office.
MANAGER_ROLES = (Role.ADMIN, Role.DISPATCHER)
MIN_PASSWORD_LENGTH = 10


def create_user(uow: UnitOfWork, actor: Actor, data: Mapping[str, Any]) -> User:
    with uow:
        user = _add_user(uow.session, actor, data)
        uow.commit()
        return user


def create_tenant_with_admin(
    uow: UnitOfWork,
    *,
    slug: str,
    name: str,
    admin_email: str,
    admin_password: str,
    admin_name: str = "Admin",
    locale: str = "zh-CN",
    secret: str | None = None,
) -> User:
    """Bootstrap a tenant and its first admin (CLI and tests); ``locale`` is the tenant's.

    With the app ``secret``, the tenant's Web Push VAPID key is made now, so reading
    it later never writes (tenants made without one get theirs on first read)."""
    with uow:
        tenant = create_tenant(uow.session, slug=slug, name=name, locale=locale)
        if secret is not None:
            vapid.tenant_key(uow.session, tenant.id, secret)
        admin = _add_user(
            uow.session,
            system_actor(tenant.id),
            {
                "email": admin_email,
                "name": admin_name,
                "role": Role.ADMIN,
                "password": admin_password,
            },
        )
        uow.commit()
        return admin


def update_user(
    uow: UnitOfWork,
    actor: Actor,
    user_id: uuid.UUID,
    expected_version: int,
    changes: Mapping[str, Any],
) -> User:
    with uow:
        session = uow.session
        user = access_user(session, actor, user_id)
        check_version(user, expected_version)
        fields = dict(changes)
        password = fields.pop("password", None)
        if "email" in fields:
            fields["email"] = fields["email"].strip().lower()
            if fields["email"] != user.email:
                _ensure_email_free(session, actor.tenant_id, fields["email"])
        diff = apply_changes(user, fields, USER_FIELDS)
        _check_manager(user)
        if password is not None:
            _check_password(password)
            user.password_hash = hash_password(password)
            diff["password"] = {"before": "[REDACTED]", "after": "[REDACTED]"}
        if {"role", "active", "password"} & diff.keys():
            _revoke_sessions(session, user.id, "credentials_changed")
        audit.record(session, actor, "update", "user", user.id, diff)
        uow.commit()
        return user


def deactivate_login(session: Session, actor: Actor, user_id: uuid.UUID) -> bool:
    """Deactivate the user a person's record logs in as (a technician who leaves), in
    the caller's unit of work, exactly as deactivating the user would: sessions
    revoked, audited. False if it was inactive already (or is not in the tenant)."""
    user = session.scalars(
        select(User).where(User.id == user_id, User.tenant_id == actor.tenant_id)
    ).one_or_none()
    if user is None or not user.active:
        return False
    diff = apply_changes(user, {"active": False}, USER_FIELDS)
    _revoke_sessions(session, user.id, "credentials_changed")
    audit.record(session, actor, "update", "user", user.id, diff)
    return True


def _add_user(session: Session, actor: Actor, data: Mapping[str, Any]) -> User:
    email = data["email"].strip().lower()
    ensure_unused_id(session, User, data.get("id"))
    _ensure_email_free(session, actor.tenant_id, email)
    _check_password(data["password"])
    role = Role(data["role"])
    user = User(
        tenant_id=actor.tenant_id,
        email=email,
        name=data["name"],
        role=role,
        # Unless the user chose one, they speak their company's language.
        locale=data.get("locale") or tenant_locale(session, actor.tenant_id),
        password_hash=hash_password(data["password"]),
        manager=bool(data.get("manager", False)),
    )
    _check_manager(user)
    if data.get("id"):
        user.id = data["id"]
    session.add(user)
    session.flush()  # the user id is needed to link a technician or contact
    _link(session, actor, user, data)
    audit.record(
        session, actor, "create", "user", user.id, snapshot(user, USER_FIELDS - {"active"})
    )
    return user


def _link(session: Session, actor: Actor, user: User, data: Mapping[str, Any]) -> None:
    """Technicians and customer contacts log in as a user linked to their record."""
    if user.role is Role.TECHNICIAN:
        technician_id = data.get("technician_id")
        technician = (
            technician_id
            and session.scalars(
                select(Technician).where(
                    Technician.id == technician_id, Technician.tenant_id == actor.tenant_id
                )
            ).one_or_none()
        )
        if not technician or technician.user_id not in (None, user.id):
            raise ValidationFailed(
                errors=[
                    FieldProblem(
                        "technician_id", "invalid", "Needs an unlinked technician of this tenant"
                    )
                ]
            )
        technician.user_id = user.id
    elif user.role is Role.CUSTOMER_CONTACT:
        contact_id = data.get("contact_id")
        contact: Contact | None = None
        if contact_id:
            contact = access_contact(session, actor, contact_id) if actor.is_office else None
        if contact is None or contact.user_id not in (None, user.id):
            raise ValidationFailed(
                errors=[
                    FieldProblem(
                        "contact_id", "invalid", "Needs an unlinked contact of this tenant"
                    )
                ]
            )
        contact.user_id = user.id


def _check_manager(user: User) -> None:
    if user.manager and user.role not in MANAGER_ROLES:
        raise ValidationFailed(
            errors=[FieldProblem("manager", "not_allowed", "Only admins and dispatchers manage")]
        )


def _ensure_email_free(session: Session, tenant_id: uuid.UUID, email: str) -> None:
    if session.scalar(select(exists().where(User.tenant_id == tenant_id, User.email == email))):
        raise EmailTaken()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH or password.isdigit() or password.isalpha():
        raise WeakPassword(
            f"Use at least {MIN_PASSWORD_LENGTH} characters mixing letters with digits or symbols",
            errors=[FieldProblem("password", "too_weak", "")],
        )


def _revoke_sessions(session: Session, user_id: uuid.UUID, reason: str) -> None:
    session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
