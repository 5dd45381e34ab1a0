"""Migration 0028 on a database with rules: each tenant's existing rules become its version 1,
and the next save is version 2."""

from __future__ import annotations

from sqlalchemy import Engine, select

from api.db import UnitOfWorkFactory
from api.migrations import migrate, upgrade
from api.servicedesk import rule_services
from api.servicedesk.models import PriorityRuleSetVersion
from tests.support.factories import Factories

LEAK = {"in": ["漏水", {"var": "text"}]}


def test_existing_rules_become_version_one(own_engine: Engine) -> None:
    upgrade(own_engine)
    uow_factory = UnitOfWorkFactory(own_engine)
    factories = Factories(uow_factory)
    world = factories.tenant()
    factories.tenant()  # a tenant without rules gets no version
    for position, name in ((2, "电话"), (1, "漏水")):
        rule_services.create_rule(
            uow_factory(),
            world.admin_actor,
            {"name": name, "position": position, "logic": LEAK, "priority": "high"},
        )

    migrate(own_engine, "downgrade", "0027")  # as the data stood before versions
    upgrade(own_engine)

    with uow_factory.reader() as uow:
        versions = uow.session.scalars(select(PriorityRuleSetVersion)).all()
        assert [(v.tenant_id, v.number, v.cause) for v in versions] == [
            (world.tenant_id, 1, "create")
        ]
        assert [r["name"] for r in versions[0].rules] == ["漏水", "电话"]
        assert versions[0].rules[0]["logic"] == LEAK and versions[0].rules[0]["active"]
    rule_services.create_rule(
        uow_factory(),
        world.admin_actor,
        {"name": "又一条", "position": 3, "logic": LEAK, "priority": "low"},
    )
    with uow_factory.reader() as uow:
        numbers = uow.session.scalars(
            select(PriorityRuleSetVersion.number).order_by(PriorityRuleSetVersion.number)
        ).all()
    assert numbers == [1, 2]
