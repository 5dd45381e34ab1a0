"""Configuration from ``FIELDLINE_*`` environment variables, with embedded defaults.

With nothing set, Fieldline keeps everything in ``./var``: a SQLite database,
a generated secret key and (later) media files. Every setting is listed in the
README's configuration table.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dispatch.routing import OsrmRouter, Router, StraightLine
from media.blobs import BlobStore
from media.stores import S3Settings, open_blob_store

if TYPE_CHECKING:
    from api.sms.notifier import SmsSettings


def _env(name: str, default: str) -> str:
    return os.environ.get(f"FIELDLINE_{name}", default)


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(f"FIELDLINE_{name}")
    if raw is None:
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Config:
    data_dir: Path = field(default_factory=lambda: Path("var").resolve())
    blob_dir: Path | None = None  # photo bytes; None: <data_dir>/blobs
    # Partial resumable (tus) uploads, on local disk; None: <data_dir>/uploads
    upload_dir: Path | None = None
    upload_max_bytes: int = 25 * 1024 * 1024  # Tus-Max-Size (a photo's limit, PROTOCOL § 10)
    # "s3://bucket/prefix" keeps photo bytes in S3-compatible storage; "": in blob_dir.
    blob_store: str = ""
    # S3 endpoint (MinIO, Ceph...) and credentials; "" leaves them to boto3's usual chain.
    s3_endpoint_url: str = ""
    s3_region: str = ""
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    database_url: str = ""
    secret_key: str = ""
    max_body_bytes: int = 1024 * 1024
    # Deepest nesting of a JSON body (api/http/hostile.py); deeper: 400 request.nesting_too_deep.
    max_json_depth: int = 64
    access_ttl_seconds: int = 900
    refresh_ttl_days: int = 30
    # A rotated refresh token renews again (to the same successor) for this long.
    refresh_grace_seconds: int = 30
    login_rate_limit: str = "10/minute"
    # "database" (shared by every worker and host), "redis://..." or "memory://" (one process).
    ratelimit_storage_uri: str = "database"
    trusted_proxies: int = 0
    # The public address customers reach (QR labels link to <public_url>/r/<token>);
    # "": the address the office's request came in on.
    public_url: str = ""
    # Public repair requests (/r/<token>): per label token and per client address.
    repair_rate_limit: str = "10/hour"
    # Public tracking (/v1/tracking/<token>): per link token and per client address. The
    # page polls, and many phones may share one carrier address, hence generous.
    tracking_rate_limit: str = "120/minute"
    log_level: str = "INFO"
    db_pool_size: int = 5
    # Seconds a worker may serve a session's liveness, and a quiet sync poll's row, from
    # memory (PostgreSQL only; see api/auth/session_cache.py and api/sync/quiet_rows.py);
    # 0 checks the database on every request.
    session_cache_seconds: float = 5.0
    bind: str = "127.0.0.1:8000"
    workers: int = 2
    # Request threads per worker; see docs/deploy.md ("Workers and threads").
    threads: int = 1
    embedded_worker: bool = True
    # Live updates (docs/live.md): where browsers open the streams. "" is /live on the
    # page's own origin (a reverse proxy sends it to `fieldline streams`); ":8001/live" is
    # the page's host on another port (what `fieldline serve` sets for its embedded
    # stream server); or a full URL. `fieldline serve` starts `fieldline streams` beside
    # gunicorn when embedded_streams is on (the default on SQLite).
    live_url: str = ""
    embedded_streams: bool = True
    # Open streams allowed per console login session and per tracking link (429 past it).
    live_streams_per_session: int = 8
    live_streams_per_link: int = 8
    worker_poll_seconds: float = 1.0
    # How often each worker looks for due escalations (one index range scan).
    escalation_sweep_seconds: float = 30.0
    # How often each worker ends the dispatch offers whose time to answer has passed.
    offer_sweep_seconds: float = 15.0
    # Web Push: the VAPID "sub" claim push services may write to; TTL (seconds) a push
    # service keeps an undelivered message; plain-http endpoints on 127.0.0.1/localhost
    # (tests and local development only; real push services are https).
    vapid_subject: str = "mailto:admin@fieldline.invalid"
    push_ttl_seconds: int = 86400
    push_allow_http_loopback: bool = False
    # Email notifications: "" (no SMTP host) turns the email channel off.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "Fieldline <noreply@fieldline.invalid>"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    # SMS to customers about their order (api/sms): "" (no provider) sends none; "aliyun"
    # (Alibaba Cloud SMS, template codes) or "twilio" (Messages API, rendered text).
    sms_provider: str = ""
    sms_endpoint: str = ""  # the provider's base URL; "": its public API
    sms_key_id: str = ""  # Aliyun AccessKey ID / Twilio Account SID
    sms_key_secret: str = ""  # Aliyun AccessKey secret / Twilio Auth Token
    sms_sender: str = ""  # Aliyun signature (签名) / Twilio number or MG... service id
    sms_sender_name: str = ""  # a rendered text's sender; "": the tenant's name
    # Aliyun template codes as JSON: {"zh-CN": {"assigned": "SMS_1", ...}, "en": {...}}
    sms_templates: str = ""
    sms_default_region: str = "CN"  # for numbers written without a country code
    sms_rate_limit: str = "5/hour"  # texts per number (and tenant)
    sms_timeout_seconds: float = 10.0
    sms_max_attempts: int = 5
    # An OSRM-compatible routing engine (its base URL) for travel times and ETAs; "":
    # straight-line estimates. A slow or failing engine falls back to the straight line.
    routing_url: str = ""
    routing_timeout_seconds: float = 2.0
    # Map tiles under the pages' maps (a Leaflet URL template: {z}, {x}, {y}, optional {s});
    # "": none. Without tiles (or when they are unreachable) markers and routes are drawn
    # on a plain background.
    map_tiles_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    map_tiles_attribution: str = "© OpenStreetMap contributors"
    # Where the pages' npm packages are (package.json at the repository's root, installed
    # by ./dev); None: node_modules beside the api package.
    web_modules_dir: Path | None = None

    @classmethod
    def from_env(cls, **overrides: Any) -> Config:
        data_dir = Path(_env("DATA_DIR", "var")).resolve()
        database_url = _env("DATABASE_URL", f"sqlite:///{data_dir / 'fieldline.db'}")
        blob_dir = _env("BLOB_DIR", "")
        upload_dir = _env("UPLOAD_DIR", "")
        web_modules = _env("WEB_MODULES_DIR", "")
        config = cls(
            data_dir=data_dir,
            blob_dir=Path(blob_dir).resolve() if blob_dir else None,
            upload_dir=Path(upload_dir).resolve() if upload_dir else None,
            upload_max_bytes=int(_env("UPLOAD_MAX_BYTES", str(25 * 1024 * 1024))),
            blob_store=_env("BLOB_STORE", ""),
            s3_endpoint_url=_env("S3_ENDPOINT_URL", ""),
            s3_region=_env("S3_REGION", ""),
            s3_access_key_id=_env("S3_ACCESS_KEY_ID", ""),
            s3_secret_access_key=_env("S3_SECRET_ACCESS_KEY", ""),
            database_url=database_url,
            secret_key=os.environ.get("FIELDLINE_SECRET_KEY", ""),
            max_body_bytes=int(_env("MAX_BODY_BYTES", str(1024 * 1024))),
            max_json_depth=int(_env("MAX_JSON_DEPTH", "64")),
            access_ttl_seconds=int(_env("ACCESS_TTL_SECONDS", "900")),
            refresh_ttl_days=int(_env("REFRESH_TTL_DAYS", "30")),
            refresh_grace_seconds=int(_env("REFRESH_GRACE_SECONDS", "30")),
            login_rate_limit=_env("LOGIN_RATE_LIMIT", "10/minute"),
            ratelimit_storage_uri=_env("RATELIMIT_STORAGE_URI", "database"),
            trusted_proxies=int(_env("TRUSTED_PROXIES", "0")),
            public_url=_env("PUBLIC_URL", ""),
            repair_rate_limit=_env("REPAIR_RATE_LIMIT", "10/hour"),
            tracking_rate_limit=_env("TRACKING_RATE_LIMIT", "120/minute"),
            log_level=_env("LOG_LEVEL", "INFO"),
            db_pool_size=int(_env("DB_POOL_SIZE", "5")),
            session_cache_seconds=float(_env("SESSION_CACHE_SECONDS", "5")),
            bind=_env("BIND", "127.0.0.1:8000"),
            workers=int(_env("WORKERS", "2")),
            threads=int(_env("THREADS", "1")),
            embedded_worker=_env_bool("EMBEDDED_WORKER", database_url.startswith("sqlite")),
            live_url=_env("LIVE_URL", ""),
            live_streams_per_session=int(_env("LIVE_STREAMS_PER_SESSION", "8")),
            live_streams_per_link=int(_env("LIVE_STREAMS_PER_LINK", "8")),
            embedded_streams=_env_bool("EMBEDDED_STREAMS", database_url.startswith("sqlite")),
            worker_poll_seconds=float(_env("WORKER_POLL_SECONDS", "1.0")),
            escalation_sweep_seconds=float(_env("ESCALATION_SWEEP_SECONDS", "30")),
            offer_sweep_seconds=float(_env("OFFER_SWEEP_SECONDS", "15")),
            vapid_subject=_env("VAPID_SUBJECT", "mailto:admin@fieldline.invalid"),
            push_ttl_seconds=int(_env("PUSH_TTL_SECONDS", "86400")),
            push_allow_http_loopback=_env_bool("PUSH_ALLOW_HTTP_LOOPBACK", False),
            smtp_host=_env("SMTP_HOST", ""),
            smtp_port=int(_env("SMTP_PORT", "25")),
            smtp_from=_env("SMTP_FROM", "Fieldline <noreply@fieldline.invalid>"),
            smtp_username=_env("SMTP_USERNAME", ""),
            smtp_password=os.environ.get("FIELDLINE_SMTP_PASSWORD", ""),
            smtp_starttls=_env_bool("SMTP_STARTTLS", False),
            sms_provider=_env("SMS_PROVIDER", "").strip().lower(),
            sms_endpoint=_env("SMS_ENDPOINT", ""),
            sms_key_id=_env("SMS_KEY_ID", ""),
            sms_key_secret=os.environ.get("FIELDLINE_SMS_KEY_SECRET", ""),
            sms_sender=_env("SMS_SENDER", ""),
            sms_sender_name=_env("SMS_SENDER_NAME", ""),
            sms_templates=_env("SMS_TEMPLATES", ""),
            sms_default_region=_env("SMS_DEFAULT_REGION", "CN"),
            sms_rate_limit=_env("SMS_RATE_LIMIT", "5/hour"),
            sms_timeout_seconds=float(_env("SMS_TIMEOUT_SECONDS", "10")),
            sms_max_attempts=int(_env("SMS_MAX_ATTEMPTS", "5")),
            routing_url=_env("ROUTING_URL", ""),
            routing_timeout_seconds=float(_env("ROUTING_TIMEOUT_SECONDS", "2.0")),
            map_tiles_url=_env("MAP_TILES_URL", cls.map_tiles_url),
            map_tiles_attribution=_env("MAP_TILES_ATTRIBUTION", cls.map_tiles_attribution),
            web_modules_dir=Path(web_modules).resolve() if web_modules else None,
        )
        return replace(config, **overrides)

    def sms_settings(self) -> SmsSettings:
        """The SMS channel's settings (its provider named by ``sms_provider``)."""
        from api.sms.notifier import SmsSettings
        from api.sms.providers import ProviderSettings

        templates = json.loads(self.sms_templates) if self.sms_templates.strip() else {}
        if not isinstance(templates, dict):
            raise ValueError('FIELDLINE_SMS_TEMPLATES: {"zh-CN": {"assigned": "SMS_..."}}')
        return SmsSettings(
            provider=self.sms_provider,
            public_url=self.public_url,
            provider_settings=ProviderSettings(
                endpoint=self.sms_endpoint,
                key_id=self.sms_key_id,
                key_secret=self.sms_key_secret,
                sender=self.sms_sender,
                templates=templates,
                timeout=self.sms_timeout_seconds,
            ),
            default_region=self.sms_default_region,
            rate_limit=self.sms_rate_limit,
            max_attempts=self.sms_max_attempts,
            sender_name=self.sms_sender_name,
        )

    def open_router(self) -> Router:
        """The travel-time estimator: the routing engine if configured, else a straight line."""
        if not self.routing_url:
            return StraightLine()
        return OsrmRouter(self.routing_url, timeout=self.routing_timeout_seconds)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_blob_dir(self) -> Path:
        """Where photo bytes live: ``FIELDLINE_BLOB_DIR``, else ``blobs`` in the data folder."""
        return self.blob_dir if self.blob_dir is not None else self.data_dir / "blobs"

    def resolved_upload_dir(self) -> Path:
        """Where partial tus uploads wait: ``FIELDLINE_UPLOAD_DIR``, else ``uploads`` in the
        data folder. Local disk: an append locks its file with ``flock``."""
        return self.upload_dir if self.upload_dir is not None else self.data_dir / "uploads"

    def open_blob_store(self) -> BlobStore:
        """The one blob store of this configuration (the app keeps it on its state):
        ``FIELDLINE_BLOB_STORE=s3://bucket/prefix``, else the folder :meth:`resolved_blob_dir`."""
        s3 = S3Settings(
            endpoint_url=self.s3_endpoint_url or None,
            region=self.s3_region or None,
            access_key_id=self.s3_access_key_id or None,
            secret_access_key=self.s3_secret_access_key or None,
        )
        return open_blob_store(self.blob_store or str(self.resolved_blob_dir()), s3)

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and kept in the data folder.

        Several gunicorn workers must share the key, so it lives on disk rather
        than in memory; production deployments set FIELDLINE_SECRET_KEY.
        """
        if self.secret_key:
            return self.secret_key
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "secret_key"
        if not path.exists():
            # Write a private temp file, then link it into place: processes racing
            # here all end up reading one complete key, never a half-written one.
            temp = self.data_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            try:
                os.link(temp, path)
            except FileExistsError:
                pass  # another process won the race; use its key
            finally:
                temp.unlink()
        key = path.read_text().strip()
        if not key:
            raise RuntimeError(f"{path} is empty; delete it or set FIELDLINE_SECRET_KEY")
        return key
