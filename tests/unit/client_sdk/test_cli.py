"""``fieldline-tech``: a technician logs in, works a job offline and syncs later."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from client_sdk.cli import main
from sync_protocol.entities import Table
from tests.unit.client_sdk.fake_server import EMAIL, PASSWORD, TENANT, FakeServer


def _run(home: Path, server: FakeServer, *args: str) -> Result:
    result = CliRunner().invoke(
        main, ["--home", str(home), *args], obj={"transport": server.transport()}
    )
    return result


def _json(home: Path, server: FakeServer, *args: str) -> Any:
    result = _run(home, server, "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_job_done_offline_from_the_command_line_syncs_later(
    tmp_path: Path, server: FakeServer
) -> None:
    home = tmp_path / "tech"
    order = server.order()
    login = _run(
        home,
        server,
        "login",
        "--server",
        "http://f.test",
        "--tenant",
        TENANT,
        "--email",
        EMAIL,
        "--password",
        PASSWORD,
    )
    assert login.exit_code == 0, login.output
    assert _run(home, server, "sync").exit_code == 0
    number = order["number"]

    server.fail_before = lambda path: 503  # offline from here
    photo = tmp_path / "p.jpg"
    photo.write_bytes(b"\xff\xd8jpeg")
    for args in (
        ["accept", number],
        ["start-travel", number],
        ["arrive", number],
        ["start-work", number],
        ["reading", number, "pressure", "3.4", "--unit", "bar"],
        ["part", number, "Valve seal", "--quantity", "2"],
        ["photo", number, str(photo)],
        ["note", number, "Replaced both seals"],
        ["complete", number, "--resolution", "Seals replaced"],
    ):
        result = _run(home, server, *args)
        assert result.exit_code == 0, (args, result.output)

    jobs = _json(home, server, "jobs")
    assert [(j["row"]["status"], j["pending"]) for j in jobs] == [("completed", 9)]
    assert "[9 unsynced]" in _run(home, server, "jobs").output
    assert _json(home, server, "status")["pending"] == 9
    failed = _run(home, server, "sync")
    assert failed.exit_code == 1 and "server.unavailable" in failed.output

    server.fail_before = None
    synced = _json(home, server, "sync")
    assert synced["receipts"] == {"applied": 9}
    assert _json(home, server, "status")["pending"] == 0
    assert len(server.blobs) == 1


def test_an_illegal_step_is_refused_at_once_with_its_code(
    tmp_path: Path, server: FakeServer
) -> None:
    home = tmp_path / "tech"
    order = server.order()
    _run(
        home,
        server,
        "login",
        "--server",
        "http://f.test",
        "--tenant",
        TENANT,
        "--email",
        EMAIL,
        "--password",
        PASSWORD,
    )
    _run(home, server, "sync")

    result = _run(home, server, "arrive", order["id"][:8])

    assert result.exit_code == 1
    assert "sync.illegal_transition" in result.output
    assert _json(home, server, "status")["pending"] == 0


def test_export_writes_the_outbox_for_the_office(tmp_path: Path, server: FakeServer) -> None:
    home = tmp_path / "tech"
    order = server.order()
    _run(
        home,
        server,
        "login",
        "--server",
        "http://f.test",
        "--tenant",
        TENANT,
        "--email",
        EMAIL,
        "--password",
        PASSWORD,
    )
    _run(home, server, "sync")
    _run(home, server, "note", order["id"], "unsent")

    path = Path(_json(home, server, "export")["path"])

    exported = json.loads(path.read_text(encoding="utf-8"))
    assert [m["args"]["body"] for m in exported["pending"]] == ["unsent"]


def test_commands_before_login_explain_what_to_do(tmp_path: Path, server: FakeServer) -> None:
    result = _run(tmp_path / "tech", server, "sync")
    assert result.exit_code == 1
    assert "sdk.not_logged_in" in result.output


def test_jobs_show_the_end_of_each_id_and_it_names_the_order(
    tmp_path: Path, server: FakeServer
) -> None:
    """UUIDv7s made together share their first characters; their ends tell them apart."""
    home = tmp_path / "tech"
    stem = "01958f3a-7c00-7a1e-9c1a-3f5e2b7d"
    first = server.order(id=f"{stem}4c01")
    second = server.order(id=f"{stem}9e77")
    login = _run(
        home, server, "login", "--server", "http://f.test", "--tenant", TENANT,
        "--email", EMAIL, "--password", PASSWORD,
    )  # fmt: skip
    assert login.exit_code == 0, login.output
    assert _run(home, server, "sync").exit_code == 0

    listing = _run(home, server, "jobs").output
    assert f"{stem[-4:]}4c01" in listing and f"{stem[-4:]}9e77" in listing
    assert _run(home, server, "accept", "b7d9e77").exit_code == 0
    statuses = {j["id"]: j["row"]["status"] for j in _json(home, server, "jobs")}
    assert statuses == {first["id"]: "assigned", second["id"]: "accepted"}
    ambiguous = _run(home, server, "accept", stem[:8])
    assert ambiguous.exit_code == 1 and "sdk.unknown_work_order" in ambiguous.output


def _logged_in(home: Path, server: FakeServer) -> None:
    login = _run(
        home, server, "login", "--server", "http://f.test", "--tenant", TENANT,
        "--email", EMAIL, "--password", PASSWORD,
    )  # fmt: skip
    assert login.exit_code == 0, login.output
    assert _run(home, server, "sync").exit_code == 0


STEM = "01958f3a-7c00-7a1e-9c1a-3f5e2b7d"


def test_orders_are_named_by_the_number_on_the_job_sheet(
    tmp_path: Path, server: FakeServer
) -> None:
    """`WO-000220`, `wo-220`, `000220` and `220` all name order WO-000220, in every command."""
    home = tmp_path / "tech"
    first = server.order(id=f"{STEM}0220", number="WO-000220")
    second = server.order(id=f"{STEM}0221", number="WO-000221")
    _logged_in(home, server)

    assert _json(home, server, "show", "220")["id"] == first["id"]
    assert _json(home, server, "show", "wo-220")["id"] == first["id"]
    assert _json(home, server, "show", "000221")["id"] == second["id"]
    assert _run(home, server, "accept", "220").exit_code == 0
    assert _run(home, server, "note", "WO-000221", "Gate code 4411").exit_code == 0
    assert _run(home, server, "reading", "221", "pressure", "3.4").exit_code == 0

    jobs = {j["row"]["number"]: j for j in _json(home, server, "jobs")}
    assert jobs["WO-000220"]["row"]["status"] == "accepted"
    assert [e["kind"] for e in jobs["WO-000221"]["evidence"]] == ["note", "reading"]
    for unknown in ("222", "XY-220"):
        missing = _run(home, server, "show", unknown)
        assert missing.exit_code == 1 and "sdk.unknown_work_order" in missing.output


def test_show_tells_who_where_how_urgent_and_when(tmp_path: Path, server: FakeServer) -> None:
    home = tmp_path / "tech"
    customer = server.put(Table.CUSTOMERS, {"id": f"{STEM}c001", "name": "申城大厦物业"})
    for n, (name, primary) in enumerate((("李四", False), ("王经理", True))):
        contact = {"customer_id": customer["id"], "name": name, "is_primary": primary}
        server.put(Table.CONTACTS, {"id": f"{STEM}a00{n}", **contact, "phone": f"1380000000{n}"})
    site = server.put(
        Table.SITES,
        {
            "id": f"{STEM}5001",
            "customer_id": customer["id"],
            "name": "North tower",
            "address": "虹桥路 1 号",
            "city": "上海",
            "access_notes": "Ask the guard for the plant-room key",
            "timezone": "Asia/Shanghai",
        },
    )
    server.order(
        number="WO-000220",
        customer_id=customer["id"],
        site_id=site["id"],
        priority="urgent",
        scheduled_start="2026-12-04T01:00:00Z",
        scheduled_end="2026-12-04T03:30:00Z",
    )
    _logged_in(home, server)

    text = _run(home, server, "show", "220").output
    assert "Customer:  申城大厦物业" in text
    assert "Contact:   王经理 13800000001" in text
    assert "Site:      North tower" in text
    assert "Address:   上海 虹桥路 1 号" in text
    assert "Access:    Ask the guard for the plant-room key" in text
    assert "Priority:  urgent" in text
    assert "Schedule:  2026-12-04 09:00 – 11:30 (Asia/Shanghai)" in text
    card = _json(home, server, "show", "220")["card"]
    assert card["customer"] == "申城大厦物业" and card["priority"] == "urgent"
    assert card["scheduled_start"] == "2026-12-04T01:00:00Z"


def test_show_says_when_an_order_is_not_scheduled_yet(tmp_path: Path, server: FakeServer) -> None:
    home = tmp_path / "tech"
    server.order(number="WO-000007", priority="low")
    _logged_in(home, server)
    text = _run(home, server, "show", "7").output
    assert "Priority:  low" in text and "Schedule:  not scheduled yet" in text


def test_jobs_leave_out_finished_work_unless_asked(tmp_path: Path, server: FakeServer) -> None:
    home = tmp_path / "tech"
    for number, status in (
        ("WO-000001", "assigned"),
        ("WO-000002", "completed"),
        ("WO-000003", "closed"),
        ("WO-000004", "cancelled"),
        ("WO-000005", "in_progress"),
    ):
        server.order(number=number, status=status)
    _logged_in(home, server)

    shown = [j["row"]["number"] for j in _json(home, server, "jobs")]
    assert shown == ["WO-000001", "WO-000005"]
    everything = [j["row"]["number"] for j in _json(home, server, "jobs", "--all")]
    assert everything == [f"WO-00000{n}" for n in range(1, 6)]
    assert "WO-000002" in _run(home, server, "jobs", "--all").output

    # Finished on this device but not yet synced: still listed, with its unsynced mark.
    assert _run(home, server, "complete", "5", "--resolution", "Fixed").exit_code == 0
    listing = _run(home, server, "jobs").output
    assert "WO-000005" in listing and "[1 unsynced]" in listing


def test_no_open_jobs_points_to_all(tmp_path: Path, server: FakeServer) -> None:
    home = tmp_path / "tech"
    server.order(number="WO-000002", status="completed")
    _logged_in(home, server)
    assert "jobs --all" in _run(home, server, "jobs").output


def test_a_scanned_label_is_queued_offline_with_its_symbology(
    tmp_path: Path, server: FakeServer
) -> None:
    home = tmp_path / "tech"
    order = server.order()
    _run(home, server, "login", "--server", "http://f.test", "--tenant", TENANT,
         "--email", EMAIL, "--password", PASSWORD)  # fmt: skip
    _run(home, server, "sync")
    server.fail_before = lambda path: 503  # offline

    scanned = _run(home, server, "scan", order["number"], "6901234567892", "--symbology", "ean_13")
    unknown_kind = _run(home, server, "scan", order["number"], "X", "--symbology", "barcode")

    assert scanned.exit_code == 0, scanned.output
    assert unknown_kind.exit_code == 2  # refused by the command line, nothing queued
    path = Path(_json(home, server, "export")["path"])
    pending = json.loads(path.read_text(encoding="utf-8"))["pending"]
    assert [(m["name"], m["args"]["code"], m["args"]["symbology"]) for m in pending] == [
        ("scan_code", "6901234567892", "ean_13")
    ]
