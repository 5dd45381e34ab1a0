"""A tenant requires a sign-off for a category of work: completing such an order, online
or offline, is refused with one code until the customer signed or refused."""

from __future__ import annotations

import uuid

from api.workorders.states import Status
from sync_protocol.merge import Outcome
from sync_protocol.mutations import SignOff, SignOffOutcome, TransitionWorkOrder
from sync_protocol.workorder_status import Action
from tests.functional.test_signoff import CONSENT, DRAWING
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene
from tests.support.push import Device, new_id


def _order_needing_sign_off(client: ApiClient, factories: Factories) -> tuple[Scene, uuid.UUID]:
    """An in-progress order whose level-1 category requires a sign-off (set by the admin)."""
    scene = factories.scene()
    top, _, leaf = factories.category_path(scene.world)
    admin = client.as_(scene.world.admin_token)
    current = admin.get(f"/v1/categories/{top.id}")
    changed = admin.patch(
        f"/v1/categories/{top.id}",
        json={"requires_sign_off": True},
        headers={"If-Match": current.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["requires_sign_off"] is True
    order = factories.work_order(scene.world, scene.customer, scene.site, category_id=leaf.id)
    order = factories.advance(scene.world, order, Status.IN_PROGRESS, scene.technician)
    return scene, order.id


def _complete(order_id: uuid.UUID) -> TransitionWorkOrder:
    return TransitionWorkOrder(
        order_id, Action.COMPLETE, Status.IN_PROGRESS, resolution="Replaced the valve"
    )


def _refusal(order_id: uuid.UUID) -> SignOff:
    return SignOff(
        new_id(), order_id, SignOffOutcome.REFUSED, "王芳", None, None, "Not on site manager's list"
    )


def test_online_completion_waits_for_the_signature_or_refusal(
    client: ApiClient, factories: Factories
) -> None:
    scene, order_id = _order_needing_sign_off(client, factories)
    tech = client.as_(scene.technician_token)
    url = f"/v1/work-orders/{order_id}/transitions"
    order = tech.get(f"/v1/work-orders/{order_id}")
    body = {"action": "complete", "resolution": "Replaced the valve"}
    refused = tech.post(url, json=body, headers={"If-Match": order.headers["ETag"]})
    assert_problem(refused, 409, "sync.sign_off_required")
    assert tech.get(f"/v1/work-orders/{order_id}").get_json()["status"] == "in_progress"

    signed = tech.post(
        f"/v1/work-orders/{order_id}/sign-off",
        json={
            "outcome": "signed",
            "signer_name": "王芳",
            "consent_text": CONSENT,
            "drawing": DRAWING,
        },
    )
    assert signed.status_code == 201
    done = tech.post(url, json=body, headers={"If-Match": order.headers["ETag"]})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "completed"


def test_offline_completion_without_sign_off_is_rejected_with_the_same_code(
    client: ApiClient, factories: Factories
) -> None:
    scene, order_id = _order_needing_sign_off(client, factories)
    device = Device(client.as_(scene.technician_token))
    (early,) = device.push_ok([device.mutation(_complete(order_id))]).receipts
    assert (early.status, early.code) == (Outcome.REJECTED, "sync.sign_off_required")
    office = client.as_(scene.dispatcher_token)
    assert office.get(f"/v1/work-orders/{order_id}").get_json()["status"] == "in_progress"

    refusal, complete = device.push_ok(
        [device.mutation(_refusal(order_id)), device.mutation(_complete(order_id))]
    ).receipts
    assert (refusal.status, complete.status) == (Outcome.APPLIED, Outcome.APPLIED)
    assert office.get(f"/v1/work-orders/{order_id}").get_json()["status"] == "completed"


def test_orders_of_other_categories_complete_without_a_sign_off(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    _, _, leaf = factories.category_path(scene.world, ("plumbing", "pipes", "leak"))
    order = factories.work_order(scene.world, scene.customer, scene.site, category_id=leaf.id)
    order = factories.advance(scene.world, order, Status.COMPLETED, scene.technician)
    assert order.status is Status.COMPLETED
