"""Errors: one base class with stable dotted codes, one catalogue, one HTTP mapping.

Domain code raises subclasses of the kind classes in :mod:`api.errors.base`
(``NotFound``, ``Conflict``, ...). Each concrete error declares a ``code`` and a
title in English and Chinese; :mod:`api.errors.problem` is the only place that
turns them into RFC 9457 ``application/problem+json`` responses.
"""

from __future__ import annotations

from api.errors.base import (
    CATALOGUE,
    Conflict,
    FieldlineError,
    FieldProblem,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    TooManyRequests,
    Unauthenticated,
)

__all__ = [
    "CATALOGUE",
    "Conflict",
    "FieldProblem",
    "FieldlineError",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "PreconditionFailed",
    "PreconditionRequired",
    "TooManyRequests",
    "Unauthenticated",
]
