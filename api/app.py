"""The application factory: wires config, database, auth, errors and blueprints."""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

from flask import Flask, Response, request
from flask_smorest import Api
from sqlalchemy import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from api.auth.revocation_listener import start_listener
from api.auth.services import AuthSettings
from api.auth.session_cache import SessionCache
from api.config import Config
from api.db import UnitOfWorkFactory, make_engine
from api.db.engine import make_read_engine
from api.db.notices import SYNC_CHANNEL, Generation
from api.errors import problem
from api.http import hostile
from api.http.blueprint import Blueprint, register_problem_responses
from api.http.body import declares_policy, read_body
from api.http.context import FieldlineState, release_read_connection
from api.http.envelope import RequestEnvelope
from api.http.json import OrjsonProvider
from api.http.ratelimit import RateLimiter, storage_for
from api.pages import install as install_pages
from api.sync.quiet_rows import QuietRows
from api.uploads.override import TusMethodOverride

BLUEPRINT_MODULES = [
    "api.auth.routes",
    "api.users.routes",
    "api.customers.routes",
    "api.sites.routes",
    "api.assets.routes",
    "api.assets.label_routes",
    "api.repairs.routes",
    "api.tenants.routes",
    "api.technicians.routes",
    "api.technicians.photo_routes",
    "api.teams.routes",
    "api.servicedesk.routes",
    "api.servicedesk.policy_routes",
    "api.servicedesk.rule_routes",
    "api.servicedesk.kpi_routes",
    "api.workflows.routes",
    "api.servicedesk.escalation_routes",
    "api.categories.routes",
    "api.workorders.routes",
    "api.duplicates.routes",
    "api.evidence.routes",
    "api.evidence.photo_routes",
    "api.signoff.routes",
    "api.signoff.report_routes",
    "api.audit.routes",
    "api.notifications.routes",
    "api.push.routes",
    "api.push.pages",
    "api.push.tracking_routes",
    "api.sync.routes",
    "api.sync.blob_routes",
    "api.sync.watermelon.routes",
    "api.sync.inbox.routes",
    "api.location.routes",
    "api.location.near_routes",
    "api.dispatching.routes",
    "api.dispatching.offer_routes",
    "api.board.routes",
    "api.tracking.routes",
    "api.sms.routes",
    "api.live.routes",
    "api.dayplan.routes",
    "api.uploads.routes",
    "api.web.routes",
    "api.pages.layout.routes",
    "api.pages.landing.routes",
    "api.pages.tracking.routes",
    "api.pages.console.routes",
    "api.pages.verify.routes",
    "api.pages.repair.routes",
]


class FieldlineApi(Api):  # type: ignore[misc]
    """flask-smorest's Api with problem+json as the documented error shape."""

    ERROR_SCHEMA = problem.ProblemSchema

    def _register_responses(self) -> None:
        register_problem_responses(self.spec, self.ERROR_SCHEMA)

    def register_blueprint(self, blp: Any, **options: Any) -> None:
        # Only the project's Blueprint documents problems and refuses unknown query
        # parameters; a plain flask-smorest one would quietly do neither.
        if not isinstance(blp, Blueprint):
            raise TypeError(f"blueprint {blp.name!r}: use api.http.blueprint.Blueprint")
        super().register_blueprint(blp, **options)

    def handle_http_exception(self, error: Any) -> Response:
        return problem.problem_response(problem.from_http_exception(error))


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    app = Flask("api", static_folder=None)
    app.json = OrjsonProvider(app)
    app.config.update(_flask_settings(config))
    if config.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.trusted_proxies, x_proto=1)  # type: ignore[method-assign]
    app.wsgi_app = TusMethodOverride(app.wsgi_app)  # type: ignore[method-assign]
    app.wsgi_app = RequestEnvelope(app.wsgi_app)  # type: ignore[method-assign]

    engine = make_engine(config.database_url, pool_size=config.db_pool_size)
    read_engine = make_read_engine(engine, pool_size=config.db_pool_size)
    app.extensions["fieldline"] = FieldlineState(
        uow=UnitOfWorkFactory(engine, read_engine),
        auth_settings=AuthSettings(
            secret_key=config.resolved_secret_key(),
            access_ttl=timedelta(seconds=config.access_ttl_seconds),
            refresh_ttl=timedelta(days=config.refresh_ttl_days),
            refresh_grace=timedelta(seconds=config.refresh_grace_seconds),
        ),
        config=config,
        blobs=config.open_blob_store(),
        **_worker_caches(engine, config.session_cache_seconds),
    )
    app.extensions["fieldline_login_limiter"] = RateLimiter(
        storage_for(config.ratelimit_storage_uri, engine), config.login_rate_limit
    )
    app.extensions["fieldline_repair_limiter"] = RateLimiter(
        storage_for(config.ratelimit_storage_uri, engine), config.repair_rate_limit, "repair"
    )
    app.extensions["fieldline_tracking_limiter"] = RateLimiter(
        storage_for(config.ratelimit_storage_uri, engine), config.tracking_rate_limit, "tracking"
    )

    install_pages(app, config)
    api = FieldlineApi(app, spec_kwargs=_spec_kwargs())
    for module_name in BLUEPRINT_MODULES:
        module = importlib.import_module(module_name)
        if hasattr(module, "blp"):
            api.register_blueprint(module.blp)
        if hasattr(module, "web"):
            app.register_blueprint(module.web)
    problem.install(app)
    hostile.install(app, config.max_json_depth)  # first: before the body is read
    _install_request_hooks(app)
    return app


def _worker_caches(engine: Engine, ttl: float) -> dict[str, Any]:
    """The session cache and the quiet pull's rows, kept honest by one listening
    connection per worker (LISTEN/NOTIFY: PostgreSQL only)."""
    if engine.dialect.name != "postgresql" or ttl <= 0:
        return {}
    sync = Generation(SYNC_CHANNEL)
    sessions = SessionCache(start_listener(engine.url, {SYNC_CHANNEL: sync}), ttl=ttl)
    return {"session_cache": sessions, "quiet_rows": QuietRows(sessions, sync)}


def _flask_settings(config: Config) -> dict[str, Any]:
    return {
        "API_TITLE": "Fieldline API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": "/docs/assets/",
        # No validator badge: it would call validator.swagger.io, and the docs must work offline.
        "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None, "persistAuthorization": True},
        "MAX_CONTENT_LENGTH": config.max_body_bytes,
    }


def _spec_kwargs() -> dict[str, Any]:
    return {
        "info": {
            "description": (
                "Fieldline: the offline-first field service backend. Every error is "
                "RFC 9457 application/problem+json with a stable `code`; see "
                "docs/errors.md for the catalogue. Lists are cursor-paginated "
                "(`limit`, `cursor` → `items`, `next_cursor`). Updates need `If-Match`; "
                "creates accept `Idempotency-Key`."
            )
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT or flk_ API key",
                }
            }
        },
        "security": [{"bearer": []}],
    }


_BODY_METHODS = {"POST", "PUT", "PATCH"}
# The request headers that can turn an answer into a 304, 412 or 206, as WSGI keys.
_CONDITIONAL_HEADERS = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_RANGE",
)


def _install_request_hooks(app: Flask) -> None:
    @app.before_request
    def _read_body() -> None:
        if request.method in _BODY_METHODS and (
            request.path.startswith("/v1/") or declares_policy()
        ):
            read_body()

    @app.after_request
    def _conditional(response: Response) -> Response:
        environ = request.environ
        if (
            response.status_code == 200
            and request.method == "GET"
            and any(name in environ for name in _CONDITIONAL_HEADERS)
            and "ETag" in response.headers
        ):
            # Only a request that asks a question can get a 304/412/206 answer; the
            # rest skip werkzeug's header parsing (a few percent of a cheap read).
            response.make_conditional(request)
        return response

    @app.teardown_request
    def _teardown(_exc: BaseException | None) -> None:
        release_read_connection()
