"""Nothing crosses a tenant, or a customer, through ANY endpoint.

The walk is derived from the app's URL map, so a new endpoint is covered the day
it is added (and this test fails until its path parameters have a sample here).
Two intruders try everything:

* an admin of another tenant (all permissions, wrong tenant): every object URL is
  a 404, every list is free of the victim's data;
* a customer contact of customer X, reaching for customer Y's objects in the
  same tenant: never a success, never a leak.

After each attempt the database is exactly as before and the response text
contains none of the victim's ids.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, update

from api.auth.permissions import Role
from api.db import utcnow
from api.dispatching.models import Offer
from api.evidence.models import Photo
from api.outbox.registry import HANDLERS
from api.outbox.worker import run_once
from api.workorders.states import NoteVisibility, Status
from sync_protocol.entities import PhotoType
from sync_protocol.merge import Outcome
from sync_protocol.mutations import AttachPhoto, PatchWorkOrder
from tests.conftest import count_rows
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.factories.core import PASSWORD
from tests.support.images import jpeg
from tests.support.push import Device, new_id
from tests.support.push_service import BrowserKeys

_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")

# Bodies that pass validation, so the request reaches the object lookup.
# Required query parameters, so the lookup is reached (a bad query is refused first).
_QUERIES: dict[str, dict[str, str]] = {"/fixes": {"near": "31.2304,121.4737"}}
_BODIES: list[tuple[str, str, Any]] = [
    ("POST", "/<token>", []),  # the SMS reply hook takes a JSON array
    ("POST", "/transitions", {"action": "cancel", "reason": "入侵测试"}),
    ("POST", "/notes", {"body": "入侵测试"}),
    ("POST", "/decline", {"reason": "入侵测试"}),
    ("POST", "/contacts", {"name": "入侵测试"}),
    ("POST", "/read", None),
    ("POST", "/resolution", {"resolution": "keep_server"}),
    ("PUT", "/visibility", {"visibility": "customer"}),
    ("PUT", "/annotations", {"shapes": []}),
    (
        "POST",
        "/sign-off",
        {"outcome": "refused", "signer_name": "入侵测试", "refusal_reason": "测试"},
    ),
    (
        "POST",
        "/work-orders/<uuid:work_order_id>/merge",
        {"into_work_order_id": "01938a3c-7c00-7000-8000-000000000001"},
    ),
    ("POST", "/merge", {"into_asset_id": "01938a3c-7c00-7000-8000-000000000001"}),
    ("POST", "/rating", {"score": 5}),
    ("POST", "/push-subscriptions", BrowserKeys().subscription("https://push.example.com/i")),
    ("PUT", "/days/<day>", {"hours": []}),
    ("POST", "/workflow/actions", {"step": "tech", "action": "complete"}),
    ("POST", "/sla/pauses", {"reason": "入侵测试"}),
]


# Shared by the whole tenant, so a contact may read it whoever's order uses it.
_TENANT_WIDE = {"category_id"}

# A SHA-256 names bytes, not an object: whoever holds the bytes may store them in
# their own tenant. So another tenant's HEAD of the victim's hash must be 404, and
# its PUT (without the bytes) must store nothing: 422, never a 2xx.
_CONTENT_ADDRESSED = {"sha256"}
_STRANGER_BYTES = jpeg("not the victim's photo")
_VICTIM_PHOTO = jpeg("the victim's photo")


@dataclass
class Victim:
    slug: str
    contact_x_id: str  # a contact of customer X, in the victim's tenant
    ids: dict[str, str]  # path parameter name -> an object of customer Y (or staff)
    customer_y_ids: set[str]  # what a contact of customer X must never see


@pytest.fixture
def victim(factories: Factories, client: ApiClient, uow_factory: Any) -> Victim:
    world = factories.tenant()
    customer_x, customer_y = factories.customer(world), factories.customer(world)
    contact_x = factories.contact(world, customer_x)
    contact_y = factories.contact(world, customer_y)
    site_y = factories.site(world, customer_y)
    asset_y = factories.asset(world, site_y, barcode_value="ISOLATION-Y-1", barcode_symbology="qr")
    technician, tech_user, tech_token = factories.technician_user(world)
    team = factories.team(world)
    categories = factories.category_path(world)
    order = factories.work_order(
        world, customer_y, site_y, category_id=categories[-1].id, asset_ids=[asset_y.id]
    )
    factories.transition(world, order, "assign", assignee_id=technician.id)
    offer_id = _offer(factories, world, technician.id, customer_y, site_y)
    note = factories.note(world, order, visibility=NoteVisibility.CUSTOMER)
    phone = Device(client.as_(tech_token))  # a conflict record and a parked mutation
    receipts = phone.push_ok(
        [
            phone.mutation(PatchWorkOrder(order.id, {"priority": "urgent"})),
            phone.raw("teleport_work_order", {"work_order_id": str(order.id)}),
        ]
    ).receipts
    while run_once(uow_factory, HANDLERS):
        pass
    admin = client.as_(world.admin_token)
    done = factories.work_order(world, customer_y, site_y, title=order.title)  # a duplicate
    done = factories.advance(world, done, Status.COMPLETED, technician)
    suggestions = admin.get(f"/v1/work-orders/{done.id}/duplicates").get_json()["items"]
    assert suggestions and suggestions[0]["other"]["id"] == str(order.id), suggestions
    report = admin.post(f"/v1/work-orders/{done.id}/reports", json={})
    assert report.status_code == 201, report.get_json()
    calendar = admin.post(
        "/v1/business-calendars",
        json={"name": "入侵测试", "time_zone": "Asia/Shanghai", "weekly_hours": {}},
    )
    assert calendar.status_code == 201, calendar.get_json()
    policy = admin.post("/v1/sla-policies", json={"name": "入侵测试", "resolution_minutes": 60})
    assert policy.status_code == 201, policy.get_json()
    rule = admin.post(
        "/v1/priority-rules",
        json={"name": "入侵测试", "position": 1, "logic": {"!": [1]}, "priority": "high"},
    )
    assert rule.status_code == 201, rule.get_json()
    definition = admin.post(
        "/v1/workflow-definitions",
        json={
            "name": "入侵测试",
            "category_id": str(categories[-1].id),
            "steps": [{"key": "tech", "name": "技术", "owner": {"team_id": str(team.id)}}],
        },
    )
    assert definition.status_code == 201, definition.get_json()
    escalation_rule = admin.post(
        "/v1/escalation-rules",
        json={
            "name": "入侵测试",
            "level": 1,
            "trigger": "created",
            "minutes": 60,
            "action": "notify_supervisor",
            "team_id": str(team.id),
        },
    )
    assert escalation_rule.status_code == 201, escalation_rule.get_json()
    key = admin.post("/v1/api-keys", json={"name": "erp", "scopes": ["customers:read"]}).get_json()
    tech_session = client.post(
        "/v1/auth/login",
        json={
            "tenant": world.slug,
            "email": tech_user.email,
            "password": PASSWORD,
            "device_id": "d1",
        },
    ).get_json()
    tech_api = client.as_(tech_session["access_token"])
    notification = tech_api.get("/v1/notifications").get_json()["items"][0]
    photo_sha = hashlib.sha256(_VICTIM_PHOTO).hexdigest()
    uploaded = tech_api.request(
        "PUT",
        f"/v1/sync/blobs/{photo_sha}",
        data=_VICTIM_PHOTO,
        headers={"Content-Type": "image/jpeg"},
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    photo_id = _shown_photo(
        phone, uow_factory, order.id, photo_sha, len(_VICTIM_PHOTO), note_id=note.id
    )
    sha_b64 = base64.b64encode(photo_sha.encode()).decode()
    jpeg_b64 = base64.b64encode(b"image/jpeg").decode()
    upload = tech_api.request(
        "POST",
        "/v1/uploads",
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(len(_VICTIM_PHOTO)),
            "Upload-Metadata": f"sha256 {sha_b64},filetype {jpeg_b64}",
        },
    )
    assert upload.status_code == 201, upload.get_data(as_text=True)
    subscription = tech_api.post(
        "/v1/push/subscriptions",
        json=BrowserKeys().subscription("https://push.example.com/send/victim"),
    )
    assert subscription.status_code == 201, subscription.get_json()
    opt_out = admin.post("/v1/sms-opt-outs", json={"phone": "13800138000"})
    assert opt_out.status_code == 201, opt_out.get_json()
    ids = {
        "tenant_id": str(world.tenant_id),  # the SMS reply hook: the secret decides (404)
        "subscription_id": subscription.get_json()["id"],
        "opt_out_id": opt_out.get_json()["id"],
        "customer_id": str(customer_y.id),
        "contact_id": str(contact_y.id),
        "site_id": str(site_y.id),
        "asset_id": str(asset_y.id),
        "technician_id": str(technician.id),
        "team_id": str(team.id),
        "category_id": str(categories[-1].id),
        "work_order_id": str(order.id),
        "user_id": str(tech_user.id),
        "key_id": key["id"],
        "session_id": tech_session["session_id"],
        "notification_id": notification["id"],
        "barcode_value": "ISOLATION-Y-1",
        "sha256": photo_sha,
        "conflict_id": str(receipts[0].conflict_ids[0]),
        "entry_id": client.as_(tech_token).get("/v1/sync/quarantine").get_json()["items"][0]["id"],
        "device_id": str(phone.device_id),
        "photo_id": str(photo_id),
        "note_id": str(note.id),
        "item_id": str(photo_id),  # /{kind}/{item_id}/visibility: the photo for photos
        # /v1/media/{token}: a link is its own credential (tested in test_photo_reads);
        # one this server did not make names nothing.
        "token": "not-a-link-this-server-made",
        "upload_id": upload.headers["Location"].rsplit("/", 1)[-1],
        "report_id": report.get_json()["id"],
        "calendar_id": calendar.get_json()["id"],
        "day": "2026-10-01",
        "policy_id": policy.get_json()["id"],
        "rule_id": rule.get_json()["id"],
        "definition_id": definition.get_json()["id"],
        "workflow_version_id": admin.get(
            f"/v1/workflow-definitions/{definition.get_json()['id']}/versions"
        ).get_json()["items"][0]["id"],
        "suggestion_id": suggestions[0]["id"],
        "escalation_rule_id": escalation_rule.get_json()["id"],
        "offer_id": str(offer_id),
        "version_id": admin.get("/v1/priority-rule-versions").get_json()["items"][0]["id"],
    }
    customer_y_ids = {
        ids[k]
        for k in (
            "customer_id",
            "contact_id",
            "site_id",
            "asset_id",
            "work_order_id",
            "barcode_value",
        )
    } | {str(note.id), str(photo_id), ids["report_id"]}
    return Victim(world.slug, str(contact_x.id), ids, customer_y_ids)


def _offer(
    factories: Factories, world: Any, technician_id: uuid.UUID, customer: Any, site: Any
) -> uuid.UUID:
    """A pending offer to the technician of another order of customer Y (auto-dispatch)."""
    tenant_id = world.tenant_id
    order = factories.work_order(world, customer, site)
    with factories.uow() as uow:
        now = utcnow()
        offer = Offer(
            tenant_id=tenant_id, work_order_id=order.id, technician_id=technician_id, attempt=1,
            state="pending", number=order.number, title=order.title, site_address="入侵测试",
            distance_m=100, travel_s=60, score=99.0, offered_at=now,
            expires_at=now + timedelta(minutes=5),
        )  # fmt: skip
        uow.session.add(offer)
        uow.commit()
        return offer.id


def _shown_photo(
    phone: Device,
    uow_factory: Any,
    order_id: uuid.UUID,
    sha256: str,
    size: int,
    note_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A ready photo on the order (illustrating ``note_id``), shown to the order's
    customer (Y, not X)."""
    photo_id = new_id()
    photo = AttachPhoto(photo_id, order_id, sha256, PhotoType.JPEG, size, note_id=note_id)
    attached = phone.push_ok([phone.mutation(photo)])
    assert [r.status for r in attached.receipts] == [Outcome.APPLIED]
    with uow_factory() as uow:
        uow.session.execute(update(Photo).where(Photo.id == photo_id).values(visibility="customer"))
        uow.commit()
    return photo_id


def _routes(app: Flask) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/v1/") or rule.rule.startswith("/v1/auth/"):
            continue
        methods = (rule.methods or set()) - {"OPTIONS"}
        if "GET" in methods:
            methods.discard("HEAD")  # Flask's automatic HEAD of a GET: the GET covers it
        for method in sorted(methods):
            routes.append((method, rule.rule))
    return routes


def _fill(rule: str, ids: dict[str, str]) -> str:
    def sample(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in ids, f"add a sample id for path parameter {name!r} to this test"
        return ids[name]

    return _PARAM.sub(sample, rule)


def _attempt(api: ApiClient, method: str, rule: str, ids: dict[str, str]):
    path = _fill(rule, ids)
    body = next((b for m, suffix, b in _BODIES if m == method and rule.endswith(suffix)), {})
    if rule.startswith("/v1/uploads/"):  # tus: speak the protocol, so the lookup is reached
        headers = {"Tus-Resumable": "1.0.0"}
        if method == "PATCH":
            headers |= {"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
        return api.request(method, path, data=_STRANGER_BYTES, headers=headers)
    if method in ("PATCH", "DELETE"):
        return api.request(method, path, json=body or None, headers={"If-Match": '"1"'})
    if method == "POST" and (
        rule.endswith("/work-orders/<uuid:work_order_id>/merge")
        or rule.startswith("/v1/offers/")  # answering an offer needs its ETag
    ):
        return api.request(method, path, json=body, headers={"If-Match": '"1"'})
    if method == "POST":
        return api.request(method, path, json=body)
    if method == "PUT" and body:
        return api.request(method, path, json=body)
    if method == "PUT":  # raw bytes (blob uploads)
        return api.request(
            method, path, data=_STRANGER_BYTES, headers={"Content-Type": "image/jpeg"}
        )
    query = next((q for suffix, q in _QUERIES.items() if rule.endswith(suffix)), None)
    return api.request(method, path, query_string=query)


def _assert_no_leak(response: Any, secrets: set[str], where: str) -> None:
    text = response.get_data(as_text=True)
    if response.mimetype == "application/problem+json" and text:  # HEAD: headers only
        body = response.get_json()
        body.pop("instance")  # echoes the intruder's own URL, which reveals nothing
        text = json.dumps(body, ensure_ascii=False)
    leaked = [s for s in secrets if s in text]
    assert not leaked, f"{where} leaked {leaked}"


def test_another_tenants_admin_gets_404_from_every_object_url_and_nothing_from_lists(
    app: Flask, client: ApiClient, factories: Factories, victim: Victim, engine: Engine
) -> None:
    intruder = client.as_(factories.tenant().admin_token)
    secrets = set(victim.ids.values())
    checked = 0
    for method, rule in _routes(app):
        before = count_rows(engine)
        response = _attempt(intruder, method, rule, victim.ids)
        where = f"{method} {rule}"
        if _PARAM.search(rule):
            uploads = method == "PUT" and set(_PARAM.findall(rule)) <= _CONTENT_ADDRESSED
            assert response.status_code == (422 if uploads else 404), (
                f"{where}: {response.status_code} {response.get_json()}"
            )
            assert response.mimetype == "application/problem+json", where
        elif method == "GET":
            assert response.status_code == 200, where
        if method != "POST" or _PARAM.search(rule):
            assert count_rows(engine) == before, f"{where} wrote something"
        _assert_no_leak(response, secrets, where)
        checked += 1
    assert checked >= 40  # the walk really covered the API


def test_a_contact_of_one_customer_cannot_reach_another_customers_data(
    app: Flask, client: ApiClient, factories: Factories, victim: Victim, engine: Engine
) -> None:
    admin_token = factories.token(victim.slug, f"admin@{victim.slug}.test")
    created = client.as_(admin_token).post(
        "/v1/users",
        json={
            "email": "x-contact@example.com",
            "name": "X",
            "role": Role.CUSTOMER_CONTACT.value,
            "password": PASSWORD,
            "contact_id": victim.contact_x_id,
        },
    )
    assert created.status_code == 201, created.get_json()
    intruder = client.as_(factories.token(victim.slug, "x-contact@example.com"))

    for method, rule in _routes(app):
        before = count_rows(engine)
        response = _attempt(intruder, method, rule, victim.ids)
        where = f"{method} {rule}"
        params = set(_PARAM.findall(rule))
        if params - _TENANT_WIDE:
            assert response.status_code in (403, 404), f"{where}: {response.status_code}"
        if method != "POST" or _PARAM.search(rule):
            assert count_rows(engine) == before, f"{where} wrote something"
        _assert_no_leak(response, victim.customer_y_ids, where)

    # Filters naming customer Y's objects find nothing either.
    for query in ("customer_id", "site_id"):
        for path in ("/v1/work-orders", "/v1/sites", "/v1/assets"):
            response = intruder.get(f"{path}?{query}={victim.ids[query]}")
            if response.status_code == 200:
                assert response.get_json()["items"] == [], f"{path}?{query}"


def test_creates_cannot_attach_another_tenants_objects(
    client: ApiClient, factories: Factories, victim: Victim, engine: Engine
) -> None:
    intruder_world = factories.tenant()
    own_customer = factories.customer(intruder_world)
    own_site = factories.site(intruder_world, own_customer)
    own_order = factories.work_order(intruder_world, own_customer, own_site)
    api = client.as_(intruder_world.admin_token)
    v = victim.ids
    attempts = [
        ("/v1/sites", {"customer_id": v["customer_id"], "name": "x", "address": "x"}),
        ("/v1/assets", {"site_id": v["site_id"], "name": "x"}),
        (
            "/v1/work-orders",
            {"title": "x", "customer_id": v["customer_id"], "site_id": v["site_id"]},
        ),
        (
            "/v1/work-orders",
            {
                "title": "x",
                "customer_id": str(own_customer.id),
                "site_id": str(own_site.id),
                "category_id": v["category_id"],
            },
        ),
        (
            "/v1/work-orders",
            {
                "title": "x",
                "customer_id": str(own_customer.id),
                "site_id": str(own_site.id),
                "asset_ids": [v["asset_id"]],
            },
        ),
        ("/v1/technicians", {"name": "x", "team_id": v["team_id"]}),
        ("/v1/teams", {"name": "x", "supervisor_user_id": v["user_id"]}),
        ("/v1/categories", {"code": "x1", "name": "x", "parent_id": v["category_id"]}),
        (
            "/v1/users",
            {
                "email": "t@x.test",
                "name": "x",
                "role": "technician",
                "password": PASSWORD,
                "technician_id": v["technician_id"],
            },
        ),
        (
            "/v1/users",
            {
                "email": "c@x.test",
                "name": "x",
                "role": "customer_contact",
                "password": PASSWORD,
                "contact_id": v["contact_id"],
            },
        ),
        (
            f"/v1/work-orders/{own_order.id}/transitions",
            {"action": "assign", "assignee_id": v["technician_id"]},
        ),
    ]
    for path, body in attempts:
        before = count_rows(engine)
        response = api.post(path, json=body)
        assert response.status_code in (404, 422), f"{path} {body}: {response.status_code}"
        assert count_rows(engine) == before, f"{path} {body} wrote something"
        _assert_no_leak(response, set(v.values()), path)
