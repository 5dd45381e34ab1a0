"""``fieldline-tech``: the technician's command line, a working offline client.

Every action (``accept``, ``note``, ``photo``, ``complete``, …) writes to the
device's outbox and shows at once in ``jobs``, with or without a network;
``sync`` pushes, uploads and pulls. State lives in ``--home`` (default
``~/.fieldline-tech``, or ``$FIELDLINE_TECH_HOME``). ``--json`` prints machine-readable
output. Orders are named by their number (``WO-000220``, or just ``220``), their ID, or a
unique start or end of the ID (``jobs`` shows the last eight characters).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import httpx

from client_sdk.device import Device
from client_sdk.errors import FieldlineError
from client_sdk.view import OrderView
from sync_protocol.entities import Symbology
from sync_protocol.errors import JSONValue
from sync_protocol.messages import Mutation
from sync_protocol.workorder_status import Action

DEFAULT_HOME = "~/.fieldline-tech"


@dataclass
class CliState:
    home: Path
    as_json: bool
    transport: httpx.BaseTransport | None = None
    _device: Device | None = field(default=None, repr=False)

    def device(self) -> Device:
        if self._device is None:
            self._device = Device(self.home, transport=self.transport)
            click.get_current_context().call_on_close(self._device.close)
        return self._device

    def emit(self, data: JSONValue, text: str) -> None:
        if self.as_json:
            click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            click.echo(text)


class _Group(click.Group):
    """Turns SDK errors into a one-line message and exit status 1 (never a traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FieldlineError as error:
            raise click.ClickException(f"{error.code}: {error.detail or error}") from error


@click.group(cls=_Group)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_HOME,
    envvar="FIELDLINE_TECH_HOME",
    show_default=True,
    help="The device's state folder.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def main(ctx: click.Context, home: Path, as_json: bool) -> None:
    """Fieldline for technicians: do the job offline, sync when there is signal."""
    given = ctx.obj if isinstance(ctx.obj, dict) else {}
    ctx.obj = CliState(home.expanduser(), as_json, given.get("transport"))


pass_state = click.make_pass_decorator(CliState)


@main.command()
@click.option("--server", required=True, help="e.g. https://fieldline.example.com")
@click.option("--tenant", required=True)
@click.option("--email", required=True)
@click.password_option(confirmation_prompt=False)
@pass_state
def login(state: CliState, server: str, tenant: str, email: str, password: str) -> None:
    """Log in as this device."""
    device = state.device()
    me = device.login(server, tenant, email, password)
    data = {"device_id": str(device.device_id), "technician_id": me.get("technician_id")}
    state.emit(data, f"Logged in as {me.get('name') or email} on device {device.device_id}")


@main.command()
@pass_state
def sync(state: CliState) -> None:
    """Push the outbox, upload photos, pull changes."""
    report = state.device().sync()
    data: dict[str, JSONValue] = {
        "receipts": dict(report.receipts),
        "changes": report.changes,
        "pages": report.pages,
        "repaired": list(report.repaired),
        "uploaded": report.uploads.uploaded + report.uploads.present,
        "upload_failures": report.uploads.failed,
        "reset": report.reset,
        "export": str(report.export) if report.export else None,
    }
    pushed = sum(report.receipts.values())
    text = f"Pushed {pushed} ({_counts(report.receipts)}), pulled {report.changes} changes"
    if report.repaired:
        text += f", repaired {', '.join(report.repaired)}"
    if report.export:
        text += f"; the server asked for a reset ({report.reset}), outbox saved to {report.export}"
    state.emit(data, text)


@main.command()
@click.option(
    "--all", "everything", is_flag=True, help="Also completed, closed and cancelled jobs."
)
@pass_state
def jobs(state: CliState, everything: bool) -> None:
    """My open jobs, as this device sees them (works offline). Finished ones are left
    out unless --all, or while they have changes not yet synced."""
    views = state.device().jobs(finished=everything)
    empty = "No open jobs on this device (`jobs --all` shows finished ones; `sync` fetches)."
    lines = [_job_line(v) for v in views] or [empty]
    state.emit([v.to_json() for v in views], "\n".join(lines))


@main.command()
@click.argument("order")
@pass_state
def show(state: CliState, order: str) -> None:
    """One job: customer, address, priority, schedule, then its evidence.

    ORDER is its number (WO-000220 or 220), its ID, or the end of its ID."""
    device = state.device()
    view = device.job(order)
    card = device.card(view)
    lines = [_job_line(view), *card.lines()]
    for item in sorted(view.evidence.items.values(), key=lambda i: (i.hlc, i.id)):
        voided = " (voided)" if item.id in view.evidence.voids else ""
        summary = (
            item.content.get("body")
            or item.content.get("description")
            or item.content.get("metric")
            or item.content.get("sha256")
        )
        lines.append(f"  {item.kind.value:<10} {summary}{voided}")
    state.emit({**view.to_json(), "card": card.to_json()}, "\n".join(lines))


def _step(name: str, action: Action, summary: str, needs: str | None = None) -> None:
    def command(state: CliState, order: str, text: str | None = None) -> None:
        kw = {needs: text} if needs else {}
        mutation = state.device().transition(order, action, **kw)
        _recorded(state, mutation, f"{action.value} recorded")

    params: list[click.Parameter] = [click.Argument(["order"])]
    if needs:
        params.append(click.Option([f"--{needs}", "text"], required=True))
    decorated: Callable[..., None] = pass_state(command)
    main.add_command(click.Command(name, callback=decorated, params=params, help=summary))


_step("accept", Action.ACCEPT, "Accept an assigned job.")
_step("decline", Action.DECLINE, "Decline an assigned job.", "reason")
_step("start-travel", Action.START_TRAVEL, "Set off to the site.")
_step("arrive", Action.ARRIVE, "Arrive on site.")
_step("start-work", Action.START_WORK, "Start the work.")
_step("pause", Action.PAUSE, "Pause the work.", "reason")
_step("resume", Action.RESUME, "Resume paused work.")
_step("complete", Action.COMPLETE, "Complete the job.", "resolution")


@main.command()
@click.argument("order")
@click.argument("body")
@click.option("--customer-visible", is_flag=True, help="Show the note to the customer too.")
@pass_state
def note(state: CliState, order: str, body: str, customer_visible: bool) -> None:
    """Add a note."""
    device = state.device()
    _recorded(state, device.add_note(order, body, customer_visible=customer_visible), "Note added")


@main.command()
@click.argument("order")
@click.argument("description")
@click.option("--quantity", default="1", show_default=True)
@click.option("--unit", default="pcs", show_default=True)
@click.option("--part-number")
@pass_state
def part(
    state: CliState, order: str, description: str, quantity: str, unit: str, part_number: str | None
) -> None:
    """Record a part used."""
    mutation = state.device().record_part(
        order, description, quantity, unit, part_number=part_number
    )
    _recorded(state, mutation, "Part recorded")


@main.command()
@click.argument("order")
@click.argument("metric")
@click.argument("value")
@click.option("--unit", default="", show_default=True)
@pass_state
def reading(state: CliState, order: str, metric: str, value: str, unit: str) -> None:
    """Record a meter reading: METRIC VALUE [--unit UNIT]."""
    _recorded(state, state.device().record_reading(order, metric, value, unit), "Reading recorded")


@main.command()
@click.argument("order")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--caption")
@pass_state
def photo(state: CliState, order: str, path: Path, caption: str | None) -> None:
    """Attach a photo; its bytes upload at the next sync."""
    _recorded(state, state.device().attach_photo(order, path, caption=caption), "Photo attached")


@main.command()
@click.argument("order")
@click.argument("code")
@click.option(
    "--symbology",
    type=click.Choice([kind.value for kind in Symbology]),
    help="What kind of code it is, as the scanner says (checked by the server).",
)
@pass_state
def scan(state: CliState, order: str, code: str, symbology: str | None) -> None:
    """Record a scanned label: the server names its asset, or makes a provisional one."""
    mutation = state.device().scan_code(order, code, symbology=symbology)
    _recorded(state, mutation, "Scan recorded")


@main.command()
@pass_state
def export(state: CliState) -> None:
    """Save the outbox and quarantine to a file for the office."""
    path = state.device().engine.export()
    state.emit({"path": str(path)}, f"Saved to {path}")


@main.command()
@pass_state
def status(state: CliState) -> None:
    """Pending changes, quarantine, conflicts, last sync."""
    info = state.device().status()
    quarantined = info["quarantined"]
    conflicts = info["conflicts"]
    lines = [
        f"Device {info['device_id']}",
        f"Pending changes: {info['pending']}",
        f"Pending photo uploads: {info['pending_uploads']}",
        f"Quarantined: {len(quarantined) if isinstance(quarantined, list) else 0}",
        f"Conflicts sent to the office: {len(conflicts) if isinstance(conflicts, list) else 0}",
        f"Last sync: {_when(info['last_sync_ms'])}",
    ]
    if info["last_error"]:
        lines.append(f"Last error: {info['last_error']}")
    state.emit(info, "\n".join(lines))


def _recorded(state: CliState, mutation: Mutation, text: str) -> None:
    state.emit(mutation.to_json(), f"{text} (offline change #{mutation.seq}; run `sync` to send)")


def _job_line(view: OrderView) -> str:
    row = view.row or {}
    marks = (f" [{view.pending} unsynced]" if view.pending else "") + (
        " [reassigned, read-only]" if view.held else ""
    )
    number = row.get("number") or "(new)"
    # The ID's end: its start is a timestamp, shared by orders created together.
    return f"{number!s:<14} {view.id[-8:]}  {row.get('status')!s:<12} {row.get('title')}{marks}"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing"


def _when(ms: JSONValue) -> str:
    if not isinstance(ms, int):
        return "never"
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
