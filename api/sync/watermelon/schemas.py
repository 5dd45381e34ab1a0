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
        required=True, metadata={"description": "the timestamp of the pull before this push"}
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


PULL_PARAMETERS = [
    query_parameter(
        "last_pulled_at",
        "The previous pull's timestamp; `null` or 0 for the first sync",
        type="string",
        example="null",
    ),
    query_parameter(
        "schema_version",
        "The app's schema version (the replica schema of PROTOCOL.md § 2)",
        type="integer",
        example=1,
    ),
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
        "last_pulled_at", "Must equal the body's lastPulledAt when given", type="integer"
    )
]
