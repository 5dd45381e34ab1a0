"""Every operation of the OpenAPI, every place text enters, hostile text: no 5xx, no write.

The spec is walked as a client would read it: each path and query parameter,
each string field of a JSON request body (nested objects and arrays
included) and each header the API reads gets, in turn, a NUL, a lone surrogate
and (bodies) nesting far past the limit, with every other place holding a
plausible value and the path naming real rows of the caller's tenant. It is
sent as an admin and as a technician. Every answer must be a 4xx
``application/problem+json``, and a checksum of every table must not move.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text

from api.models import Base
from tests.support.api_client import ApiClient
from tests.support.factories import Factories

NUL = "a\x00b"
SURROGATE = "cut \ud83d"  # a JavaScript string cut inside an emoji
# In a URL the two can only come as bytes: %00, and a surrogate's CESU-8 bytes.
URL_HOSTILE = {"nul": "a%00b", "surrogate": "cut%ED%A0%BD"}
DEEP = 600  # past the bodies' 64 and the sync envelopes' 512
READ_HEADERS = ("Idempotency-Key", "If-Match", "Accept-Language")
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head"}


@dataclass(frozen=True)
class Attempt:
    method: str
    path: str  # with the path parameters filled in, percent-encoded where hostile
    query: str
    body: bytes | None
    headers: dict[str, str]
    operation: str  # "GET /v1/work-orders/{work_order_id}"
    place: str


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    if "allOf" in schema:
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for part in schema["allOf"]:
            resolved = _resolve(spec, part)
            merged["properties"].update(resolved.get("properties", {}))
            merged["required"] += resolved.get("required", [])
        return merged
    return schema


def _plausible(spec: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> Any:
    """A value of the schema's type: what a client would send there."""
    schema = _resolve(spec, schema)
    kind, fmt = schema.get("type"), schema.get("format")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object" or "properties" in schema:
        if depth > 4:
            return {}
        return {
            name: _plausible(spec, sub, depth + 1)
            for name, sub in schema.get("properties", {}).items()
            if name in schema.get("required", []) and not sub.get("readOnly")
        }
    if kind == "array":
        return []
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    return {
        "uuid": str(uuid.uuid4()),
        "date-time": "2025-03-01T08:30:00Z",
        "date": "2025-03-01",
        "email": "a@example.com",
    }.get(fmt or "", "x")


def _string_places(
    spec: dict[str, Any], schema: dict[str, Any], path: tuple[Any, ...] = (), depth: int = 0
) -> Iterator[tuple[Any, ...]]:
    """Paths (keys and list indexes) to every place a string can stand in a body."""
    schema = _resolve(spec, schema)
    if depth > 4:
        return
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        for name, sub in schema.get("properties", {}).items():
            if not sub.get("readOnly"):
                yield from _string_places(spec, sub, (*path, name), depth + 1)
        if schema.get("additionalProperties") not in (None, False):
            yield (*path, "free")
        return
    if kind == "array":
        yield from _string_places(spec, schema.get("items", {}), (*path, 0), depth + 1)
        return
    if kind in (None, "string"):
        yield path


def _with(value: Any, place: tuple[Any, ...], hostile: Any) -> Any:
    """A copy of ``value`` with ``hostile`` at ``place`` (containers made on the way)."""
    if not place:
        return hostile
    head, rest = place[0], place[1:]
    if isinstance(head, int):
        return [_with(None, rest, hostile)]
    base = dict(value) if isinstance(value, dict) else {}
    base[head] = _with(base.get(head), rest, hostile)
    return base


def _deep() -> Any:
    value: Any = "x"
    for _ in range(DEEP):
        value = [value]
    return value


def _attempts(spec: dict[str, Any], ids: dict[str, str]) -> Iterator[Attempt]:
    for template, item in spec["paths"].items():
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            params = [*item.get("parameters", []), *op.get("parameters", [])]
            path_names = [p["name"] for p in params if p["in"] == "path"]
            real = {name: ids.get(name, str(uuid.uuid4())) for name in path_names}

            def fill(values: dict[str, str], template: str = template) -> str:
                path = template
                for name, value in values.items():
                    path = path.replace("{" + name + "}", value)
                return path

            content = op.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            base = _plausible(spec, schema) if schema else None
            body = json.dumps(base).encode() if schema else None
            headers = {"Content-Type": "application/json"} if schema else {}
            if method in {"patch", "put", "delete"}:
                headers["If-Match"] = '"1"'
            upper = method.upper()
            op_name = f"{upper} {template}"
            for name in path_names:
                for hostile in URL_HOSTILE.values():
                    path = fill({**real, name: hostile})
                    yield Attempt(upper, path, "", body, headers, op_name, f"path {name}")
            for param in params:
                if param["in"] != "query":
                    continue
                for hostile in URL_HOSTILE.values():
                    query = f"{param['name']}={hostile}"
                    place = f"query {param['name']}"
                    yield Attempt(upper, fill(real), query, body, headers, op_name, place)
            for header in READ_HEADERS:
                hostile_headers = {**headers, header: NUL}
                yield Attempt(upper, fill(real), "", body, hostile_headers, op_name, header)
            if schema is None:
                continue
            for place in _string_places(spec, schema):
                shown = ".".join(str(p) for p in place) or "(body)"
                for hostile in (NUL, SURROGATE, _deep()):
                    # ensure_ascii: a lone surrogate as the \ud83d escape a client sends
                    raw = json.dumps(_with(base, place, hostile)).encode()
                    yield Attempt(upper, fill(real), "", raw, headers, op_name, f"body {shown}")
                if place:  # a key is text too
                    parent = place[:-1]
                    raw = json.dumps(_with(base, (*parent, NUL), "x")).encode()
                    key_place = f"body key {shown}"
                    yield Attempt(upper, fill(real), "", raw, headers, op_name, key_place)


def _checksum(engine: Engine) -> str:
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = connection.execute(text(f"SELECT * FROM {table.name}")).all()
            digest.update(table.name.encode())
            for row in sorted(repr(tuple(r)) for r in rows):
                digest.update(row.encode())
    return digest.hexdigest()


def test_every_operation_refuses_hostile_text_in_every_place_and_writes_nothing(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    order = factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    asset = factories.asset(scene.world, scene.site)
    team = factories.team(scene.world)
    category = factories.category_path(scene.world)[-1]
    ids = {
        "customer_id": str(scene.customer.id),
        "site_id": str(scene.site.id),
        "asset_id": str(asset.id),
        "technician_id": str(scene.technician.id),
        "team_id": str(team.id),
        "category_id": str(category.id),
        "work_order_id": str(order.id),
        "user_id": str(scene.world.admin.id),
        "barcode_value": "BC-1",
        "sha256": "0" * 64,
    }
    spec = client.get("/openapi.json").get_json()
    attempts = list(_attempts(spec, ids))
    callers = {"admin": scene.world.admin_token, "technician": scene.technician_token}
    before = _checksum(engine)
    failures: list[str] = []
    sent = 0
    for role, token in callers.items():
        api = client.as_(token)
        for attempt in attempts:
            response = api.http.open(
                attempt.path,
                method=attempt.method,
                query_string=attempt.query,
                data=attempt.body,
                headers={"Authorization": f"Bearer {token}", **attempt.headers},
            )
            sent += 1
            ok = 400 <= response.status_code < 500 and (
                attempt.method == "HEAD" or response.mimetype == "application/problem+json"
            )
            if not ok:
                failures.append(
                    f"{role} {attempt.method} {attempt.path}?{attempt.query} [{attempt.place}]"
                    f" → {response.status_code} {response.get_data(as_text=True)[:200]}"
                )
    assert failures == []
    assert _checksum(engine) == before
    operations = len({a.operation for a in attempts})
    places = len({(a.operation, a.place) for a in attempts})
    figures = {"operations": operations, "hostile_places": places, "requests": sent}
    print("hostile-input figures:", json.dumps(figures))  # the figures issue 10 asks for
    assert operations == sum(
        1 for item in spec["paths"].values() for method in item if method in HTTP_METHODS
    )
