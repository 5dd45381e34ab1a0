"""Who owns each synced field, what its values look like, and what a write by each party means.

Ownership is declared, not inferred: :data:`WORK_ORDER_FIELDS` names every
work order field with its owner (the office, the assigned technician, the
server, or the state machine) and its value kind. :func:`write_right` turns
(field, writer) into one of three rights, the rule PROTOCOL.md § 8.2 states:

* ``LWW`` — the owner's writes, and office writes to technician-owned fields
  (the office supervises), merge per field by HLC;
* ``PROPOSAL`` — a technician writing an office-owned field never changes it:
  the write becomes a conflict record (``sync.field_not_owned``) a dispatcher
  may accept, so a stale offline edit can never overwrite the office;
* ``REFUSED`` — server-owned, state-machine and create-only fields cannot be
  written by a mutation at all (``sync.field_read_only``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from sync_protocol.entities import Priority
from sync_protocol.errors import JSONValue, ProtocolError
from sync_protocol.wire import check_text, format_timestamp, parse_timestamp, read_uuid
from sync_protocol.workorder_status import Party

MAX_TITLE = 200
MAX_TEXT = 10_000


class Owner(StrEnum):
    OFFICE = "office"
    ASSIGNEE = "assignee"
    SERVER = "server"  # computed or stamped by the server (number, sla_due_at, *_at)
    STATE_MACHINE = "state_machine"  # changes only through transition_work_order


class ValueKind(StrEnum):
    TEXT = "text"
    UUID = "uuid"
    TIMESTAMP = "timestamp"
    PRIORITY = "priority"
    JSON = "json"  # server-computed summaries (current_steps): never written by a mutation


class WriteRight(StrEnum):
    LWW = "lww"
    PROPOSAL = "proposal"
    REFUSED = "refused"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    owner: Owner
    kind: ValueKind
    nullable: bool = True
    max_len: int = 0  # TEXT only
    patchable: bool = True  # False: set at creation or by transitions, never by patch

    def read(self, value: object, field: str) -> JSONValue:
        """Validate a wire value for this field and return its canonical form."""
        if self.kind is ValueKind.JSON:
            raise ProtocolError("sync.field_read_only", f"{self.name} is the server's", field)
        if value is None:
            if not self.nullable:
                raise ProtocolError("sync.invalid_value", f"{self.name} may not be null", field)
            return None
        if not isinstance(value, str):
            raise ProtocolError("sync.wrong_type", "Expected a string or null", field)
        check_text(value, field)
        if self.kind is ValueKind.TEXT:
            if len(value) > self.max_len:
                raise ProtocolError("sync.too_long", f"At most {self.max_len} characters", field)
            if not self.nullable and not value.strip():
                raise ProtocolError("sync.invalid_value", f"{self.name} may not be blank", field)
            return value
        if self.kind is ValueKind.UUID:
            return str(read_uuid(value, field))
        if self.kind is ValueKind.TIMESTAMP:
            return format_timestamp(parse_timestamp(value, field))
        if value not in {p.value for p in Priority}:
            allowed = ", ".join(p.value for p in Priority)
            raise ProtocolError("sync.invalid_value", f"Expected one of: {allowed}", field)
        return value


def _spec(
    name: str,
    owner: Owner,
    kind: ValueKind = ValueKind.TEXT,
    *,
    nullable: bool = True,
    max_len: int = 0,
    patchable: bool = True,
) -> tuple[str, FieldSpec]:
    return name, FieldSpec(name, owner, kind, nullable, max_len, patchable)


_O, _A, _S, _M = Owner.OFFICE, Owner.ASSIGNEE, Owner.SERVER, Owner.STATE_MACHINE
_UUID, _TIME = ValueKind.UUID, ValueKind.TIMESTAMP

WORK_ORDER_FIELDS: Mapping[str, FieldSpec] = MappingProxyType(
    dict(
        [
            _spec("id", _S, _UUID, nullable=False, patchable=False),
            _spec("number", _S, patchable=False, max_len=32),
            # The office's: what the job is, for whom, when and how urgent.
            _spec("title", _O, nullable=False, max_len=MAX_TITLE),
            _spec("description", _O, max_len=MAX_TEXT),
            _spec("customer_id", _O, _UUID, nullable=False, patchable=False),
            _spec("site_id", _O, _UUID, nullable=False, patchable=False),
            _spec("category_id", _O, _UUID),
            _spec("priority", _O, ValueKind.PRIORITY, nullable=False),
            _spec("requested_start", _O, _TIME),
            _spec("requested_end", _O, _TIME),
            _spec("scheduled_start", _O, _TIME),
            _spec("scheduled_end", _O, _TIME),
            _spec("assignee_id", _O, _UUID, patchable=False),  # assign/unassign/decline
            # The technician's: what actually happened on site.
            _spec("resolution", _A, max_len=MAX_TEXT),
            _spec("actual_start", _A, _TIME),
            _spec("actual_end", _A, _TIME),
            # Nobody's to write: the machine and the server.
            _spec("status", _M, patchable=False, max_len=32),
            _spec("sla_due_at", _S, _TIME, patchable=False),
            # The workflow's current steps and who must act (api/workflows/runs.py).
            _spec("current_steps", _S, ValueKind.JSON, patchable=False),
            _spec("completed_at", _S, _TIME, patchable=False),
            _spec("closed_at", _S, _TIME, patchable=False),
            _spec("cancelled_at", _S, _TIME, patchable=False),
            _spec("created_at", _S, _TIME, patchable=False),
            _spec("updated_at", _S, _TIME, patchable=False),
        ]
    )
)

# What create_work_order may set; the rest are defaults or the server's.
CREATE_FIELDS = frozenset(
    {
        "title",
        "description",
        "customer_id",
        "site_id",
        "category_id",
        "priority",
        "requested_start",
        "requested_end",
    }
)
PATCHABLE_FIELDS = frozenset(name for name, spec in WORK_ORDER_FIELDS.items() if spec.patchable)


def write_right(spec: FieldSpec, writer: Party) -> WriteRight:
    """What a write by ``writer`` to ``spec``'s field means (see the module docstring)."""
    if not spec.patchable or spec.owner in (Owner.SERVER, Owner.STATE_MACHINE):
        return WriteRight.REFUSED
    if writer is Party.CUSTOMER:
        return WriteRight.REFUSED
    if spec.owner.value == writer.value or writer is Party.OFFICE:
        return WriteRight.LWW
    return WriteRight.PROPOSAL


def field_spec(name: str, field: str | None = None) -> FieldSpec:
    """The declaration of a work order field; an undeclared name is ``sync.unknown_field``."""
    spec = WORK_ORDER_FIELDS.get(name)
    if spec is None:
        raise ProtocolError("sync.unknown_field", f"Work orders have no field {name!r}", field)
    return spec
