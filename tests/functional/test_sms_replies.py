"""Customers stop texts themselves: by replying TD (退订) to a text, which Alibaba Cloud
pushes to the tenant's reply address, or with the button on their tracking page."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask

from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene


@pytest.fixture
def texting(app: Flask) -> Iterator[None]:
    """The app as deployed with an SMS provider (nothing is sent in these tests)."""
    state = app.extensions["fieldline"]
    original = state.config
    state.config = dataclasses.replace(original, sms_provider="aliyun")
    yield
    state.config = original


def reply_path(client: ApiClient, world_admin_token: str) -> str:
    hook = client.as_(world_admin_token).get("/v1/sms/reply-hook")
    assert hook.status_code == 200
    return urlsplit(hook.get_json()["aliyun_url"]).path


def uplink(phone: str, content: str, sequence_id: Any = 1234567890) -> dict[str, Any]:
    """One uplink message as Alibaba Cloud's HTTP batch push sends it."""
    return {
        "phone_number": phone,
        "content": content,
        "send_time": "2026-12-04 10:00:00",
        "dest_code": "1234",
        "sequence_id": sequence_id,
        "sign_name": "菲尔德服务",
    }


def opt_outs(client: ApiClient, scene: Scene) -> list[tuple[str, str]]:
    listed = client.as_(scene.dispatcher_token).get("/v1/sms-opt-outs")
    assert listed.status_code == 200
    return sorted((item["phone"], item["source"]) for item in listed.get_json()["items"])


def test_a_td_or_tuiding_reply_pushed_by_alibaba_opts_the_number_out(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    path = reply_path(client, scene.world.admin_token)
    assert client.get(path).get_json() == {"code": 0, "msg": "成功"}  # the console's check
    pushed = client.post(
        path,
        json=[
            uplink("13800138000", "TD"),
            uplink("13900139000", " 退订。", "1234567891"),
            uplink("13700137000", "好的，谢谢"),  # a reply, not an opt-out
        ],
    )
    assert pushed.status_code == 200
    assert pushed.get_json() == {"code": 0, "msg": "接收成功"}
    expected = [("+8613800138000", "reply"), ("+8613900139000", "reply")]
    assert opt_outs(client, scene) == expected
    # Alibaba pushes again after a lost answer: nothing changes.
    assert client.post(path, json=[uplink("13800138000", "td")]).status_code == 200
    assert opt_outs(client, scene) == expected
    other = factories.scene()  # another tenant still texts those numbers
    assert opt_outs(client, other) == []


def test_a_reply_push_without_the_tenants_secret_is_refused_and_changes_nothing(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    other = factories.scene()
    path = reply_path(client, scene.world.admin_token)
    other_token = reply_path(client, other.world.admin_token).rsplit("/", 1)[1]
    forged = path.rsplit("/", 1)[0] + "/" + other_token
    for wrong in (forged, path[:-1] + ("0" if path[-1] != "0" else "1")):
        assert_problem(
            client.post(wrong, json=[uplink("13800138000", "TD")]), 404, "request.not_found"
        )
        assert_problem(client.get(wrong), 404, "request.not_found")
    assert opt_outs(client, scene) == []
    # Only an admin learns the address.
    assert client.as_(scene.dispatcher_token).get("/v1/sms/reply-hook").status_code == 403


def shared_order(client: ApiClient, factories: Factories) -> tuple[Scene, str]:
    scene = factories.scene()
    factories.contact(scene.world, scene.customer, phone="138 0013 8000", is_primary=True)
    order = factories.work_order(scene.world, scene.customer, scene.site)
    shared = client.as_(scene.dispatcher_token).post(f"/v1/work-orders/{order.id}/tracking-link")
    assert shared.status_code == 201
    return scene, shared.get_json()["token"]


@pytest.mark.usefixtures("texting")
def test_the_customer_stops_texts_with_the_button_on_the_tracking_page(
    app: Flask, client: ApiClient, factories: Factories
) -> None:
    scene, token = shared_order(client, factories)
    browser = app.test_client()
    chinese = browser.get(f"/t/{token}?lang=zh-CN").get_data(as_text=True)
    assert "退订短信" in chinese and f'action="/t/{token}/sms-opt-out"' in chinese
    english = browser.get(f"/t/{token}?lang=en").get_data(as_text=True)
    assert "Stop text messages" in english

    stopped = browser.post(f"/t/{token}/sms-opt-out")
    assert stopped.status_code == 303
    assert stopped.headers["Location"].endswith(f"/t/{token}?texts=stopped#texts")
    page = browser.get(stopped.headers["Location"]).get_data(as_text=True)
    assert "we will send no more text messages to your number" in page
    assert opt_outs(client, scene) == [("+8613800138000", "tracking")]


@pytest.mark.usefixtures("texting")
def test_the_tracking_api_stops_texts_too_and_an_unknown_link_stops_nothing(
    client: ApiClient, factories: Factories
) -> None:
    scene, token = shared_order(client, factories)
    unknown = token[:-2] + ("aa" if not token.endswith("aa") else "bb")
    assert_problem(
        client.post(f"/v1/tracking/{unknown}/sms-opt-out"), 404, "tracking.link_not_found"
    )
    assert opt_outs(client, scene) == []
    assert client.post(f"/v1/tracking/{token}/sms-opt-out").status_code == 204
    assert client.post(f"/v1/tracking/{token}/sms-opt-out").status_code == 204
    assert opt_outs(client, scene) == [("+8613800138000", "tracking")]


def test_without_an_sms_provider_the_tracking_page_offers_no_text_opt_out(
    app: Flask, client: ApiClient, factories: Factories
) -> None:
    _, token = shared_order(client, factories)
    page = app.test_client().get(f"/t/{token}?lang=en").get_data(as_text=True)
    assert "Stop text messages" not in page
