"""The office's pages through the Flask client: signing in and out with the session
kept in HttpOnly cookies, the CSRF checks on forms and on the API, people who are
not office staff turned away kindly, and the console in both languages."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from api.auth.permissions import Role
from tests.support.factories import Factories
from tests.support.factories.core import PASSWORD, World


def _csrf(page: TestResponse) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found is not None
    return found.group(1)


def _sign_in(
    browser: FlaskClient, world: World, email: str, password: str = PASSWORD
) -> TestResponse:
    form = browser.get("/sign-in")
    return browser.post(
        "/sign-in",
        data={
            "tenant": world.slug,
            "email": email,
            "password": password,
            "csrf_token": _csrf(form),
        },
    )


def _cookie(response: TestResponse, name: str) -> str:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return header
    raise AssertionError(f"no {name} cookie")


def test_a_dispatcher_signs_in_sees_the_console_and_signs_out(
    app: Flask, factories: Factories
) -> None:
    world = factories.tenant()
    dispatcher, _ = factories.user(world, Role.DISPATCHER)
    browser = app.test_client()
    assert browser.get("/console").headers["Location"].endswith("/sign-in")

    signed_in = _sign_in(browser, world, dispatcher.email)
    assert signed_in.status_code == 303 and signed_in.headers["Location"].endswith("/console")
    session = _cookie(signed_in, "fieldline_session")
    assert "HttpOnly" in session and "SameSite=Strict" in session and "Path=/" in session
    assert "Path=/console" in _cookie(signed_in, "fieldline_refresh")

    console = browser.get("/console", headers={"Accept-Language": "en"})
    assert console.status_code == 200
    page = console.get_data(as_text=True)
    assert "Dispatch console" in page and 'id="map"' in page
    assert "<script>" not in page  # data for the script is JSON, never inline code

    signed_out = browser.post("/console/sign-out", data={"csrf_token": _csrf(console)})
    assert signed_out.status_code == 303
    assert "signed_out=1" in signed_out.headers["Location"]
    assert browser.get("/console").status_code == 303  # the session is over


def test_the_console_speaks_chinese_and_english(app: Flask, factories: Factories) -> None:
    world = factories.tenant()
    browser = app.test_client()
    _sign_in(browser, world, world.admin.email)
    chinese = browser.get("/console?lang=zh-CN").get_data(as_text=True)
    english = browser.get("/console?lang=en").get_data(as_text=True)
    assert "调度台" in chinese and '<html lang="zh-CN">' in chinese
    assert "Dispatch console" in english and '<html lang="en">' in english


def test_wrong_credentials_give_the_form_back_with_a_message(
    app: Flask, factories: Factories
) -> None:
    world = factories.tenant()
    browser = app.test_client()
    refused = _sign_in(browser, world, world.admin.email, password="not-the-password")
    assert refused.status_code == 401
    assert "is not right" in refused.get_data(as_text=True)
    assert not any(
        h.startswith("fieldline_session=") for h in refused.headers.getlist("Set-Cookie")
    )


def test_a_technician_is_told_kindly_that_the_console_is_not_for_them(
    app: Flask, factories: Factories
) -> None:
    world = factories.tenant()
    _, user, _ = factories.technician_user(world)
    browser = app.test_client()
    refused = _sign_in(browser, world, user.email)
    assert refused.status_code == 403
    assert "for dispatchers and administrators" in refused.get_data(as_text=True)
    assert browser.get("/console").status_code == 303  # no session was kept


def test_a_sign_in_without_the_forms_csrf_value_is_refused(
    app: Flask, factories: Factories
) -> None:
    world = factories.tenant()
    browser = app.test_client()
    browser.get("/sign-in")
    forged = browser.post(
        "/sign-in",
        data={"tenant": world.slug, "email": world.admin.email, "password": PASSWORD},
    )
    assert forged.status_code == 400
    assert browser.get("/console").status_code == 303


def test_the_api_takes_the_session_cookie_only_with_the_csrf_header(
    app: Flask, factories: Factories
) -> None:
    world = factories.tenant()
    browser = app.test_client()
    _sign_in(browser, world, world.admin.email)
    csrf = _csrf(browser.get("/console"))
    assert browser.get("/v1/board/work-orders").status_code == 401
    wrong = browser.get("/v1/board/work-orders", headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 401
    right = browser.get("/v1/board/work-orders", headers={"X-CSRF-Token": csrf})
    assert right.status_code == 200


def test_sign_out_needs_the_forms_csrf_value(app: Flask, factories: Factories) -> None:
    world = factories.tenant()
    browser = app.test_client()
    _sign_in(browser, world, world.admin.email)
    assert browser.post("/console/sign-out").status_code == 400
    assert browser.get("/console").status_code == 200  # still signed in


def test_the_console_script_refreshes_its_session(app: Flask, factories: Factories) -> None:
    world = factories.tenant()
    browser = app.test_client()
    _sign_in(browser, world, world.admin.email)
    csrf = _csrf(browser.get("/console"))
    assert browser.post("/console/session").status_code == 401  # no CSRF header
    refreshed = browser.post("/console/session", headers={"X-CSRF-Token": csrf})
    assert refreshed.status_code == 204
    _cookie(refreshed, "fieldline_session")
    assert browser.get("/v1/board/work-orders", headers={"X-CSRF-Token": csrf}).status_code == 200


def test_the_landing_page_leads_the_office_to_the_console(client: FlaskClient) -> None:
    page = client.get("/?lang=en").get_data(as_text=True)
    assert 'href="/console"' in page


def test_over_https_the_cookies_are_secure(app: Flask, factories: Factories) -> None:
    world = factories.tenant()
    browser = app.test_client()
    form = browser.get("/sign-in", base_url="https://fieldline.example")
    signed_in = browser.post(
        "/sign-in",
        base_url="https://fieldline.example",
        data={
            "tenant": world.slug, "email": world.admin.email, "password": PASSWORD,
            "csrf_token": _csrf(form),
        },
    )  # fmt: skip
    assert signed_in.status_code == 303
    for name in ("fieldline_session", "fieldline_refresh", "fieldline_csrf"):
        assert "Secure" in _cookie(signed_in, name)


def test_a_page_opened_after_the_access_token_expired_is_refreshed_on_the_server(
    app: Flask, factories: Factories
) -> None:
    world = factories.tenant()
    browser = app.test_client()
    _sign_in(browser, world, world.admin.email)
    browser.delete_cookie("fieldline_session")  # as when it has expired
    console = browser.get("/console")
    assert console.status_code == 200
    _cookie(console, "fieldline_session")
    _cookie(console, "fieldline_refresh")  # the refresh token was spent: a new one


def test_two_tabs_opened_after_the_access_token_expired_both_stay_signed_in(
    app: Flask, factories: Factories
) -> None:
    world = factories.tenant()
    first_tab = app.test_client()
    _sign_in(first_tab, world, world.admin.email)
    first_tab.delete_cookie("fieldline_session")  # as when it has expired
    # The second tab's request left with the same cookies before the first's answer
    # brought the rotated refresh token.
    second_tab = app.test_client()
    for name, path in (("fieldline_refresh", "/console"), ("fieldline_csrf", "/")):
        cookie = first_tab.get_cookie(name, path=path)
        assert cookie is not None
        second_tab.set_cookie(name, cookie.value, path=path)
    assert first_tab.get("/console").status_code == 200
    second = second_tab.get("/console")
    assert second.status_code == 200
    # Both tabs now hold the same refresh token, and the session goes on.
    held = [tab.get_cookie("fieldline_refresh", path="/console") for tab in (first_tab, second_tab)]
    assert held[0] is not None and held[1] is not None and held[0].value == held[1].value
    first_tab.delete_cookie("fieldline_session")
    assert first_tab.get("/console").status_code == 200


def test_the_sign_in_form_sends_a_signed_in_dispatcher_on_to_the_console(
    app: Flask, factories: Factories
) -> None:
    world = factories.tenant()
    browser = app.test_client()
    _sign_in(browser, world, world.admin.email)
    assert browser.get("/sign-in").headers["Location"].endswith("/console")


def test_signing_out_after_the_access_token_expired_still_ends_the_session(
    app: Flask, factories: Factories
) -> None:
    world = factories.tenant()
    browser = app.test_client()
    _sign_in(browser, world, world.admin.email)
    csrf = _csrf(browser.get("/console"))

    def sessions() -> int:
        listed = app.test_client().get(
            "/v1/auth/sessions", headers={"Authorization": f"Bearer {world.admin_token}"}
        )
        return len(listed.get_json()["items"])

    assert sessions() == 2  # the factory's and the browser's
    browser.delete_cookie("fieldline_session")  # as when it has expired
    assert browser.post("/console/sign-out", data={"csrf_token": csrf}).status_code == 303
    assert sessions() == 1


def test_an_incomplete_form_comes_back_with_what_was_typed(
    app: Flask, factories: Factories
) -> None:
    world = factories.tenant()
    browser = app.test_client()
    form = browser.get("/sign-in?lang=en")
    incomplete = browser.post(
        "/sign-in",
        data={"tenant": world.slug, "email": "<b>me</b>@x.test", "csrf_token": _csrf(form)},
    )
    assert incomplete.status_code == 422
    page = incomplete.get_data(as_text=True)
    assert "Please fill in every field." in page
    assert 'value="&lt;b&gt;me&lt;/b&gt;@x.test"' in page  # kept, and escaped
