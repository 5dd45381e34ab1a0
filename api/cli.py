"""The ``fieldline`` command: serve, worker, db upgrade, demo, quickstart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from typing import TYPE_CHECKING, Any

import click

from api.config import Config

if TYPE_CHECKING:
    from api.db import UnitOfWorkFactory


@click.group()
def main() -> None:
    """Fieldline: the offline-first field service backend."""


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations (the only way a schema changes)."""
    from api.db import make_engine
    from api.migrations import current_revision, upgrade

    config = Config.from_env()
    _ensure_data_dir(config)
    engine = make_engine(config.database_url)
    upgrade(engine, revision)
    click.echo(f"database at revision {current_revision(engine)}")


@db.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """(Developers) autogenerate a migration from the models' differences."""
    from alembic import command

    from api.db import make_engine
    from api.migrations import alembic_config, migration_connection

    engine = make_engine(Config.from_env().database_url)
    config = alembic_config(engine)
    with migration_connection(engine) as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)


@db.command("current")
def db_current() -> None:
    """Print the database's migration revision."""
    from api.db import make_engine
    from api.migrations import current_revision

    click.echo(current_revision(make_engine(Config.from_env().database_url)) or "empty")


@main.group()
def tenant() -> None:
    """Tenant administration."""


@tenant.command("create")
@click.option("--slug", required=True, help="Short name used at login, e.g. acme")
@click.option("--name", required=True)
@click.option("--admin-email", required=True)
@click.option("--admin-password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option(
    "--locale",
    type=click.Choice(["zh-CN", "en"]),
    default="zh-CN",
    show_default=True,
    help="The tenant's language: its users' default (notifications speak it)",
)
def tenant_create(slug: str, name: str, admin_email: str, admin_password: str, locale: str) -> None:
    """Create a tenant and its first admin."""
    from api.db import UnitOfWorkFactory, make_engine
    from api.users.services import create_tenant_with_admin

    config = Config.from_env()
    factory = UnitOfWorkFactory(make_engine(config.database_url))
    admin = create_tenant_with_admin(
        factory(),
        slug=slug,
        name=name,
        admin_email=admin_email,
        admin_password=admin_password,
        locale=locale,
        secret=config.resolved_secret_key(),
    )
    click.echo(f"tenant {slug!r} created; admin {admin.email} (user {admin.id})")


@main.command()
@click.option("--reset", is_flag=True, help="Delete the demo tenant first and load it again.")
def demo(reset: bool) -> None:
    """Load the demo tenant (a Shanghai service company) and print its logins."""
    from api.db import UnitOfWorkFactory, make_engine
    from api.demo.loader import DEMO_SLUG, load_demo, print_logins

    config = Config.from_env()
    factory = UnitOfWorkFactory(make_engine(config.database_url))
    summary = load_demo(factory, reset=reset)
    if summary is None:
        click.echo(f"demo tenant {DEMO_SLUG!r} already present (use --reset to reload)")
    else:
        click.echo(summary)
    print_logins(click.echo)


@main.command()
@click.option("--once", is_flag=True, help="Process what is due, then exit.")
def worker(once: bool) -> None:
    """Run outbox side effects (notifications and their Web Push and email, texts to
    customers by SMS, photos, PDFs, auto-dispatch...), the escalation sweep (every
    FIELDLINE_ESCALATION_SWEEP_SECONDS) and the dispatch offers' timeout (every
    FIELDLINE_OFFER_SWEEP_SECONDS)."""
    from api.db import UnitOfWorkFactory, make_engine, utcnow
    from api.dispatching.offer_sweep import expire_offers
    from api.notifications.delivery import notifiers
    from api.observability import configure_logging
    from api.outbox.registry import handlers
    from api.outbox.worker import Periodic, run_forever, run_once
    from api.servicedesk.escalation_sweep import sweep

    config = Config.from_env()
    configure_logging(config.log_level)
    factory = UnitOfWorkFactory(make_engine(config.database_url))
    router = config.open_router()
    topics = handlers(config.open_blob_store(), notifiers(config), router)
    escalations = Periodic(
        "escalation_sweep", config.escalation_sweep_seconds, lambda: sweep(factory, utcnow())
    )
    offers = Periodic(
        "offer_timeout",
        config.offer_sweep_seconds,
        lambda: expire_offers(factory, utcnow(), router),
    )
    if once:
        escalations.run()
        offers.run()
        while run_once(factory, topics):
            pass
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run_forever(
        factory,
        topics,
        stop,
        poll_interval=config.worker_poll_seconds,
        periodic=[escalations, offers],
    )


_BIND_HELP = "host:port (default FIELDLINE_BIND or 127.0.0.1:8000)"
_PORT_HELP = "port only, on the host of --bind / FIELDLINE_BIND (e.g. --port 8080)"
_PORT = click.IntRange(min=1, max=65535)


@main.command()
@click.option("--bind", default=None, help=_BIND_HELP)
@click.option("--port", type=_PORT, default=None, help=_PORT_HELP)
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="gunicorn worker processes"
)
@click.option(
    "--threads", type=click.IntRange(min=1), default=None, help="request threads per worker"
)
def serve(bind: str | None, port: int | None, workers: int | None, threads: int | None) -> None:
    """Serve the API with gunicorn (plus an outbox worker in embedded mode)."""
    from api.http.ratelimit import per_process_warning
    from api.server import run_gunicorn

    config = Config.from_env()
    _ensure_data_dir(config)
    config.resolved_secret_key()  # made once here, before the workers start
    workers = workers or config.workers
    warning = per_process_warning(config.ratelimit_storage_uri, workers)
    if warning:
        click.echo(f"warning: {warning}", err=True)
    address = with_port(bind or config.bind, port)
    streams = None
    if config.embedded_streams:
        streams = streams_bind(address)
        if not config.live_url:
            # The pages' workers read this: the streams are on the page's host, next port.
            os.environ["FIELDLINE_LIVE_URL"] = f":{streams.rpartition(':')[2]}/live"
    run_gunicorn(
        config,
        bind=address,
        workers=workers,
        threads=threads or config.threads,
        streams_bind=streams,
    )


def streams_bind(api_bind: str) -> str:
    """Where the embedded stream server listens: the API's host, the next port."""
    host, _, api_port = api_bind.rpartition(":")
    return f"{host}:{int(api_port) + 1}"


@main.command()
@click.option("--bind", default="127.0.0.1:8001", show_default=True, help="host:port")
def streams(bind: str) -> None:
    """Serve live updates (Server-Sent Events) for the console and the tracking page,
    outside the API's request workers; see docs/live.md and docs/deploy.md."""
    from api.live.stream.run import run
    from api.observability import configure_logging

    config = Config.from_env()
    configure_logging(config.log_level)
    host, _, port = bind.rpartition(":")
    run(config, host.strip("[]") or "127.0.0.1", int(port))


@main.command()
@click.option("--bind", default=None, help=_BIND_HELP)
@click.option("--port", type=_PORT, default=None, help=_PORT_HELP)
@click.pass_context
def quickstart(ctx: click.Context, bind: str | None, port: int | None) -> None:
    """Migrate, load the demo tenant if missing, and serve: the README's first command."""
    ctx.invoke(db_upgrade)
    ctx.invoke(demo, reset=False)
    ctx.invoke(serve, bind=bind, port=port, workers=None, threads=None)


def with_port(bind: str, port: int | None) -> str:
    """``bind`` with its port replaced by ``port`` (when given): ``--port`` picks a port
    without restating the host, IPv6 hosts (``[::1]:8000``) included."""
    if port is None:
        return bind
    host, sep, _old = bind.rpartition(":")
    return f"{host if sep else bind}:{port}"


@main.command("sync-prime")
@click.option(
    "--recount",
    is_flag=True,
    help="also count every scope's running checksum afresh from its rows",
)
def sync_prime(recount: bool) -> None:
    """Put rows that predate the sync change log (migration 0002) into it; idempotent.

    With --recount, every scope's running checksum (its tally and row digests,
    PROTOCOL.md § 11.4) is then counted afresh from its rows, under the tenant's
    change counter lock: for a tally suspected wrong, or after rows were changed
    outside the application. Upgrading to head already counts missing ones.
    """
    from api.db import UnitOfWorkFactory, make_engine
    from api.sync.capture import prime_tenant, recount_tenant

    engine = make_engine(Config.from_env().database_url)
    factory = UnitOfWorkFactory(engine)
    try:
        for tenant_id in _tenant_ids(factory):
            with factory() as uow:
                made = prime_tenant(uow.session, tenant_id)
                uow.commit()
            click.echo(f"tenant {tenant_id}: {made} changes")
            if recount:
                with factory() as uow:
                    scopes = recount_tenant(uow.session, tenant_id)
                    uow.commit()
                click.echo(f"tenant {tenant_id}: {scopes} scope checksums recounted")
    finally:
        engine.dispose()


@main.command("sync-compact")
@click.option("--days", default=90, show_default=True, help="keep tombstones this long")
def sync_compact(days: int) -> None:
    """Daily sync upkeep: finished orders older than 7 days leave technicians' scopes, the
    change log drops superseded entries and tombstones older than --days, and photo
    bytes no photo has referenced for 7 days are deleted.

    Devices whose cursor is older than a dropped tombstone are told to re-prime
    (``sync.cursor_expired``). Safe to run at any time, e.g. daily from cron.
    """
    from datetime import timedelta

    from api.db import UnitOfWorkFactory, make_engine, utcnow
    from api.sync.blobs import collect_garbage
    from api.sync.capture import age_out
    from api.sync.retention import compact

    config = Config.from_env()
    engine = make_engine(config.database_url)
    factory = UnitOfWorkFactory(engine)
    store = config.open_blob_store()
    try:
        for tenant_id in _tenant_ids(factory):
            with factory() as uow:
                aged = age_out(uow.session, tenant_id)
                uow.commit()
            with factory() as uow:
                done = compact(uow.session, tenant_id, utcnow(), timedelta(days=days))
                uow.commit()
            collected = collect_garbage(factory, store, tenant_id, utcnow())
            click.echo(
                f"tenant {tenant_id}: {aged} changes for finished orders leaving scopes, "
                f"{done.superseded} superseded, "
                f"{done.expired_tombstones} expired tombstones removed, "
                f"{collected.claims} unreferenced photo blobs dropped "
                f"({collected.files} files)"
            )
    finally:
        engine.dispose()


@main.command("uploads-expire")
def uploads_expire() -> None:
    """Remove resumable uploads past their Upload-Expires (24 hours after their last
    append), their staged bytes, and staged files no upload owns. Safe at any time, e.g.
    hourly from cron; an upload being appended to right now is left for the next run."""
    from api.db import UnitOfWorkFactory, make_engine, utcnow
    from api.uploads.services import Uploads, expire_uploads
    from media.tus import StagingArea

    config = Config.from_env()
    engine = make_engine(config.database_url)
    uploads = Uploads(
        uow=UnitOfWorkFactory(engine),
        staging=StagingArea(config.resolved_upload_dir()),
        store=config.open_blob_store(),
        max_bytes=config.upload_max_bytes,
    )
    try:
        click.echo(f"{expire_uploads(uploads, utcnow())} expired uploads removed")
    finally:
        engine.dispose()


@main.command("purge-positions")
@click.option("--days", default=90, show_default=True, help="keep GPS fixes this long")
def purge_positions(days: int) -> None:
    """Delete GPS fixes older than --days, a few thousand rows per short transaction,
    so devices keep sending while it runs. Run it daily, e.g. from cron."""
    from datetime import timedelta

    from api.db import UnitOfWorkFactory, make_engine, utcnow
    from api.location.services import purge_positions as purge

    config = Config.from_env()
    engine = make_engine(config.database_url)
    try:
        purged = purge(UnitOfWorkFactory(engine), utcnow() - timedelta(days=days))
        click.echo(f"{purged} GPS fixes older than {days} days deleted")
    finally:
        engine.dispose()


@main.command()
def errors() -> None:
    """Print the catalogue of error codes (docs/errors.md) as Markdown."""
    from api.errors.catalogue import render_markdown

    click.echo(render_markdown(), nl=False)


def _ensure_data_dir(config: Config) -> None:
    config.data_dir.mkdir(parents=True, exist_ok=True)


def spawn_streams(bind: str) -> subprocess.Popen[Any]:
    """The embedded-mode stream server: a child process running `fieldline streams`."""
    return subprocess.Popen([sys.executable, "-m", "api", "streams", "--bind", bind])  # noqa: S603 - our own command, bind from config


def spawn_worker() -> subprocess.Popen[Any]:
    """The embedded-mode worker: a child process running `fieldline worker`."""
    return subprocess.Popen([sys.executable, "-m", "api", "worker"])


@main.command("verify-chains")
@click.option("--tenant", "tenant_ref", required=True, help="The tenant's slug or id")
def verify_chains(tenant_ref: str) -> None:
    """Check every audit hash chain of a tenant (one per work order, one for the rest).

    Prints one line per break (chain, position, problem) and exits 1 if any
    event was changed, removed, reordered or appended outside the application.
    """
    from api.audit.chain import verify_tenant
    from api.db import UnitOfWorkFactory, make_engine

    engine = make_engine(Config.from_env().database_url)
    factory = UnitOfWorkFactory(engine)
    try:
        tenant_id = _tenant_id(factory, tenant_ref)
        with factory() as uow:  # a transaction: the rows stream through a server-side cursor
            report = verify_tenant(uow.session, tenant_id)
    finally:
        engine.dispose()
    for found in report.breaks:
        click.echo(f"chain {found.chain_id} at {found.seq}: {found.problem}")
    verdict = "intact" if not report.breaks else f"{len(report.breaks)} break(s)"
    click.echo(f"tenant {tenant_id}: {report.chains} chains, {report.events} events, {verdict}")
    if report.breaks:
        raise SystemExit(1)


@main.command("rewrap-signing-keys")
def rewrap_signing_keys() -> None:
    """After changing FIELDLINE_SECRET_KEY: re-wrap the report-signing and Web Push keys.

    Reads the previous secret from FIELDLINE_OLD_SECRET_KEY (an environment variable,
    so it stays out of the shell history) and wraps every tenant's private keys under
    the current one, in one transaction: all or nothing.
    """
    import os

    from api.db import UnitOfWorkFactory, make_engine
    from api.errors.base import FieldlineError
    from api.push import vapid
    from api.signoff.keys import rewrap_all

    old = os.environ.get("FIELDLINE_OLD_SECRET_KEY", "")
    if not old:
        raise click.ClickException("set FIELDLINE_OLD_SECRET_KEY to the previous secret")
    config = Config.from_env()
    engine = make_engine(config.database_url)
    try:
        with UnitOfWorkFactory(engine)() as uow:
            new = config.resolved_secret_key()
            done, current = rewrap_all(uow.session, old, new)
            push_done, push_current = vapid.rewrap_all(uow.session, old, new)
            uow.commit()
    except FieldlineError as error:
        raise click.ClickException(str(error)) from None
    finally:
        engine.dispose()
    click.echo(f"{done} signing keys re-wrapped, {current} already under the current secret")
    click.echo(f"{push_done} Web Push keys re-wrapped, {push_current} already current")


def _tenant_id(factory: UnitOfWorkFactory, ref: str) -> uuid.UUID:
    from sqlalchemy import or_, select

    from api.tenants.models import Tenant

    try:
        as_id: uuid.UUID | None = uuid.UUID(ref)
    except ValueError:
        as_id = None
    with factory.reader() as uow:
        found = uow.session.scalar(
            select(Tenant.id).where(or_(Tenant.slug == ref, Tenant.id == as_id))
            if as_id
            else select(Tenant.id).where(Tenant.slug == ref)
        )
    if found is None:
        raise click.ClickException(f"no tenant {ref!r}")
    return found


def _tenant_ids(factory: UnitOfWorkFactory) -> list[uuid.UUID]:
    """Every tenant's id, for commands that work tenant by tenant."""
    from sqlalchemy import select  # imported here like the other commands: a fast CLI start

    from api.tenants.models import Tenant

    with factory.reader() as uow:
        return list(uow.session.scalars(select(Tenant.id).order_by(Tenant.id)))
