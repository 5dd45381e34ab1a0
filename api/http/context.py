"""What a view needs from the app: a fresh unit of work and the settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from api.auth.services import AuthSettings
from api.db import UnitOfWork, UnitOfWorkFactory


@dataclass
class FieldlineState:
    """Stored at ``app.extensions["fieldline"]``."""

    uow: UnitOfWorkFactory
    auth_settings: AuthSettings
    config: Any


def state() -> FieldlineState:
    return current_app.extensions["fieldline"]  # type: ignore[no-any-return]


def new_uow() -> UnitOfWork:
    """A unit of work for a service that writes."""
    return state().uow()


def read_uow() -> UnitOfWork:
    """A unit of work for a view that only reads (never commits)."""
    return state().uow.reader()
