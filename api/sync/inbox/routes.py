"""``/v1/sync/conflicts``, ``/v1/sync/quarantine``, ``/v1/sync/devices``: thin views.

Office roles (``sync:inbox``) read and resolve the conflict inbox, re-apply
parked mutations and read device health; technicians (``sync``) list and
discard their own devices' parked mutations; admins (``sync:devices:manage``)
retire devices.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from api.auth.permissions import Permission
from api.http.blueprint import Blueprint
from api.http.context import new_uow, read_uow
from api.http.guard import current_actor, requires
from api.http.pagination import page_schema
from api.sync.inbox import health, queries, services
from api.sync.inbox.schemas import (
    ConflictItemSchema,
    ConflictListArgs,
    DeviceHealthSchema,
    DeviceListArgs,
    QuarantineEntrySchema,
    QuarantineListArgs,
    ResolutionSchema,
)

blp = Blueprint(
    "sync_inbox",
    __name__,
    url_prefix="/v1/sync",
    description="Sync for people: the conflict inbox, parked mutations, device health",
)


@blp.route("/conflicts")
class Conflicts(MethodView):
    @requires(Permission.SYNC_INBOX)
    @blp.arguments(ConflictListArgs, location="query")
    @blp.response(200, page_schema(ConflictItemSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The conflict inbox, newest item first (default `state=open`).

        Records of one work order, field and device that are open together form one
        item: it shows its newest record, and `proposals` lists all of its records."""
        with read_uow() as uow:
            return queries.list_conflicts(uow.session, current_actor(), **args)


@blp.route("/conflicts/<uuid:conflict_id>")
class ConflictById(MethodView):
    @requires(Permission.SYNC_INBOX)
    @blp.response(200, ConflictItemSchema)
    def get(self, conflict_id: uuid.UUID) -> Any:
        """One conflict record, with every record of its inbox item in `proposals`."""
        with read_uow() as uow:
            return queries.read_conflict(uow.session, current_actor(), conflict_id)


@blp.route("/conflicts/<uuid:conflict_id>/resolution")
class ConflictResolution(MethodView):
    @requires(Permission.SYNC_INBOX)
    @blp.arguments(ResolutionSchema)
    @blp.response(200, ConflictItemSchema)
    def post(self, command: dict[str, Any], conflict_id: uuid.UUID) -> Any:
        """Resolve the inbox item holding this record; every open record of it is closed.

        `keep_server` leaves the order as it is. `take_device` writes this record's
        device value as an office write (for `status`, by the office transitions that
        reach it, e.g. `reopen` then the steps to `completed` with the technician's
        resolution; for `assignee_id`, by assigning). `custom` writes `value`. 409
        `sync_conflict.already_resolved` if it was resolved already (no `If-Match`:
        a record changes only once), 409 `sync_conflict.unreachable` if the order can
        no longer take the value."""
        return services.resolve_conflict(new_uow(), current_actor(), conflict_id, command)


@blp.route("/quarantine")
class Quarantine(MethodView):
    @requires(Permission.SYNC)
    @blp.arguments(QuarantineListArgs, location="query")
    @blp.response(200, page_schema(QuarantineEntrySchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Parked mutations, newest first. Technicians see their own devices' entries."""
        with read_uow() as uow:
            return queries.list_quarantine(uow.session, current_actor(), **args)


@blp.route("/quarantine/<uuid:entry_id>")
class QuarantineById(MethodView):
    @requires(Permission.SYNC)
    @blp.response(200, QuarantineEntrySchema)
    def get(self, entry_id: uuid.UUID) -> Any:
        """One parked mutation (a technician's own devices' only)."""
        with read_uow() as uow:
            return queries.access_entry(uow.session, current_actor(), entry_id)


@blp.route("/quarantine/<uuid:entry_id>/discard")
class QuarantineDiscard(MethodView):
    @requires(Permission.SYNC)
    @blp.response(200, QuarantineEntrySchema)
    def post(self, entry_id: uuid.UUID) -> Any:
        """Acknowledge a parked mutation without applying it (its technician or the office).
        409 `sync_quarantine.already_settled` if it is no longer parked."""
        return services.discard_entry(new_uow(), current_actor(), entry_id)


@blp.route("/quarantine/<uuid:entry_id>/reapplied")
class QuarantineReapplied(MethodView):
    @requires(Permission.SYNC_INBOX)
    @blp.response(200, QuarantineEntrySchema)
    def post(self, entry_id: uuid.UUID) -> Any:
        """Record that the office carried out the parked mutation's intent by hand."""
        return services.mark_reapplied(new_uow(), current_actor(), entry_id)


@blp.route("/devices")
class Devices(MethodView):
    @requires(Permission.SYNC_INBOX)
    @blp.arguments(DeviceListArgs, location="query")
    @blp.response(200, page_schema(DeviceHealthSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Every device of the tenant with its sync health (PROTOCOL.md § 13), by id."""
        with read_uow() as uow:
            return health.list_health(uow.session, current_actor(), **args)


@blp.route("/devices/<uuid:device_id>/health")
class DeviceHealth(MethodView):
    @requires(Permission.SYNC_INBOX)
    @blp.response(200, DeviceHealthSchema)
    def get(self, device_id: uuid.UUID) -> Any:
        """One device's sync health: stuck when `oldest_pending` is old while `last_push_at`
        is recent, offline when `last_push_at` is old, `clock` `wrong` when its date is."""
        with read_uow() as uow:
            return health.read_health(uow.session, current_actor(), device_id)


@blp.route("/devices/<uuid:device_id>/retire")
class DeviceRetire(MethodView):
    @requires(Permission.SYNC_DEVICES_MANAGE)
    @blp.response(200, DeviceHealthSchema)
    def post(self, device_id: uuid.UUID) -> Any:
        """Retire a device (a lost phone): its later pushes and pulls get `reset_required`
        `sync.device_retired`. Idempotent."""
        return services.retire_device(new_uow(), current_actor(), device_id)
