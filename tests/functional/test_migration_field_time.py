"""Migration 0005 on a database with data: existing rows keep the only time they had, and
existing notifications are known to be in Chinese."""

from __future__ import annotations

from sqlalchemy import Engine, select

from api.db import UnitOfWorkFactory
from api.migrations import migrate, upgrade
from api.notifications.models import Notification
from api.outbox.registry import HANDLERS
from api.outbox.worker import run_once
from api.workorders.models import Note, StatusChange
from tests.support.factories import Factories


def test_existing_history_evidence_and_notifications_are_carried_over(own_engine: Engine) -> None:
    upgrade(own_engine)
    uow_factory = UnitOfWorkFactory(own_engine)
    factories = Factories(uow_factory)
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    factories.note(scene.world, order)
    assert run_once(uow_factory, HANDLERS) == 1  # the technician and the customer are told
    with own_engine.connect() as connection:
        stored = sorted(connection.execute(select(StatusChange.id, StatusChange.occurred_at)))
        noted = connection.execute(select(Note.created_at)).scalar_one()

    migrate(own_engine, "downgrade", "0005-1")  # as the data stood before field time
    migrate(own_engine, "upgrade", "head")

    with own_engine.connect() as connection:
        history = sorted(
            connection.execute(
                select(StatusChange.id, StatusChange.occurred_at, StatusChange.recorded_at)
            )
        )
        note = connection.execute(select(Note.created_at, Note.occurred_at)).one()
        notices = connection.execute(select(Notification.locale, Notification.body)).all()
    assert [(i, occurred) for i, occurred, _ in history] == stored
    assert all(recorded == occurred for _, occurred, recorded in history)
    assert tuple(note) == (noted, noted)
    assert {tuple(n) for n in notices} == {("zh-CN", None)}  # they were written in Chinese
