"""Fixtures for SDK unit tests: a spec-following fake server and a logged-in device."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from client_sdk.device import Device
from tests.unit.client_sdk.fake_server import EMAIL, NOW_MS, PASSWORD, TENANT, FakeServer


class Wall:
    """A phone's physical clock that tests move by hand (it may even go backwards)."""

    def __init__(self, ms: int = NOW_MS) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def wall() -> Wall:
    return Wall()


def open_device(home: Path, server: FakeServer, wall: Wall) -> Device:
    return Device(home, transport=server.transport(), physical=wall)


@pytest.fixture
def device(tmp_path: Path, server: FakeServer, wall: Wall) -> Iterator[Device]:
    device = open_device(tmp_path / "phone", server, wall)
    device.login("http://fieldline.test", TENANT, EMAIL, PASSWORD)
    yield device
    device.close()
