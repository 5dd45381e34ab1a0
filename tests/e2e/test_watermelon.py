"""A real WatermelonDB app (``@nozbe/watermelondb`` 0.28.0 on LokiJS, in Node) syncs with a
real server through stock ``synchronize()``: first pull, office changes, reassignment,
local edits pushed, a stale push refused with ``sync.pull_first`` and recovered, and job
offers pulled and answered offline.

``node_modules`` is installed from ``tests/watermelon/package-lock.json`` when missing
(``./dev test`` does it before the suite).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_work_order_lifecycle import PASSWORD, Cast, Http, _cast, _transition, _user
from tests.support.positions import ALWAYS
from tests.support.server import ADMIN_PASSWORD, FieldlineServer, TenantSpec, json_body

pytestmark = pytest.mark.e2e

CLIENT_DIR = Path(__file__).resolve().parents[1] / "watermelon"


@pytest.fixture(scope="module")
def node_client_installed() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed: ./dev test installs them")
    if not (CLIENT_DIR / "node_modules" / "@nozbe" / "watermelondb").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=CLIENT_DIR, check=True, timeout=600
        )


class App:
    """One WatermelonDB app process, driven one JSON line at a time."""

    def __init__(self, server: FieldlineServer, token: str) -> None:
        self.process = subprocess.Popen(
            ["node", "client.js", server.base_url, token],
            cwd=CLIENT_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def send(self, **command: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self.read()

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, f"the app exited with {self.process.poll()}"
        answer: dict[str, Any] = json.loads(line)
        return answer

    def sync(self) -> dict[str, Any]:
        result = self.send(op="sync")
        assert result["ok"], result
        assert result["attempts"] == 1, result
        sync_logs = [line for line in result["logged"] if "[Sync]" in line]
        assert sync_logs == [], sync_logs  # WatermelonDB saw no breach of its contract
        return result

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.process.stdin.close()
            self.process.wait(timeout=30)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def cast(fieldline_server: FieldlineServer, node_client_installed: None) -> Iterator[Cast]:
    with fieldline_server.http() as session:
        yield _cast(Http(fieldline_server, session))


def _order(cast: Cast, title: str, technician_id: str | None = None) -> dict[str, Any]:
    body = {"title": title, "customer_id": cast.customer_id, "site_id": cast.site_id}
    order = cast.dispatcher.create("/v1/work-orders", body)
    return _transition(
        cast.dispatcher, order, "assign", assignee_id=technician_id or cast.technician_id
    )


def _rows(result: dict[str, Any], table: str) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in result["db"][table]}


def _server_order(cast: Cast, order_id: str) -> dict[str, Any]:
    return json_body(cast.dispatcher.get(f"/v1/work-orders/{order_id}"), 200)  # type: ignore[no-any-return]


def test_a_stock_watermelondb_app_syncs_both_ways(
    fieldline_server: FieldlineServer, cast: Cast
) -> None:
    first, second = _order(cast, "空调不制冷"), _order(cast, "电梯异响")
    app = App(fieldline_server, cast.technician.token or "")
    try:
        pulled = app.sync()
        orders = _rows(pulled, "work_orders")
        assert set(orders) == {first["id"], second["id"]}
        assert {o["status"] for o in orders.values()} == {"assigned"}
        assert set(_rows(pulled, "customers")) == {cast.customer_id}
        assert set(_rows(pulled, "categories")) >= {c["id"] for c in cast.category_path}

        # An office change arrives as an update; a reassignment removes the order.
        renamed = cast.dispatcher.call(
            "PATCH", f"/v1/work-orders/{first['id']}", json={"title": "空调不制冷（加急）"},
            headers={"If-Match": f'"{first["version"]}"'},
        )  # fmt: skip
        assert renamed.status_code == 200, renamed.text
        colleague = cast.dispatcher.create("/v1/technicians", {"name": "王师傅"})
        _transition(cast.dispatcher, second, "assign", assignee_id=colleague["id"])
        later = app.sync()
        assert set(_rows(later, "work_orders")) == {first["id"]}
        assert _rows(later, "work_orders")[first["id"]]["title"] == "空调不制冷（加急）"

        # Local edits: two status steps and a note, pushed by the next sync.
        app.send(op="set", table="work_orders", id=first["id"], values={"status": "en_route"})
        note = app.send(
            op="create", table="notes", values={"work_order_id": first["id"], "body": "已出发"}
        )
        pushed = app.sync()
        assert any(c["method"] == "POST" and c["status"] == 200 for c in pushed["calls"])
        assert _server_order(cast, first["id"])["status"] == "en_route"
        notes = json_body(cast.dispatcher.get(f"/v1/work-orders/{first['id']}/notes"), 200)
        assert note["id"] in {n["id"] for n in notes["items"]}
        assert {r["_status"] for t in pushed["db"].values() for r in t} == {"synced"}

        # A stale push: the office changes the order between the app's pull and push.
        app.send(op="set", table="work_orders", id=first["id"], values={"status": "on_site"})
        assert app.send(op="sync", pause_before_push=True) == {"event": "before_push"}
        current = _server_order(cast, first["id"])
        moved = cast.dispatcher.call(
            "PATCH", f"/v1/work-orders/{first['id']}", json={"priority": "urgent"},
            headers={"If-Match": f'"{current["version"]}"'},
        )  # fmt: skip
        assert moved.status_code == 200, moved.text
        app.process.stdin.write(json.dumps({"op": "continue"}) + "\n")  # type: ignore[union-attr]
        app.process.stdin.flush()  # type: ignore[union-attr]
        recovered = app.read()
        assert recovered["ok"] and recovered["attempts"] == 2, recovered
        assert "sync.pull_first" in recovered["first_error"]
        assert [c["status"] for c in recovered["calls"] if c["method"] == "POST"] == [409, 200]
        local = _rows(recovered, "work_orders")[first["id"]]
        assert local["priority"] == "urgent" and local["status"] == "on_site"
        assert _server_order(cast, first["id"])["status"] == "on_site"
    finally:
        app.close()


def test_records_the_server_refuses_are_deleted_from_the_app_and_say_why(
    fieldline_server: FieldlineServer, cast: Cast
) -> None:
    order = _order(cast, "热水器漏水")
    app = App(fieldline_server, cast.technician.token or "")
    try:
        app.sync()
        blank = app.send(
            op="create", table="notes", values={"work_order_id": order["id"], "body": ""}
        )
        not_v7 = app.send(  # WatermelonDB's default generator: 16 random characters
            op="create", table="notes", id="a1B2c3D4e5F6g7H8",
            values={"work_order_id": order["id"], "body": "随机 ID"},
        )  # fmt: skip
        good = app.send(
            op="create", table="notes", values={"work_order_id": order["id"], "body": "已到场"}
        )
        draft = app.send(op="create", table="drafts", values={"text": "本地草稿"})
        pushed = app.sync()
        assert [c["status"] for c in pushed["calls"] if c["method"] == "POST"] == [200]
        assert {blank["id"], not_v7["id"], good["id"]} <= set(_rows(pushed, "notes"))

        later = app.sync()  # the next pull removes what the server did not store
        assert set(_rows(later, "notes")) == {good["id"]}
        assert set(_rows(later, "drafts")) == {draft["id"]}  # local-only: untouched
        refusals = {json.loads(q["mutation"])["args"]["id"]: q for q in later["db"]["quarantine"]}
        assert refusals[blank["id"]]["code"] == "sync.missing_field"
        assert refusals[blank["id"]]["field"] == "args.body"
        assert refusals[not_v7["id"]]["code"] == "sync.invalid_uuid"
        notes = json_body(cast.dispatcher.get(f"/v1/work-orders/{order['id']}/notes"), 200)
        assert [n["id"] for n in notes["items"]] == [good["id"]]
    finally:
        app.close()


def test_an_update_of_a_record_the_server_lacks_creates_it(
    fieldline_server: FieldlineServer, cast: Cast
) -> None:
    order = _order(cast, "门禁失灵")
    app = App(fieldline_server, cast.technician.token or "")
    try:
        app.sync()
        # The app holds a note as synced that the server does not have (e.g. the
        # server was restored from an older backup), and edits it.
        lost = "01958f3a-7c00-7a1e-9c1a-3f5e2b7d4c42"
        values = {"work_order_id": order["id"], "body": "换了读卡器"}
        app.send(op="create", table="notes", id=lost, values=values, synced=True)
        app.send(op="set", table="notes", id=lost, values={"body": "换了读卡器和电源"})
        pushed = app.sync()
        assert _rows(pushed, "notes")[lost]["_status"] == "synced"
        notes = json_body(cast.dispatcher.get(f"/v1/work-orders/{order['id']}/notes"), 200)
        assert {n["id"]: n["body"] for n in notes["items"]} == {lost: "换了读卡器和电源"}
        assert _rows(app.sync(), "notes")[lost]["body"] == "换了读卡器和电源"
    finally:
        app.close()


def test_a_stock_app_holds_its_assets_with_barcodes_and_gs1_fields(
    fieldline_server: FieldlineServer, cast: Cast
) -> None:
    asset = cast.dispatcher.create(
        "/v1/assets",
        {
            "site_id": cast.site_id,
            "name": "冷水机组",
            "barcode_value": "(01)09501101530003(17)270131(10)LOT-7(21)SN0042",
            "barcode_symbology": "data_matrix",
        },
    )
    body = {
        "title": "冷水机组报警",
        "customer_id": cast.customer_id,
        "site_id": cast.site_id,
        "asset_ids": [asset["id"]],
    }
    order = cast.dispatcher.create("/v1/work-orders", body)
    _transition(cast.dispatcher, order, "assign", assignee_id=cast.technician_id)
    app = App(fieldline_server, cast.technician.token or "")
    try:
        local = _rows(app.sync(), "assets")[asset["id"]]
    finally:
        app.close()

    assert local["barcode_value"] == "(01)09501101530003(17)270131(10)LOT-7(21)SN0042"
    assert local["barcode_symbology"] == "data_matrix"
    assert (local["gs1_gtin"], local["gs1_serial"], local["gs1_lot"]) == (
        "09501101530003",
        "SN0042",
        "LOT-7",
    )
    assert local["gs1_expires_on"] == "2027-01-31"
    assert local["provisional"] is False


def _offer_staff(admin: Http, suffix: str, east_m: float) -> tuple[str, Http]:
    """A technician with a home base ``east_m`` east of the cast's site, who logs in."""
    home = {"lat": 31.2035, "lon": 121.5914 + east_m / 95_000}
    body = {"name": f"师傅 {suffix}", "working_hours": ALWAYS,
            "home_base": {"address": "家", "position": home}}  # fmt: skip
    technician = admin.create("/v1/technicians", body)
    _, email = _user(admin, "technician", suffix, technician_id=technician["id"])
    return technician["id"], admin.log_in(email, PASSWORD, device_id=f"phone-{suffix}")


def _pending_offer(cast: Cast, order_id: str, after: int = 0) -> dict[str, Any]:
    """The order's pending offer once the worker process has made it."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        offers = json_body(cast.dispatcher.get(f"/v1/work-orders/{order_id}/offers"), 200)
        found = [o for o in offers["offers"] if o["state"] == "pending" and o["attempt"] > after]
        if found:
            return found[0]  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"no offer for {order_id}: {offers}")


def test_a_stock_app_pulls_an_offer_answers_it_offline_and_the_server_takes_the_answer(
    fieldline_server: FieldlineServer, cast: Cast
) -> None:
    admin = cast.dispatcher.log_in(TenantSpec().admin_email, ADMIN_PASSWORD)
    settings = {"dispatch_mode": "offer", "offer_timeout_s": 600, "offer_max_declines": 3}
    assert admin.call("PUT", "/v1/tenant/dispatch-settings", json=settings).status_code == 200
    suffix = uuid.uuid4().hex[:6]
    near_id, near = _offer_staff(admin, f"near-{suffix}", 300)
    far_id, far = _offer_staff(admin, f"far-{suffix}", 3_000)
    apps = {near_id: App(fieldline_server, near.token or ""),
            far_id: App(fieldline_server, far.token or "")}  # fmt: skip
    body = {"customer_id": cast.customer_id, "site_id": cast.site_id}
    try:
        first = cast.dispatcher.create("/v1/work-orders", body | {"title": "冷库温度过高"})
        offer = _pending_offer(cast, first["id"])
        assert offer["technician_id"] == near_id
        pulled = _rows(apps[near_id].sync(), "offers")
        assert pulled[offer["id"]]["state"] == "pending"
        assert _rows(apps[far_id].sync(), "offers") == {}  # only one's own offers

        # Accepted with the phone offline; the push comes at the next sync.
        apps[near_id].send(op="answer_offer", id=offer["id"], accept=True)
        apps[near_id].sync()
        order = _server_order(cast, first["id"])
        assert (order["status"], order["assignee_id"]) == ("accepted", near_id)
        history = json_body(cast.dispatcher.get(f"/v1/work-orders/{first['id']}/history"), 200)
        assert [(h["action"], h["reason"]) for h in history["items"]] == [
            ("create", None),
            ("assign", "offer accepted"),
            ("accept", None),
        ]
        later = apps[near_id].sync()  # the job is theirs now, and stays answered once
        assert _rows(later, "work_orders")[first["id"]]["status"] == "accepted"
        assert _rows(later, "offers")[offer["id"]]["state"] == "accepted"
        assert later["db"]["quarantine"] == []

        # A declined offer moves to the next candidate, whose app pulls it.
        second = cast.dispatcher.create("/v1/work-orders", body | {"title": "电梯门不关"})
        offered = _pending_offer(cast, second["id"])
        declining = apps[offered["technician_id"]]
        assert _rows(declining.sync(), "offers")[offered["id"]]["state"] == "pending"
        declining.send(op="answer_offer", id=offered["id"], accept=False, reason="车坏了")
        declining.sync()
        following = _pending_offer(cast, second["id"], after=offered["attempt"])
        assert following["technician_id"] != offered["technician_id"]
        theirs = _rows(apps[following["technician_id"]].sync(), "offers")
        assert theirs[following["id"]]["work_order_id"] == second["id"]
        declined = _rows(declining.sync(), "offers")[offered["id"]]
        assert (declined["state"], declined["reason"]) == ("declined", "车坏了")
    finally:
        for app in apps.values():
            app.close()
        settings["dispatch_mode"] = "off"
        admin.call("PUT", "/v1/tenant/dispatch-settings", json=settings)
