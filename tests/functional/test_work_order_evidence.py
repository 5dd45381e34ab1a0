"""The office reads what was done on a job: photos (and their bytes), parts, readings and
time entries recorded by technicians' devices. Customer contacts see only what is shown
to customers; nobody sees another tenant's or another customer's evidence."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.audit.models import AuditEvent
from sync_protocol.entities import EvidenceKind, NoteVisibility, PhotoType, TimeEntryKind
from sync_protocol.merge import Outcome
from sync_protocol.mutations import (
    AddNote,
    AddTimeEntry,
    AttachPhoto,
    RecordPart,
    RecordReading,
    VoidEvidence,
)
from sync_protocol.scopes import technician_scope
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene
from tests.support.images import jpeg
from tests.support.push import Device, new_id
from tests.support.sync import Replica

JPEG = jpeg("evidence")
JPEG_SHA = hashlib.sha256(JPEG).hexdigest()
AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
KINDS = ("photos", "parts", "readings", "time-entries")


@dataclass(frozen=True)
class Job:
    scene: Scene
    order_id: uuid.UUID
    photo_id: uuid.UUID
    part_id: uuid.UUID
    voided_part_id: uuid.UUID
    reading_id: uuid.UUID
    time_entry_id: uuid.UUID

    def url(self, kind: str) -> str:
        return f"/v1/work-orders/{self.order_id}/{kind}"

    @property
    def content_url(self) -> str:
        return f"/v1/work-orders/{self.order_id}/photos/{self.photo_id}/content"


def _job(client: ApiClient, factories: Factories, scene: Scene | None = None) -> Job:
    """A job a technician worked through sync: one of each kind, one part voided."""
    scene = scene or factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    tech = client.as_(scene.technician_token)
    device = Device(tech)
    ids = [new_id() for _ in range(5)]
    photo, part, voided, reading, entry = ids
    mutations = [
        device.mutation(
            AttachPhoto(photo, order.id, JPEG_SHA, PhotoType.JPEG, len(JPEG), caption="Valve")
        ),
        device.mutation(RecordPart(part, order.id, "Valve seal", "2", "pcs", "VS-20")),
        device.mutation(RecordPart(voided, order.id, "Wrong gasket", "1", "pcs")),
        device.mutation(RecordReading(reading, order.id, "pressure", "3.4", "bar", AT)),
        device.mutation(AddTimeEntry(entry, order.id, TimeEntryKind.WORK, AT, AT.replace(hour=11))),
        device.mutation(VoidEvidence(EvidenceKind.PART, voided, order.id, "Recorded by mistake")),
    ]
    receipts = device.push_ok(mutations).receipts
    assert {r.status for r in receipts} == {Outcome.APPLIED}
    uploaded = tech.request(
        "PUT", f"/v1/sync/blobs/{JPEG_SHA}", data=JPEG, headers={"Content-Type": "image/jpeg"}
    )
    assert uploaded.status_code in (200, 201), uploaded.get_data(as_text=True)
    return Job(scene, order.id, photo, part, voided, reading, entry)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _ids(response: object) -> list[str]:
    assert response.status_code == 200, response.get_json()  # type: ignore[attr-defined]
    return [item["id"] for item in response.get_json()["items"]]  # type: ignore[attr-defined]


def test_the_office_lists_every_kind_of_evidence_of_an_order(
    client: ApiClient, factories: Factories
) -> None:
    job = _job(client, factories)
    office = client.as_(job.scene.dispatcher_token)

    (photo,) = office.get(job.url("photos")).get_json()["items"]
    assert (photo["id"], photo["caption"], photo["state"]) == (str(job.photo_id), "Valve", "ready")
    assert (photo["sha256"], photo["content_type"], photo["size"]) == (
        JPEG_SHA,
        "image/jpeg",
        len(JPEG),
    )
    assert photo["author_id"] is not None and photo["device_id"] is not None
    parts = office.get(job.url("parts")).get_json()["items"]
    assert [(p["description"], p["quantity"], p["voided_at"] is not None) for p in parts] == [
        ("Valve seal", "2", False),
        ("Wrong gasket", "1", True),
    ]
    assert parts[1]["void_reason"] == "Recorded by mistake"
    (reading,) = office.get(job.url("readings")).get_json()["items"]
    assert (reading["metric"], reading["value"], reading["unit"]) == ("pressure", "3.4", "bar")
    assert _time(reading["taken_at"]) == AT
    (entry,) = office.get(job.url("time-entries")).get_json()["items"]
    assert (entry["activity"], _time(entry["started_at"]), _time(entry["ended_at"])) == (
        "work",
        AT,
        AT.replace(hour=11),
    )
    # The technician on the job reads them too.
    tech = client.as_(job.scene.technician_token)
    assert _ids(tech.get(job.url("parts"))) == [str(job.part_id), str(job.voided_part_id)]


def test_the_office_fetches_a_photos_bytes(client: ApiClient, factories: Factories) -> None:
    job = _job(client, factories)
    office = client.as_(job.scene.dispatcher_token)

    with office.get(job.content_url) as response:  # closing it closes the file
        assert response.status_code == 200
        assert response.data == JPEG
        assert response.mimetype == "image/jpeg"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        # Even opened as a page, the bytes get no script, no plugins, no origin.
        policy = response.headers["Content-Security-Policy"]
        assert "sandbox" in policy and "default-src 'none'" in policy
        assert response.headers["Content-Disposition"] == (
            f'inline; filename="photo-{job.photo_id}.jpg"'
        )
        assert response.headers["ETag"] == f'"{JPEG_SHA}"'
    cached = {"If-None-Match": f'"{JPEG_SHA}"'}
    with office.get(job.content_url, headers=cached) as again:
        assert again.status_code == 304


def test_a_photo_whose_bytes_have_not_arrived_says_so(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    device = Device(client.as_(scene.technician_token))
    photo_id = new_id()
    other_sha = hashlib.sha256(b"not uploaded").hexdigest()
    device.push_ok(
        [device.mutation(AttachPhoto(photo_id, order.id, other_sha, PhotoType.JPEG, 12))]
    )
    office = client.as_(scene.dispatcher_token)
    response = office.get(f"/v1/work-orders/{order.id}/photos/{photo_id}/content")
    body = assert_problem(response, 409, "photo.bytes_not_ready")
    assert body["state"] == "pending"


def test_customer_contacts_see_only_what_is_shown_to_customers(
    client: ApiClient, factories: Factories
) -> None:
    job = _job(client, factories)
    contact = client.as_(job.scene.contact_token)

    # Parts and readings are shown to the customer, voided items are not; time entries
    # and photos are internal unless the office shows them.
    assert _ids(contact.get(job.url("parts"))) == [str(job.part_id)]
    assert _ids(contact.get(job.url("readings"))) == [str(job.reading_id)]
    assert _ids(contact.get(job.url("time-entries"))) == []
    assert _ids(contact.get(job.url("photos"))) == []
    assert_problem(contact.get(job.content_url), 404, "photo.not_found")

    office = client.as_(job.scene.dispatcher_token)
    shared = office.request(
        "PUT", f"{job.url('photos')}/{job.photo_id}/visibility", json={"visibility": "customer"}
    )
    assert shared.status_code == 200 and shared.get_json()["visibility"] == "customer"
    hidden = office.request(
        "PUT", f"{job.url('parts')}/{job.part_id}/visibility", json={"visibility": "internal"}
    )
    assert hidden.status_code == 200
    assert _ids(contact.get(job.url("parts"))) == []
    assert _ids(contact.get(job.url("photos"))) == [str(job.photo_id)]
    # The original keeps its EXIF (GPS position, capture time): customers are shown the
    # photo through its renditions (see test_photo_reads), never the original.
    assert_problem(contact.get(job.content_url), 404, "photo.not_found")


def test_another_customers_contact_and_another_tenant_get_404(
    client: ApiClient, factories: Factories
) -> None:
    job = _job(client, factories)
    world = job.scene.world
    other_customer = factories.customer(world)
    _, other_contact = factories.customer_login(world, other_customer)
    stranger = factories.scene()  # another tenant, with its own order and photo
    theirs = _job(client, factories, stranger)

    for token in (other_contact, stranger.dispatcher_token, stranger.contact_token):
        api = client.as_(token)
        for kind in KINDS:
            assert_problem(api.get(job.url(kind)), 404, "work_order.not_found")
        assert_problem(api.get(job.content_url), 404, "work_order.not_found")
    # Our order with their photo's id: no such photo on this order.
    office = client.as_(job.scene.dispatcher_token)
    crossed = f"/v1/work-orders/{job.order_id}/photos/{theirs.photo_id}/content"
    assert_problem(office.get(crossed), 404, "photo.not_found")
    mixed = f"/v1/work-orders/{theirs.order_id}/photos/{job.photo_id}/content"
    assert_problem(office.get(mixed), 404, "work_order.not_found")


def test_a_technician_sees_evidence_only_of_orders_assigned_to_them(
    client: ApiClient, factories: Factories
) -> None:
    job = _job(client, factories)
    _other_tech, _user, other_token = factories.technician_user(job.scene.world)
    api = client.as_(other_token)
    for kind in KINDS:
        assert_problem(api.get(job.url(kind)), 404, "work_order.not_found")
    assert_problem(api.get(job.content_url), 404, "work_order.not_found")


def test_evidence_lists_page_with_a_cursor(client: ApiClient, factories: Factories) -> None:
    job = _job(client, factories)
    office = client.as_(job.scene.dispatcher_token)
    first = office.get(job.url("parts") + "?limit=1").get_json()
    assert [p["id"] for p in first["items"]] == [str(job.part_id)]
    rest = office.get(job.url("parts") + f"?limit=1&cursor={first['next_cursor']}").get_json()
    assert [p["id"] for p in rest["items"]] == [str(job.voided_part_id)]
    assert rest["next_cursor"] is None


def test_visibility_stays_on_the_server_out_of_the_synced_rows(
    client: ApiClient, factories: Factories
) -> None:
    """Devices' row images (PROTOCOL.md § 5) are unchanged: visibility is the office's."""
    job = _job(client, factories)
    tech = client.as_(job.scene.technician_token)
    replica = Replica(tech, {str(technician_scope(job.scene.technician.id)): None})
    replica.sync()
    evidence = {
        table: row
        for (_, table, _), row in replica.rows.items()
        if table in ("parts_used", "readings", "time_entries", "photos")
    }
    assert set(evidence) == {"parts_used", "readings", "time_entries", "photos"}
    assert all("visibility" not in row for row in evidence.values())

    # The office's choice changes nothing a device holds: its replica stays true.
    office = client.as_(job.scene.dispatcher_token)
    shown = office.request(
        "PUT", f"{job.url('photos')}/{job.photo_id}/visibility", json={"visibility": "customer"}
    )
    assert shown.status_code == 200
    scope = str(technician_scope(job.scene.technician.id))
    before = dict(replica.rows)
    replica.sync()
    assert replica.rows == before
    assert replica.checkpoint is not None
    assert replica.checkpoint.checksums[scope] == replica.checksum(scope)


def test_only_the_office_chooses_what_the_customer_sees_and_it_is_audited(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    job = _job(client, factories)
    url = f"{job.url('time-entries')}/{job.time_entry_id}/visibility"
    for token in (job.scene.technician_token, job.scene.contact_token):
        refused = client.as_(token).request("PUT", url, json={"visibility": "customer"})
        assert_problem(refused, 403, "auth.forbidden")
    office = client.as_(job.scene.dispatcher_token)
    assert_problem(
        office.request("PUT", url, json={"visibility": "everyone"}),
        422,
        "request.validation_failed",
    )
    assert office.request("PUT", url, json={"visibility": "customer"}).status_code == 200
    assert (
        office.request("PUT", url, json={"visibility": "customer"}).status_code == 200
    )  # idempotent
    with Session(engine) as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.entity_id == job.time_entry_id)
        ).all()
    assert [(e.entity_type, e.changes) for e in events] == [
        ("work_order_time_entry", {"visibility": {"before": "internal", "after": "customer"}})
    ]
    contact = client.as_(job.scene.contact_token)
    assert _ids(contact.get(job.url("time-entries"))) == [str(job.time_entry_id)]


def test_visibility_is_set_only_on_an_item_of_that_order_and_kind(
    client: ApiClient, factories: Factories
) -> None:
    job = _job(client, factories)
    theirs = _job(client, factories)  # another tenant
    office = client.as_(job.scene.dispatcher_token)
    body = {"visibility": "customer"}
    wrong_kind = office.request("PUT", f"{job.url('photos')}/{job.part_id}/visibility", json=body)
    assert_problem(wrong_kind, 404, "photo.not_found")
    not_ours = office.request("PUT", f"{job.url('parts')}/{theirs.part_id}/visibility", json=body)
    assert_problem(not_ours, 404, "evidence.not_found")
    their_order = f"/v1/work-orders/{theirs.order_id}/parts/{theirs.part_id}/visibility"
    assert_problem(office.request("PUT", their_order, json=body), 404, "work_order.not_found")


def test_a_voided_customer_note_is_withdrawn_from_the_customer(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    device = Device(client.as_(scene.technician_token))
    kept, withdrawn = new_id(), new_id()
    shown = NoteVisibility.CUSTOMER
    device.push_ok(
        [
            device.mutation(AddNote(kept, order.id, "Seals replaced", shown)),
            device.mutation(AddNote(withdrawn, order.id, "Back tomorrow at 9", shown)),
            device.mutation(VoidEvidence(EvidenceKind.NOTE, withdrawn, order.id, "Wrong day")),
        ]
    )
    url = f"/v1/work-orders/{order.id}/notes"
    assert _ids(client.as_(scene.contact_token).get(url)) == [str(kept)]
    notes = client.as_(scene.dispatcher_token).get(url).get_json()["items"]
    assert [(n["id"], n["void_reason"]) for n in notes] == [
        (str(kept), None),
        (str(withdrawn), "Wrong day"),
    ]
