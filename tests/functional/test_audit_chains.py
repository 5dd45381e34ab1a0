"""Each work order's audit events form an append-only hash chain: `fieldline
verify-chains` finds the log intact after real work, and finds any one row changed,
deleted or re-linked afterwards."""

from __future__ import annotations

import itertools
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.audit.chain import verify_tenant
from api.audit.models import AuditChainHead, AuditEvent
from api.cli import main
from api.db import UnitOfWorkFactory
from tests.functional.test_reports import _seal, _signed_job
from tests.support.api_client import ApiClient
from tests.support.factories import Factories


def _job(client: ApiClient, factories: Factories) -> tuple[uuid.UUID, uuid.UUID]:
    scene, order_id = _signed_job(client, factories)
    _seal(client.as_(scene.dispatcher_token), order_id)
    return scene.world.tenant_id, order_id


def _chain(engine: Engine, tenant_id: uuid.UUID, order_id: uuid.UUID) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.tenant_id == tenant_id, AuditEvent.chain_id == order_id)
                .order_by(AuditEvent.chain_seq)
            )
        )


def _verify(engine: Engine, tenant_id: uuid.UUID) -> list[tuple[int | None, str]]:
    with Session(engine) as session:
        return [(b.seq, b.problem) for b in verify_tenant(session, tenant_id).breaks]


def test_a_work_orders_events_form_one_intact_chain(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    tenant_id, order_id = _job(client, factories)
    events = _chain(engine, tenant_id, order_id)
    kinds = {e.entity_type for e in events}
    assert {"work_order", "work_order_signoff", "sealed_report"} <= kinds
    assert [e.chain_seq for e in events] == list(range(1, len(events) + 1))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert _verify(engine, tenant_id) == []


@pytest.mark.parametrize("tamper", ["change", "delete", "relink", "cut_tail"])
def test_tampering_with_one_audit_row_is_detected(
    client: ApiClient, factories: Factories, engine: Engine, tamper: str
) -> None:
    tenant_id, order_id = _job(client, factories)
    events = _chain(engine, tenant_id, order_id)
    victim = events[1]
    with Session(engine) as session, session.begin():
        where = AuditEvent.id == victim.id
        if tamper == "change":
            session.execute(update(AuditEvent).where(where).values(actor_kind="system"))
        elif tamper == "delete":
            session.execute(delete(AuditEvent).where(where))
        elif tamper == "relink":  # recompute nothing, just renumber: the links give it away
            session.execute(update(AuditEvent).where(where).values(chain_seq=99))
        else:
            session.execute(delete(AuditEvent).where(AuditEvent.id == events[-1].id))
    breaks = _verify(engine, tenant_id)
    assert breaks, tamper
    expected = {
        "change": (2, "hash_mismatch"),
        "delete": (3, "seq_gap"),
        "relink": (99, "hash_mismatch"),
        "cut_tail": (len(events) - 1, "head_mismatch"),
    }[tamper]
    assert expected in breaks


def test_verify_chains_command_reports_intact_and_broken_chains(
    client: ApiClient,
    factories: Factories,
    engine: Engine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant_id, order_id = _job(client, factories)
    monkeypatch.setenv("FIELDLINE_DATABASE_URL", database_url)
    intact = CliRunner().invoke(main, ["verify-chains", "--tenant", str(tenant_id)])
    assert intact.exit_code == 0, intact.output
    assert "intact" in intact.output
    victim = _chain(engine, tenant_id, order_id)[0]
    with Session(engine) as session, session.begin():
        session.execute(
            update(AuditEvent).where(AuditEvent.id == victim.id).values(changes={"forged": 1})
        )
    broken = CliRunner().invoke(main, ["verify-chains", "--tenant", str(tenant_id)])
    assert broken.exit_code == 1
    assert f"chain {order_id} at 1: hash_mismatch" in broken.output
    unknown = CliRunner().invoke(main, ["verify-chains", "--tenant", "no-such-tenant"])
    assert unknown.exit_code != 0 and "no tenant" in unknown.output


def test_an_event_in_a_rolled_back_savepoint_is_never_linked(
    factories: Factories, engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    actor = scene.world.admin_actor
    with uow_factory() as uow:
        session = uow.session
        savepoint = session.begin_nested()
        audit.record(session, actor, "update", "work_order", order.id, {"title": {"after": "x"}})
        savepoint.rollback()
        audit.record(session, actor, "update", "work_order", order.id, {"title": {"after": "y"}})
        uow.commit()
    events = _chain(engine, scene.world.tenant_id, order.id)
    assert [e.changes for e in events][-1] == {"title": {"after": "y"}}
    assert {"title": {"after": "x"}} not in [e.changes for e in events]
    with Session(engine) as session:
        head = session.scalar(select(AuditChainHead.seq).where(AuditChainHead.chain_id == order.id))
    assert head == len(events)
    assert _verify(engine, scene.world.tenant_id) == []
