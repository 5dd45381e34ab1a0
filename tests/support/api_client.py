"""A thin wrapper over Flask's test client that speaks the API's conventions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse


@dataclass
class ApiClient:
    http: FlaskClient
    token: str | None = None
    language: str | None = None
    default_headers: dict[str, str] = field(default_factory=dict)

    def as_(self, token: str | None) -> ApiClient:
        """The same client acting with another bearer token."""
        return ApiClient(self.http, token, self.language, dict(self.default_headers))

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> TestResponse:
        all_headers = dict(self.default_headers)
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        if self.language:
            all_headers["Accept-Language"] = self.language
        all_headers.update(headers or {})
        return self.http.open(path, method=method, json=json, headers=all_headers, **kw)

    def get(self, path: str, **kw: Any) -> TestResponse:
        return self.request("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> TestResponse:
        return self.request("POST", path, json=json, **kw)

    def patch(
        self, path: str, json: Any = None, *, etag: str | None = None, **kw: Any
    ) -> TestResponse:
        headers = kw.pop("headers", {}) or {}
        if etag is not None:
            headers["If-Match"] = etag
        return self.request("PATCH", path, json=json, headers=headers, **kw)

    def delete(self, path: str, *, etag: str | None = None, **kw: Any) -> TestResponse:
        headers = kw.pop("headers", {}) or {}
        if etag is not None:
            headers["If-Match"] = etag
        return self.request("DELETE", path, headers=headers, **kw)


def assert_problem(response: TestResponse, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and stable code."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert body["code"] == code, body
    assert body["status"] == status
    for key in ("type", "title", "detail", "instance", "trace_id"):
        assert key in body
    return body
