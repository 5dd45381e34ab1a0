"""What the hostile-input guard (api/http/hostile.py) costs a typical request.

In one process, one app, one SQLite database: the same requests are timed with the
guard on and with it off (``enabled = False``, the baseline), in alternating
rounds so both see the same machine. Two requests:

* ``create``: ``POST /v1/customers`` as an admin with a 1.5 KB body of Chinese and
  English text, ``Idempotency-Key``, ``Accept-Language`` and a query-free URL:
  a typical write (the database work included);
* ``list``: ``GET /v1/customers?q=…&limit=50`` with a percent-encoded query;

and the parse alone: a 200 KB JSON body (a sync push's size) through the guard's
``loads`` against ``json.loads``.

Prints one JSON line: requests per second with and without the guard and the
ratio (guarded / unguarded; 1.0 means free). Run: ``python -m benchmarks.bench_hostile_guard``.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("FIELDLINE_PASSWORD_PROFILE", "CHEAPEST")

from api.app import create_app
from api.auth import services as auth_services
from api.config import Config
from api.db import UnitOfWorkFactory, make_engine
from api.http import hostile
from api.migrations import upgrade
from api.users import services as user_services

SECRET = "bench-secret-key-that-is-long-enough-for-hs256"
ROUNDS = 6
PER_ROUND = 150


def _timed(run: Callable[[], Any], count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        run()
    return time.perf_counter() - start


def _compare(guard: hostile.HostileGuard, run: Callable[[], Any], count: int) -> dict[str, float]:
    on = off = 0.0
    for _ in range(ROUNDS):
        guard.enabled = False
        off += _timed(run, count)
        guard.enabled = True
        on += _timed(run, count)
    total = ROUNDS * count
    return {
        "guarded_rps": round(total / on, 1),
        "unguarded_rps": round(total / off, 1),
        "ratio": round(off / on, 3),
    }


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    url = f"sqlite:///{workdir / 'fieldline.db'}"
    upgrade(make_engine(url))
    config = Config(data_dir=workdir, database_url=url, secret_key=SECRET, embedded_worker=False)
    app = create_app(config)
    uow = UnitOfWorkFactory(make_engine(url))
    user_services.create_tenant_with_admin(
        uow(),
        slug="bench",
        name="基准租户",
        admin_email="admin@bench.test",
        admin_password="bench-password-42",
        locale="zh-CN",
    )
    settings = auth_services.AuthSettings(secret_key=SECRET, access_ttl=timedelta(hours=1))
    login = auth_services.LoginCommand(
        tenant="bench", email="admin@bench.test", password="bench-password-42", device_id=None
    )
    token = auth_services.log_in(uow(), settings, login).access_token
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
    notes = "设备运行正常，定期保养。Chiller serviced quarterly; 联系人：王工 138-0000-0000。" * 12

    def create() -> None:
        body = {"name": f"上海浦东客户 {uuid.uuid4().hex[:8]}", "notes": notes[:1400]}
        response = client.post(
            "/v1/customers",
            data=json.dumps(body, ensure_ascii=False).encode(),
            headers={
                **headers,
                "Content-Type": "application/json",
                "Idempotency-Key": uuid.uuid4().hex,
            },
        )
        assert response.status_code == 201, response.get_data(as_text=True)

    def listing() -> None:
        response = client.get("/v1/customers?q=%E4%B8%8A%E6%B5%B7&limit=50", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)

    guard = app.extensions[hostile.EXTENSION]
    for _ in range(20):  # warm up both paths
        create()
        listing()
    results: dict[str, Any] = {
        "create": _compare(guard, create, PER_ROUND),
        "list": _compare(guard, listing, PER_ROUND),
    }
    mutations = [
        {
            "seq": i,
            "hlc": "001741768200000-00000-01958f3a-7c00-7a1e-9c1a-3f5e2b7d4c01",
            "name": "add_note",
            "args": {"id": str(uuid.uuid4()), "body": "现场检查压缩机，更换滤网。" * 4},
        }
        for i in range(1, 700)
    ]
    big = json.dumps({"mutations": mutations}, ensure_ascii=False).encode()
    with app.test_request_context("/v1/sync/push", method="POST"):
        results["parse_200kb"] = _compare(guard, lambda: hostile.loads(big), 20)
        results["parse_200kb"]["bytes"] = len(big)
    print(json.dumps({"benchmark": "hostile_guard", **results}))


if __name__ == "__main__":
    main()
