"""``sync_protocol/replica_schema.json`` is what the syncable definitions say, and valid."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from api.sync import replica_schema
from api.sync.syncables import BY_TABLE


def test_the_committed_replica_schema_is_up_to_date() -> None:
    committed = replica_schema.PATH.read_text(encoding="utf-8")
    assert committed == replica_schema.render(), (
        "sync_protocol/replica_schema.json is stale: "
        "run `python -m api.sync.replica_schema --write`"
    )


def test_it_is_a_json_schema_naming_every_synced_table_and_the_server_internal_columns() -> None:
    document = json.loads(replica_schema.PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(document)
    tables = {t.value for t in BY_TABLE}
    assert tables <= set(document["$defs"])
    orders = document["$defs"]["work_orders"]["properties"]
    internal = {name for name, p in orders.items() if p.get("x-server-internal")}
    assert {"field_hlcs", "status_hlc"} <= internal
    assert "asset_ids" in orders and "tenant_id" not in orders


def test_protocol_md_lists_the_same_tables_and_columns() -> None:
    spec = (replica_schema.PATH.parent / "PROTOCOL.md").read_text(encoding="utf-8")
    assert replica_schema.markdown() in spec, (
        "PROTOCOL.md § 5.4 is stale: paste the output of api/sync/replica_schema.py --markdown"
    )
