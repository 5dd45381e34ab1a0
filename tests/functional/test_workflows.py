"""Workflow steps per category: serial and parallel steps, countersign and any-of, versions,
who may act, the status machine as the one source of status, and offline technicians."""

from __future__ import annotations

from typing import Any

from api.outbox.registry import HANDLERS
from api.outbox.worker import run_once
from sync_protocol.mutations import CreateWorkOrder, PatchWorkOrder
from sync_protocol.workorder_status import Status
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.core import World
from tests.support.push import Device, new_id
from tests.support.sync import Replica


def _define(api: ApiClient, **data: Any) -> dict[str, Any]:
    created = api.post("/v1/workflow-definitions", json={"name": "报修流程", **data})
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def _act(api: ApiClient, order_id: Any, step: str, action: str, **more: Any) -> Any:
    return api.post(
        f"/v1/work-orders/{order_id}/workflow/actions",
        json={"step": step, "action": action, **more},
    )


def _current(api: ApiClient, order_id: Any) -> dict[str, Any]:
    run = api.get(f"/v1/work-orders/{order_id}/workflow")
    assert run.status_code == 200, run.get_json()
    return run.get_json()


def _serial(tech_team: Any, cs_team: Any) -> list[dict[str, Any]]:
    """First line collects information → technical team → customer success follow-up."""
    return [
        {
            "key": "intake",
            "name": "一线收集信息",
            "owner": {"role": "dispatcher"},
            "next": ["tech"],
        },
        {
            "key": "tech",
            "name": "技术处理",
            "name_en": "Technical team",
            "owner": {"team_id": str(tech_team)},
            "done_when_status": ["completed", "closed"],
            "next": ["follow_up"],
        },
        {"key": "follow_up", "name": "客户成功回访", "owner": {"team_id": str(cs_team)}},
    ]


def _staff(factories: Factories, world: World, team: Any) -> tuple[Any, str]:
    technician, _, token = factories.technician_user(world, team_id=team.id)
    return technician, token


def test_a_serial_workflow_runs_from_first_line_to_follow_up_and_status_drives_the_tech_step(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world = scene.world
    admin = client.as_(world.admin_token)
    tech_team, cs_team = factories.team(world), factories.team(world)
    technician, tech_token = _staff(factories, world, tech_team)
    _, cs_token = _staff(factories, world, cs_team)
    hvac = factories.category_path(world)
    # Defined on the top level: the leaf inherits it.
    _define(admin, category_id=str(hvac[0].id), steps=_serial(tech_team.id, cs_team.id))
    order = factories.work_order(world, scene.customer, scene.site, category_id=hvac[-1].id)

    shown = admin.get(f"/v1/work-orders/{order.id}").get_json()["current_steps"]
    assert [s["key"] for s in shown["steps"]] == ["intake"]
    assert shown["steps"][0]["waiting_for"] == [{"role": "dispatcher"}]
    tech = client.as_(tech_token)
    # Not assigned and not waited for: the order stays out of sight.
    assert_problem(_act(tech, order.id, "intake", "complete"), 404, "work_order.not_found")
    dispatcher = client.as_(scene.dispatcher_token)
    done = _act(dispatcher, order.id, "intake", "complete", comment="信息已齐")
    assert done.status_code == 200, done.get_json()
    assert [s["key"] for s in done.get_json()["current_steps"]] == ["tech"]
    assert done.get_json()["current_steps"][0]["waiting_for"][0]["team_id"] == str(tech_team.id)

    # Steps never set the status, and the technical step is done by the order's completion.
    factories.transition(world, order, "assign", assignee_id=technician.id)
    assert_problem(_act(tech, order.id, "tech", "complete"), 409, "workflow.status_required")
    assert admin.get(f"/v1/work-orders/{order.id}").get_json()["status"] == "assigned"
    factories.advance(
        world, factories.transition(world, order, "accept"), Status.COMPLETED, technician
    )
    run = _current(admin, order.id)
    assert [s["key"] for s in run["current_steps"]] == ["follow_up"]
    assert_problem(_act(tech, order.id, "follow_up", "complete"), 403, "workflow.not_your_step")
    finished = _act(client.as_(cs_token), order.id, "follow_up", "complete", comment="客户满意")
    assert finished.status_code == 200, finished.get_json()
    assert finished.get_json()["state"] == "finished"
    assert finished.get_json()["current_steps"] == []
    kinds = [(e["kind"], e["step"]) for e in finished.get_json()["events"]]
    assert ("done_by_status", "tech") in kinds and kinds[-1] == ("finished", None)
    follow_up = next(e for e in finished.get_json()["events"] if e["kind"] == "completed"
                     and e["step"] == "follow_up")  # fmt: skip
    assert follow_up["comment"] == "客户满意"
    assert admin.get(f"/v1/work-orders/{order.id}").get_json()["status"] == "completed"
    audit = admin.get(f"/v1/audit-events?entity_id={order.id}&action=workflow_step")
    assert len(audit.get_json()["items"]) == 2  # intake and follow-up, by people


def test_parallel_steps_join_and_countersign_needs_every_approver_any_of_needs_one(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world = scene.world
    admin = client.as_(world.admin_token)
    electric, plumbing, quality = (factories.team(world) for _ in range(3))
    _, electric_token = _staff(factories, world, electric)
    _, plumbing_token = _staff(factories, world, plumbing)
    _, quality_token = _staff(factories, world, quality)
    steps = [
        {"key": "triage", "name": "分派", "owner": {"role": "dispatcher"},
         "next": ["electric", "plumbing"]},
        {"key": "electric", "name": "电工", "owner": {"team_id": str(electric.id)},
         "next": ["sign_off"]},
        {"key": "plumbing", "name": "水工", "owner": {"team_id": str(plumbing.id)},
         "next": ["sign_off"]},
        {"key": "sign_off", "name": "会签", "owner": {"role": "dispatcher"},
         "approval": "countersign", "next": ["archive"],
         "approvers": [{"team_id": str(quality.id)}, {"role": "dispatcher"}]},
        {"key": "archive", "name": "归档", "owner": {"role": "dispatcher"}, "approval": "any_of",
         "approvers": [{"team_id": str(electric.id)}, {"team_id": str(plumbing.id)}]},
    ]  # fmt: skip
    _define(admin, steps=steps)  # the tenant default: no category named
    order = factories.work_order(world, scene.customer, scene.site)
    dispatcher = client.as_(scene.dispatcher_token)
    assert _act(dispatcher, order.id, "triage", "complete").status_code == 200

    run = _current(admin, order.id)
    assert [s["key"] for s in run["current_steps"]] == ["electric", "plumbing"]
    assert run["yours"] == []  # an admin may override, but no step is theirs
    assert _current(client.as_(electric_token), order.id)["yours"] == ["electric"]
    assert _act(client.as_(electric_token), order.id, "electric", "complete").status_code == 200
    assert [s["key"] for s in _current(admin, order.id)["current_steps"]] == ["plumbing"]
    assert_problem(
        _act(dispatcher, order.id, "sign_off", "approve"), 409, "workflow.step_not_active"
    )
    assert _act(client.as_(plumbing_token), order.id, "plumbing", "complete").status_code == 200

    assert_problem(_act(dispatcher, order.id, "sign_off", "complete"), 409, "workflow.wrong_action")
    half = _act(dispatcher, order.id, "sign_off", "approve").get_json()
    (sign_off,) = half["current_steps"]
    assert sign_off["waiting_for"] == [
        {"team_id": str(quality.id), "team_name": quality.name}
    ]  # countersign: the dispatcher's approval is not enough
    assert_problem(
        _act(dispatcher, order.id, "sign_off", "approve"), 403, "workflow.not_your_step"
    )  # nor counts twice
    both = _act(client.as_(quality_token), order.id, "sign_off", "approve").get_json()
    assert [s["key"] for s in both["current_steps"]] == ["archive"]
    assert len(both["current_steps"][0]["waiting_for"]) == 2
    done = _act(client.as_(plumbing_token), order.id, "archive", "approve").get_json()
    assert done["state"] == "finished"  # any-of: one approver is enough
    approvals = [e["approver"] for e in done["events"] if e["kind"] == "approved"]
    assert approvals[-1] == {"team_id": str(plumbing.id)}


def test_a_rejection_needs_a_comment_and_sends_the_work_back_to_the_steps_before(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world = scene.world
    admin = client.as_(world.admin_token)
    team = factories.team(world)
    _, token = _staff(factories, world, team)
    steps = [
        {"key": "intake", "name": "一线", "owner": {"role": "dispatcher"}, "next": ["review"]},
        {"key": "review", "name": "审核", "owner": {"role": "dispatcher"}, "approval": "any_of",
         "approvers": [{"team_id": str(team.id)}]},
    ]  # fmt: skip
    _define(admin, steps=steps)
    order = factories.work_order(world, scene.customer, scene.site)
    dispatcher, reviewer = client.as_(scene.dispatcher_token), client.as_(token)
    _act(dispatcher, order.id, "intake", "complete")
    refused = _act(reviewer, order.id, "review", "reject")
    assert_problem(refused, 422, "request.validation_failed")
    back = _act(reviewer, order.id, "review", "reject", comment="缺少现场照片").get_json()
    assert [s["key"] for s in back["current_steps"]] == ["intake"]
    rejected = next(e for e in back["events"] if e["kind"] == "rejected")
    assert rejected["comment"] == "缺少现场照片"
    assert any(e["kind"] == "returned" and e["step"] == "intake" for e in back["events"])


def test_an_admin_may_act_on_any_step_only_with_a_reason_and_the_history_keeps_it(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world = scene.world
    admin = client.as_(world.admin_token)
    team = factories.team(world)
    _define(admin, steps=[{"key": "tech", "name": "技术", "owner": {"team_id": str(team.id)}}])
    order = factories.work_order(world, scene.customer, scene.site)
    assert_problem(_act(admin, order.id, "tech", "complete"), 403, "workflow.not_your_step")
    assert_problem(
        _act(client.as_(scene.dispatcher_token), order.id, "tech", "complete",
             override_reason="dispatchers cannot"),
        403,
        "workflow.not_your_step",
    )  # fmt: skip
    forced = _act(admin, order.id, "tech", "complete", override_reason="班组解散，主管代办")
    assert forced.status_code == 200, forced.get_json()
    completed = next(e for e in forced.get_json()["events"] if e["kind"] == "completed")
    assert completed["override_reason"] == "班组解散，主管代办"
    assert forced.get_json()["state"] == "finished"


def test_editing_a_definition_makes_a_new_version_and_started_orders_keep_theirs(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world = scene.world
    admin = client.as_(world.admin_token)
    one = [{"key": "intake", "name": "一线", "owner": {"role": "dispatcher"}}]
    definition = _define(admin, steps=one)
    before = factories.work_order(world, scene.customer, scene.site)
    two = [
        {"key": "intake", "name": "一线", "owner": {"role": "dispatcher"}, "next": ["check"]},
        {"key": "check", "name": "复核", "owner": {"role": "admin"}},
    ]
    changed = admin.patch(
        f"/v1/workflow-definitions/{definition['id']}",
        json={"steps": two},
        headers={"If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["current_version"] == 2
    after = factories.work_order(world, scene.customer, scene.site)

    assert _current(admin, before.id)["version"] == 1
    assert _current(admin, after.id)["version"] == 2
    dispatcher = client.as_(scene.dispatcher_token)
    assert _act(dispatcher, before.id, "intake", "complete").get_json()["state"] == "finished"
    assert _act(dispatcher, after.id, "intake", "complete").get_json()["state"] == "active"
    versions = admin.get(f"/v1/workflow-definitions/{definition['id']}/versions").get_json()
    assert [v["number"] for v in versions["items"]] == [2, 1]
    oldest = versions["items"][-1]["id"]
    first = admin.get(f"/v1/workflow-definitions/{definition['id']}/versions/{oldest}").get_json()
    assert [s["key"] for s in first["steps"]] == ["intake"]


def test_a_deeper_category_overrides_the_inherited_workflow(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world = scene.world
    admin = client.as_(world.admin_token)
    hvac = factories.category_path(world)
    other = factories.category_path(world, ("hvac", "chiller", "noise"))
    step = {"key": "intake", "owner": {"role": "dispatcher"}}
    _define(admin, category_id=str(hvac[0].id), steps=[step | {"name": "通用"}])
    _define(admin, category_id=str(hvac[1].id), name="冷水机组", steps=[step | {"name": "机组"}])
    leaf = factories.work_order(world, scene.customer, scene.site, category_id=hvac[-1].id)
    sibling = factories.work_order(world, scene.customer, scene.site, category_id=other[-1].id)
    none = factories.work_order(world, scene.customer, scene.site)
    assert _current(admin, leaf.id)["current_steps"][0]["name"] == "机组"
    assert _current(admin, sibling.id)["current_steps"][0]["name"] == "机组"
    assert_problem(admin.get(f"/v1/work-orders/{none.id}/workflow"), 404, "workflow.no_run")
    assert admin.get(f"/v1/work-orders/{none.id}").get_json()["current_steps"] is None
    assert_problem(
        admin.post(
            "/v1/workflow-definitions",
            json={"name": "again", "category_id": str(hvac[1].id), "steps": [step | {"name": "x"}]},
        ),
        409,
        "workflow.taken",
    )


def _refused(api: ApiClient, steps: list[dict[str, Any]], code: str, **more: Any) -> Any:
    body = assert_problem(
        api.post("/v1/workflow-definitions", json={"name": "坏流程", "steps": steps, **more}),
        422,
        code,
    )
    assert body["errors"], body
    return body


def test_definitions_that_could_leave_an_order_stuck_are_refused_when_saved(
    client: ApiClient, factories: Factories
) -> None:
    world, other = factories.tenant(), factories.tenant()
    api = client.as_(world.admin_token)
    d = {"role": "dispatcher"}
    loop = [
        {"key": "a", "name": "A", "owner": d, "next": ["b"]},
        {"key": "b", "name": "B", "owner": d, "next": ["a"]},
    ]
    body = _refused(api, loop, "workflow.loop")
    assert body["errors"][0]["field"] == "steps[1].next"
    unreachable = [
        {"key": "a", "name": "A", "owner": d},
        {"key": "b", "name": "B", "owner": d, "next": ["c"]},
        {"key": "c", "name": "C", "owner": d},
    ]
    body = _refused(api, unreachable, "workflow.unreachable_step")
    assert [e["field"] for e in body["errors"]] == ["steps[1]", "steps[2]"]
    _refused(api, [{"key": "a", "name": "A", "owner": d, "next": ["z"]}], "workflow.unknown_step")
    _refused(api, [{"key": "a", "name": "A", "owner": d}] * 2, "workflow.duplicate_step")
    _refused(
        api,
        [{"key": "a", "name": "A", "owner": d, "approval": "countersign", "approvers": []}],
        "workflow.no_approvers",
    )
    _refused(api, [{"key": "a", "name": "A", "owner": {"role": "customer_contact"}}],
             "workflow.unknown_role")  # fmt: skip
    their_team = factories.team(other)
    body = _refused(api, [{"key": "a", "name": "A", "owner": {"team_id": str(their_team.id)}}],
                    "workflow.unknown_team")  # fmt: skip
    assert body["errors"][0]["field"] == "steps[0].owner.team_id"
    _refused(
        api,
        [{"key": "a", "name": "A", "owner": d, "approval": "any_of", "approvers": [d],
          "done_when_status": ["completed"]}],
        "workflow.invalid_step",
    )  # fmt: skip
    their_category = factories.category_path(other)[0]
    refused = api.post(
        "/v1/workflow-definitions",
        json={"name": "x", "category_id": str(their_category.id),
              "steps": [{"key": "a", "name": "A", "owner": d}]},
    )  # fmt: skip
    assert_problem(refused, 422, "request.validation_failed")
    assert refused.get_json()["errors"][0]["field"] == "category_id"
    assert api.get("/v1/workflow-definitions").get_json()["items"] == []


def test_offline_technicians_pull_their_step_and_cannot_write_it(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world = scene.world
    admin = client.as_(world.admin_token)
    team = factories.team(world)
    technician, _, token = factories.technician_user(world, team_id=team.id)
    steps = [
        {"key": "tech", "name": "技术处理", "owner": {"team_id": str(team.id)},
         "done_when_status": ["completed"], "next": ["follow_up"]},
        {"key": "follow_up", "name": "回访", "owner": {"role": "dispatcher"}},
    ]  # fmt: skip
    _define(admin, steps=steps)
    order = factories.work_order(world, scene.customer, scene.site)
    factories.transition(world, order, "assign", assignee_id=technician.id)

    scope = f"technician:{technician.id}"
    replica = Replica(client.as_(token), {scope: None})
    replica.sync()
    row = replica.rows[(scope, "work_orders", str(order.id))]
    (step,) = row["current_steps"]["steps"]
    assert (step["key"], step["name"]) == ("tech", "技术处理")
    assert step["waiting_for"] == [{"team_id": str(team.id), "team_name": team.name}]

    device = Device(client.as_(token))
    written = device.push_ok([device.mutation(PatchWorkOrder(order.id, {"current_steps": None}))])
    assert (written.receipts[0].status.value, written.receipts[0].code) == (
        "rejected",
        "sync.field_read_only",
    )
    assert _current(admin, order.id)["current_steps"][0]["key"] == "tech"

    # A job the device created offline gets its workflow like an online one.
    created_id = new_id()
    fields = {"title": "离线报修", "customer_id": str(scene.customer.id),
              "site_id": str(scene.site.id)}  # fmt: skip
    receipts = device.push_ok([device.mutation(CreateWorkOrder(created_id, fields))]).receipts
    assert receipts[0].status.value == "applied", receipts
    assert _current(admin, created_id)["current_steps"][0]["key"] == "tech"
    factories.advance(world, factories.transition(world, order, "accept"), Status.COMPLETED,
                      technician)  # fmt: skip
    replica.sync()
    row = replica.rows[(scope, "work_orders", str(order.id))]
    assert [s["key"] for s in row["current_steps"]["steps"]] == ["follow_up"]


def test_the_people_a_step_now_waits_for_are_notified_in_their_language(
    client: ApiClient, factories: Factories, uow_factory: Any
) -> None:
    scene = factories.scene()
    world = scene.world
    admin = client.as_(world.admin_token)
    team = factories.team(world)
    _, member_token = _staff(factories, world, team)
    _, outsider_token = _staff(factories, world, factories.team(world))
    steps = [
        {"key": "intake", "name": "一线", "owner": {"role": "dispatcher"}, "next": ["tech"]},
        {"key": "tech", "name": "技术处理", "name_en": "Technical",
         "owner": {"team_id": str(team.id)}},
    ]  # fmt: skip
    _define(admin, steps=steps)
    order = factories.work_order(world, scene.customer, scene.site)
    dispatcher = client.as_(scene.dispatcher_token)
    _act(dispatcher, order.id, "intake", "complete")
    while run_once(uow_factory, HANDLERS):
        pass

    def waiting(token: str) -> list[dict[str, Any]]:
        items = client.as_(token).get("/v1/notifications").get_json()["items"]
        return [n for n in items if n["kind"] == "workflow.step_waiting"]

    (notice,) = waiting(member_token)
    assert notice["title"] == f"工单 {order.number} 等待您处理：技术处理"
    assert notice["data"]["steps"] == ["tech"]
    assert waiting(outsider_token) == []
    # The dispatchers heard of the first step when the order came in; not of their own action.
    assert [n["data"]["steps"] for n in waiting(scene.dispatcher_token)] == [["intake"]]


def test_customers_see_their_order_but_not_the_staffs_workflow(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world = scene.world
    admin = client.as_(world.admin_token)
    _define(admin, steps=[{"key": "intake", "name": "一线", "owner": {"role": "dispatcher"}}])
    order = factories.work_order(world, scene.customer, scene.site)
    _act(client.as_(scene.dispatcher_token), order.id, "intake", "complete", comment="客户难缠")
    customer = client.as_(scene.contact_token)
    assert customer.get(f"/v1/work-orders/{order.id}").get_json()["current_steps"] is None
    listed = customer.get("/v1/work-orders").get_json()["items"]
    assert [o["current_steps"] for o in listed] == [None]
    assert_problem(customer.get(f"/v1/work-orders/{order.id}/workflow"), 404, "workflow.no_run")
    assert admin.get(f"/v1/work-orders/{order.id}").get_json()["current_steps"] is not None


def test_a_step_action_that_changes_nothing_leaves_the_order_version_alone(
    client: ApiClient, factories: Factories
) -> None:
    """Devices re-pull an order whose version moved: an action that leaves the order's
    current steps as they were (rejecting the first step, nothing approved yet) must not
    move it; one that moves the workflow on does."""
    scene = factories.scene()
    world = scene.world
    admin = client.as_(world.admin_token)
    tech_team, cs_team = factories.team(world), factories.team(world)
    hvac = factories.category_path(world)
    _define(admin, category_id=str(hvac[0].id), steps=_serial(tech_team.id, cs_team.id))
    order = factories.work_order(world, scene.customer, scene.site, category_id=hvac[-1].id)
    dispatcher = client.as_(scene.dispatcher_token)

    def seen() -> tuple[int, str, str | None]:
        response = admin.get(f"/v1/work-orders/{order.id}")
        body = response.get_json()
        return body["version"], body["updated_at"], response.headers.get("ETag")

    before = seen()
    again = _act(dispatcher, order.id, "intake", "reject", comment="信息不全，重新收集")
    assert again.status_code == 200, again.get_json()
    assert [s["key"] for s in again.get_json()["current_steps"]] == ["intake"]
    assert seen() == before

    done = _act(dispatcher, order.id, "intake", "complete", comment="信息已齐")
    assert done.status_code == 200, done.get_json()
    version, updated_at, etag = seen()
    assert version == before[0] + 1 and updated_at > before[1] and etag != before[2]
