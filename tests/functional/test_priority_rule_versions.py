"""Priority rule sets are versioned: every save is a new immutable version, orders name theirs."""

from __future__ import annotations

from typing import Any

from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories

LEAK = {"in": ["漏水", {"var": "text"}]}
PHONE = {"==": [{"var": "channel"}, "phone"]}


def _versions(api: ApiClient) -> list[dict[str, Any]]:
    listed = api.get("/v1/priority-rule-versions")
    assert listed.status_code == 200, listed.get_json()
    return listed.get_json()["items"]


def test_every_save_is_a_version_and_the_order_names_the_version_and_rule_that_fired(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    created = api.post(
        "/v1/priority-rules",
        json={"name": "漏水", "position": 1, "logic": LEAK, "priority": "high"},
    ).get_json()
    first = factories.work_order(world, title="机房漏水")
    changed = api.patch(
        f"/v1/priority-rules/{created['id']}",
        json={"priority": "urgent"},
        headers={"If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.get_json()
    second = factories.work_order(world, title="又漏水了")

    versions = _versions(api)
    assert [(v["number"], v["cause"]) for v in versions] == [(2, "update"), (1, "create")]
    assert versions[1]["rules"][0]["priority"] == "high"
    assert versions[0]["rules"][0]["priority"] == "urgent"
    one = api.get(f"/v1/priority-rule-versions/{versions[1]['id']}").get_json()
    assert one["rules"] == versions[1]["rules"]

    for order, version, priority in ((first, 1, "high"), (second, 2, "urgent")):
        decision = api.get(f"/v1/work-orders/{order.id}/priority-decision").get_json()
        assert (decision["rule_set_version"], decision["rule_name"]) == (version, "漏水")
        assert decision["priority"] == priority


def test_a_rollback_is_a_new_version_with_the_old_content_and_the_rules_apply_again(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    leak = api.post(
        "/v1/priority-rules",
        json={"name": "漏水", "position": 1, "logic": LEAK, "priority": "urgent"},
    ).get_json()
    api.post(
        "/v1/priority-rules",
        json={"name": "电话", "position": 2, "logic": PHONE, "priority": "high"},
    )
    deleted = api.delete(f"/v1/priority-rules/{leak['id']}", headers={"If-Match": '"1"'})
    assert deleted.status_code == 204
    assert factories.work_order(world, title="漏水").priority == "medium"

    v2 = next(v for v in _versions(api) if v["number"] == 2)
    rolled = api.post(f"/v1/priority-rule-versions/{v2['id']}/rollback")
    assert rolled.status_code == 201, rolled.get_json()
    assert (rolled.get_json()["number"], rolled.get_json()["rolled_back_to"]) == (4, 2)
    assert rolled.get_json()["rules"] == v2["rules"]
    rules = api.get("/v1/priority-rules").get_json()["items"]
    assert sorted(r["name"] for r in rules) == ["漏水", "电话"]
    assert [v["number"] for v in _versions(api)] == [4, 3, 2, 1]  # nothing rewritten

    order = factories.work_order(world, title="漏水")
    assert order.priority == "urgent"
    decision = api.get(f"/v1/work-orders/{order.id}/priority-decision").get_json()
    assert decision["rule_set_version"] == 4


def test_a_dry_run_can_try_an_old_version_and_an_unknown_version_is_a_404(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    rule = api.post(
        "/v1/priority-rules",
        json={"name": "漏水", "position": 1, "logic": LEAK, "priority": "urgent"},
    ).get_json()
    api.patch(
        f"/v1/priority-rules/{rule['id']}", json={"active": False}, headers={"If-Match": '"1"'}
    )
    order = factories.work_order(world, title="漏水")
    assert order.priority == "medium"

    tried = api.post("/v1/priority-rules/dry-run", json={"version": 1}).get_json()
    (item,) = tried["items"]
    assert (item["work_order_id"], item["priority"], item["rule"]) == (
        str(order.id),
        "urgent",
        "漏水",
    )
    current = api.post("/v1/priority-rules/dry-run", json={"version": 2}).get_json()
    assert current["items"][0]["rule"] is None
    assert_problem(
        api.post("/v1/priority-rules/dry-run", json={"version": 9}),
        404,
        "priority_rule.version_not_found",
    )


def test_another_tenants_versions_are_not_found(client: ApiClient, factories: Factories) -> None:
    mine, theirs = factories.tenant(), factories.tenant()
    client.as_(theirs.admin_token).post(
        "/v1/priority-rules",
        json={"name": "漏水", "position": 1, "logic": LEAK, "priority": "urgent"},
    )
    (their_version,) = _versions(client.as_(theirs.admin_token))
    api = client.as_(mine.admin_token)
    assert _versions(api) == []
    assert_problem(
        api.get(f"/v1/priority-rule-versions/{their_version['id']}"),
        404,
        "priority_rule.version_not_found",
    )
    assert_problem(
        api.post(f"/v1/priority-rule-versions/{their_version['id']}/rollback"),
        404,
        "priority_rule.version_not_found",
    )
