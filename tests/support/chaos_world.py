"""The people, places and jobs of a chaos run, made through the REST API, and the dispatcher.

:func:`build_world` logs in as the tenant admin and creates a dispatcher, one
customer with a site, T technicians (each with a login) and K work orders per
technician, assigned to them. :class:`Dispatcher` then acts online while the
devices work offline: reschedules, reassignments between the run's technicians
and a few cancellations, each through the same endpoints a web console uses
(``If-Match`` on every change, so a stale read is refused rather than applied).
A request that fails because the server is restarting is simply not retried:
the dispatcher picks something else next time.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from tests.support.server import ADMIN_PASSWORD, FieldlineServer, TenantSpec, json_body

PASSWORD = "chaos-user-password-42"
REASSIGNABLE = ("new", "assigned", "accepted")
CANCELLABLE = ("new", "assigned", "accepted", "en_route", "on_site", "in_progress", "paused")


@dataclass(frozen=True)
class Technician:
    id: str
    user_id: str
    email: str


@dataclass(frozen=True)
class OfficeAct:
    """One request of the office: what it asked and whether it took effect.

    ``outcome`` is ``ok`` (2xx), ``refused`` (an answer saying no) or ``unknown``
    (no answer: the server was restarting; it may or may not have taken effect).
    ``at`` is when the office had its answer (the office's own clock, for ordering
    its own requests on one order).
    """

    order: str
    kind: str  # create, transition, patch
    body: dict[str, Any]
    outcome: str
    at: datetime


class OfficeLog:
    """Every office request of a run, from any thread (the oracle's office side).

    A request the restart cuts off is settled by reading the order back: only the
    office assigns to another technician, cancels or edits office fields, so what
    the order shows says whether the request took effect (``ok``) or not (``lost``).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.acts: list[OfficeAct] = []

    def call(
        self,
        api: Api,
        method: str,
        order: str,
        kind: str,
        body: dict[str, Any],
        path: str,
        headers: dict[str, str] | None = None,
        *,
        sent_back: bool = False,
    ) -> tuple[requests.Response | None, OfficeAct]:
        """``sent_back``: an assign to the order's own technician; it took effect if the
        order is ``assigned`` again (the caller makes sure nobody else moves it)."""
        try:
            response = api.call(method, path, json=body, headers=headers or {})
        except requests.RequestException:
            shown = read_order(api, order) if order else {}
            took = bool(order) and (
                shown.get("status") == "assigned" if sent_back else took_effect(kind, body, shown)
            )
            return None, self.add(OfficeAct(order, kind, body, "ok" if took else "lost", _now()))
        outcome = "ok" if response.status_code < 300 else "refused"
        if kind == "create" and outcome == "ok":
            order = str(response.json()["id"])
        return response, self.add(OfficeAct(order, kind, body, outcome, _now()))

    def add(self, act: OfficeAct) -> OfficeAct:
        with self._lock:
            self.acts.append(act)
        return act


def _now() -> datetime:
    return datetime.now(UTC)


def read_order(api: Api, order: str, deadline_s: float = 60.0) -> dict[str, Any]:
    """The order as the office sees it now, waiting for a restarting server."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            response = api.call("GET", f"/v1/work-orders/{order}")
            if response.status_code == 200:
                return response.json()  # type: ignore[no-any-return]
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"cannot read order {order} back")
        time.sleep(0.2)


def took_effect(kind: str, body: dict[str, Any], shown: dict[str, Any]) -> bool:
    """Whether an office request shows on the order (no one else could have done it)."""
    if kind == "transition" and body["action"] == "cancel":
        return bool(shown["status"] == "cancelled")
    if kind == "transition" and body["action"] == "assign":
        return str(shown["assignee_id"]) == body["assignee_id"]
    if kind == "patch":
        return all(_same(shown.get(name), value) for name, value in body.items())
    raise AssertionError(f"cannot tell whether {kind} {body} took effect")


def _same(shown: Any, sent: Any) -> bool:
    if isinstance(shown, str) and isinstance(sent, str) and sent.endswith("Z"):
        parse = datetime.fromisoformat
        return parse(shown.replace("Z", "+00:00")) == parse(sent.replace("Z", "+00:00"))
    return bool(shown == sent)


@dataclass
class World:
    tenant_slug: str
    tenant_id: str
    dispatcher_token: str
    dispatcher_id: str  # the office's user: its history rows are the office's steps
    technicians: list[Technician]
    orders: list[str]
    office: OfficeLog
    scripted: list[str] = field(default_factory=list)  # orders of the scripted conflicts
    script_technicians: list[Technician] = field(default_factory=list)


class Api:
    """A bearer-token caller of the server (no proxies, bounded timeouts)."""

    def __init__(self, server: FieldlineServer, token: str | None = None) -> None:
        self.server = server
        self.session = server.http()
        self.token = token

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = dict(kw.pop("headers", None) or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return self.session.request(
            method, self.server.url(path), headers=headers, timeout=30, **kw
        )

    def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return json_body(self.call("POST", path, json=body), 201)  # type: ignore[no-any-return]

    def log_in(self, email: str, password: str) -> str:
        body = {"tenant": TenantSpec().slug, "email": email, "password": password}
        return str(json_body(self.call("POST", "/v1/auth/login", json=body), 200)["access_token"])

    def close(self) -> None:
        self.session.close()


def build_world(
    server: FieldlineServer, technicians: int, orders_each: int, scripted_orders: int = 0
) -> World:
    """The run's people and orders; ``scripted_orders`` more for two technicians of their own
    (all assigned to the first: :mod:`tests.support.chaos_script`)."""
    api = Api(server)
    try:
        api.token = api.log_in(TenantSpec().admin_email, ADMIN_PASSWORD)
        me = json_body(api.call("GET", "/v1/me"), 200)
        dispatcher = _user(api, "dispatcher", "dispatcher")
        customer = api.create("/v1/customers", {"name": "混沌测试客户", "name_en": "Chaos Ltd"})
        site = api.create(
            "/v1/sites",
            {
                "customer_id": customer["id"],
                "name": "张江机房",
                "address": "上海市浦东新区张江路 1 号",
                "position": {"lat": 31.2035, "lon": 121.5914},
            },
        )
        people = [technician(api, n) for n in range(technicians)]
        scripters = [technician(api, technicians + n) for n in range(2 if scripted_orders else 0)]
        dispatcher_api = Api(server)
        token = dispatcher_api.log_in(dispatcher["email"], PASSWORD)
        dispatcher_api.token = token
        office = OfficeLog()
        orders = [
            assigned_order(office, dispatcher_api, customer["id"], site["id"], tech, f"{n}")
            for tech in people
            for n in range(orders_each)
        ]
        scripted = [
            assigned_order(office, dispatcher_api, customer["id"], site["id"], scripters[0], s)
            for s in (f"S{n}" for n in range(scripted_orders))
        ]
        dispatcher_api.close()
        return World(
            TenantSpec().slug,
            str(me["tenant_id"]),
            token,
            str(dispatcher["id"]),
            people,
            orders,
            office,
            scripted,
            scripters,
        )
    finally:
        api.close()


def _user(api: Api, role: str, name: str, **link: str) -> dict[str, Any]:
    email = f"{name}@chaos.test"
    body = {"email": email, "name": name, "role": role, "password": PASSWORD, **link}
    return api.create("/v1/users", body)


def technician(api: Api, n: int) -> Technician:
    tech = api.create("/v1/technicians", {"name": f"技师 {n}", "name_en": f"Technician {n}"})
    user = _user(api, "technician", f"tech-{n}", technician_id=tech["id"])
    return Technician(tech["id"], user["id"], user["email"])


def assigned_order(
    office: OfficeLog, api: Api, customer: str, site: str, tech: Technician, n: str
) -> str:
    body = {"title": f"巡检 {n} / inspection {n}", "customer_id": customer, "site_id": site}
    order = json_body(office.call(api, "POST", "", "create", body, "/v1/work-orders")[0], 201)
    body = {"action": "assign", "assignee_id": tech.id}
    path = f"/v1/work-orders/{order['id']}/transitions"
    json_body(office.call(api, "POST", order["id"], "transition", body, path)[0], 200)
    return str(order["id"])


@dataclass
class Dispatcher:
    """The office acting online during the run; ``actions`` counts what it did (or tried)."""

    server: FieldlineServer
    world: World
    rng: random.Random
    max_cancels: int
    actions: Counter[str] = field(default_factory=Counter)

    def run(self, stop: threading.Event, pause_s: float = 0.1) -> None:
        api = Api(self.server, self.world.dispatcher_token)
        try:
            while not stop.wait(self.rng.uniform(0.5, 1.5) * pause_s):
                try:
                    self.act(api)
                except requests.RequestException:
                    self.actions["unreachable"] += 1  # restarting: try something else later
        finally:
            api.close()

    def act(self, api: Api) -> None:
        roll = self.rng.random()
        if roll < 0.15 and self.actions["cancel"] < self.max_cancels:
            order = self._pick(api, CANCELLABLE)
            if order is not None:
                body = {"action": "cancel", "reason": "客户取消 / customer called off"}
                self._send(api, order, "cancel", "transitions", body)
        elif roll < 0.6:
            self._reassign(api)
        else:
            order = self._pick(api, CANCELLABLE)
            if order is not None:
                start = datetime(2025, 3, 12, 8, tzinfo=UTC) + timedelta(
                    minutes=15 * self.rng.randrange(200)
                )
                body = {"scheduled_start": start.strftime("%Y-%m-%dT%H:%M:%SZ")}
                self._send(api, order, "reschedule", "", body, method="PATCH")

    def _reassign(self, api: Api) -> None:
        """Move an order to the technician with the fewest, never leaving one with under 2
        (a technician with no order in scope would have nothing to do offline)."""
        response = api.call("GET", "/v1/work-orders", params={"limit": 200})
        if response.status_code != 200:
            self.actions["read_failed"] += 1
            return
        items = [o for o in response.json()["items"] if o["id"] in self.world.orders]
        held = Counter(str(o["assignee_id"]) for o in items if o["assignee_id"])
        movable = [
            o
            for o in items
            if o["status"] in REASSIGNABLE
            and (o["assignee_id"] is None or held[str(o["assignee_id"])] > 2)
        ]
        if not movable:
            return
        order = self.rng.choice(movable)
        others = [t.id for t in self.world.technicians if t.id != order["assignee_id"]]
        fewest = min(held[t] for t in others)
        target = self.rng.choice([t for t in others if held[t] == fewest])
        body = {"action": "assign", "assignee_id": target}
        self._send(api, order, "reassign", "transitions", body)

    def _pick(self, api: Api, statuses: tuple[str, ...]) -> dict[str, Any] | None:
        """A random order of the run in one of ``statuses``, as the list shows it now."""
        params = {"status": ",".join(statuses), "limit": 200}
        response = api.call("GET", "/v1/work-orders", params=params)
        if response.status_code != 200:
            self.actions["read_failed"] += 1
            return None
        items = [o for o in response.json()["items"] if o["id"] in self.world.orders]
        return self.rng.choice(items) if items else None

    def _send(
        self,
        api: Api,
        order: dict[str, Any],
        kind: str,
        sub: str,
        body: dict[str, Any],
        method: str = "POST",
    ) -> None:
        path = f"/v1/work-orders/{order['id']}" + (f"/{sub}" if sub else "")
        headers = {"If-Match": f'"{order["version"]}"'}
        if method == "POST":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        what = "transition" if sub else "patch"
        response, _ = self.world.office.call(api, method, order["id"], what, body, path, headers)
        if response is None:
            raise requests.ConnectionError("restarting")  # counted as unreachable
        self.actions[kind if response.status_code == 200 else f"{kind}_refused"] += 1
