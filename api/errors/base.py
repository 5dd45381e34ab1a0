"""The error base class, the kinds of error, and the catalogue of codes.

A concrete error is a subclass that sets ``code`` (stable, dotted, never
reused) and ``titles`` (``{"en": ..., "zh-CN": ...}``). Defining one registers
it in :data:`CATALOGUE`; defining two with the same code fails at import time,
so a code can never mean two things.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

CATALOGUE: dict[str, type[FieldlineError]] = {}


@dataclass(frozen=True)
class FieldProblem:
    """One bad field in a request: ``site.lat`` / ``out_of_range`` / message."""

    field: str
    code: str
    message: str = ""

    def __post_init__(self) -> None:
        from api.errors.fields import FIELD_CODES

        if self.code not in FIELD_CODES:
            # Clients branch on these codes: each must be documented (docs/errors.md).
            raise ValueError(f"undocumented field error code {self.code!r}")


class FieldlineError(Exception):
    """Base of every error the API reports on purpose."""

    code: ClassVar[str] = ""
    titles: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldProblem] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.titles.get("en", self.code))
        self.detail = detail
        self.errors = errors or []
        self.extra = extra or {}
        self.headers = headers or {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        code = cls.__dict__.get("code")
        if not code:
            return  # an abstract kind, not a catalogued error
        if code in CATALOGUE:
            raise TypeError(f"error code {code!r} defined twice")
        if set(cls.titles) != {"en", "zh-CN"}:
            raise TypeError(f"error {code!r} needs titles in en and zh-CN")
        CATALOGUE[code] = cls


# The kinds. The HTTP mapping (api.errors.problem) keys on these, never on codes.
class InvalidInput(FieldlineError):
    """The request is well-formed but its content breaks a rule (422)."""


class BadRequest(FieldlineError):
    """The request cannot be read at all (400)."""


class Unauthenticated(FieldlineError):
    """No valid credentials (401)."""


class Forbidden(FieldlineError):
    """Authenticated but the role lacks the permission (403)."""


class NotFound(FieldlineError):
    """Absent, or not visible to this actor: the two are indistinguishable (404)."""


class Conflict(FieldlineError):
    """The request conflicts with the current state (409)."""


class Gone(FieldlineError):
    """It existed but is gone for good, e.g. an expired upload (410)."""


class Locked(FieldlineError):
    """Another request holds the resource right now; retry shortly (423)."""


class ChecksumFailed(FieldlineError):
    """The body does not match the checksum sent with it (460, the tus checksum extension)."""


class PreconditionFailed(FieldlineError):
    """``If-Match`` named a version that is no longer current (412)."""


class PreconditionRequired(FieldlineError):
    """An update came without ``If-Match`` (428)."""


class TooManyRequests(FieldlineError):
    """Rate limited (429)."""
