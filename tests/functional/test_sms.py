"""Customers are texted about their order (assigned, on the way, done, cancelled) through
the configured provider, here a local fake of Alibaba Cloud SMS and of Twilio that keeps
what it was sent; opt-outs, the per-number limit and refusals are kept with the reason."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select

from api.db import UnitOfWorkFactory
from api.outbox.models import OutboxMessage, OutboxStatus
from api.outbox.registry import HANDLERS
from api.outbox.worker import Handler, run_once
from api.sms import orders as sms_orders
from api.sms.models import SmsMessage, SmsOptOut
from api.sms.notifier import SmsNotifier, SmsSettings
from api.sms.providers import ProviderSettings
from api.users.models import Role
from api.workorders.states import Status
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene
from tests.support.positions import Tracked, fix
from tests.support.sms_provider import KEY_ID, KEY_SECRET, FakeSmsProvider

PUBLIC = "https://track.example.cn"
TEMPLATES = {
    "zh-CN": {
        "assigned": "SMS_100",
        "en_route": "SMS_101",
        "en_route_eta": "SMS_102",
        "completed": "SMS_103",
        "cancelled": "SMS_104",
    }
}


@pytest.fixture
def provider() -> Iterator[FakeSmsProvider]:
    fake = FakeSmsProvider().start()
    yield fake
    fake.stop()


def sms_topics(
    provider: FakeSmsProvider, name: str = "aliyun", sender: str = "菲尔德服务", **settings: Any
) -> dict[str, Handler]:
    notifier = SmsNotifier(
        SmsSettings(
            provider=name,
            public_url=PUBLIC,
            provider_settings=ProviderSettings(
                endpoint=provider.origin,
                key_id=KEY_ID,
                key_secret=KEY_SECRET,
                sender=sender,
                templates=TEMPLATES,
                timeout=1.0,
            ),
            **settings,
        )
    )
    return {**HANDLERS, **sms_orders.handlers([notifier])}


def drain(uow_factory: UnitOfWorkFactory, topics: dict[str, Handler]) -> None:
    while run_once(uow_factory, topics):
        pass


def texts_of(uow_factory: UnitOfWorkFactory, order_id: Any) -> list[SmsMessage]:
    with uow_factory.reader() as uow:
        found = uow.session.scalars(
            select(SmsMessage)
            .where(SmsMessage.work_order_id == order_id)
            .order_by(SmsMessage.created_at, SmsMessage.id)
        )
        return list(found)


def customer_with_mobile(factories: Factories, scene: Scene, phone: str = "138 0013 8000") -> None:
    factories.contact(scene.world, scene.customer, phone=phone, is_primary=True)


def test_an_assigned_order_texts_the_customer_a_working_tracking_link_by_template(
    client: ApiClient,
    factories: Factories,
    uow_factory: UnitOfWorkFactory,
    provider: FakeSmsProvider,
) -> None:
    scene = factories.scene()
    factories.contact(scene.world, scene.customer, phone="021 6552 9988")  # a landline
    customer_with_mobile(factories, scene, "+86 138-0013-8000")
    order = factories.work_order(scene.world, scene.customer, scene.site)
    factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    drain(uow_factory, sms_topics(provider))

    (text,) = provider.texts
    assert text.signed and text.to == "13800138000"  # the mobile, as Dysmsapi wants it
    assert text.form["SignName"] == "菲尔德服务" and text.form["TemplateCode"] == "SMS_100"
    params = text.params
    assert params["number"] == order.number and params["technician"]
    assert params["link"].startswith(f"{PUBLIC}/t/")
    token = params["link"].rsplit("/", 1)[1]
    tracked = client.get(f"/v1/tracking/{token}")
    assert tracked.status_code == 200 and tracked.get_json()["reference"] == order.number

    listed = client.as_(scene.dispatcher_token).get(f"/v1/work-orders/{order.id}/sms-messages")
    assert listed.status_code == 200
    (item,) = listed.get_json()["items"]
    assert item["status"] == "sent" and item["phone"] == "+8613800138000"
    assert item["kind"] == "assigned" and params["link"] in item["body"]
    assert item["body"].startswith("【")  # the rendered words, as kept for the office
    technician = client.as_(scene.technician_token)
    assert technician.get(f"/v1/work-orders/{order.id}/sms-messages").status_code == 403


def test_twilio_gets_the_rendered_english_text_and_the_on_the_way_text_has_the_eta(
    client: ApiClient,
    factories: Factories,
    engine: Engine,
    uow_factory: UnitOfWorkFactory,
    provider: FakeSmsProvider,
) -> None:
    tracked = Tracked(client, factories, engine, name="张伟", name_en="Wei Zhang")
    world = tracked.world
    with uow_factory() as uow:
        from api.tenants.models import Tenant

        tenant = uow.session.get(Tenant, world.tenant_id)
        assert tenant is not None
        tenant.locale, tenant.name_en = "en", "Acme Service"
        uow.commit()
    customer = factories.customer(world)
    factories.contact(world, customer, phone="+1 415 555 2671", is_primary=True)
    site = factories.site(world, customer)
    order = factories.work_order(world, customer, site)
    topics = sms_topics(provider, "twilio", "+14155550100")
    order = factories.advance(world, order, Status.ACCEPTED, tracked.technician)
    drain(uow_factory, topics)
    factories.transition(world, order, "start_travel")
    tracked.send(fix(0, east_m=3000))
    drain(uow_factory, topics)

    assigned, on_the_way = provider.texts
    assert all(t.signed and t.provider == "twilio" for t in provider.texts)
    assert on_the_way.to == "+14155552671" and on_the_way.form["From"] == "+14155550100"
    assert assigned.form["Body"].startswith("Acme Service: technician Wei will handle")
    body = on_the_way.form["Body"]
    assert "Wei is on the way and should arrive in about" in body and f"{PUBLIC}/t/" in body
    assert [t.kind for t in texts_of(uow_factory, order.id)] == ["assigned", "en_route_eta"]


def test_a_contact_whose_login_chose_english_is_texted_in_english_in_a_chinese_tenant(
    factories: Factories, uow_factory: UnitOfWorkFactory, provider: FakeSmsProvider
) -> None:
    scene = factories.scene()  # a zh-CN tenant
    english = factories.contact(scene.world, scene.customer, phone="+1 415 555 2671")
    factories.user(scene.world, Role.CUSTOMER_CONTACT, contact_id=english.id, locale="en")
    other = factories.customer(scene.world)
    factories.contact(scene.world, other, phone="+1 415 555 2672")  # no login: the tenant's
    topics = sms_topics(provider, "twilio", "+14155550100")
    for customer, site in (
        (scene.customer, scene.site),
        (other, factories.site(scene.world, other)),
    ):
        order = factories.work_order(scene.world, customer, site)
        factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    drain(uow_factory, topics)

    texts = {text.to: text.form["Body"] for text in provider.texts}
    assert "will handle" in texts["+14155552671"]
    assert "will handle" not in texts["+14155552672"] and "【" in texts["+14155552672"]


def test_without_a_provider_nothing_is_texted_or_kept(
    factories: Factories, uow_factory: UnitOfWorkFactory, provider: FakeSmsProvider
) -> None:
    scene = factories.scene()
    customer_with_mobile(factories, scene)
    order = factories.work_order(scene.world, scene.customer, scene.site)
    factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    drain(uow_factory, dict(HANDLERS))
    assert provider.texts == [] and texts_of(uow_factory, order.id) == []


def test_an_opted_out_number_is_not_texted_and_the_office_manages_opt_outs(
    client: ApiClient,
    factories: Factories,
    uow_factory: UnitOfWorkFactory,
    provider: FakeSmsProvider,
) -> None:
    scene = factories.scene()
    customer_with_mobile(factories, scene)
    office = client.as_(scene.dispatcher_token)
    made = office.post("/v1/sms-opt-outs", json={"phone": "0086 138 0013 8000"})
    assert made.status_code == 201 and made.get_json()["phone"] == "+8613800138000"
    again = office.post("/v1/sms-opt-outs", json={"phone": "13800138000"})
    assert again.get_json()["id"] == made.get_json()["id"]
    landline = office.post("/v1/sms-opt-outs", json={"phone": "021 6552 9988"})
    assert landline.status_code == 422
    assert landline.get_json()["code"] == "sms.not_a_mobile_number"
    assert client.as_(scene.technician_token).get("/v1/sms-opt-outs").status_code == 403

    order = factories.work_order(scene.world, scene.customer, scene.site)
    factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    drain(uow_factory, sms_topics(provider))
    assert provider.texts == []
    (kept,) = texts_of(uow_factory, order.id)
    assert (kept.status.value, kept.reason) == ("suppressed", "opted_out")

    other = factories.scene()
    foreign = client.as_(other.dispatcher_token).delete(f"/v1/sms-opt-outs/{made.get_json()['id']}")
    assert foreign.status_code == 404
    assert foreign.headers["Content-Type"].startswith("application/problem+json")
    assert foreign.get_json()["code"] == "sms.opt_out_not_found"
    assert office.delete(f"/v1/sms-opt-outs/{made.get_json()['id']}").status_code == 204
    audit = client.as_(scene.world.admin_token).get(
        "/v1/audit-events", query_string={"entity_type": "sms_opt_out"}
    )
    assert [(e["action"], e["actor_id"]) for e in audit.get_json()["items"]] == [
        ("delete", str(scene.dispatcher_id)),
        ("create", str(scene.dispatcher_id)),
    ]
    assert office.get("/v1/sms-opt-outs").get_json()["items"] == []
    factories.transition(scene.world, order, "cancel", reason="客户取消")
    drain(uow_factory, sms_topics(provider))
    (cancelled,) = provider.texts
    assert cancelled.form["TemplateCode"] == "SMS_104"


def test_a_number_gets_no_more_texts_than_its_limit(
    factories: Factories, uow_factory: UnitOfWorkFactory, provider: FakeSmsProvider
) -> None:
    scene = factories.scene()
    customer_with_mobile(factories, scene)
    topics = sms_topics(provider, rate_limit="2/hour")
    first = factories.work_order(scene.world, scene.customer, scene.site)
    second = factories.work_order(scene.world, scene.customer, scene.site)
    for order in (first, second):
        factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
        drain(uow_factory, topics)
    factories.transition(scene.world, first, "cancel", reason="重复报修")
    drain(uow_factory, topics)

    assert len(provider.texts) == 2
    (held,) = [t for t in texts_of(uow_factory, first.id) if t.kind == "cancelled"]
    assert (held.status.value, held.reason) == ("suppressed", "rate_limited")
    other = factories.scene()  # another tenant's texts count on their own
    customer_with_mobile(factories, other)
    order = factories.work_order(other.world, other.customer, other.site)
    factories.transition(other.world, order, "assign", assignee_id=other.technician.id)
    drain(uow_factory, topics)
    assert len(provider.texts) == 3


def test_a_refused_number_is_failed_for_good_and_a_stop_reply_becomes_an_opt_out(
    factories: Factories, uow_factory: UnitOfWorkFactory, provider: FakeSmsProvider
) -> None:
    scene = factories.scene()
    customer_with_mobile(factories, scene)
    provider.answers.extend(["isv.MOBILE_NUMBER_ILLEGAL", "21610"])
    order = factories.work_order(scene.world, scene.customer, scene.site)
    factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    drain(uow_factory, sms_topics(provider))
    factories.transition(scene.world, order, "cancel", reason="客户取消")
    drain(uow_factory, sms_topics(provider, "twilio", "MG0123"))

    assert len(provider.texts) == 2  # each asked once: a refusal is not retried
    assert provider.texts[1].form["MessagingServiceSid"] == "MG0123"
    refused, stopped = texts_of(uow_factory, order.id)
    assert (refused.status.value, refused.reason) == ("failed", "isv.MOBILE_NUMBER_ILLEGAL")
    assert (stopped.status.value, stopped.reason) == ("failed", "twilio.21610")
    with uow_factory.reader() as uow:
        (opt_out,) = uow.session.scalars(
            select(SmsOptOut).where(SmsOptOut.tenant_id == scene.world.tenant_id)
        )
        assert (opt_out.phone, opt_out.source) == ("+8613800138000", "provider")
        sends = uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == sms_orders.SEND)
        ).all()
        assert {m.status for m in sends} == {OutboxStatus.DONE}
