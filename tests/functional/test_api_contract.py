"""Properties every endpoint must have: a declared permission, a valid OpenAPI
description, catalogued error codes, and docs that work without the internet."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from openapi_spec_validator import validate

from api.errors.base import CATALOGUE
from api.errors.catalogue import load_all, render_markdown
from api.http.guard import PERMISSION_ATTR
from tests.support.api_client import ApiClient

ROOT = Path(__file__).resolve().parents[2]
# flask-smorest's own spec and docs pages; they expose only public documentation.
FRAMEWORK_ENDPOINTS = {"api-docs.openapi_json", "api-docs.openapi_swagger_ui"}


def _view_methods(app: Flask):
    for endpoint, view in app.view_functions.items():
        if endpoint in FRAMEWORK_ENDPOINTS:
            continue
        view_class = getattr(view, "view_class", None)
        if view_class is None:
            yield endpoint, "", view
            continue
        for method in view_class.methods or ():
            yield endpoint, method, getattr(view_class, method.lower())


def test_every_endpoint_declares_who_may_call_it(app: Flask) -> None:
    undeclared = [
        f"{endpoint} {method}"
        for endpoint, method, fn in _view_methods(app)
        if not hasattr(fn, PERMISSION_ATTR)
    ]
    assert undeclared == []


def test_the_openapi_document_is_valid_and_documents_every_route(
    client: ApiClient, app: Flask
) -> None:
    spec = client.get("/openapi.json").get_json()
    validate(spec)
    documented = {path for path in spec["paths"]}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/v1/"):
            openapi_path = (
                rule.rule.replace("<uuid:", "{")
                .replace("<path:", "{")
                .replace("<", "{")
                .replace(">", "}")
            )
            assert openapi_path in documented, rule.rule


def test_error_codes_are_dotted_bilingual_and_documented() -> None:
    catalogue = load_all()
    assert catalogue, "no error codes registered"
    for code, error_class in catalogue.items():
        assert code.count(".") >= 1 and code == code.lower(), code
        assert error_class.titles["en"] and error_class.titles["zh-CN"], code
    assert CATALOGUE.keys() == catalogue.keys()
    committed = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert committed == render_markdown(), (
        "docs/errors.md is stale: run `fieldline errors > docs/errors.md`"
    )


def test_interactive_docs_load_all_their_assets_from_this_server(client: ApiClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "https://" not in html.replace("https://fieldline.dev", "")  # no CDN
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        assert f"/docs/assets/{asset}" in html
        response = client.get(f"/docs/assets/{asset}")
        assert response.status_code == 200 and len(response.get_data()) > 1000
        response.close()
    assert client.get("/docs/assets/../../etc/passwd").status_code == 404
