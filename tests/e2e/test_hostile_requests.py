"""A real gunicorn: requests it refuses before the app, and hostile text the app refuses,
all come back as problem+json, never gunicorn's HTML page and never a 500.

Raw sockets, because an HTTP library would refuse to send these requests at all.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from tests.support.server import FieldlineServer


def _send(server: FieldlineServer, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(raw)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def _problem(response: tuple[int, dict[str, str], bytes], status: int, code: str) -> Any:
    got, headers, body = response
    assert got == status, body
    assert headers["content-type"] == "application/problem+json", body
    problem = json.loads(body)
    assert (problem["status"], problem["code"]) == (status, code)
    return problem


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (
            b"GET /v1/me?q=" + b"x" * 20_000 + b" HTTP/1.1\r\nHost: a\r\n\r\n",
            414,
            "request.uri_too_long",
        ),
        (b"GET /v1/me HTTP/1.1\r\nHost: a\r\nX-Bad: a\x01b\r\n\r\n", 400, "request.unreadable"),
        (
            b"GET /v1/me HTTP/1.1\r\nHost: a\r\n"
            + b"".join(b"X-H%d: v\r\n" % i for i in range(200))
            + b"\r\n",
            431,
            "request.headers_too_large",
        ),
        (
            b"GET /v1/me HTTP/1.1\r\nHost: a\r\nX-Big: " + b"v" * 20_000 + b"\r\n\r\n",
            431,
            "request.headers_too_large",
        ),
        (b"NOT A REQUEST LINE\r\n\r\n", 400, "request.unreadable"),
    ],
)
def test_gunicorns_own_refusals_are_problem_json(
    fieldline_server: FieldlineServer, raw: bytes, status: int, code: str
) -> None:
    _problem(_send(fieldline_server, raw), status, code)


def test_hostile_text_through_gunicorn_is_a_problem_not_a_500(
    fieldline_server: FieldlineServer,
) -> None:
    body = b'{"tenant":"de\\u0000mo","email":"a@x.y","password":"x"}'
    login = (
        b"POST /v1/auth/login HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    problem = _problem(_send(fieldline_server, login), 422, "request.text_invalid")
    assert problem["errors"][0]["field"] == "tenant"
    barcode = b"GET /v1/assets/by-barcode/%00 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    _problem(_send(fieldline_server, barcode), 422, "request.text_invalid")
