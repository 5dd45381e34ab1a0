"""The push sender's guard: public addresses only, and no redirect followed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from api.push.outbound import InwardTarget, PublicSession, check_peer


class _Service(BaseHTTPRequestHandler):
    posted: list[str] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        _Service.posted.append(self.path)
        if self.path == "/moved":
            self.send_response(307)
            self.send_header("Location", "/elsewhere")
        else:
            self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def origin() -> Iterator[str]:
    _Service.posted = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Service)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_connection_to_this_machine_is_refused_before_anything_is_sent(origin: str) -> None:
    with pytest.raises(InwardTarget):
        PublicSession().post(f"{origin}/push", data=b"secret", timeout=5)
    assert _Service.posted == []
    assert PublicSession(allow_loopback=True).post(f"{origin}/push", timeout=5).status_code == 201
    assert _Service.posted == ["/push"]


def test_a_redirect_is_answered_as_it_is_and_never_followed(origin: str) -> None:
    answer = PublicSession(allow_loopback=True).post(f"{origin}/moved", data=b"x", timeout=5)
    assert answer.status_code == 307
    assert _Service.posted == ["/moved"]


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "100.64.0.1",
     "::1", "fd00::1", "fe80::1%eth0", "0.0.0.0", "::ffff:127.0.0.1"],
)  # fmt: skip
def test_private_and_local_addresses_are_inward(address: str) -> None:
    with pytest.raises(InwardTarget):
        check_peer(address, allow_loopback=False)


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "142.250.72.10"])
def test_public_addresses_pass(address: str) -> None:
    check_peer(address, allow_loopback=False)
