"""Priority rules as data: the first JSON Logic rule that holds sets a new order's priority."""

from __future__ import annotations

from typing import Any

from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories

VIP_LEAK = {
    "and": [
        {"==": [{"var": "customer.tier"}, "vip"]},
        {"or": [{"in": ["漏水", {"var": "text"}]}, {"in": ["leak", {"var": "text"}]}]},
    ]
}


def _rule(api: ApiClient, **data: Any) -> dict[str, Any]:
    created = api.post("/v1/priority-rules", json=data)
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def test_a_rule_decides_the_priority_and_the_order_says_which_rule_fired(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    _rule(api, name="VIP 漏水", position=1, logic=VIP_LEAK, priority="urgent")
    _rule(
        api,
        name="电话来的",
        position=2,
        logic={"==": [{"var": "channel"}, "phone"]},
        priority="high",
    )
    vip = factories.customer(world, tier="vip")

    leaking = factories.work_order(world, vip, title="机房空调漏水", priority="low")
    assert str(leaking.priority) == "urgent"
    decision = api.get(f"/v1/work-orders/{leaking.id}/priority-decision").get_json()
    assert decision["rule_name"] == "VIP 漏水" and decision["requested_priority"] == "low"
    english = factories.work_order(world, vip, title="Water leak in the server room")
    assert str(english.priority) == "urgent"

    by_phone = factories.work_order(world, title="空调不制冷", source="phone")
    assert str(by_phone.priority) == "high"
    untouched = factories.work_order(world, title="空调不制冷", priority="low")
    assert str(untouched.priority) == "low"
    none = api.get(f"/v1/work-orders/{untouched.id}/priority-decision").get_json()
    assert none.get("rule_name") is None


def test_a_dry_run_shows_what_a_rule_set_would_do_and_changes_nothing(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    vip = factories.customer(world, tier="vip")
    order = factories.work_order(world, vip, title="漏水", priority="medium")
    tried = api.post(
        "/v1/priority-rules/dry-run",
        json={"rules": [{"name": "VIP 漏水", "logic": VIP_LEAK, "priority": "urgent"}]},
    )
    assert tried.status_code == 200, tried.get_json()
    (item,) = tried.get_json()["items"]
    assert item["work_order_id"] == str(order.id)
    assert (item["current_priority"], item["priority"], item["rule"]) == (
        "medium",
        "urgent",
        "VIP 漏水",
    )
    assert api.get(f"/v1/work-orders/{order.id}").get_json()["priority"] == "medium"


def test_rules_that_do_not_parse_are_refused_when_saved(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    for logic in ({"bogus": [1, 2]}, {"==": [{"var": "amount"}, 1]}, {"==": [1], "!=": [2]}):
        assert_problem(
            api.post(
                "/v1/priority-rules",
                json={"name": "x", "position": 1, "logic": logic, "priority": "high"},
            ),
            422,
            "priority_rule.invalid_logic",
        )
    assert_problem(
        api.post(
            "/v1/priority-rules/dry-run",
            json={"rules": [{"name": "x", "logic": {"nope": []}, "priority": "high"}]},
        ),
        422,
        "priority_rule.invalid_logic",
    )
