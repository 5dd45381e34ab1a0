"""The customer signs on the technician's phone, online or offline, or refuses; the
office reads the sign-off and its image. A sign-off is immutable, bad drawings are
refused with a reason, and nobody signs another tenant's order."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from api.audit.models import AuditEvent
from api.signoff.models import WorkOrderSignOff
from sync_protocol.merge import Outcome
from sync_protocol.mutations import Position, SignOff, SignOffOutcome
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene
from tests.support.push import Device, new_id

DRAWING: dict[str, Any] = {
    "width": 400,
    "height": 150,
    "strokes": [
        [[20, 100, 0, 0.4], [60, 40, 30, 0.6], [110, 110, 60, 0.7], [160, 50, 90, 0.5]],
        [[200, 80, 400, 0.5], [320, 85, 480, 0.5]],
    ],
}
CONSENT = "I confirm the work described was carried out to my satisfaction."


def _assigned(factories: Factories, scene: Scene | None = None) -> tuple[Scene, uuid.UUID]:
    scene = scene or factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    return scene, order.id


def _signed(order_id: uuid.UUID, **changes: Any) -> SignOff:
    values: dict[str, Any] = {
        "id": new_id(),
        "work_order_id": order_id,
        "outcome": SignOffOutcome.SIGNED,
        "signer_name": "王芳",
        "signer_role": "site manager",
        "consent_text": CONSENT,
        "drawing": DRAWING,
        "position": Position(31.2304, 121.4737, 6.0),
    } | changes
    return SignOff(**values)


def _count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(WorkOrderSignOff)) or 0


def test_a_signature_taken_offline_is_stored_and_the_office_sees_it(
    client: ApiClient, factories: Factories
) -> None:
    scene, order_id = _assigned(factories)
    device = Device(client.as_(scene.technician_token))
    args = _signed(order_id)
    (receipt,) = device.push_ok([device.mutation(args)]).receipts
    assert receipt.status is Outcome.APPLIED

    office = client.as_(scene.dispatcher_token)
    body = office.get(f"/v1/work-orders/{order_id}/sign-off").get_json()
    assert (body["id"], body["outcome"], body["signer_name"]) == (str(args.id), "signed", "王芳")
    assert (body["consent_text"], body["signer_role"]) == (CONSENT, "site manager")
    assert body["position"] == {"lat": 31.2304, "lon": 121.4737, "accuracy_m": 6.0}
    assert body["point_count"] == 6 and len(body["signature_sha256"]) == 64
    assert body["device_id"] == str(device.device_id)
    svg = office.get(f"/v1/work-orders/{order_id}/sign-off/signature.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.get_data(as_text=True).count("<path") == 2
    png = office.get(f"/v1/work-orders/{order_id}/sign-off/signature.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG\r\n\x1a\n")


def test_a_resent_sign_off_is_a_duplicate_and_a_second_one_is_rejected_and_kept(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene, order_id = _assigned(factories)
    device = Device(client.as_(scene.technician_token))
    first = _signed(order_id)
    device.push_ok([device.mutation(first)])
    other_phone = Device(client.as_(scene.technician_token))
    again, second = other_phone.push_ok(
        [other_phone.mutation(first), other_phone.mutation(_signed(order_id, signer_name="Li"))]
    ).receipts
    assert again.status is Outcome.DUPLICATE
    assert (second.status, second.code) == (Outcome.REJECTED, "sync.already_signed")
    assert _count(engine) == 1
    office = client.as_(scene.dispatcher_token)
    parked = office.get(
        "/v1/sync/quarantine", query_string={"device_id": str(other_phone.device_id)}
    )
    assert [e["mutation"]["args"]["signer_name"] for e in parked.get_json()["items"]] == ["Li"]
    kept = office.get(f"/v1/work-orders/{order_id}/sign-off").get_json()
    assert kept["signer_name"] == "王芳"


def test_a_refusal_is_recorded_with_its_reason_and_has_no_image(
    client: ApiClient, factories: Factories
) -> None:
    scene, order_id = _assigned(factories)
    device = Device(client.as_(scene.technician_token))
    refusal = _signed(
        order_id,
        outcome=SignOffOutcome.REFUSED,
        consent_text=None,
        drawing=None,
        refusal_reason="Disputes the hours billed",
    )
    (receipt,) = device.push_ok([device.mutation(refusal)]).receipts
    assert receipt.status is Outcome.APPLIED
    office = client.as_(scene.dispatcher_token)
    body = office.get(f"/v1/work-orders/{order_id}/sign-off").get_json()
    assert (body["outcome"], body["refusal_reason"]) == ("refused", "Disputes the hours billed")
    assert body["drawing"] is None and body["signature_sha256"] is None
    assert_problem(
        office.get(f"/v1/work-orders/{order_id}/sign-off/signature.png"), 404, "signoff.not_found"
    )


def test_bad_drawings_are_rejected_with_the_reason_and_nothing_is_stored(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene, order_id = _assigned(factories)
    device = Device(client.as_(scene.technician_token))
    dot = {"width": 100, "height": 100, "strokes": [[[50, 50, 0, 0.5]]]}
    huge = {"width": 100, "height": 100, "strokes": [[[1, 1, 0, 0.5]] * 10_001]}
    outside = {"width": 100, "height": 100, "strokes": [[[1, 1, 0, 0.5], [150, 1, 1, 0.5]]]}
    cases = [
        (dot, "degenerate", "args.drawing.strokes"),
        (huge, "too_many_points", "args.drawing.strokes"),
        (outside, "invalid_point", "args.drawing.strokes[0][1]"),
        ({"width": 100, "height": 100, "strokes": []}, "empty", "args.drawing.strokes"),
    ]
    receipts = device.push_ok(
        [device.mutation(_signed(order_id, drawing=drawing)) for drawing, _, _ in cases]
    ).receipts
    for receipt, (_, reason, field) in zip(receipts, cases, strict=True):
        assert (receipt.status, receipt.code, receipt.field) == (
            Outcome.REJECTED,
            "sync.invalid_signature",
            field,
        )
        assert receipt.detail is not None and receipt.detail.startswith(reason)
    assert _count(engine) == 0


def test_online_sign_off_validates_and_refuses_a_second_one(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene, order_id = _assigned(factories)
    tech = client.as_(scene.technician_token)
    url = f"/v1/work-orders/{order_id}/sign-off"
    body = {"outcome": "signed", "signer_name": "Wang Fang", "consent_text": CONSENT}
    nan_point = dict(DRAWING, strokes=[[[1, 1, 0, 0.5], [1e400, 1, 1, 0.5]]])
    refused = tech.post(url, json=body | {"drawing": nan_point})
    problem = assert_problem(refused, 422, "request.validation_failed")
    assert problem["errors"][0]["field"] == "drawing.strokes[0][1]"
    assert problem["errors"][0]["code"] == "signature_invalid_point"
    missing = assert_problem(tech.post(url, json=body), 422, "request.validation_failed")
    assert missing["errors"][0]["field"] == "drawing"
    assert _count(engine) == 0

    created = tech.post(url, json=body | {"drawing": DRAWING, "position": {"lat": 31, "lon": 121}})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["author_kind"] == "user"
    assert_problem(
        tech.post(url, json=body | {"drawing": DRAWING}), 409, "signoff.already_recorded"
    )
    with Session(engine) as session:
        events = session.scalars(
            select(AuditEvent.entity_type).where(AuditEvent.entity_type == "work_order_signoff")
        ).all()
    assert events == ["work_order_signoff"]


def test_nobody_signs_or_reads_another_tenants_order(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    _, order_id = _assigned(factories)
    stranger = factories.scene()
    device = Device(client.as_(stranger.technician_token))
    (receipt,) = device.push_ok([device.mutation(_signed(order_id))]).receipts
    assert (receipt.status, receipt.code) == (Outcome.REJECTED, "sync.not_in_scope")
    office = client.as_(stranger.dispatcher_token)
    url = f"/v1/work-orders/{order_id}/sign-off"
    body = {"outcome": "signed", "signer_name": "X", "consent_text": CONSENT, "drawing": DRAWING}
    assert_problem(office.post(url, json=body), 404, "work_order.not_found")
    assert_problem(office.get(url), 404, "work_order.not_found")
    assert _count(engine) == 0


def test_a_drawing_of_too_many_points_is_refused_and_nothing_stored(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene, order_id = _assigned(factories)
    tech = client.as_(scene.technician_token)
    point = [1, 1, 0, 0.5]
    body = {
        "outcome": "signed",
        "signer_name": "X",
        "consent_text": CONSENT,
        "drawing": {"width": 100, "height": 100, "strokes": [[point] * 100_000]},
    }
    online = tech.post(f"/v1/work-orders/{order_id}/sign-off", json=body)
    assert online.status_code == 413, online.get_data(as_text=True)[:300]
    device = Device(tech)
    many = {"width": 100, "height": 100, "strokes": [[point] * 10_001]}
    (receipt,) = device.push_ok([device.mutation(_signed(order_id, drawing=many))]).receipts
    assert (receipt.status, receipt.code) == (Outcome.REJECTED, "sync.invalid_signature")
    assert receipt.detail is not None and receipt.detail.startswith("too_many_points")
    assert _count(engine) == 0
