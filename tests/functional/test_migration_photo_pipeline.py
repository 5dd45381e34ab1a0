"""Migration 0014 on a database with photos: those whose bytes had arrived are queued for
the pipeline, so existing evidence gets renditions like new evidence; pending ones wait
for their bytes as before."""

from __future__ import annotations

from sqlalchemy import Engine, delete, select

from api.db import UnitOfWorkFactory
from api.evidence.models import Photo
from api.migrations import migrate, upgrade
from api.outbox.models import OutboxMessage
from tests.support.factories import Factories


def test_photos_whose_bytes_are_here_are_queued_for_the_pipeline(own_engine: Engine) -> None:
    upgrade(own_engine)
    uow_factory = UnitOfWorkFactory(own_engine)
    factories = Factories(uow_factory)
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    tenant_id = scene.world.tenant_id
    with uow_factory() as uow:
        for n, state in enumerate(("ready", "pending", "invalid")):
            uow.session.add(
                Photo(
                    tenant_id=tenant_id,
                    work_order_id=order.id,
                    author_kind="user",
                    sha256=f"{n}" * 64,
                    content_type="image/jpeg",
                    size=10,
                    state=state,
                )
            )
        uow.commit()
    with own_engine.begin() as connection:
        ready = connection.execute(select(Photo.id).where(Photo.state == "ready")).scalar_one()

    migrate(own_engine, "downgrade", "0014-1")  # as the data stood before the pipeline
    with own_engine.begin() as connection:
        connection.execute(delete(OutboxMessage))
    migrate(own_engine, "upgrade", "head")

    with own_engine.connect() as connection:
        queued = connection.execute(select(OutboxMessage.topic, OutboxMessage.payload)).all()
        processing = set(connection.execute(select(Photo.processing)).scalars())
    assert [(topic, payload["photo_id"]) for topic, payload in queued] == [
        ("photo.process", str(ready))
    ]
    assert queued[0].payload["tenant_id"] == str(tenant_id)
    assert processing == {"pending"}
