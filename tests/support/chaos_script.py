"""The conflicts a chaos run must meet, scheduled rather than hoped for.

Random work rarely produces every conflict of PROTOCOL.md § 8 (one run had no
dispatcher cancel, no ``merged`` receipt and no photo). :class:`Script` plays,
on orders of its own (:attr:`World.scripted`, untouched by the random
dispatcher and devices) and with a technician's phone and tablet that sync
through the same faults, ``per_kind`` instances of each at once:

- **cancel vs complete** (§ 16.3): the phone has the order in progress, completes
  it offline, the office cancels it online, the phone syncs: row 9;
- **reassigned while offline** (§ 16.6): the phone does the whole job offline while
  the office gives the order to another technician: rows 11 then 10 (the
  completion wins, the assignee comes back);
- **office moved it back** (row 15): the phone accepted (synced), then goes on to
  complete offline while the office assigns the order again to the same
  technician (``accepted`` → ``assigned``): the steps conflict and are kept
  server (row 20), the completion is kept device;
- **stale edit of an office-owned field** (§ 16.4): the phone changes
  ``scheduled_start`` offline, the office reschedules later: a proposal, the
  office's value stays;
- **proposal**: the phone proposes a new ``title`` (nobody edits it after);
- **merged** (row 14): the tablet completes offline from ``in_progress`` while the
  phone has paused the order and synced;
- **photo pending → ready** (§ 16.5): the phone attaches a photo offline; the push
  stores the row ``pending``, the upload that follows in the same sync makes it
  ``ready``.

Office requests cut by the server restart are settled by reading the order back
(:class:`~tests.support.chaos_world.OfficeLog`) and sent again if they were lost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from tests.support.chaos import DeviceCrash
from tests.support.chaos_device import Phone
from tests.support.chaos_world import Api, Technician, World, read_order

KINDS = (
    "cancel_vs_complete",
    "reassigned_offline",
    "office_moved_back",
    "stale_office_edit",
    "proposal",
    "merged",
)
PARTS = 4  # orders per_kind times over: cancelled, reassigned, moved back, edited
KINDS_ALL = (*KINDS, "photo_pending_to_ready")


@dataclass(frozen=True)
class Plan:
    """Which scripted orders play which part (``per_kind`` each)."""

    cancelled: list[str]  # cancel vs complete
    reassigned: list[str]  # reassigned while offline, to ``target``
    moved_back: list[str]  # accepted, then assigned again to the same technician
    edited: list[str]  # in progress: stale edit, proposal, photo; paused by the phone,
    # completed by the tablet (merged)
    own: Technician  # whose phone and tablet these are
    target: Technician

    @classmethod
    def split(cls, orders: list[str], per_kind: int, own: Technician, target: Technician) -> Plan:
        parts = [orders[n * per_kind : (n + 1) * per_kind] for n in range(PARTS)]
        return cls(*parts, own, target)


class Script:
    """Runs in its own thread; ``phone`` and ``tablet`` are one technician's devices."""

    def __init__(self, api: Api, world: World, phone: Phone, tablet: Phone, plan: Plan) -> None:
        self.api = api
        self.world = world
        self.phone = phone
        self.tablet = tablet
        self.plan = plan

    def run(self, workdir: Path) -> None:
        phone, tablet, plan = self.phone, self.tablet, self.plan
        try:
            phone.sync()
            tablet.sync()
            p = phone.open()
            for order in plan.cancelled + plan.edited:
                for action in ("accept", "start_travel", "arrive", "start_work"):
                    p.transition(order, action)
            for order in plan.moved_back:
                p.transition(order, "accept")
            phone.sync()
            _sync_until(tablet, plan.edited, "in_progress")
            p, t = phone.open(), tablet.open()
            # Offline from here on: everything below is recorded before the office acts.
            for order in plan.cancelled:
                p.transition(order, "complete", resolution="修好了 / fixed (cancelled meanwhile)")
            for order in plan.reassigned:
                for action in ("accept", "start_travel", "arrive", "start_work"):
                    p.transition(order, action)
                p.transition(order, "complete", resolution="修好了 / fixed (reassigned meanwhile)")
            for order in plan.moved_back:
                for action in ("start_travel", "arrive", "start_work"):
                    p.transition(order, action)
                p.transition(order, "complete", resolution="修好了 / fixed (sent back meanwhile)")
            for n, order in enumerate(plan.edited):
                p.patch(order, {"scheduled_start": "2025-03-12T14:00:00Z"})
                p.patch(order, {"title": f"现场实为二号楼 / building 2, not 1 ({n})"})
                p.attach_photo(order, _photo(workdir / f"meter-{n}.png", n), caption="压力表")
                t.transition(order, "complete", resolution="平板完成 / done on the tablet")
            # The office acts online while both devices hold these offline.
            for order in plan.cancelled:
                self._office(order, "transition", {"action": "cancel", "reason": "客户取消"})
            for order in plan.reassigned:
                body = {"action": "assign", "assignee_id": plan.target.id}
                self._office(order, "transition", body)
            for order in plan.moved_back:  # accepted -> assigned, to the same technician
                body = {"action": "assign", "assignee_id": plan.own.id}
                self._office(order, "transition", body, sent_back=True)
            for order in plan.edited:
                self._office(order, "patch", {"scheduled_start": "2025-03-13T09:30:00Z"})
            p = phone.open()
            for order in plan.edited:
                p.transition(order, "pause", reason="等待备件 / waiting for parts")
            phone.drain()
            tablet.drain()
            _upload_all(phone)  # a failed upload waits out its backoff; the run does not
            for device in (phone, tablet):  # what the script recorded, for the run's count
                device.stats.mutations = int(device.open().store.get("next_seq") or "1") - 1
        finally:
            phone.close()
            tablet.close()

    def _office(
        self, order: str, kind: str, body: dict[str, Any], *, sent_back: bool = False
    ) -> None:
        """One office request that must take effect, through the restart if need be.

        ``sent_back``: an assign to the technician who holds the order already, which
        shows as the order being ``assigned`` again (nobody else moves these orders).
        """
        path = f"/v1/work-orders/{order}" + ("/transitions" if kind == "transition" else "")
        method = "POST" if kind == "transition" else "PATCH"
        for _ in range(20):
            shown = read_order(self.api, order)
            headers = {"If-Match": f'"{shown["version"]}"'}
            response, act = self.world.office.call(
                self.api, method, order, kind, body, path, headers, sent_back=sent_back
            )
            if act.outcome == "ok":
                return
            if response is not None:
                raise AssertionError(f"office {kind} {body} on {order}: {response.text[:300]}")
        raise AssertionError(f"office {kind} {body} on {order} never went through")


def _photo(path: Path, n: int) -> Path:
    """A small real PNG (the server decodes what it keeps), different for every ``n``."""
    Image.new("RGB", (8, 8), (n % 256, 90, 160)).save(path, format="PNG")
    return path


def _sync_until(phone: Phone, orders: list[str], status: str, deadline_s: float = 30.0) -> None:
    """Sync until the device shows every one of ``orders`` in ``status``.

    Another device's push reaches this one's pull within milliseconds, but a poll
    made in that instant may still be answered "nothing new" (``chaos_run``'s
    SETTLE_SECONDS), and the script must not act on a view that old.
    """
    deadline = time.monotonic() + deadline_s
    while True:
        phone.sync()
        views = [phone.open().job(order) for order in orders]
        if all(view.status is not None and view.status.value == status for view in views):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{phone.name} does not show {orders} {status}")
        time.sleep(0.2)


def _upload_all(phone: Phone, deadline_s: float = 60.0) -> None:
    """Send every queued photo now, through faults, so each ends ``ready``."""
    deadline = time.monotonic() + deadline_s
    while (device := phone.open()).uploads.pending():
        try:
            device.uploads.run_due(device.client, force=True)
        except DeviceCrash:
            phone.crash()
        if time.monotonic() > deadline:
            raise AssertionError(f"{phone.name}: photos not uploaded: {device.status()}")
