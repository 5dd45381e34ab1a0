"""What every page shares: its language, its headers and its static files."""

from __future__ import annotations

import gzip
import re

from flask import Flask

from api.pages.blueprint import content_security_policy
from tests.support.api_client import ApiClient


def _assets(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/assets/[^"]+)"', page)


def test_the_language_follows_the_browser_then_the_switch_which_is_remembered(
    app: Flask,
) -> None:
    browser = app.test_client()
    chinese = browser.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert chinese.headers["Content-Language"] == "zh-CN"
    assert '<html lang="zh-CN">' in chinese.get_data(as_text=True)
    assert "跳到正文" in chinese.get_data(as_text=True)

    switched = browser.get("/?lang=en", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in switched.get_data(as_text=True)
    assert "fieldline_lang=en" in switched.headers["Set-Cookie"]
    # The next page keeps the choice although the browser still prefers Chinese.
    later = browser.get("/", headers={"Accept-Language": "zh-CN"})
    assert later.headers["Content-Language"] == "en"
    assert "Skip to content" in later.get_data(as_text=True)


def test_a_page_without_a_language_preference_is_in_english(client: ApiClient) -> None:
    assert client.get("/").headers["Content-Language"] == "en"


def test_the_layout_has_a_skip_link_a_main_landmark_and_a_language_switch(
    client: ApiClient,
) -> None:
    page = client.get("/?lang=zh-CN").get_data(as_text=True)
    assert '<a class="skip-link" href="#main">' in page
    assert '<main id="main"' in page
    assert 'href="/?lang=en"' in page and 'aria-current="true">中文' in page


def test_pages_carry_a_strict_content_security_policy_and_send_no_referrer(
    client: ApiClient,
) -> None:
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy  # no inline script, no eval, no CDN
    assert "style-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = response.get_data(as_text=True)
    assert "<script>" not in page and " style=" not in page and "<style" not in page


def test_the_map_tiles_host_is_the_only_other_origin_images_may_come_from() -> None:
    policy = content_security_policy("https://{s}.tiles.example.cn/{z}/{x}/{y}.png")
    assert "img-src 'self' https://*.tiles.example.cn;" in policy
    assert "img-src 'self';" in content_security_policy("")


def test_static_files_have_hashed_urls_cached_for_a_year_and_are_served_gzipped(
    client: ApiClient,
) -> None:
    (stylesheet,) = [
        u for u in _assets(client.get("/").get_data(as_text=True)) if u.endswith(".css")
    ]
    plain = client.get(stylesheet)
    assert plain.status_code == 200
    assert plain.mimetype == "text/css"
    assert plain.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    packed = client.get(stylesheet, headers={"Accept-Encoding": "gzip, br"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data) / 2


def test_a_static_url_with_an_old_hash_is_not_found(client: ApiClient) -> None:
    (stylesheet,) = [
        u for u in _assets(client.get("/").get_data(as_text=True)) if u.endswith(".css")
    ]
    _, _, digest, name = stylesheet.split("/", 3)
    assert client.get(f"/assets/{'0' * len(digest)}/{name}").status_code == 404
    assert client.get("/assets/0/../../pyproject.toml").status_code == 404


def test_the_npm_libraries_are_served_from_this_server(app: Flask, client: ApiClient) -> None:
    url = app.extensions["fieldline_assets"].url("vendor/leaflet.js")
    assert url is not None, "npm packages missing: run `npm ci` (./dev test does)"
    script = client.get(url)
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert b"sourceMappingURL" not in script.data


def test_html_pages_are_compressed_for_browsers_that_accept_it(client: ApiClient) -> None:
    response = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert b"<!doctype html>" in gzip.decompress(response.data)
