"""Pushes reach the public internet only: a guard on the worker's own connections.

A push endpoint is a URL a browser (or anyone holding a tracking link) hands us, and
the worker POSTs to it. :func:`api.push.services.check_endpoint` refuses names and
address literals of this machine or a private network when a subscription is made;
this module refuses what that check cannot see, at send time:

- a public name that resolves to a private address (or is made to, later: DNS
  rebinding): the address checked is the one each connection actually reached,
  before any byte is sent on it (before TLS too);
- a redirect: a push service answers 201, so a 3xx is returned as it is (pywebpush
  then reports it as a refusal) and never followed.

Proxies from the environment are not used for pushes: the address a connection
reaches must be the push service's own for the check to mean anything.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class InwardTarget(Exception):
    """The endpoint led to an address on this machine or a private network."""


def check_peer(address: str, allow_loopback: bool) -> None:
    """Raise :class:`InwardTarget` unless ``address`` is public (or loopback, allowed
    for the tests' local push service)."""
    found = ipaddress.ip_address(address.split("%", 1)[0])
    if found.is_global or (allow_loopback and found.is_loopback):
        return
    raise InwardTarget(f"push endpoint reached a non-public address ({found})")


class _Guarded:
    allow_loopback = False

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        try:
            check_peer(sock.getpeername()[0], self.allow_loopback)
        except InwardTarget:
            sock.close()
            raise
        return sock


class _Adapter(HTTPAdapter):
    def __init__(self, allow_loopback: bool) -> None:
        attributes = {"allow_loopback": allow_loopback}
        self._pools = {
            "http": type(
                "GuardedHTTPPool",
                (HTTPConnectionPool,),
                {"ConnectionCls": type("GuardedHTTP", (_Guarded, HTTPConnection), attributes)},
            ),
            "https": type(
                "GuardedHTTPSPool",
                (HTTPSConnectionPool,),
                {"ConnectionCls": type("GuardedHTTPS", (_Guarded, HTTPSConnection), attributes)},
            ),
        }
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pools


class PublicSession(requests.Session):
    """A requests session for pushes: public addresses only, no redirects, no proxies."""

    def __init__(self, allow_loopback: bool = False) -> None:
        super().__init__()
        self.trust_env = False
        adapter = _Adapter(allow_loopback)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def request(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["allow_redirects"] = False
        return super().request(*args, **kwargs)
