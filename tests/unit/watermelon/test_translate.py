"""WatermelonDB pushes diffed into the protocol's mutations (PROTOCOL.md § 15, rules 2–4)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from api.sync.watermelon.translate import ServerRows, status_path, translate, work_order_update
from sync_protocol.entities import Table
from sync_protocol.mutations import parse_args
from sync_protocol.workorder_status import Action, Status

ORDER = "01958e00-0000-7000-8000-000000000001"
NEW = "01958f3a-7c00-7a1e-9c1a-3f5e2b7d4c11"
NOTE = "01958f3a-7c00-7a1e-9c1a-3f5e2b7d4c99"
SERVER = {"id": ORDER, "status": "accepted", "title": "修空调", "description": None,
          "actual_start": None, "resolution": None, "priority": "medium"}  # fmt: skip
RANK = {Status.ASSIGNED: 1, Status.ACCEPTED: 2, Status.EN_ROUTE: 3, Status.ON_SITE: 4,
        Status.IN_PROGRESS: 5, Status.PAUSED: 5, Status.COMPLETED: 6}  # fmt: skip


def test_a_status_jump_becomes_the_steps_along_the_field_path() -> None:
    out = work_order_update(SERVER, dict(SERVER, status="on_site"))
    assert [(m.args["action"], m.args["base_status"]) for m in out] == [
        ("start_travel", "accepted"),
        ("arrive", "en_route"),
    ]
    for mutation in out:
        parse_args(mutation.name, mutation.args)  # the engine will accept the shape


def test_completion_carries_the_resolution_and_other_columns_become_one_patch() -> None:
    pushed = dict(SERVER, status="completed", resolution="换了电容", actual_start=1_741_770_000_000,
                  title="修空调", description="")  # fmt: skip
    out = work_order_update(dict(SERVER, status="in_progress"), pushed)
    assert [m.name for m in out] == ["transition_work_order", "patch_work_order"]
    assert out[0].args["action"] == "complete" and out[0].args["resolution"] == "换了电容"
    assert out[1].args["fields"] == {"actual_start": "2025-03-12T09:00:00Z"}  # '' stays null
    for mutation in out:
        parse_args(mutation.name, mutation.args)


def test_an_assigned_job_set_back_to_new_is_a_decline() -> None:
    assigned = dict(SERVER, status="assigned")
    (decline,) = work_order_update(assigned, dict(assigned, status="new"))
    assert decline.args["action"] == "decline" and decline.args["base_status"] == "assigned"
    assert decline.args["reason"] == "Declined on device"
    parse_args(decline.name, decline.args)


def test_backward_and_office_statuses_are_ignored() -> None:
    for target in ("new", "assigned", "cancelled", "closed", "nonsense"):
        assert work_order_update(SERVER, dict(SERVER, status=target)) == []


@given(st.sampled_from(list(RANK)), st.sampled_from(list(Status)))
def test_status_paths_only_move_forwards_and_end_at_the_target(
    start: Status, target: Status
) -> None:
    steps = status_path(start, target)
    if not steps:
        return
    if (start, target) == (Status.ASSIGNED, Status.NEW):  # turning the job down
        assert steps == [(Action.DECLINE, Status.ASSIGNED)]
        return
    assert steps[0][1] == start
    assert target in RANK and RANK[target] >= RANK[start]
    assert all(action is not Action.CANCEL for action, _ in steps)
    last_action = steps[-1][0]
    assert last_action is {Status.PAUSED: Action.PAUSE, Status.COMPLETED: Action.COMPLETE}.get(
        target, last_action
    )


def test_created_rows_become_creates_and_evidence_and_known_ids_become_updates() -> None:
    changes = {
        "work_orders": {"created": [dict(SERVER, id=NEW,
                                         customer_id=ORDER, site_id=ORDER)],
                        "updated": [], "deleted": []},
        "work_order_assets": {"created": [{"id": "x_y", "work_order_id": NEW, "asset_id": ORDER}],
                              "updated": [], "deleted": []},
        "notes": {"created": [{"id": NOTE, "work_order_id": ORDER, "body": "到场"}],
                  "updated": [], "deleted": ["01958f3a-7c00-7a1e-9c1a-3f5e2b7d4c98"]},
    }  # fmt: skip
    out = translate(changes, ServerRows())
    assert [m.name for m in out] == ["create_work_order", "add_note"]
    assert out[0].args["asset_ids"] == [ORDER]
    for mutation in out:
        parse_args(mutation.name, mutation.args)
    known = ServerRows(evidence={(Table.NOTES, NOTE): {"id": NOTE, "work_order_id": ORDER}})
    changes["notes"] = {"created": [], "updated": [], "deleted": [NOTE]}
    voids = translate(changes, known)
    assert voids[-1].name == "void_evidence" and voids[-1].args["reason"] == "deleted on device"


def test_an_update_of_a_record_the_server_lacks_becomes_its_create() -> None:
    changes = {
        "work_orders": {"created": [], "deleted": [],
                        "updated": [dict(SERVER, id=NEW, customer_id=ORDER, site_id=ORDER)]},
        "notes": {"created": [], "deleted": [],
                  "updated": [{"id": NOTE, "work_order_id": ORDER, "body": "补录"}]},
    }  # fmt: skip
    out = translate(changes, ServerRows())
    assert [(m.name, m.args["id"]) for m in out] == [("create_work_order", NEW), ("add_note", NOTE)]
    known = ServerRows(
        work_orders={NEW: dict(SERVER, id=NEW)},
        evidence={(Table.NOTES, NOTE): {"id": NOTE, "work_order_id": ORDER}},
    )
    assert translate(changes, known) == []  # known and unchanged: nothing to do


def test_rows_added_to_office_tables_are_refused_and_edits_of_known_rows_ignored() -> None:
    site = {"id": NEW, "name": "新站点"}
    changes = {"sites": {"created": [site], "updated": [dict(site, id=ORDER)], "deleted": []}}
    out = translate(changes, ServerRows(reference=frozenset({(Table.SITES, ORDER)})))
    assert [(m.name, m.args["table"], m.args["id"]) for m in out] == [
        ("create_record", "sites", NEW)
    ]


OFFER = "01958f3a-7c00-7a1e-9c1a-3f5e2b7d4c55"
OFFERED = {"id": OFFER, "work_order_id": ORDER, "state": "pending", "reason": None,
           "offered_at": 1_741_770_000_000, "expires_at": 1_741_770_300_000,
           "answered_at": None}  # fmt: skip


def _offer_push(*rows: dict[str, Any], kind: str = "updated") -> dict[str, Any]:
    lists: dict[str, list[Any]] = {"created": [], "updated": [], "deleted": []}
    lists[kind] = list(rows)
    return {"offers": lists}


def test_an_answered_offer_is_answer_offer_dated_by_the_app_never_before_the_offer() -> None:
    server = ServerRows(offers={OFFER: OFFERED})
    accepted = dict(OFFERED, state="accepted", answered_at=1_741_770_060_000)
    early = dict(OFFERED, state="accepted", answered_at=1_000)
    declined = dict(OFFERED, state="declined", reason="")

    (accept,) = translate(_offer_push(accepted), server)
    (floored,) = translate(_offer_push(early), server)
    (decline,) = translate(_offer_push(declined), server)

    assert (accept.name, accept.args["answer"], accept.device_ms) == (
        "answer_offer", "accept", 1_741_770_060_000,
    )  # fmt: skip
    assert floored.device_ms == OFFERED["offered_at"]
    assert (decline.args["answer"], decline.args["reason"], decline.device_ms) == (
        "decline", "Declined on device", None,
    )  # fmt: skip
    for mutation in (accept, decline):
        parse_args(mutation.name, mutation.args)


def test_offer_edits_that_are_no_answer_are_ignored_and_added_offers_refused() -> None:
    server = ServerRows(offers={OFFER: dict(OFFERED, state="accepted")})
    replayed = dict(OFFERED, state="accepted", title="改了")
    unanswered = dict(OFFERED, id=NOTE, state="expired")

    assert translate(_offer_push(replayed), server) == []
    assert translate(_offer_push(unanswered), ServerRows(offers={NOTE: OFFERED})) == []
    (added,) = translate(_offer_push(dict(OFFERED, id=NEW), kind="created"), server)
    assert (added.name, added.args["table"], added.args["id"]) == ("create_record", "offers", NEW)
