"""The typed HTTP client: auth with rotating refresh tokens, problem+json errors, sync calls.

:class:`FieldlineClient` speaks the server's REST and sync endpoints over
`httpx <https://www.python-httpx.org/>`_. The transport is injectable: tests pass
``httpx.WSGITransport(app=flask_app)`` to run against the real Flask app with no
server, or ``httpx.MockTransport`` for a fake. Tokens live behind a
:class:`TokenStore`, so a device persists the *rotated* refresh token the moment
it arrives (a refresh token works once; presenting a used one revokes the
session). A 401 triggers one refresh and one retry. Every non-2xx answer becomes
a typed :class:`~client_sdk.errors.FieldlineError`; a dropped connection becomes
:class:`~client_sdk.errors.NetworkError`.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from client_sdk.errors import AuthError, FieldlineError, NetworkError, error_for
from sync_protocol.messages import PullRequest, PullResponse, PushRequest, PushResponse

USER_AGENT = "fieldline-client-sdk/0.1"
TUS = {"Tus-Resumable": "1.0.0"}


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    session_id: str
    expires_in: int = 0

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Tokens:
        return cls(
            str(body["access_token"]),
            str(body["refresh_token"]),
            str(body["session_id"]),
            int(body.get("expires_in") or 0),
        )


class TokenStore(Protocol):
    """Where the current tokens live; ``save`` must be durable before it returns."""

    def load(self) -> Tokens | None: ...

    def save(self, tokens: Tokens | None) -> None: ...


class MemoryTokenStore:
    def __init__(self, tokens: Tokens | None = None) -> None:
        self._tokens = tokens

    def load(self) -> Tokens | None:
        return self._tokens

    def save(self, tokens: Tokens | None) -> None:
        self._tokens = tokens


class FieldlineClient:
    """One server, one identity. Thread-safe for refreshes (they are serialised)."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        tokens: TokenStore | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.tokens = tokens or MemoryTokenStore()
        self._refresh_lock = threading.Lock()
        self._http = httpx.Client(
            base_url=base_url,
            transport=transport,
            timeout=timeout,
            headers={"Accept-Encoding": "gzip", "User-Agent": USER_AGENT},
        )

    def close(self) -> None:
        self._http.close()

    # --- auth -------------------------------------------------------------------------

    def login(self, tenant: str, email: str, password: str, device_id: str | None) -> Tokens:
        body = {"tenant": tenant, "email": email, "password": password, "device_id": device_id}
        tokens = Tokens.from_json(self._json("POST", "/v1/auth/login", json=body, auth=False))
        self.tokens.save(tokens)
        return tokens

    def refresh(self) -> Tokens:
        """Trade the stored refresh token for new tokens, and store them at once."""
        current = self.tokens.load()
        if current is None:
            raise AuthError("auth.not_logged_in", "Log in first")
        body = {"refresh_token": current.refresh_token}
        tokens = Tokens.from_json(self._json("POST", "/v1/auth/refresh", json=body, auth=False))
        self.tokens.save(tokens)
        return tokens

    def me(self) -> dict[str, Any]:
        return self._json("GET", "/v1/me")

    def work_orders(self, **filters: str) -> list[dict[str, Any]]:
        """Every work order matching the filters (e.g. ``assignee_id=...``), all pages."""
        items: list[dict[str, Any]] = []
        params: dict[str, str] = {**filters, "limit": "200"}
        while True:
            page = self._json("GET", "/v1/work-orders", params=params)
            items.extend(page["items"])
            if not page.get("next_cursor"):
                return items
            params["cursor"] = str(page["next_cursor"])

    # --- sync -------------------------------------------------------------------------

    def push(self, request: PushRequest) -> PushResponse:
        return PushResponse.from_json(self._json("POST", "/v1/sync/push", json=request.to_json()))

    def pull(self, request: PullRequest, *, fresh: bool = False) -> PullResponse:
        """One page. ``fresh``: checked against the server's database, not a worker's
        memory of quiet polls (``Cache-Control: no-cache``; right after a push)."""
        headers = {"Cache-Control": "no-cache"} if fresh else None
        body = self._json("POST", "/v1/sync/pull", json=request.to_json(), headers=headers)
        return PullResponse.from_json(body)

    def send_positions(self, device_id: uuid.UUID, fixes: list[dict[str, Any]]) -> dict[str, Any]:
        """One batch of GPS fixes (PROTOCOL.md § 10.1): how many were kept, already
        kept, and which were refused."""
        body = {"device_id": str(device_id), "fixes": fixes}
        answer: dict[str, Any] = self._json("POST", "/v1/sync/positions", json=body)
        return answer

    def blob_exists(self, sha256: str) -> bool:
        response = self.request("HEAD", f"/v1/sync/blobs/{sha256}", check=False)
        if response.status_code == 200:
            return True
        if response.status_code == 404:
            return False
        raise _error(response)

    def put_blob(self, sha256: str, data: bytes, content_type: str) -> int:
        """Upload bytes; 201 stored, 200 already there."""
        headers = {"Content-Type": content_type}
        response = self.request("PUT", f"/v1/sync/blobs/{sha256}", content=data, headers=headers)
        return response.status_code

    # --- resumable uploads (tus 1.0, PROTOCOL.md § 10) ------------------------------------

    def create_upload(self, length: int, metadata: Mapping[str, str]) -> str:
        """A new resumable upload of ``length`` bytes; its path (``/v1/uploads/{id}``)."""
        encoded = ",".join(
            f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in metadata.items()
        )
        headers = {**TUS, "Upload-Length": str(length), "Upload-Metadata": encoded}
        response = self.request("POST", "/v1/uploads", headers=headers)
        return urlsplit(response.headers["Location"]).path

    def upload_offset(self, path: str) -> int | None:
        """How many bytes the server has; None if the upload is gone (expired, removed)."""
        response = self.request("HEAD", path, headers=TUS, check=False)
        if response.status_code in (404, 410):
            return None
        if response.status_code >= 400:
            raise _error(response)
        return int(response.headers["Upload-Offset"])

    def append_upload(self, path: str, offset: int, data: bytes) -> int:
        """Send ``data`` at ``offset`` with its SHA-256 (``Upload-Checksum``); the new offset."""
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
        headers = {
            **TUS,
            "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": str(offset),
            "Upload-Checksum": f"sha256 {checksum}",
        }
        response = self.request("PATCH", path, content=data, headers=headers)
        return int(response.headers["Upload-Offset"])

    # --- plumbing ---------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        check: bool = True,
        **kw: Any,
    ) -> httpx.Response:
        """One request; with ``auth``, a 401 refreshes the tokens once and retries."""
        sent_with = self.tokens.load() if auth else None
        response = self._send(method, path, sent_with, **kw)
        if response.status_code == 401 and sent_with is not None:
            self._refresh_after(sent_with)
            response = self._send(method, path, self.tokens.load(), **kw)
        if check and response.status_code >= 400:
            raise _error(response)
        return response

    def _json(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        body = self.request(method, path, **kw).json()
        if not isinstance(body, dict):
            raise FieldlineError("http.unexpected_body", f"{path} did not answer an object")
        return body

    def _send(self, method: str, path: str, tokens: Tokens | None, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", None) or {})
        if tokens is not None:
            headers["Authorization"] = f"Bearer {tokens.access_token}"
        try:
            return self._http.request(method, path, headers=headers, **kw)
        except httpx.TransportError as error:
            raise NetworkError(f"{method} {path}: {error}") from error

    def _refresh_after(self, stale: Tokens) -> None:
        # Serialised, and skipped when another thread already rotated the tokens:
        # presenting the same refresh token twice would revoke the session.
        with self._refresh_lock:
            current = self.tokens.load()
            if current is not None and current.access_token != stale.access_token:
                return
            self.refresh()


def _error(response: httpx.Response) -> FieldlineError:
    problem: dict[str, Any] = {}
    if "json" in response.headers.get("Content-Type", "") and response.content:
        try:
            decoded = response.json()
        except ValueError:
            decoded = None
        if isinstance(decoded, dict):
            problem = decoded
    retry_after: float | None = None
    header = response.headers.get("Retry-After")
    if header is not None:
        try:
            retry_after = float(header)
        except ValueError:
            retry_after = None
    return error_for(response.status_code, problem, retry_after=retry_after)
