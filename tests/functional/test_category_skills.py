"""Skills a category's orders need, inherited down the tree, and an order's own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from tests.functional.test_candidates import candidates, hire
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories


def _set_skills(api: ApiClient, category: Any, skills: list[dict[str, Any]]) -> Any:
    current = api.get(f"/v1/categories/{category.id}")
    response = api.patch(
        f"/v1/categories/{category.id}",
        json={"required_skills": skills},
        etag=current.headers["ETag"],
    )
    assert response.status_code == 200, response.get_json()
    return response


def test_a_symptom_inherits_its_domains_skills_at_the_highest_level_asked(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    department, domain, symptom = factories.category_path(world)
    _set_skills(api, department, [{"skill": "hvac", "level": 1}])
    _set_skills(api, domain, [{"skill": "hvac", "level": 3}, {"skill": "electrical", "level": 2}])
    patched = _set_skills(api, symptom, [{"skill": "refrigerant", "level": 1}])
    assert patched.get_json()["required_skills"] == [{"skill": "refrigerant", "level": 1}]
    assert patched.headers["ETag"] == '"2"'  # the skills are a change of the category

    body = api.get(f"/v1/categories/{symptom.id}/required-skills").get_json()

    assert body["own"] == [{"skill": "refrigerant", "level": 1}]
    assert body["effective"] == [
        {"skill": "electrical", "level": 2, "category_id": str(domain.id)},
        {"skill": "hvac", "level": 3, "category_id": str(domain.id)},
        {"skill": "refrigerant", "level": 1, "category_id": str(symptom.id)},
    ]


def test_a_skill_listed_twice_is_refused(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    response = client.as_(world.admin_token).post(
        "/v1/categories",
        json={
            "code": "dup",
            "name": "重复",
            "required_skills": [{"skill": "hvac", "level": 1}, {"skill": "hvac", "level": 2}],
        },
    )
    body = assert_problem(response, 422, "request.validation_failed")
    assert body["errors"][0]["field"] == "required_skills.1.skill"


def test_candidates_must_have_the_categorys_and_the_orders_skills(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    department, _, symptom = factories.category_path(world)
    _set_skills(api, department, [{"skill": "hvac", "level": 2}])
    both = hire(factories, world, 100, skills=[
        {"skill": "hvac", "level": 3}, {"skill": "electrical", "level": 1}])  # fmt: skip
    hvac_only = hire(factories, world, 200, skills=[{"skill": "hvac", "level": 4}])
    novice = hire(factories, world, 50, skills=[
        {"skill": "hvac", "level": 1}, {"skill": "electrical", "level": 5}])  # fmt: skip
    order = factories.work_order(
        world, category_id=symptom.id, required_skills=[{"skill": "electrical", "level": 1}]
    )
    assert order.required_skills == [{"skill": "electrical", "level": 1}]

    body = candidates(client, world, order.id)

    assert [c["technician_id"] for c in body["candidates"]] == [str(both.id)]
    excluded = {e["technician_id"]: e["filter"] for e in body["excluded"]}
    assert excluded == {
        str(hvac_only.id): "skill_missing",
        str(novice.id): "skill_level_too_low",
    }


def test_only_the_office_sets_an_orders_skills(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    customer = factories.customer(world)
    site = factories.site(world, customer)
    _, token = factories.customer_login(world, customer)
    response = client.as_(token).post(
        "/v1/work-orders",
        json={
            "title": "漏水",
            "customer_id": str(customer.id),
            "site_id": str(site.id),
            "required_skills": [{"skill": "plumbing", "level": 1}],
        },
    )
    body = assert_problem(response, 422, "request.validation_failed")
    assert body["errors"][0]["field"] == "required_skills"
