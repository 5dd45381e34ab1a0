"""Typed errors for everything the server (or the network) can answer.

Every failure is a :class:`FieldlineError` carrying the stable ``code`` the
server sent (``sync.seq_gap``, ``auth.invalid_credentials``, …), the HTTP
``status`` and the whole RFC 9457 ``problem`` body, so callers branch on codes,
never on text. Subclasses group what a caller does next: log in again
(:class:`AuthError`), show "gone" (:class:`NotFoundError`), re-read or resend
(:class:`ConflictError`), fix the input (:class:`ValidationError`), wait
(:class:`RateLimitedError`), retry with backoff (:class:`ServerError`,
:class:`NetworkError`), or rebuild the replica (:class:`ResetRequiredError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sync_protocol.records import ResetRequired

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class FieldProblem:
    """One entry of a problem's ``errors`` list."""

    field: str
    code: str
    message: str = ""


class FieldlineError(Exception):
    """Base of every SDK error: ``code`` (stable), ``status`` (HTTP, 0 for none), ``problem``."""

    def __init__(
        self,
        code: str,
        detail: str = "",
        *,
        status: int = 0,
        problem: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.status = status
        self.problem: Mapping[str, Any] = problem if problem is not None else _EMPTY

    @property
    def errors(self) -> list[FieldProblem]:
        items = self.problem.get("errors") or []
        return [
            FieldProblem(str(i.get("field", "")), str(i.get("code", "")), str(i.get("message", "")))
            for i in items
            if isinstance(i, dict)
        ]

    @property
    def retryable(self) -> bool:
        """Whether the same request may succeed later without any change."""
        return False


class AuthError(FieldlineError):
    """401/403: not logged in, token revoked, or not allowed."""


class NotFoundError(FieldlineError):
    """404: absent, or not visible to this caller (the server does not say which)."""


class ConflictError(FieldlineError):
    """409 (and 412/428): the state moved; e.g. ``sync.seq_gap`` with ``expected_seq``."""

    @property
    def expected_seq(self) -> int | None:
        value = self.problem.get("expected_seq")
        return value if isinstance(value, int) and not isinstance(value, bool) else None


class ValidationError(FieldlineError):
    """400/413/415/422: the request itself is wrong; resending it will not help."""


class RateLimitedError(FieldlineError):
    """429: wait ``retry_after`` seconds."""

    def __init__(self, code: str, detail: str = "", *, retry_after: float = 1.0, **kw: Any):
        super().__init__(code, detail, **kw)
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return True


class ServerError(FieldlineError):
    """5xx: the server failed; retry with backoff."""

    @property
    def retryable(self) -> bool:
        return True


class NetworkError(FieldlineError):
    """No answer at all (connection refused, timeout, dropped). The request may or may not
    have been processed, which is why every sync request is safe to resend."""

    def __init__(self, detail: str) -> None:
        super().__init__("network.unreachable", detail)

    @property
    def retryable(self) -> bool:
        return True


class ResetRequiredError(FieldlineError):
    """409 ``reset_required`` (PROTOCOL.md § 6.9): the replica must be rebuilt."""

    def __init__(self, reset: ResetRequired, problem: Mapping[str, Any]) -> None:
        super().__init__(reset.reason, reset.detail, status=409, problem=problem)
        self.reset = reset


def error_for(
    status: int, problem: Mapping[str, Any], *, retry_after: float | None = None
) -> FieldlineError:
    """The typed error for a non-2xx answer whose body has been decoded (may be empty)."""
    if status == 409 and isinstance(problem.get("reset_required"), dict):
        return ResetRequiredError(ResetRequired.from_json(dict(problem)), problem)
    code = problem.get("code")
    code = code if isinstance(code, str) and code else f"http.{status}"
    detail = problem.get("detail") or problem.get("title") or ""
    kw: dict[str, Any] = {"status": status, "problem": problem}
    if status in (401, 403):
        return AuthError(code, str(detail), **kw)
    if status == 404:
        return NotFoundError(code, str(detail), **kw)
    if status in (409, 412, 428):
        return ConflictError(code, str(detail), **kw)
    if status == 429:
        return RateLimitedError(code, str(detail), retry_after=retry_after or 1.0, **kw)
    if status >= 500:
        return ServerError(code, str(detail), **kw)
    return ValidationError(code, str(detail), **kw)
