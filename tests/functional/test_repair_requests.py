"""Public repair requests (报修) from a label's token: no login, abuse-limited."""

from __future__ import annotations

import hashlib
import io
from typing import Any

from flask import Flask
from sqlalchemy import Engine, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from api.assets.models import Asset
from api.config import Config
from api.evidence.models import Photo
from api.http.ratelimit import RateLimiter
from api.ratelimits.storage import DatabaseStorage
from api.repairs.photos import MAX_PHOTO_BYTES
from api.repairs.routes import MAX_FORM_BYTES
from api.workorders.models import WorkOrder, WorkOrderAsset
from tests.conftest import count_rows
from tests.functional.test_sync_blobs import stored_files
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.core import World
from tests.support.images import jpeg, noise_jpeg


def _labelled(factories: Factories) -> tuple[World, Asset, str]:
    """A tenant with one asset at a customer's site, and its label's token."""
    world = factories.tenant()
    asset = factories.asset(world, factories.site(world, factories.customer(world)))
    return world, asset, _token(factories, asset)


def _token(factories: Factories, asset: Asset) -> str:
    with factories.uow() as uow:
        return uow.session.scalars(select(Asset.label_token).where(Asset.id == asset.id)).one()


def _form(**extra: Any) -> dict[str, Any]:
    return {
        "description": "空调外机噪音很大，还漏水",
        "contact_name": "李先生",
        "contact_phone": "138 0013 8000",
        **extra,
    }


def _post(client: ApiClient, token: str, data: dict[str, Any], address: str = "203.0.113.9"):
    """The form as a browser posts it (``multipart/form-data``), encoded in memory: the
    test client would spool a body over 500 KB to a temporary file that nobody closes
    when the server refuses it unread."""
    fields = MultiDict()
    for name, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            upload = isinstance(item, tuple)
            fields.add(
                name, FileStorage(item[0], item[1], content_type="image/jpeg") if upload else item
            )
    boundary, body = encode_multipart(fields)
    return client.post(
        f"/r/{token}/repair-requests",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        environ_base={"REMOTE_ADDR": address},
    )


def test_a_label_opens_a_prefilled_work_order_with_photos(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    customer = factories.customer(world)
    site = factories.site(world, customer)
    asset = factories.asset(world, site, name="3 号空调外机")
    token = _token(factories, asset)

    shown = client.get(f"/r/{token}/asset")
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "no-store"  # names a customer; labels get replaced
    assert shown.get_json() == {
        "name": "3 号空调外机",
        "name_en": asset.name_en,
        "site_name": site.name,
        "site_name_en": site.name_en,
        "customer_name": customer.name,
        "customer_name_en": customer.name_en,
    }
    sent = _post(client, token, _form(photos=[(io.BytesIO(jpeg("leak")), "leak.jpg")]))
    assert sent.status_code == 201, sent.get_json()
    reference = sent.get_json()["reference"]
    with factories.uow() as uow:
        order = uow.session.scalars(select(WorkOrder).where(WorkOrder.number == reference)).one()
        links = uow.session.scalars(
            select(WorkOrderAsset.asset_id).where(WorkOrderAsset.work_order_id == order.id)
        ).all()
        photos = uow.session.scalars(select(Photo).where(Photo.work_order_id == order.id)).all()
    assert (order.tenant_id, order.customer_id, order.site_id) == (
        world.tenant_id,
        customer.id,
        site.id,
    )
    assert links == [asset.id] and order.source == "repair_request"
    assert "空调外机噪音很大" in (order.description or "") and "138 0013 8000" in (
        order.description or ""
    )
    assert [(p.state, p.asset_id, p.author_kind) for p in photos] == [("ready", asset.id, "public")]
    # The office sees it like any order.
    listed = client.as_(world.admin_token).get(f"/v1/work-orders/{order.id}")
    assert listed.status_code == 200
    assert str(asset.id) not in sent.get_data(as_text=True)


def test_an_unknown_token_is_not_found_and_opens_nothing(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    factories.asset(world, factories.site(world, factories.customer(world)))
    before = count_rows(engine)
    assert_problem(client.get("/r/not-a-real-token/asset"), 404, "repair.link_not_found")
    refused = _post(client, "not-a-real-token", _form())
    assert_problem(refused, 404, "repair.link_not_found")
    after = count_rows(engine)
    after.pop("rate_limit_counters", None), before.pop("rate_limit_counters", None)
    assert after == before


def test_the_honeypot_answers_like_a_success_and_keeps_nothing(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    *_, token = _labelled(factories)
    before = count_rows(engine)

    trapped = _post(client, token, _form(website="http://spam.example"))
    assert trapped.status_code == 201 and trapped.get_json()["reference"].startswith("WO-")
    after = count_rows(engine)
    after.pop("rate_limit_counters", None), before.pop("rate_limit_counters", None)
    assert after == before


def test_bad_input_is_refused_before_an_order_opens(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    *_, token = _labelled(factories)
    before = count_rows(engine)["work_orders"]

    too_long = _post(client, token, _form(description="漏" * 2001))
    assert_problem(too_long, 422, "request.validation_failed")
    not_a_photo = _post(client, token, _form(photos=[(io.BytesIO(b"<html>hi</html>"), "a.jpg")]))
    assert not_a_photo.status_code in (415, 422), not_a_photo.get_json()
    assert not_a_photo.get_json()["code"].startswith("media.")
    many = [(io.BytesIO(jpeg(f"p{n}")), f"{n}.jpg") for n in range(4)]
    assert_problem(_post(client, token, _form(photos=many)), 422, "request.validation_failed")
    unknown = _post(client, token, _form(customer_id="x"))
    assert_problem(unknown, 422, "request.validation_failed")
    assert count_rows(engine)["work_orders"] == before


def test_requests_are_limited_per_label_and_per_address(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    site = factories.site(world, factories.customer(world))
    first, second = (_token(factories, factories.asset(world, site)) for _ in range(2))

    for _ in range(10):  # FIELDLINE_REPAIR_RATE_LIMIT's default: 10/hour
        assert _post(client, first, _form(), "198.51.100.1").status_code == 201
    over_label = _post(client, first, _form(), "198.51.100.2")
    assert_problem(over_label, 429, "request.rate_limited")
    assert int(over_label.headers["Retry-After"]) > 0
    over_address = _post(client, second, _form(), "198.51.100.1")
    assert_problem(over_address, 429, "request.rate_limited")
    assert _post(client, second, _form(), "198.51.100.3").status_code == 201


def _kept(engine: Engine) -> dict[str, int]:
    """Row counts of every table but the rate limiter's (which counts every attempt)."""
    counts = count_rows(engine)
    counts.pop("rate_limit_counters", None)
    return counts


def _padded(label: str, size: int) -> bytes:
    """A valid JPEG of exactly ``size`` bytes (zeros after its end, which decoders skip)."""
    photo = jpeg(label)
    return photo + b"\0" * (size - len(photo))


def test_three_phone_photos_of_several_megabytes_are_accepted(
    client: ApiClient, factories: Factories, config: Config
) -> None:
    """Up to the form's limit, well past the 1 MiB of an ordinary API body."""
    world, _, token = _labelled(factories)
    photos = [noise_jpeg((2200, 1800), seed) for seed in range(3)]
    assert all(4_000_000 < len(p) < MAX_PHOTO_BYTES for p in photos)
    at_the_limit = _padded("exactly 5 MiB", MAX_PHOTO_BYTES)

    sent = _post(client, token, _form(photos=[(io.BytesIO(p), "p.jpg") for p in photos]))
    at_limit = _post(client, token, _form(photos=[(io.BytesIO(at_the_limit), "p.jpg")]))

    assert sent.status_code == 201, sent.get_json()
    assert at_limit.status_code == 201, at_limit.get_json()
    kept = stored_files(config, world.tenant_id)
    assert sorted(kept) == sorted(hashlib.sha256(p).hexdigest() for p in [*photos, at_the_limit])


def test_a_photo_over_5_mib_is_refused_and_nothing_is_kept(
    client: ApiClient, factories: Factories, engine: Engine, config: Config
) -> None:
    world, _, token = _labelled(factories)
    before = _kept(engine)
    fine, over = jpeg("fine"), _padded("one byte over", MAX_PHOTO_BYTES + 1)

    refused = _post(
        client, token, _form(photos=[(io.BytesIO(fine), "a.jpg"), (io.BytesIO(over), "b.jpg")])
    )

    assert_problem(refused, 422, "request.validation_failed")
    assert [(e["field"], e["code"]) for e in refused.get_json()["errors"]] == [
        ("photos", "too_long")
    ]
    assert _kept(engine) == before  # no order, no photo, no blob row
    assert stored_files(config, world.tenant_id) == []  # not even the photo that was fine


def _urlencoded(client: ApiClient, token: str, body: bytes) -> TestResponse:
    return client.post(
        f"/r/{token}/repair-requests",
        data=body,
        content_type="application/x-www-form-urlencoded",
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )


def test_an_over_size_form_is_refused_as_too_large_and_nothing_is_kept(
    client: ApiClient, factories: Factories, engine: Engine, config: Config
) -> None:
    world, _, token = _labelled(factories)
    before = _kept(engine)
    four_mib = _padded("big", 4 * 1024 * 1024)
    assert 4 * len(four_mib) > MAX_FORM_BYTES

    too_many_bytes = _post(
        client, token, _form(photos=[(io.BytesIO(four_mib), f"{n}.jpg") for n in range(4)])
    )
    huge_text = _post(client, token, _form(description="漏" * 200_000))  # 600 KB of UTF-8
    huge_plain_form = _urlencoded(client, token, b"description=" + b"a" * MAX_FORM_BYTES)

    for refused in (too_many_bytes, huge_text, huge_plain_form):
        assert_problem(refused, 413, "request.too_large")
    assert _kept(engine) == before
    assert stored_files(config, world.tenant_id) == []


def test_a_nul_in_a_form_field_is_refused_naming_the_field_and_opens_nothing(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    *_, token = _labelled(factories)
    before = count_rows(engine)

    sent = _post(client, token, _form(description="漏水\x00了"))

    problem = assert_problem(sent, 422, "request.text_invalid")
    assert problem["errors"][0]["field"] == "description"
    assert problem["errors"][0]["code"] == "contains_nul"
    assert count_rows(engine) == before


def test_reading_a_label_is_limited_per_label_and_per_address(
    client: ApiClient, factories: Factories, app: Flask, engine: Engine, monkeypatch: Any
) -> None:
    limiter = RateLimiter(DatabaseStorage(engine), "3/minute", "label-view-test")
    monkeypatch.setitem(app.extensions, "fieldline_tracking_limiter", limiter)
    *_, token = _labelled(factories)
    first = {"REMOTE_ADDR": "198.51.100.1"}
    for _ in range(2):
        assert client.get(f"/r/{token}/asset", environ_base=first).status_code == 200
    assert client.get(f"/r/{token}", environ_base=first).status_code == 200

    over_label = client.get(f"/r/{token}/asset", environ_base={"REMOTE_ADDR": "198.51.100.2"})
    assert_problem(over_label, 429, "request.rate_limited")
    assert int(over_label.headers["Retry-After"]) > 0
    assert (
        client.get(f"/r/{token}", environ_base={"REMOTE_ADDR": "198.51.100.3"}).status_code == 429
    )
    guessing = client.get("/r/" + "g" * 32 + "/asset", environ_base=first)
    assert_problem(guessing, 429, "request.rate_limited")
