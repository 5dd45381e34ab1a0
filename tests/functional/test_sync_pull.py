"""``POST /v1/sync/pull``: a device replicates exactly its scope, incrementally, page by page,
with tombstones for what leaves, checksums that match, and stable refusals."""

from __future__ import annotations

import functools
import gzip
import json
import uuid
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, delete, select

from api.cli import main
from api.customers.models import Contact
from api.db import UnitOfWorkFactory
from api.sync import noop, queries, services
from api.sync.capture import prime_tenant
from api.sync.models import SyncCounter, SyncScopeChange, SyncScopeMember
from api.workorders.models import StatusChange
from sync_protocol.checksum import scope_checksum
from sync_protocol.entities import TombstoneReason
from sync_protocol.versions import ServerVersions, check_versions
from sync_protocol.wire import format_timestamp
from tests.conftest import count_rows
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene
from tests.support.sync import DEVICE, Replica, pull_body, read_body

TAXONOMY = "taxonomy"


def _scope(technician_id: uuid.UUID) -> str:
    return f"technician:{technician_id}"


def _ids(uow_factory: UnitOfWorkFactory, query: Any) -> set[str]:
    with uow_factory.reader() as uow:
        return {str(i) for i in uow.session.scalars(query)}


def _assigned_order(factories: Factories, scene: Scene, technician: Any = None, **data: Any) -> Any:
    order = factories.work_order(scene.world, scene.customer, scene.site, **data)
    technician = technician or scene.technician
    return factories.transition(scene.world, order, "assign", assignee_id=technician.id)


def _server_checksum(uow_factory: UnitOfWorkFactory, tenant_id: uuid.UUID, scope: str) -> str:
    with uow_factory.reader() as uow:
        return scope_checksum(services.scope_rows(uow.session, tenant_id, scope))


def test_initial_pull_returns_exactly_the_technicians_scope_and_a_matching_checkpoint(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    world, tech = scene.world, scene.technician
    asset = factories.asset(world, scene.site)
    factories.asset(world, scene.site)  # at the site but not on the order: not replicated
    categories = factories.category_path(world)
    order = _assigned_order(factories, scene, asset_ids=[asset.id], category_id=categories[-1].id)
    note = factories.note(world, order)
    factories.contact(world, scene.customer)
    # Noise: an unassigned order of the same customer, another technician's order.
    factories.work_order(world, scene.customer, scene.site)
    other_tech = factories.technician(world)
    _assigned_order(factories, scene, technician=other_tech)

    replica = Replica(client.as_(scene.technician_token), {_scope(tech.id): None, TAXONOMY: None})
    replica.sync()

    scope = _scope(tech.id)
    contacts = _ids(uow_factory, select(Contact.id).where(Contact.customer_id == scene.customer.id))
    history = _ids(
        uow_factory, select(StatusChange.id).where(StatusChange.work_order_id == order.id)
    )
    assert replica.ids(scope) == {
        ("work_orders", str(order.id)),
        ("customers", str(scene.customer.id)),
        ("sites", str(scene.site.id)),
        ("assets", str(asset.id)),
        ("asset_history", str(order.id)),  # the asset's latest order is this one
        ("notes", str(note.id)),
        *(("contacts", c) for c in contacts),
        *(("status_changes", h) for h in history),
    }
    assert replica.ids(TAXONOMY) == {("categories", str(c.id)) for c in categories}
    row = replica.rows[(scope, "work_orders", str(order.id))]
    assert row["status"] == "assigned" and row["asset_ids"] == [str(asset.id)]
    assert "tenant_id" not in row and "create_digest" not in row
    # Protocol scalars (§ 3.2), whichever way the database driver hands them over.
    assert (row["id"], row["priority"], row["category_id"]) == (
        str(order.id),
        "medium",
        str(categories[-1].id),
    )
    assert isinstance(row["created_at"], str) and row["created_at"].endswith("Z")
    assert row["created_at"] == format_timestamp(order.created_at)
    assert isinstance(row["field_hlcs"], dict) and row["version"] == order.version
    assert replica.checkpoint is not None
    for name in (scope, TAXONOMY):
        assert replica.checkpoint.checksums[name] == replica.checksum(name)
        assert replica.checkpoint.checksums[name] == _server_checksum(
            uow_factory, world.tenant_id, name
        )
        assert replica.checkpoint.counts[name] == len(replica.ids(name))


def test_incremental_pull_returns_only_what_changed_in_the_scope(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    world, tech = scene.world, scene.technician
    order = _assigned_order(factories, scene)
    other_tech = factories.technician(world)
    elsewhere = _assigned_order(
        factories, scene, technician=other_tech, site_id=factories.site(world, scene.customer).id
    )
    tech_client = client.as_(scene.technician_token)
    replica = Replica(tech_client, {_scope(tech.id): None, TAXONOMY: None})
    replica.sync()

    nothing = replica.sync()
    assert nothing.changes == ()
    note = factories.note(world, order, "到场后发现漏水")
    factories.note(world, elsewhere, "不在此技师范围")
    patched = client.as_(scene.dispatcher_token).patch(
        f"/v1/customers/{scene.customer.id}", json={"phone": "021-5555 0199"}, etag='"1"'
    )
    assert patched.status_code == 200
    accepted = tech_client.post(
        f"/v1/work-orders/{order.id}/transitions", json={"action": "accept"}
    )
    assert accepted.status_code == 200
    page = replica.sync()

    scope = _scope(tech.id)
    changed = {(c.table.value, str(c.id)) for c in page.changes}
    new_history = _ids(
        uow_factory,
        select(StatusChange.id).where(
            StatusChange.work_order_id == order.id, StatusChange.action == "accept"
        ),
    )
    assert changed == {
        ("notes", str(note.id)),
        ("customers", str(scene.customer.id)),
        ("work_orders", str(order.id)),
        *(("status_changes", h) for h in new_history),
    }
    assert replica.rows[(scope, "customers", str(scene.customer.id))]["phone"] == "021-5555 0199"
    assert replica.rows[(scope, "work_orders", str(order.id))]["status"] == "accepted"
    assert replica.checkpoint is not None
    assert replica.checkpoint.checksums[scope] == replica.checksum(scope)


def test_reassignment_and_deletion_produce_tombstones(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    world, tech = scene.world, scene.technician
    other_site = factories.site(world, scene.customer)
    asset = factories.asset(world, scene.site)
    moving = _assigned_order(factories, scene, asset_ids=[asset.id])
    note = factories.note(world, moving)
    staying = _assigned_order(factories, scene, site_id=other_site.id)
    other_tech, _, other_token = factories.technician_user(world)
    mine = Replica(client.as_(scene.technician_token), {_scope(tech.id): None})
    theirs = Replica(client.as_(other_token), {_scope(other_tech.id): None})
    mine.sync()
    theirs.sync()
    assert theirs.ids(_scope(other_tech.id)) == set()

    factories.transition(world, moving, "assign", assignee_id=other_tech.id)
    mine.sync()
    theirs.sync()

    history = _ids(
        uow_factory, select(StatusChange.id).where(StatusChange.work_order_id == moving.id)
    )
    left = {
        ("work_orders", str(moving.id)),
        ("sites", str(scene.site.id)),
        ("assets", str(asset.id)),
        ("asset_history", str(moving.id)),
        ("notes", str(note.id)),
    }
    left_history = {("status_changes", h) for h in history}
    tombstoned = {(t, i) for _, t, i, reason in mine.tombstones}
    assert {r for *_, r in mine.tombstones} == {TombstoneReason.LEFT_SCOPE}
    # The order's old history rows leave; the assign row written by this very
    # reassignment never entered the old scope, so it has no tombstone.
    assert left <= tombstoned and tombstoned - left <= left_history
    assert ("customers", str(scene.customer.id)) in mine.ids(_scope(tech.id))  # still needed
    assert ("work_orders", str(staying.id)) in mine.ids(_scope(tech.id))
    assert left <= theirs.ids(_scope(other_tech.id))

    # No endpoint deletes contacts yet (the office will); delete one the way a service would.
    contact = factories.contact(world, scene.customer)
    mine.sync()
    with uow_factory() as uow:
        uow.session.delete(uow.session.get(Contact, contact.id))
        uow.commit()
    mine.sync()
    assert mine.tombstones[-1][1:] == ("contacts", str(contact.id), TombstoneReason.DELETED)
    assert mine.checkpoint is not None
    scope = _scope(tech.id)
    assert mine.checkpoint.checksums[scope] == mine.checksum(scope)
    assert mine.checkpoint.checksums[scope] == _server_checksum(uow_factory, world.tenant_id, scope)


def test_small_pages_deliver_the_same_replica_in_order_without_repeats(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    for n in range(6):
        order = _assigned_order(factories, scene)
        factories.note(scene.world, order, f"备注 {n}")
    factories.category_path(scene.world)
    cursors: dict[str, str | None] = {_scope(scene.technician.id): None, TAXONOMY: None}
    tech = client.as_(scene.technician_token)
    whole = Replica(tech, dict(cursors))
    whole.sync(limit=1000)
    paged = Replica(tech, dict(cursors))

    first = paged.pull_page(limit=4)
    assert first.has_more and first.checkpoint is None
    again = Replica(tech, dict(cursors)).pull_page(limit=4)
    assert again.changes == first.changes and again.cursors == first.cursors  # stable
    paged.sync(limit=4)

    assert whole.pages == 1 and paged.pages > 5
    assert paged.rows == whole.rows
    assert paged.received == sorted(set(paged.received))  # increasing, never twice
    assert paged.checkpoint == whole.checkpoint


def test_another_tenants_data_never_appears_and_its_scopes_are_forbidden(
    client: ApiClient, factories: Factories
) -> None:
    mine, theirs = factories.scene(), factories.scene()
    _assigned_order(factories, mine)
    their_order = _assigned_order(factories, theirs)
    factories.category_path(theirs.world)
    replica = Replica(
        client.as_(mine.technician_token), {_scope(mine.technician.id): None, TAXONOMY: None}
    )
    replica.sync()
    pulled = {row_id for _, _, row_id in replica.rows}
    assert pulled and not pulled & {
        str(their_order.id),
        str(theirs.customer.id),
        str(theirs.site.id),
    }
    assert replica.ids(TAXONOMY) == set()

    foreign = pull_body({_scope(theirs.technician.id): None})
    for token in (mine.technician_token, mine.dispatcher_token):
        response = client.as_(token).post("/v1/sync/pull", json=foreign)
        body = assert_problem(response, 403, "sync.scope_forbidden")
        assert body["field"] == f"cursors.{_scope(theirs.technician.id)}"


def test_office_roles_pull_any_technicians_scope_and_technicians_only_their_own(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    _assigned_order(factories, scene)
    colleague = factories.technician(scene.world)
    scope = _scope(scene.technician.id)
    as_tech = Replica(client.as_(scene.technician_token), {scope: None})
    as_office = Replica(client.as_(scene.dispatcher_token), {scope: None})
    assert as_tech.sync().checkpoint == as_office.sync().checkpoint
    assert as_office.rows == as_tech.rows

    response = client.as_(scene.technician_token).post(
        "/v1/sync/pull", json=pull_body({_scope(colleague.id): None})
    )
    assert_problem(response, 403, "sync.scope_forbidden")
    response = client.as_(scene.contact_token).post("/v1/sync/pull", json=pull_body({}))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("override", "status", "code", "field"),
    [
        ({"protocol": 2}, 400, "sync.protocol_unsupported", "protocol"),
        ({"schema": 2}, 409, "sync.schema_too_new", "schema"),
    ],
)
def test_versions_the_server_cannot_serve_are_refused_precisely(
    client: ApiClient,
    factories: Factories,
    override: dict[str, Any],
    status: int,
    code: str,
    field: str,
) -> None:
    scene = factories.scene()
    response = client.as_(scene.technician_token).post(
        "/v1/sync/pull", json=pull_body({TAXONOMY: None}, **override)
    )
    body = assert_problem(response, status, code)
    assert body["field"] == field
    if code == "sync.protocol_unsupported":
        assert body["supported"] == [1]


def test_an_old_replica_schema_gets_reset_required_with_push_first(
    client: ApiClient, factories: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene = factories.scene()
    newer = ServerVersions(schema=2, min_schema=2, min_push_schema=1)
    monkeypatch.setattr(services, "check_versions", functools.partial(check_versions, server=newer))
    response = client.as_(scene.technician_token).post(
        "/v1/sync/pull", json=pull_body({TAXONOMY: None})
    )
    assert response.status_code == 409
    reset = response.get_json()["reset_required"]
    assert reset["reason"] == "sync.schema_too_old"
    assert reset["push_first"] is True and reset["min_schema"] == 2 and reset["scopes"] == []


def test_a_cursor_past_the_servers_log_means_the_server_was_restored(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    scope = _scope(scene.technician.id)
    response = client.as_(scene.technician_token).post(
        "/v1/sync/pull", json=pull_body({scope: "c1.999999", TAXONOMY: "c1.0"})
    )
    assert response.status_code == 409
    reset = response.get_json()["reset_required"]
    assert reset["reason"] == "sync.server_restored"
    assert reset["scopes"] == [scope] and reset["push_first"] is True


@pytest.mark.parametrize(
    ("mutate", "status", "code", "field"),
    [
        (lambda b: {**b, "extra": 1}, 422, "sync.unknown_field", "extra"),
        (
            lambda b: {k: v for k, v in b.items() if k != "cursors"},
            422,
            "sync.missing_field",
            "cursors",
        ),
        (lambda b: {**b, "limit": 0}, 422, "sync.invalid_value", "limit"),
        (lambda b: {**b, "limit": True}, 422, "sync.wrong_type", "limit"),
        (lambda b: {**b, "device_id": "not-a-uuid"}, 422, "sync.invalid_uuid", "device_id"),
        (
            lambda b: {**b, "cursors": {"taxonomy": "zzz"}},
            422,
            "sync.invalid_value",
            "cursors.taxonomy",
        ),
        (lambda b: {**b, "cursors": {"everything": None}}, 422, "sync.invalid_value", None),
    ],
)
def test_malformed_pull_requests_are_refused_with_stable_codes_and_nothing_written(
    client: ApiClient,
    factories: Factories,
    engine: Engine,
    mutate: Any,
    status: int,
    code: str,
    field: str | None,
) -> None:
    scene = factories.scene()
    _assigned_order(factories, scene)
    before = count_rows(engine)
    response = client.as_(scene.technician_token).post(
        "/v1/sync/pull", json=mutate(pull_body({TAXONOMY: None}))
    )
    body = assert_problem(response, status, code)
    if field is not None:
        assert body["field"] == field
        assert body["errors"] == [{"field": field, "code": code, "message": body["detail"]}]
    assert count_rows(engine) == before


def test_nan_is_not_json_to_the_protocol(client: ApiClient, factories: Factories) -> None:
    scene = factories.scene()
    raw = json.dumps(pull_body({TAXONOMY: None})).replace('"limit": 500', '"limit": NaN')
    response = client.as_(scene.technician_token).post(
        "/v1/sync/pull", data=raw, headers={"Content-Type": "application/json"}, json=None
    )
    assert_problem(response, 400, "sync.malformed_json")


def test_a_login_bound_to_a_device_cannot_pull_as_another(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    tech_user = scene.technician.user_id
    assert tech_user is not None
    email = client.as_(scene.dispatcher_token).get(f"/v1/users/{tech_user}").get_json()["email"]
    token = factories.token(scene.world.slug, email, device_id=str(uuid.uuid4()))
    response = client.as_(token).post("/v1/sync/pull", json=pull_body({TAXONOMY: None}))
    assert_problem(response, 403, "sync.device_mismatch")
    bound = factories.token(scene.world.slug, email, device_id=str(DEVICE))
    assert (
        client.as_(bound)
        .post("/v1/sync/pull", json=pull_body({TAXONOMY: None}, device_id=DEVICE))
        .status_code
        == 200
    )


def test_responses_are_gzip_compressed_when_the_client_accepts_it(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    for _ in range(3):
        _assigned_order(factories, scene)
    body = pull_body({_scope(scene.technician.id): None})
    tech = client.as_(scene.technician_token)
    zipped = tech.post("/v1/sync/pull", json=body, headers={"Accept-Encoding": "gzip"})
    plain = tech.post("/v1/sync/pull", json=body)
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in plain.headers
    unzipped = json.loads(gzip.decompress(zipped.get_data()))
    assert unzipped["changes"] == read_body(plain)["changes"]
    assert len(zipped.get_data()) < len(plain.get_data())
    assert zipped.headers["Vary"] == plain.headers["Vary"] == "Accept-Encoding"
    # A small answer (here the next pull: nothing new) is not worth a gzip header.
    cursors = read_body(plain)["cursors"]
    quiet = tech.post("/v1/sync/pull", json=pull_body(cursors), headers={"Accept-Encoding": "gzip"})
    assert quiet.status_code == 200 and read_body(quiet)["changes"] == []
    assert "Content-Encoding" not in quiet.headers
    assert quiet.headers["Vary"] == "Accept-Encoding"


def test_priming_brings_rows_that_predate_the_change_log_into_their_scopes(
    client: ApiClient,
    factories: Factories,
    engine: Engine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scene = factories.scene()
    order = _assigned_order(factories, scene)
    factories.category_path(scene.world)
    with engine.begin() as connection:  # as if the data was there before migration 0002
        for table in (SyncScopeChange, SyncScopeMember, SyncCounter):
            connection.execute(delete(table))
    cursors: dict[str, str | None] = {_scope(scene.technician.id): None, TAXONOMY: None}
    tech = client.as_(scene.technician_token)
    before = Replica(tech, dict(cursors))
    before.sync()
    assert before.rows == {}

    monkeypatch.setenv("FIELDLINE_DATABASE_URL", database_url)
    primed = CliRunner().invoke(main, ["sync-prime"])
    assert primed.exit_code == 0, primed.output
    after = Replica(tech, dict(cursors))
    after.sync()
    assert ("work_orders", str(order.id)) in after.ids(_scope(scene.technician.id))
    assert len(after.ids(TAXONOMY)) == 3
    assert after.checkpoint is not None
    assert after.checkpoint.checksums[TAXONOMY] == after.checksum(TAXONOMY)

    with factories.uow() as uow:  # idempotent: the technician's scope gets nothing twice
        prime_tenant(uow.session, scene.world.tenant_id)
        uow.commit()
    again = after.sync()
    assert {c.table.value for c in again.changes} == {"categories"}


def test_a_technician_gets_the_recent_history_of_the_assets_they_will_service(
    client: ApiClient, factories: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "HISTORY_DEPTH", 3)
    scene = factories.scene()
    world = scene.world
    pump, other_asset = factories.asset(world, scene.site), factories.asset(world, scene.site)
    earlier = [
        factories.work_order(world, scene.customer, scene.site, asset_ids=[pump.id])
        for _ in range(3)
    ]
    factories.work_order(world, scene.customer, scene.site, asset_ids=[other_asset.id])
    replica = Replica(client.as_(scene.technician_token), {_scope(scene.technician.id): None})
    order = _assigned_order(factories, scene, asset_ids=[pump.id])
    replica.sync()

    scope = _scope(scene.technician.id)
    history = {row_id for table, row_id in replica.ids(scope) if table == "asset_history"}
    # The 3 latest orders on the pump: this one and the two before it; never the other asset's.
    assert history == {str(order.id), str(earlier[2].id), str(earlier[1].id)}
    row = replica.rows[(scope, "asset_history", str(earlier[2].id))]
    assert row["asset_ids"] == [str(pump.id)]
    assert "description" not in row and "field_hlcs" not in row
    assert replica.checkpoint is not None
    assert replica.checkpoint.checksums[scope] == replica.checksum(scope)

    # A new order on the pump pushes the oldest out of the history, with a tombstone.
    factories.work_order(world, scene.customer, scene.site, asset_ids=[pump.id])
    replica.sync()
    history = {row_id for table, row_id in replica.ids(scope) if table == "asset_history"}
    assert str(earlier[1].id) not in history
    assert ("asset_history", str(earlier[1].id)) in {(t, i) for _, t, i, _ in replica.tombstones}


def test_a_no_op_pull_reuses_the_checkpoint_until_the_scope_changes(
    client: ApiClient, factories: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene = factories.scene()
    order = _assigned_order(factories, scene)
    scope = _scope(scene.technician.id)
    computed: list[str] = []
    summarise = services.summarise

    def counting(session: Any, tenant_id: uuid.UUID, name: str) -> Any:
        computed.append(name)
        return summarise(session, tenant_id, name)

    monkeypatch.setattr(services, "summarise", counting)
    replica = Replica(client.as_(scene.technician_token), {scope: None})
    replica.sync()
    replica.sync()
    replica.sync()
    assert computed == [scope]  # once; the no-op pulls reuse it

    factories.note(scene.world, order, "a change in the scope")
    replica.sync()
    assert computed == [scope, scope]
    assert replica.checkpoint is not None
    assert replica.checkpoint.checksums[scope] == replica.checksum(scope)


def test_scope_membership_kept_at_each_commit_equals_a_full_recomputation(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    """Most writes update scopes incrementally; after any mix they hold exactly the right rows."""
    scene = factories.scene()
    world, tech = scene.world, scene.technician
    asset = factories.asset(world, scene.site)
    order = _assigned_order(factories, scene, asset_ids=[asset.id])
    other = _assigned_order(factories, scene)
    factories.note(world, order, "incremental: a child of a held order")
    factories.contact(world, scene.customer)  # incremental: a child of a held customer
    factories.transition(world, order, "accept")  # incremental: a status moves on
    office = client.as_(scene.dispatcher_token)
    etag = office.get(f"/v1/work-orders/{other.id}").headers["ETag"]
    edit = office.patch(f"/v1/work-orders/{other.id}", json={"title": "改名"}, etag=etag)
    assert edit.status_code == 200
    factories.work_order(world, scene.customer, scene.site, asset_ids=[asset.id])  # history
    etag = office.get(f"/v1/work-orders/{order.id}").headers["ETag"]
    unlinked = office.patch(f"/v1/work-orders/{order.id}", json={"asset_ids": []}, etag=etag)
    assert unlinked.status_code == 200  # structural, through a statement the ORM does not see
    colleague = factories.technician(world)
    factories.transition(world, other, "assign", assignee_id=colleague.id)  # structural

    with uow_factory.reader() as uow:
        for technician in (tech, colleague):
            scope = _scope(technician.id)
            held = queries.stored_members(uow.session, world.tenant_id, scope)
            assert held == queries.technician_members(uow.session, world.tenant_id, technician.id)
            assert held  # not trivially equal
    replica = Replica(client.as_(scene.technician_token), {_scope(tech.id): None})
    replica.sync()
    assert ("assets", str(asset.id)) not in replica.ids(_scope(tech.id))


def test_a_quiet_pull_is_answered_by_one_statement_exactly_as_the_full_pull_would(
    client: ApiClient,
    factories: Factories,
    uow_factory: UnitOfWorkFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scene = factories.scene()
    order = _assigned_order(factories, scene)
    scope = _scope(scene.technician.id)
    answered: list[bool] = []
    quiet = noop.quiet_pull

    def watching(*args: Any) -> Any:
        found = quiet(*args)
        answered.append(found is not None)
        return found

    monkeypatch.setattr(noop, "quiet_pull", watching)
    replica = Replica(client.as_(scene.technician_token), {scope: None, TAXONOMY: None})
    replica.sync()  # first contact: the full pull registers the device
    first = replica.checkpoint
    quiet_page = replica.sync()
    assert answered[-1] is True
    assert quiet_page.changes == () and quiet_page.checkpoint == first

    # The same request through the full pull gives the same answer.
    actor = factories.technician_actor(scene.world, scene.technician)
    body = json.dumps(pull_body(dict(replica.cursors), device_id=replica.device_id)).encode()
    full = services.pull(uow_factory, actor, body)
    assert full.to_json()["checkpoint"] == quiet_page.to_json()["checkpoint"]
    assert full.to_json()["cursors"] == quiet_page.to_json()["cursors"]

    factories.note(scene.world, order, "something new")
    page = replica.sync()
    assert answered[-1] is False  # a change to send: the full pull runs
    assert any(c.table.value == "notes" for c in page.changes)
    assert replica.checkpoint is not None
    assert replica.checkpoint.checksums[scope] == replica.checksum(scope)


def test_a_body_that_is_not_json_gets_the_protocol_code_and_a_wrong_type_415(
    client: ApiClient, factories: Factories
) -> None:
    """The protocol's strict decoder is the only parser of a sync body."""
    scene = factories.scene()
    api = client.as_(scene.technician_token)
    for path in ("/v1/sync/pull", "/v1/sync/push"):
        garbage = api.post(
            path, data=b'{"device_id": ', headers={"Content-Type": "application/json"}, json=None
        )
        assert_problem(garbage, 400, "sync.malformed_json")
        text = api.post(path, data=b"{}", headers={"Content-Type": "text/plain"}, json=None)
        assert text.status_code == 415


def test_a_row_one_scope_of_the_page_no_longer_holds_is_not_sent_there(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    """An office pull of two technicians' scopes: the page holds an upsert of an order
    for each, but only the second technician still holds it (the first one's
    tombstone is past the page). The row goes to the second scope only."""
    scene = factories.scene()
    other = factories.technician(scene.world)
    order = factories.work_order(scene.world, scene.customer, scene.site)  # nobody's yet
    left, holder = _scope(scene.technician.id), _scope(other.id)
    tenant = scene.world.tenant_id
    with engine.begin() as connection:
        top = connection.scalar(select(SyncCounter.value).where(SyncCounter.tenant_id == tenant))
        top = top or 0
        entries = [
            (left, "upsert", None),
            (holder, "upsert", None),
            (left, "tombstone", "left_scope"),
        ]
        connection.execute(
            SyncScopeChange.__table__.insert(),
            [
                {
                    "tenant_id": tenant,
                    "change_seq": top + n,
                    "scope": scope,
                    "table_name": "work_orders",
                    "row_id": order.id,
                    "op": op,
                    "reason": reason,
                }
                for n, (scope, op, reason) in enumerate(entries, start=1)
            ],
        )
        connection.execute(
            SyncScopeMember.__table__.insert(),
            [
                {
                    "tenant_id": tenant,
                    "scope": holder,
                    "table_name": "work_orders",
                    "row_id": order.id,
                }
            ],
        )
        connection.execute(
            SyncCounter.__table__.update()
            .where(SyncCounter.tenant_id == tenant)
            .values(value=top + len(entries))
        )
    office = Replica(client.as_(scene.dispatcher_token), {left: f"c1.{top}", holder: f"c1.{top}"})

    first = office.pull_page(limit=2)

    assert [(c.scope, type(c).__name__) for c in first.changes] == [(holder, "RowUpsert")]
    assert first.has_more
    second = office.pull_page(limit=2)
    assert [(c.scope, type(c).__name__) for c in second.changes] == [(left, "Tombstone")]
