"""A crash or a lost answer at any request of a sync round loses nothing and applies nothing
twice: the state on disk is always consistent, and the next round simply carries on."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from client_sdk.device import Device
from client_sdk.errors import FieldlineError
from sync_protocol.entities import Table
from tests.unit.client_sdk.conftest import Wall
from tests.unit.client_sdk.fake_server import EMAIL, PASSWORD, TENANT, FakeServer


def _prepared(home: Path) -> tuple[FakeServer, Device, Wall, list[str]]:
    server, wall = FakeServer(), Wall()
    orders = [server.order()["id"] for _ in range(3)]
    device = Device(home, transport=server.transport(), physical=wall, pull_limit=2)
    device.login("http://fieldline.test", TENANT, EMAIL, PASSWORD)
    device.sync()
    photo = home.parent / f"{home.name}.jpg"
    photo.write_bytes(b"\xff\xd8" + home.name.encode() * 20)
    for order in orders[:2]:
        device.transition(order, "accept")
        device.add_note(order, "on my way")
    device.attach_photo(orders[0], photo)
    for _ in range(3):  # more to pull than one page holds
        server.order()
    return server, device, wall, orders


def _fault_at(server: FakeServer, n: int, fault: str) -> None:
    count = {"seen": 0}

    def nth(path: str) -> bool:
        count["seen"] += 1
        return count["seen"] == n

    if fault == "refused":
        server.fail_before = lambda path: 503 if nth(path) else None
    else:
        server.drop_after = nth


def _requests_in_a_clean_round(tmp_path: Path) -> int:
    server, device, _, _ = _prepared(tmp_path / "probe")
    before = len(server.calls)
    device.sync()
    device.close()
    return len(server.calls) - before


@pytest.mark.parametrize("fault", ["refused", "answer_lost"])
def test_a_fault_at_any_request_then_a_restart_converges_exactly_once(
    tmp_path: Path, fault: str
) -> None:
    total = _requests_in_a_clean_round(tmp_path)
    assert total >= 5  # push, HEAD, PUT, and several pull pages
    for n in range(1, total + 1):
        home = tmp_path / f"{fault}-{n}"
        server, device, wall, orders = _prepared(home)
        _fault_at(server, n, fault)
        with contextlib.suppress(FieldlineError):  # an upload fault is retried, not raised
            device.sync()
        device.close()  # the app dies here; only what was committed survives

        server.fail_before = server.drop_after = None
        wall.ms += 120_000  # past the upload backoff
        device = Device(home, transport=server.transport(), physical=wall, pull_limit=2)
        device.sync()

        assert [m.seq for m in server.applied] == [1, 2, 3, 4, 5], f"fault at request {n}"
        assert device.outbox.report().pending == 0
        assert device.uploads.pending() == 0 and len(server.blobs) == 1
        assert device.sync().repaired == []  # the replica's checksum matches the server's
        assert len(device.replica.rows(Table.WORK_ORDERS)) == 6
        assert {device.job(o).status.value for o in orders[:2]} == {"accepted"}  # type: ignore[union-attr]
        device.close()
