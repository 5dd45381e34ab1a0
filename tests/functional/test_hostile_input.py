"""Hostile text (NUL, lone surrogates, deep nesting) is a 4xx problem, never a 500, never a write.

PostgreSQL refuses NUL in text, a lone surrogate cannot be encoded, and deep nesting
overflows a recursive parser: each would otherwise surface as a 500 (issue 10 § 1).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine, select

from api.db import UnitOfWorkFactory
from api.sync.models import SyncQuarantine
from api.workorders.models import Note
from sync_protocol.merge import Outcome
from sync_protocol.messages import PushResponse
from sync_protocol.mutations import AddNote
from tests.conftest import count_rows
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.push import Device, new_id
from tests.support.sync import read_body

JSON = {"Content-Type": "application/json"}


def _raw_post(api: ApiClient, path: str, body: str, method: str = "POST", **kw: Any) -> Any:
    headers = {**JSON, **kw.pop("headers", {})}
    return api.request(method, path, data=body.encode(), headers=headers, **kw)


def test_login_with_a_nul_in_the_tenant_is_422_naming_the_field(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    factories.tenant(slug="demo")
    before = count_rows(engine)
    body = '{"tenant":"de\\u0000mo","email":"a@x.y","password":"x"}'
    problem = assert_problem(_raw_post(client, "/v1/auth/login", body), 422, "request.text_invalid")
    assert problem["errors"][0]["field"] == "tenant"
    assert count_rows(engine) == before


@pytest.mark.parametrize(
    "path",
    [
        "/v1/work-orders?q=x%00y",
        "/v1/customers?q=x%00y",
        "/v1/sites?q=x%00y",
        "/v1/assets?q=x%00y",
        "/v1/technicians?q=x%00y",
        "/v1/teams?q=x%00y",
        "/v1/categories?code=x%00y",
        "/v1/work-orders?q=%ED%A0%80",  # a lone surrogate, as CESU-8 bytes
    ],
)
def test_a_nul_in_a_query_parameter_is_422_naming_it(
    client: ApiClient, factories: Factories, path: str
) -> None:
    world = factories.tenant()
    problem = assert_problem(client.as_(world.admin_token).get(path), 422, "request.text_invalid")
    assert problem["errors"][0]["field"] in {"q", "code"}


def test_a_nul_in_a_path_segment_is_422(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    response = client.as_(world.admin_token).get("/v1/assets/by-barcode/%00")
    assert_problem(response, 422, "request.text_invalid")


def test_a_lone_surrogate_in_a_created_customer_is_422_and_stores_nothing(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    before = count_rows(engine)
    api = client.as_(world.admin_token)
    problem = assert_problem(
        _raw_post(api, "/v1/customers", '{"name":"x\\ud800"}'), 422, "request.text_invalid"
    )
    assert problem["errors"][0]["field"] == "name"
    # A key is text too.
    body = '{"name":"x","\\udfffk":1}'
    assert_problem(_raw_post(api, "/v1/customers", body), 422, "request.text_invalid")
    assert count_rows(engine) == before


def test_a_lone_surrogate_in_a_patched_title_is_422_and_changes_nothing(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    api = client.as_(scene.world.admin_token)
    before = count_rows(engine)
    response = _raw_post(
        api,
        f"/v1/work-orders/{order.id}",
        '{"title":"\\udfff"}',
        method="PATCH",
        headers={"If-Match": '"1"'},
    )
    problem = assert_problem(response, 422, "request.text_invalid")
    assert problem["errors"][0]["field"] == "title"
    assert count_rows(engine) == before
    assert api.get(f"/v1/work-orders/{order.id}").get_json()["title"] == order.title


def test_two_thousand_nested_objects_are_400(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    before = count_rows(engine)
    body = '{"name":' * 2000 + '"x"' + "}" * 2000
    response = _raw_post(client.as_(world.admin_token), "/v1/customers", body)
    problem = assert_problem(response, 400, "request.nesting_too_deep")
    assert problem["max_depth"] == 64
    assert count_rows(engine) == before


def test_brackets_inside_strings_are_not_nesting(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    name = "[[[{{{" * 20 + '\\"' + "]]]" * 10
    response = _raw_post(client.as_(world.admin_token), "/v1/customers", json.dumps({"name": name}))
    assert response.status_code == 201, response.get_data(as_text=True)


def test_a_header_we_read_with_a_nul_is_refused(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    response = client.as_(world.admin_token).request(
        "POST",
        "/v1/customers",
        json={"name": "x"},
        headers={"Idempotency-Key": "k\x00ey"},
    )
    problem = assert_problem(response, 422, "request.text_invalid")
    assert problem["errors"][0]["field"] == "Idempotency-Key"


def test_a_hundred_thousand_nested_arrays_on_the_watermelon_push_are_400(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene = factories.scene()
    before = count_rows(engine)
    body = "[" * 100_000 + "]" * 100_000
    response = _raw_post(
        client.as_(scene.technician_token), "/v1/sync/watermelon?last_pulled_at=1", body
    )
    assert_problem(response, 400, "request.nesting_too_deep")
    response = _raw_post(client.as_(scene.technician_token), "/v1/sync/push", body)
    assert_problem(response, 400, "request.nesting_too_deep")
    assert count_rows(engine) == before


@pytest.mark.parametrize(
    ("bad_body", "field"),
    [
        ('"a\\u0000b"', "args.body"),
        ('"cut \\ud83d"', "args.body"),  # a JavaScript string cut inside an emoji
        # Past the protocol's MAX_DEPTH of 32: the receipt names the place.
        ("[" * 40 + "1" + "]" * 40, "args.body" + "[0]" * 32),
    ],
)
def test_bad_text_inside_one_mutation_rejects_only_that_one_and_the_outbox_drains(
    client: ApiClient,
    factories: Factories,
    uow_factory: UnitOfWorkFactory,
    bad_body: str,
    field: str,
) -> None:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    order = factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    device = Device(client.as_(scene.technician_token))
    first = device.mutation(AddNote(new_id(), order.id, "seq 1 arrives"))
    bad_id = new_id()
    second = device.raw("add_note", {"id": str(bad_id), "work_order_id": str(order.id), "body": 0})
    third = device.mutation(AddNote(new_id(), order.id, "seq 3 arrives"))
    text = json.dumps(device.body([first, second, third]))
    text = text.replace('"body": 0', f'"body": {bad_body}')

    def send() -> PushResponse:
        response = _raw_post(device.client, "/v1/sync/push", text)
        assert response.status_code == 200, response.get_data(as_text=True)
        return PushResponse.from_json(read_body(response))

    receipts = send().receipts
    assert [(r.seq, r.status, r.code) for r in receipts] == [
        (1, Outcome.APPLIED, None),
        (2, Outcome.REJECTED, "sync.invalid_value"),
        (3, Outcome.APPLIED, None),
    ]
    assert receipts[1].field == field
    again = send()  # the lost-response resend: the same receipts, nothing applied twice
    assert again.receipts == receipts and again.last_seq == 3
    with uow_factory.reader() as uow:
        notes = uow.session.scalars(select(Note.body).where(Note.work_order_id == order.id))
        assert sorted(notes) == ["seq 1 arrives", "seq 3 arrives"]
        parked = uow.session.scalars(select(SyncQuarantine)).all()
        assert [(p.seq, p.code, p.state, p.field) for p in parked] == [
            (2, "sync.invalid_value", "parked", field)
        ]
        assert parked[0].work_order_id == order.id
        assert parked[0].mutation["args"]["id"] == str(bad_id)


def test_an_envelope_too_deep_for_the_parser_refuses_the_push(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene = factories.scene()
    device = Device(client.as_(scene.technician_token))
    body = json.dumps(device.body([device.raw("add_note", {"body": 0})]))
    before = count_rows(engine)
    deep = body.replace('"body": 0', '"body": ' + "[" * 600 + "]" * 600)
    response = _raw_post(device.client, "/v1/sync/push", deep)
    assert_problem(response, 400, "request.nesting_too_deep")
    assert count_rows(engine) == before


def _watermelon_pull(api: ApiClient, last_pulled_at: int | None) -> dict[str, Any]:
    query = {
        "last_pulled_at": "null" if last_pulled_at is None else last_pulled_at,
        "schema_version": 1,
        "migration": "null",
    }
    response = api.get("/v1/sync/watermelon", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = json.loads(response.get_data())
    return body


@pytest.mark.parametrize("bad", ['"a\\u0000b"', '"\\udfff"', "[" * 40 + "]" * 40])
def test_a_watermelon_record_with_bad_text_is_quarantined_alone_and_deleted_from_the_app(
    client: ApiClient, factories: Factories, bad: str
) -> None:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    order = factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    tech = client.as_(scene.technician_token)
    pulled = _watermelon_pull(tech, None)
    ids = [str(new_id()) for _ in range(3)]
    notes = [
        {"id": i, "work_order_id": str(order.id), "body": f"note {n}"} for n, i in enumerate(ids)
    ]
    notes[1]["body"] = 0
    changes = {"notes": {"created": notes, "updated": [], "deleted": []}}
    text = json.dumps({"changes": changes, "lastPulledAt": pulled["timestamp"]})
    text = text.replace('"body": 0', f'"body": {bad}')

    response = _raw_post(tech, "/v1/sync/watermelon", text)

    assert response.status_code == 200, response.get_data(as_text=True)
    after = _watermelon_pull(tech, pulled["timestamp"])
    kept = {r["id"] for r in after["changes"]["notes"]["updated"]}
    assert {ids[0], ids[2]} <= kept and ids[1] not in kept
    assert ids[1] in after["changes"]["notes"]["deleted"]  # the app drops its copy
    (why,) = after["changes"]["quarantine"]["updated"]
    assert why["code"] == "sync.invalid_value"
    assert json.loads(why["mutation"])["args"]["id"] == ids[1]
