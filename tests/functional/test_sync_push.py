"""``POST /v1/sync/push``: a device's offline work arrives exactly once, merged by the rules of
PROTOCOL.md § 8, with conflicts kept for dispatchers and bad mutations parked, never blocking."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from api.db import UnitOfWorkFactory
from api.evidence.models import PartUsed, Photo, Reading, TimeEntry
from api.sync.models import SyncConflict, SyncDevice, SyncQuarantine
from api.workorders.models import Note, StatusChange, WorkOrder
from sync_protocol.entities import EvidenceKind, PhotoType, TimeEntryKind, TombstoneReason
from sync_protocol.hlc import system_ms
from sync_protocol.merge import FieldOutcome, Outcome
from sync_protocol.messages import MAX_BATCH
from sync_protocol.mutations import (
    AddNote,
    AddTimeEntry,
    AttachPhoto,
    CreateWorkOrder,
    PatchWorkOrder,
    RecordPart,
    RecordReading,
    TransitionWorkOrder,
    VoidEvidence,
)
from sync_protocol.workorder_status import Action, Status
from tests.conftest import count_rows
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene
from tests.support.push import Device, new_id
from tests.support.sync import Replica, pull_body

NOW = datetime.now(UTC).replace(microsecond=0)


def _assigned(factories: Factories, scene: Scene, **data: Any) -> Any:
    order = factories.work_order(scene.world, scene.customer, scene.site, **data)
    return factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)


def _step(order_id: uuid.UUID, action: Action, base: Status, **extra: Any) -> TransitionWorkOrder:
    return TransitionWorkOrder(order_id, action, base, **extra)


def _order(uow_factory: UnitOfWorkFactory, order_id: uuid.UUID) -> WorkOrder:
    with uow_factory.reader() as uow:
        return uow.session.get_one(WorkOrder, order_id)


def _count(uow_factory: UnitOfWorkFactory, query: Any) -> int:
    with uow_factory.reader() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def _offline_job(device: Device, order_id: uuid.UUID) -> list[Any]:
    """PROTOCOL.md § 16.1: accept … complete, with a reading, a part, a photo and a note."""
    return [
        device.mutation(_step(order_id, Action.ACCEPT, Status.ASSIGNED)),
        device.mutation(_step(order_id, Action.START_TRAVEL, Status.ACCEPTED)),
        device.mutation(_step(order_id, Action.ARRIVE, Status.EN_ROUTE)),
        device.mutation(_step(order_id, Action.START_WORK, Status.ON_SITE)),
        device.mutation(RecordReading(new_id(), order_id, "pressure", "3.4", "bar", NOW)),
        device.mutation(RecordPart(new_id(), order_id, "Valve seal", "2", "pcs")),
        device.mutation(AttachPhoto(new_id(), order_id, "ab" * 32, PhotoType.JPEG, 1_843_220)),
        device.mutation(AddNote(new_id(), order_id, "Replaced both seals; pressure stable")),
        device.mutation(
            _step(order_id, Action.COMPLETE, Status.IN_PROGRESS, resolution="Seals replaced")
        ),
    ]


def test_a_whole_offline_job_is_applied_once_with_the_trail_of_an_online_job(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, engine: Engine
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    device = Device(client.as_(scene.technician_token))
    batch = _offline_job(device, order.id)

    response = device.push_ok(batch)

    assert response.last_seq == 9
    assert [r.status for r in response.receipts] == [Outcome.APPLIED] * 9
    assert all(r.entity_id == order.id for r in response.receipts)
    saved = _order(uow_factory, order.id)
    assert saved.status is Status.COMPLETED
    assert saved.resolution == "Seals replaced"
    assert saved.completed_at is not None
    history = _count(
        uow_factory, select(StatusChange.id).where(StatusChange.work_order_id == order.id)
    )
    assert history == 2 + 5  # create, assign, then the five synced steps
    with uow_factory.reader() as uow:
        photo = uow.session.scalars(select(Photo).where(Photo.work_order_id == order.id)).one()
        assert photo.state == "pending"  # no bytes yet
        assert uow.session.scalars(select(Reading.value)).all() == ["3.4"]
        assert uow.session.scalars(select(PartUsed.quantity)).all() == ["2"]

    # The response was lost: the same batch again returns the same receipts, changes nothing.
    before = count_rows(engine)
    again = device.push_ok(batch)
    assert again.receipts == response.receipts
    assert again.last_seq == 9
    after = count_rows(engine)
    assert after == before


def test_a_batch_with_a_gap_or_a_reused_seq_is_refused_whole(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    device = Device(client.as_(scene.technician_token))
    first = device.mutation(AddNote(new_id(), order.id, "first"))
    device.push_ok([first])

    device.seq = 3  # a buggy client skips seq 2 and 3
    skipped = device.mutation(AddNote(new_id(), order.id, "after a gap"))
    before = count_rows(engine)
    response = device.push([skipped])
    problem = assert_problem(response, 409, "sync.seq_gap")
    assert problem["expected_seq"] == 2
    assert problem["field"] == "mutations[0].seq"

    reused = type(first)(first.seq, first.hlc, first.name, {**first.args, "body": "other"})
    assert_problem(device.push([reused]), 409, "sync.seq_reused")
    assert count_rows(engine) == before


def test_a_bad_mutation_is_quarantined_and_never_blocks_the_ones_after_it(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    stranger = factories.scene()  # another tenant's order
    foreign = _assigned(factories, stranger)
    device = Device(client.as_(scene.technician_token))
    batch = [
        device.raw("teleport_work_order", {"work_order_id": str(order.id)}),
        device.raw("add_note", {"id": str(new_id()), "work_order_id": str(order.id)}),
        device.mutation(AddNote(new_id(), foreign.id, "into another tenant")),
        device.mutation(_step(order.id, Action.START_TRAVEL, Status.ASSIGNED)),  # illegal base
        device.mutation(AddNote(new_id(), order.id, "still arrives")),
    ]

    receipts = device.push_ok(batch).receipts

    assert [(r.status, r.code) for r in receipts] == [
        (Outcome.REJECTED, "sync.unknown_mutation"),
        (Outcome.REJECTED, "sync.missing_field"),
        (Outcome.REJECTED, "sync.not_in_scope"),
        (Outcome.REJECTED, "sync.illegal_transition"),
        (Outcome.APPLIED, None),
    ]
    assert receipts[1].field == "args.body"
    with uow_factory.reader() as uow:
        parked = uow.session.scalars(select(SyncQuarantine).order_by(SyncQuarantine.seq)).all()
        assert [(p.seq, p.code, p.state) for p in parked] == [
            (1, "sync.unknown_mutation", "parked"),
            (2, "sync.missing_field", "parked"),
            (3, "sync.not_in_scope", "parked"),
            (4, "sync.illegal_transition", "parked"),
        ]
        assert parked[2].mutation["args"]["body"] == "into another tenant"
        notes = uow.session.scalars(select(Note.body).where(Note.work_order_id == foreign.id))
        assert list(notes) == []
    assert _order(uow_factory, order.id).status is Status.ASSIGNED


def test_complete_after_an_office_cancel_is_a_conflict_never_an_overwrite(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    """PROTOCOL.md § 16.3."""
    scene = factories.scene()
    order = _assigned(factories, scene)
    device = Device(client.as_(scene.technician_token))
    device.push_ok(
        [
            device.mutation(_step(order.id, Action.ACCEPT, Status.ASSIGNED)),
            device.mutation(_step(order.id, Action.START_TRAVEL, Status.ACCEPTED)),
            device.mutation(_step(order.id, Action.ARRIVE, Status.EN_ROUTE)),
            device.mutation(_step(order.id, Action.START_WORK, Status.ON_SITE)),
        ]
    )
    factories.transition(scene.world, order, "cancel", reason="客户来电取消")
    completion = device.mutation(
        _step(order.id, Action.COMPLETE, Status.IN_PROGRESS, resolution="Seals replaced")
    )

    receipt = device.push_ok([completion]).receipts[0]

    assert (receipt.status, receipt.code) == (Outcome.CONFLICT, "sync.concurrent_status")
    saved = _order(uow_factory, order.id)
    assert saved.status is Status.CANCELLED
    assert saved.resolution is None  # kept with the conflict, not written
    with uow_factory.reader() as uow:
        conflict = uow.session.get_one(SyncConflict, receipt.conflict_ids[0])
        assert (conflict.field, conflict.kept, conflict.state) == ("status", "server", "open")
        assert conflict.server["value"] == "cancelled"
        assert conflict.device["value"] == "completed"
        assert conflict.device["seq"] == completion.seq
        assert conflict.mutation is not None
        assert conflict.mutation["args"]["resolution"] == "Seals replaced"


def test_a_stale_edit_of_an_office_field_is_a_proposal_and_lww_orders_the_technicians(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    """PROTOCOL.md § 16.4: the device edits at 08:45, the office at 09:30, the push comes at 11."""
    scene = factories.scene()
    order = _assigned(factories, scene)
    device = Device(client.as_(scene.technician_token))
    edit_ms = system_ms() - 2 * 3600 * 1000  # two hours ago, offline
    stale = device.mutation(
        PatchWorkOrder(
            order.id,
            {
                "scheduled_start": "2030-03-12T14:00:00Z",
                "actual_start": "2030-03-12T09:03:00Z",
            },
        ),
        wall_ms=edit_ms,
    )
    office = client.as_(scene.dispatcher_token)
    current = office.get(f"/v1/work-orders/{order.id}")
    office_edit = office.patch(
        f"/v1/work-orders/{order.id}",
        json={"scheduled_start": "2030-03-12T16:00:00Z"},
        etag=current.headers["ETag"],
    )
    assert office_edit.status_code == 200, office_edit.get_data(as_text=True)

    receipt = device.push_ok([stale]).receipts[0]

    assert receipt.status is Outcome.CONFLICT
    assert receipt.code == "sync.field_not_owned"
    assert receipt.fields == {
        "actual_start": FieldOutcome.APPLIED,  # the technician's own field, unopposed
        "scheduled_start": FieldOutcome.PROPOSED,
    }
    saved = _order(uow_factory, order.id)
    assert saved.scheduled_start == datetime(2030, 3, 12, 16, tzinfo=UTC)
    assert saved.actual_start == datetime(2030, 3, 12, 9, 3, tzinfo=UTC)
    with uow_factory.reader() as uow:
        conflict = uow.session.get_one(SyncConflict, receipt.conflict_ids[0])
        assert conflict.device["value"] == "2030-03-12T14:00:00Z"
        assert conflict.server["value"] == "2030-03-12T16:00:00Z"

    # An older write of the technician's own field (from their tablet, offline since
    # before) loses LWW to the newer one. (One device's own writes are ordered by seq:
    # its effective HLCs only increase, § 7.3.)
    tablet = Device(client.as_(scene.technician_token))
    older = tablet.mutation(
        PatchWorkOrder(order.id, {"actual_start": "2030-03-12T08:00:00Z"}), wall_ms=edit_ms - 1
    )
    receipt = tablet.push_ok([older]).receipts[0]
    assert (receipt.status, receipt.fields) == (
        Outcome.MERGED,
        {"actual_start": FieldOutcome.SUPERSEDED},
    )
    assert _order(uow_factory, order.id).actual_start == datetime(2030, 3, 12, 9, 3, tzinfo=UTC)


def test_a_completion_wins_over_a_reassignment_made_while_offline(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    """PROTOCOL.md § 16.6."""
    scene = factories.scene()
    order = _assigned(factories, scene)
    other = factories.technician(scene.world)
    device = Device(client.as_(scene.technician_token))
    batch = _offline_job(device, order.id)
    factories.transition(scene.world, order, "assign", assignee_id=other.id)

    receipts = device.push_ok(batch).receipts

    assert [r.code for r in receipts[:4]] == ["sync.reassigned"] * 4
    assert [r.status for r in receipts[4:8]] == [Outcome.APPLIED] * 4
    assert (receipts[8].status, receipts[8].code) == (Outcome.CONFLICT, "sync.reassigned")
    saved = _order(uow_factory, order.id)
    assert saved.status is Status.COMPLETED
    assert saved.assignee_id == scene.technician.id
    assert saved.resolution == "Seals replaced"
    with uow_factory.reader() as uow:
        kept = uow.session.get_one(SyncConflict, receipts[8].conflict_ids[0])
        assert (kept.field, kept.kept) == ("assignee_id", "device")
        assert kept.server["value"] == str(other.id)


def test_an_order_created_offline_keeps_its_id_and_a_reused_id_is_refused(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    _assigned(factories, scene)  # the technician works for this customer
    device = Device(client.as_(scene.technician_token))
    order_id = new_id()
    create = CreateWorkOrder(
        order_id,
        {
            "title": "现场发现漏水",
            "customer_id": str(scene.customer.id),
            "site_id": str(scene.site.id),
        },
    )
    note = AddNote(new_id(), order_id, "Found on the way out")
    receipts = device.push_ok([device.mutation(create), device.mutation(note)]).receipts
    assert [r.status for r in receipts] == [Outcome.APPLIED, Outcome.APPLIED]
    saved = _order(uow_factory, order_id)
    assert (saved.status, saved.source, saved.creator_technician_id) == (
        Status.NEW,
        "device",
        scene.technician.id,
    )
    assert saved.number.startswith("WO-")

    # Another device sends the same create (e.g. restored from a backup): duplicate.
    twin = Device(client.as_(scene.technician_token))
    assert twin.push_ok([twin.mutation(create)]).receipts[0].status is Outcome.DUPLICATE
    changed = CreateWorkOrder(order_id, {**create.fields, "title": "另一个工单"})
    receipt = twin.push_ok([twin.mutation(changed)]).receipts[0]
    assert (receipt.status, receipt.code) == (Outcome.REJECTED, "sync.id_reused")


def test_evidence_is_append_only_and_only_its_author_or_the_office_voids_it(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    device = Device(client.as_(scene.technician_token))
    entry = AddTimeEntry(
        new_id(), order.id, TimeEntryKind.TRAVEL, NOW - timedelta(hours=1), NOW, "堵车"
    )
    office_note = factories.note(scene.world, order, "office note")
    receipts = device.push_ok(
        [
            device.mutation(entry),
            device.mutation(entry),  # sent twice by a buggy client: duplicate
            device.mutation(VoidEvidence(EvidenceKind.TIME_ENTRY, entry.id, order.id, "wrong job")),
            device.mutation(VoidEvidence(EvidenceKind.TIME_ENTRY, entry.id, order.id, "again")),
            device.mutation(VoidEvidence(EvidenceKind.NOTE, office_note.id, order.id, "not mine")),
        ]
    ).receipts
    assert [(r.status, r.code) for r in receipts] == [
        (Outcome.APPLIED, None),
        (Outcome.DUPLICATE, None),
        (Outcome.APPLIED, None),
        (Outcome.DUPLICATE, None),
        (Outcome.REJECTED, "sync.void_forbidden"),
    ]
    with uow_factory.reader() as uow:
        row = uow.session.get_one(TimeEntry, entry.id)
        assert (row.void_reason, row.voided_at is not None) == ("wrong job", True)


def test_a_device_belongs_to_the_login_that_first_used_it(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    mine = Device(client.as_(scene.technician_token))
    mine.push_ok([mine.mutation(AddNote(new_id(), order.id, "mine"))])
    _, _, other_token = factories.technician_user(scene.world)
    forged = Device(client.as_(other_token), device_id=mine.device_id, seq=1)
    before = count_rows(engine)
    response = forged.push([forged.mutation(AddNote(new_id(), order.id, "forged"))])
    assert_problem(response, 403, "sync.device_mismatch")
    assert count_rows(engine) == before


def test_a_clock_far_in_the_future_is_clamped_not_refused(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    device = Device(client.as_(scene.technician_token))
    next_year = system_ms() + 365 * 24 * 3600 * 1000
    receipt = device.push_ok(
        [device.mutation(AddNote(new_id(), order.id, "phone set to next year"), wall_ms=next_year)]
    ).receipts[0]
    assert receipt.status is Outcome.APPLIED
    assert receipt.warnings == ("sync.hlc_clamped", "sync.hlc_too_far_ahead")
    assert receipt.hlc is not None
    assert receipt.hlc.wall_ms < system_ms() + 61_000


def test_a_gzip_body_is_accepted_and_a_gzip_bomb_is_refused(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    device = Device(client.as_(scene.technician_token))
    body = json.dumps(device.body([device.mutation(AddNote(new_id(), order.id, "zipped"))]))
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    response = device.client.request(
        "POST", "/v1/sync/push", data=gzip.compress(body.encode()), headers=headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)

    before = count_rows(engine)
    bomb = gzip.compress(b" " * (9 * 1024 * 1024))  # 9 MiB of blanks, about 9 KiB zipped
    response = device.client.request("POST", "/v1/sync/push", data=bomb, headers=headers)
    assert_problem(response, 413, "sync.body_too_large")
    assert count_rows(engine) == before


def test_an_oversized_batch_is_refused_before_anything_runs(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    device = Device(client.as_(scene.technician_token))
    batch = [device.mutation(AddNote(new_id(), order.id, f"n{i}")) for i in range(MAX_BATCH + 1)]
    before = count_rows(engine)
    assert_problem(device.push(batch), 413, "sync.batch_too_large")
    assert count_rows(engine) == before


def test_a_reassigned_order_stays_writable_only_until_the_device_is_told(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    """PROTOCOL.md § 5.3: the grace ends with the pull that delivers the left_scope tombstone."""
    scene = factories.scene()
    order = _assigned(factories, scene)
    technician = client.as_(scene.technician_token)
    device = Device(technician)
    scope = f"technician:{scene.technician.id}"
    replica = Replica(technician, {scope: None}, device_id=device.device_id)
    replica.sync()
    written_offline = device.mutation(AddNote(new_id(), order.id, "before I knew"))
    other = factories.technician(scene.world)
    factories.transition(scene.world, order, "assign", assignee_id=other.id)

    page = replica.sync()  # the tombstone arrives; the device's clock observes server_time
    assert ("work_orders", str(order.id), TombstoneReason.LEFT_SCOPE) in {
        (t, i, r) for _, t, i, r in replica.tombstones
    }
    after_told = device.mutation(
        AddNote(new_id(), order.id, "after I knew"), wall_ms=page.server_time.wall_ms + 1
    )
    receipts = device.push_ok([written_offline, after_told]).receipts

    assert (receipts[0].status, receipts[0].code) == (Outcome.APPLIED, None)
    assert (receipts[1].status, receipts[1].code) == (Outcome.REJECTED, "sync.not_in_scope")
    with uow_factory.reader() as uow:
        bodies = set(uow.session.scalars(select(Note.body).where(Note.work_order_id == order.id)))
    assert bodies == {"before I knew"}


def test_pulls_and_pushes_keep_the_devices_health(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    technician = client.as_(scene.technician_token)
    device = Device(technician)
    Replica(technician, {"taxonomy": None}, device_id=device.device_id).sync()
    device.push_ok(
        [device.mutation(AddNote(new_id(), order.id, "one"), wall_ms=system_ms() + 120_000)]
    )
    with uow_factory.reader() as uow:
        health = uow.session.get_one(SyncDevice, (scene.world.tenant_id, device.device_id))
        assert health.user_id == scene.technician.user_id
        assert health.technician_id == scene.technician.id
        assert health.last_pull_at is not None and health.last_push_at is not None
        assert (health.last_seq, health.clamped, health.pending) == (1, 1, 1)
        assert len(health.skew_samples) == 2


def test_a_retired_device_is_told_to_reset_and_its_pushes_apply_nothing(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, engine: Engine
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    device = Device(client.as_(scene.technician_token))
    device.push_ok([device.mutation(AddNote(new_id(), order.id, "one"))])
    with uow_factory() as uow:
        found = uow.session.get_one(SyncDevice, (scene.world.tenant_id, device.device_id))
        found.retired_at = datetime.now(UTC)
        uow.commit()
    before = count_rows(engine)
    response = device.push([device.mutation(AddNote(new_id(), order.id, "two"))])
    assert response.status_code == 409
    assert response.get_json()["reset_required"]["reason"] == "sync.device_retired"
    pulled = device.client.post(
        "/v1/sync/pull", json=pull_body({"taxonomy": None}, device_id=device.device_id)
    )
    assert pulled.status_code == 409
    assert count_rows(engine) == before


def test_malformed_envelopes_are_refused_with_sync_codes_and_apply_nothing(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene = factories.scene()
    order = _assigned(factories, scene)
    device = Device(client.as_(scene.technician_token))
    good = device.body([device.mutation(AddNote(new_id(), order.id, "x"))])
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({**good, "extra": 1}, 422, "sync.unknown_field"),
        ({**good, "device_id": "not-a-uuid"}, 422, "sync.invalid_uuid"),
        ({**good, "mutations": "all of them"}, 422, "sync.wrong_type"),
        ({**good, "mutations": [{**good["mutations"][0], "seq": 1.0}]}, 422, "sync.wrong_type"),
        (
            {**good, "mutations": [{**good["mutations"][0], "hlc": "yesterday"}]},
            422,
            "sync.invalid_hlc",
        ),
        ({**good, "protocol": 99}, 400, "sync.protocol_unsupported"),
        ({**good, "schema": 99}, 409, "sync.schema_too_new"),
    ]
    before = count_rows(engine)
    for body, status, code in cases:
        assert_problem(device.client.post("/v1/sync/push", json=body), status, code)
    response = device.client.request(
        "POST",
        "/v1/sync/push",
        data=b'{"protocol": 1,',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert count_rows(engine) == before
