"""Running a WatermelonDB push's synthetic mutations through the push engine (§ 15 rules 5–6).

The mutations carry HLCs from the server's clock at receipt with the device's
ID as node, strictly increasing in push order (an offer's answer is sent at the
device's ``answered_at``, which admission keeps after the ones before it and
field time never puts after receipt, § 7.3); they have no ``seq``, so
exactly-once comes from idempotence (creates and evidence by client ID,
transitions by the status rules, field writes by LWW). Each runs in its own
savepoint; a rejected one is quarantined and the push carries on.

WatermelonDB does not name its device. A login that gave a UUID ``device_id``
pushes as that device; any other login as a UUID derived from its session, so
its quarantine entries and conflicts still name one stable device.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.auth.models import AuthSession
from api.db import utcnow
from api.sync import clock
from api.sync.devices import app_device
from api.sync.models import SyncQuarantine
from api.sync.push.engine import Applied, apply_mutation
from api.sync.push.writer import Writer
from api.sync.watermelon.translate import CREATE_RECORD, INVALID_RECORD, Synthetic
from sync_protocol.hlc import HLC, system_ms
from sync_protocol.merge import Outcome

_DEVICE_NAMESPACE = uuid.UUID("0195a000-0000-7000-8000-00000000a7e1")


def apply_mutations(session: Session, actor: Actor, mutations: list[Synthetic]) -> list[Applied]:
    """Apply each mutation in order; never raises for a mutation-level refusal."""
    device_id = device_of(session, actor)
    device = app_device(session, actor, device_id)
    writer = Writer(actor=actor, device_id=device_id, receive_ms=system_ms())
    start = clock.now()
    hlc = HLC(start.wall_ms, start.counter, str(device_id))
    results: list[Applied] = []
    for mutation in mutations:
        if mutation.name in (CREATE_RECORD, INVALID_RECORD):
            results.append(_refuse_row(session, writer, mutation, hlc))
        else:
            sent = hlc if mutation.device_ms is None else HLC(mutation.device_ms, 0, hlc.node)
            results.append(
                apply_mutation(session, writer, mutation.name, mutation.args, sent, None)
            )
        hlc = hlc.successor()
    if device is not None:  # sync health: the app's pushes show like a device's
        device.last_push_at = utcnow()
        device.last_hlc = str(writer.last_hlc) if writer.last_hlc else device.last_hlc
        device.clamped += writer.clamped
    return results


def _refuse_row(session: Session, writer: Writer, mutation: Synthetic, hlc: HLC) -> Applied:
    """Quarantine a row the app added to an office table, or a record with values no
    database can store: visible, and deleted from the app at its next pull."""
    table = mutation.args.get("table")
    code, field = "sync.table_read_only", "table"  # type: str, str | None
    detail = f"Rows of {table} are the office's; the app cannot add one"
    if mutation.refusal is not None:
        code, field, detail = mutation.refusal.code, mutation.refusal.field, mutation.refusal.detail
    entry = SyncQuarantine(
        tenant_id=writer.tenant_id,
        device_id=writer.device_id,
        technician_id=writer.technician_id,
        seq=None,
        mutation={"seq": None, "hlc": str(hlc), "name": mutation.name, "args": mutation.args},
        code=code,
        field=field,
        detail=detail,
    )
    session.add(entry)
    return Applied(Outcome.REJECTED, hlc, entry.code, entry.field, detail)


def device_of(session: Session, actor: Actor) -> uuid.UUID:
    """The device a WatermelonDB push speaks for (see the module docstring)."""
    named: str | None = None
    if actor.session_id is not None:
        named = session.scalar(
            select(AuthSession.device_id).where(AuthSession.id == actor.session_id)
        )
    if named:
        try:
            parsed = uuid.UUID(named)
        except ValueError:
            parsed = None
        if parsed is not None and str(parsed) == named:
            return parsed
    seed = f"{actor.tenant_id}:{named or actor.session_id or actor.principal_id}"
    return uuid.uuid5(_DEVICE_NAMESPACE, seed)
