"""The office seals a completed, signed job's report: canonical JSON with every piece
of evidence hashed, sealed with the tenant's Ed25519 key. Anyone holding the QR token
can check it; changes are amendments; a tampered report never verifies."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from api.cli import main
from api.config import Config
from api.http.ratelimit import RateLimiter
from api.ratelimits.storage import DatabaseStorage
from api.signoff.models import SealedReport, TenantSigningKey
from api.workorders.states import Status
from signatures import keyring
from sync_protocol.mutations import Position, RecordPart, RecordReading, SignOff, SignOffOutcome
from tests.functional.test_signoff import CONSENT, DRAWING
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene
from tests.support.push import Device, new_id


def _signed_job(
    client: ApiClient, factories: Factories, scene: Scene | None = None
) -> tuple[Scene, uuid.UUID]:
    """A job done through sync (a part, a reading, the signature) and completed."""
    scene = scene or factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    order = factories.advance(scene.world, order, Status.IN_PROGRESS, scene.technician)
    device = Device(client.as_(scene.technician_token))
    at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    device.push_ok(
        [
            device.mutation(RecordPart(new_id(), order.id, "Valve seal", "2", "pcs")),
            device.mutation(RecordReading(new_id(), order.id, "pressure", "3.4", "bar", at)),
            device.mutation(
                SignOff(
                    new_id(),
                    order.id,
                    SignOffOutcome.SIGNED,
                    "王芳",
                    "site manager",
                    CONSENT,
                    None,
                    DRAWING,
                    Position(31.2304, 121.4737, 6.0),
                )
            ),
        ]
    )
    factories.advance(scene.world, order, Status.COMPLETED, scene.technician)
    return scene, order.id


def _seal(office: ApiClient, order_id: uuid.UUID, **body: Any) -> dict[str, Any]:
    response = office.post(f"/v1/work-orders/{order_id}/reports", json=body)
    assert response.status_code == 201, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


def _sealed_count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(SealedReport)) or 0


def test_a_sealed_report_holds_the_job_and_verifies(
    client: ApiClient, factories: Factories
) -> None:
    scene, order_id = _signed_job(client, factories)
    office = client.as_(scene.dispatcher_token)
    sealed = _seal(office, order_id)
    assert sealed["version"] == 1 and sealed["seal"]["algorithm"] == "Ed25519"

    content = office.get(f"/v1/reports/{sealed['id']}/content")
    raw = content.get_data()
    report = json.loads(raw)
    assert report["work_order"]["status"] == "completed"
    assert report["customer"]["id"] == str(scene.customer.id)
    (part,) = report["evidence"]["parts"]
    assert part["description"] == "Valve seal" and len(part["sha256"]) == 64
    assert report["evidence"]["readings"][0]["value"] == "3.4"
    signature = office.get(f"/v1/work-orders/{order_id}/sign-off").get_json()
    assert report["sign_off"]["signature_sha256"] == signature["signature_sha256"]
    assert report["sign_off"]["gps_fix"] == {"lat": 31.2304, "lon": 121.4737, "accuracy_m": 6.0}
    assert [step["to"] for step in report["timeline"]][-1] == "completed"

    verdict = office.get(f"/v1/reports/{sealed['id']}/verification").get_json()
    assert (verdict["valid"], verdict["failure"], verdict["superseded"]) == (True, None, False)
    uploaded = office.post(
        "/v1/report-verifications", json={"report": raw.decode(), "seal": sealed["seal"]}
    )
    assert uploaded.status_code == 200 and uploaded.get_json()["report_id"] == sealed["id"]

    anyone = client.as_(None).get(sealed["verification_path"])
    assert anyone.headers["Cache-Control"] == "no-store"  # an amendment changes the answer
    public = anyone.get_json()
    assert public["valid"] is True and public["work_order_number"].startswith("WO-")
    assert str(order_id) not in anyone.get_data(as_text=True)


def test_a_tampered_upload_is_refused_with_its_reason(
    client: ApiClient, factories: Factories
) -> None:
    scene, order_id = _signed_job(client, factories)
    office = client.as_(scene.dispatcher_token)
    sealed = _seal(office, order_id)
    raw = office.get(f"/v1/reports/{sealed['id']}/content").get_data(as_text=True)
    changed = raw.replace('"quantity":"2"', '"quantity":"3"')
    bad_sig = base64.b64decode(sealed["seal"]["signature"])
    forged_seal = sealed["seal"] | {
        "signature": base64.b64encode(bytes([bad_sig[0] ^ 1]) + bad_sig[1:]).decode()
    }
    for report, seal, reason in (
        (changed, sealed["seal"], "digest_mismatch"),
        (json.dumps(json.loads(raw), indent=1), sealed["seal"], "not_canonical"),
        (raw, forged_seal, "bad_signature"),
        (raw, sealed["seal"] | {"key_id": str(uuid.uuid4())}, "unknown_key"),
    ):
        response = office.post("/v1/report-verifications", json={"report": report, "seal": seal})
        problem = assert_problem(response, 422, "report.seal_invalid")
        assert problem["reason"] == reason


def test_a_tampered_stored_report_no_longer_verifies(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene, order_id = _signed_job(client, factories)
    office = client.as_(scene.dispatcher_token)
    sealed = _seal(office, order_id)
    with Session(engine) as session, session.begin():
        row = session.get_one(SealedReport, uuid.UUID(sealed["id"]))
        row.report = row.report.replace("Valve seal", "Valve seaI")
    verdict = office.get(f"/v1/reports/{sealed['id']}/verification").get_json()
    assert (verdict["valid"], verdict["failure"]) == (False, "digest_mismatch")
    public = client.as_(None).get(sealed["verification_path"]).get_json()
    assert public["valid"] is False


def test_changes_after_sealing_are_amendments_that_name_the_previous_version(
    client: ApiClient, factories: Factories
) -> None:
    scene, order_id = _signed_job(client, factories)
    office = client.as_(scene.dispatcher_token)
    first = _seal(office, order_id)
    url = f"/v1/work-orders/{order_id}/reports"
    assert_problem(office.post(url, json={}), 409, "report.already_sealed")
    second = _seal(office, order_id, reason="Part number was missing")
    assert (second["version"], second["previous_id"]) == (2, first["id"])
    amended = json.loads(office.get(f"/v1/reports/{second['id']}/content").get_data())
    assert amended["report"]["amends"] == {
        "id": first["id"],
        "version": 1,
        "sha256": first["seal"]["sha256"],
    }
    assert amended["report"]["amendment_reason"] == "Part number was missing"
    assert [r["version"] for r in office.get(url).get_json()] == [1, 2]
    old = office.get(f"/v1/reports/{first['id']}/verification").get_json()
    assert (old["valid"], old["superseded"]) == (True, True)


def test_orders_that_are_not_completed_are_not_sealed(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    order = factories.advance(scene.world, order, Status.IN_PROGRESS, scene.technician)
    office = client.as_(scene.dispatcher_token)
    refused = office.post(f"/v1/work-orders/{order.id}/reports", json={})
    assert_problem(refused, 409, "report.order_not_completed")
    assert _sealed_count(engine) == 0


def test_rotated_keys_seal_new_reports_and_old_ones_still_verify(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene, first_order = _signed_job(client, factories)
    _, second_order = _signed_job(client, factories, scene)
    office = client.as_(scene.dispatcher_token)
    admin = client.as_(scene.world.admin_token)
    before = _seal(office, first_order)
    rotated = admin.post("/v1/signing-keys/rotation")
    assert rotated.status_code == 201, rotated.get_json()
    after = _seal(office, second_order)
    assert after["seal"]["key_id"] == rotated.get_json()["id"] != before["seal"]["key_id"]
    for sealed in (before, after):
        assert office.get(f"/v1/reports/{sealed['id']}/verification").get_json()["valid"]
    listed = admin.get("/v1/signing-keys").get_json()
    assert [k["retired_at"] is None for k in listed] == [True, False]
    with Session(engine) as session:
        wrapped = session.scalars(select(TenantSigningKey.wrapped_private_key)).all()
    assert wrapped and all(len(base64.b64decode(w)) == 12 + 32 + 16 for w in wrapped)


def test_reports_of_another_tenant_are_not_found(client: ApiClient, factories: Factories) -> None:
    scene, order_id = _signed_job(client, factories)
    sealed = _seal(client.as_(scene.dispatcher_token), order_id)
    stranger = client.as_(factories.scene().dispatcher_token)
    assert_problem(stranger.get(f"/v1/reports/{sealed['id']}"), 404, "report.not_found")
    assert_problem(
        stranger.post(f"/v1/work-orders/{order_id}/reports", json={}), 404, "work_order.not_found"
    )
    assert_problem(client.as_(None).get("/v/not-a-token/verification"), 404, "report.not_found")


def test_after_the_secret_changes_nothing_is_sealed_until_the_keys_are_rewrapped(
    client: ApiClient,
    factories: Factories,
    engine: Engine,
    config: Config,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scene, first_order = _signed_job(client, factories)
    _, second_order = _signed_job(client, factories, scene)
    office = client.as_(scene.dispatcher_token)
    first = _seal(office, first_order)
    with Session(engine) as session, session.begin():  # as if wrapped under the old secret
        key = session.scalars(select(TenantSigningKey)).one()
        private = keyring.unwrap(
            config.resolved_secret_key(), key.tenant_id, key.id, key.wrapped_private_key
        )
        key.wrapped_private_key = keyring.wrap("the old secret", key.tenant_id, key.id, private)
    refused = office.post(f"/v1/work-orders/{second_order}/reports", json={})
    assert_problem(refused, 409, "report.signing_key_unavailable")
    assert _sealed_count(engine) == 1
    assert office.get(f"/v1/reports/{first['id']}/verification").get_json()["valid"]

    monkeypatch.setenv("FIELDLINE_DATABASE_URL", database_url)
    monkeypatch.setenv("FIELDLINE_SECRET_KEY", config.resolved_secret_key())
    monkeypatch.setenv("FIELDLINE_OLD_SECRET_KEY", "the old secret")
    result = CliRunner().invoke(main, ["rewrap-signing-keys"])
    assert result.exit_code == 0, result.output
    assert "1 signing keys re-wrapped" in result.output
    second = _seal(office, second_order)
    assert second["seal"]["key_id"] == first["seal"]["key_id"]


def test_the_public_verification_is_limited_per_report_and_per_address(
    client: ApiClient,
    factories: Factories,
    app: Flask,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    limiter = RateLimiter(DatabaseStorage(engine), "3/minute", "verify-test")
    monkeypatch.setitem(app.extensions, "fieldline_tracking_limiter", limiter)
    scene, order_id = _signed_job(client, factories)
    sealed = _seal(client.as_(scene.dispatcher_token), order_id)
    anyone = client.as_(None)
    path = sealed["verification_path"]
    page = path.removesuffix("/verification")
    for _ in range(2):
        assert anyone.get(path, environ_base={"REMOTE_ADDR": "198.51.100.1"}).status_code == 200
    assert anyone.get(page, environ_base={"REMOTE_ADDR": "198.51.100.1"}).status_code == 200

    over_report = anyone.get(path, environ_base={"REMOTE_ADDR": "198.51.100.2"})
    assert_problem(over_report, 429, "request.rate_limited")
    assert int(over_report.headers["Retry-After"]) > 0
    assert anyone.get(page, environ_base={"REMOTE_ADDR": "198.51.100.3"}).status_code == 429
    guessing = anyone.get(
        "/v/" + "g" * 43 + "/verification", environ_base={"REMOTE_ADDR": "198.51.100.1"}
    )
    assert_problem(guessing, 429, "request.rate_limited")
