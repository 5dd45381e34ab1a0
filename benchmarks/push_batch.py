"""The push benchmark's batch, and its baseline: a plain ORM insert of the same evidence.

:func:`evidence_specs` describes the evidence rows of one batch as plain data,
so the HTTP push (as mutations) and the baseline (as ORM objects) write the
same rows. The baseline runs in its own process
(``python -m benchmarks.push_batch <database-url> <specs.json>``), because
importing :mod:`api.sync` installs the change capture on every ``Session``:
this module imports only the model modules, so its insert is a plain
``session.add_all`` + ``commit`` with no sync bookkeeping. It prints one JSON
object: ``{"rows": n, "seconds": s}``.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session
from uuid_utils.compat import uuid7

# Every model module but api.sync's: the ORM needs each table a foreign key names.
_MODEL_PACKAGES = (
    "assets", "audit", "auth", "categories", "customers", "evidence", "idempotency",
    "notifications", "outbox", "sites", "teams", "technicians", "tenants", "users", "workorders",
)  # fmt: skip
# The mix of one 1,000-mutation batch: evidence of every kind plus a few transitions.
MIX = {"note": 300, "part": 250, "reading": 250, "time_entry": 195}
TRANSITIONS = 5


def evidence_specs(order_ids: list[uuid.UUID], taken_at: datetime) -> list[dict[str, Any]]:
    """The evidence rows of one batch, spread over ``order_ids``, as JSON-ready dicts."""
    specs: list[dict[str, Any]] = []
    for kind, count in MIX.items():
        for n in range(count):
            spec: dict[str, Any] = {
                "kind": kind,
                "id": str(uuid7()),
                "work_order_id": str(order_ids[len(specs) % len(order_ids)]),
            }
            if kind == "note":
                spec["body"] = f"第 {n} 次检查：压缩机运行正常，冷媒压力 3.4 bar，已清洁滤网。"
            elif kind == "part":
                spec.update(description="阀门密封圈", quantity="2", unit="pcs")
            elif kind == "reading":
                spec.update(metric="pressure", value=f"3.{n % 10}", unit="bar")
                spec["taken_at"] = _iso(taken_at)
            else:
                spec.update(activity="work", note="维修")
                spec["started_at"] = _iso(taken_at - timedelta(minutes=30 + n))
                spec["ended_at"] = _iso(taken_at - timedelta(minutes=n))
            specs.append(spec)
    return specs


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def orm_rows(specs: list[dict[str, Any]], tenant_id: uuid.UUID, author_id: uuid.UUID) -> list[Any]:
    """ORM objects for the specs, with the columns the push engine fills for a device."""
    from api.evidence.models import PartUsed, Reading, TimeEntry
    from api.workorders.models import Note

    models: dict[str, Any] = {"note": Note, "part": PartUsed, "reading": Reading}
    models["time_entry"] = TimeEntry
    rows = []
    for spec in specs:
        values = {k: v for k, v in spec.items() if k != "kind"}
        values["id"] = uuid.UUID(values["id"])
        values["work_order_id"] = uuid.UUID(values["work_order_id"])
        for key in ("taken_at", "started_at", "ended_at"):
            if key in values:
                values[key] = datetime.fromisoformat(values[key])
        rows.append(
            models[spec["kind"]](
                tenant_id=tenant_id, author_kind="user", author_id=author_id, **values
            )
        )
    return rows


def main(argv: list[str]) -> int:
    from api.db import make_engine

    for package in _MODEL_PACKAGES:
        importlib.import_module(f"api.{package}.models")
    database_url, specs_path = argv
    payload = json.loads(Path(specs_path).read_text(encoding="utf-8"))
    assert "api.sync" not in sys.modules, "the baseline must run without change capture"
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            session.execute(text("SELECT 1"))  # connect before the clock starts
            session.commit()
            started = time.perf_counter()
            session.add_all(
                orm_rows(
                    payload["specs"],
                    uuid.UUID(payload["tenant_id"]),
                    uuid.UUID(payload["author_id"]),
                )
            )
            session.commit()
            seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    print(json.dumps({"rows": len(payload["specs"]), "seconds": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
