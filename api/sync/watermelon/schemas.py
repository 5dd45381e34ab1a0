"""OpenAPI descriptions of the WatermelonDB endpoints (PROTOCOL.md § 15 is normative).

Bodies are read by :mod:`api.sync.watermelon.params` and
:mod:`api.sync.watermelon.push` (strict shapes, ``sync.*`` codes); these
schemas only document them.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

_CHANGES = {
    "description": "table → {created: [], updated: [raw records], deleted: [ids]}; "
    "raw records use raw column names, timestamps are epoch milliseconds"
}


class PullChangesSchema(Schema):
    changes = fields.Dict(keys=fields.String(), values=fields.Dict(), metadata=_CHANGES)
    timestamp = fields.Integer(
        required=True,
        metadata={
            "description": "one past the tenant's last change number in this snapshot; "
            "pass it back as last_pulled_at"
        },
    )


class PushChangesSchema(Schema):
    changes = fields.Dict(
        keys=fields.String(), values=fields.Dict(), required=True, metadata=_CHANGES
    )
    lastPulledAt = fields.Integer(  # WatermelonDB's own name
        metadata={
            "description": "the timestamp of the pull before this push; may instead be "
            "given as ?last_pulled_at=. The body may also be the changes object alone, "
            "as WatermelonDB's documentation sends it, with ?last_pulled_at= required"
        }
    )


class EmptySchema(Schema):
    pass


def query_parameter(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "in": "query",
        "name": name,
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


REPLICA_SCHEMA = query_parameter(
    "replica_schema",
    "Fieldline's replica schema the app's synced tables follow (PROTOCOL.md § 2); "
    "absent: this server's. Too new: sync.schema_too_new; too old: reset_required",
    type="integer",
    example=1,
)
PULL_PARAMETERS = [
    query_parameter(
        "last_pulled_at",
        "The previous pull's timestamp; `null` or 0 for the first sync",
        type="string",
        example="null",
    ),
    query_parameter(
        "schema_version",
        "The app's own WatermelonDB schema version: accepted, never compared "
        "(an app may add local-only tables)",
        type="integer",
        example=3,
    ),
    REPLICA_SCHEMA,
    query_parameter(
        "migration",
        "JSON `{from, tables, columns}` from synchronize(), or `null`",
        type="string",
    ),
    query_parameter(
        "technician_id",
        "Office roles: the technician whose replica to pull (without it: the taxonomy only). "
        "Technicians may name only themselves.",
        type="string",
        format="uuid",
    ),
]
PUSH_PARAMETERS = [
    query_parameter(
        "last_pulled_at",
        "The timestamp of the pull before this push: required when the body is the "
        "changes alone; must equal the body's lastPulledAt when both are given",
        type="integer",
    ),
    REPLICA_SCHEMA,
]
