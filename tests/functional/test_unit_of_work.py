"""The unit of work: all or nothing, and reads that never wait for writers."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select, text

from api.customers.models import Customer
from api.db import UnitOfWorkFactory
from tests.support.factories import Factories


def test_leaving_without_commit_rolls_everything_back(
    uow_factory: UnitOfWorkFactory, factories: Factories
) -> None:
    world = factories.tenant()
    with uow_factory() as uow:
        uow.session.add(Customer(tenant_id=world.tenant_id, name="never saved"))
        uow.session.flush()
    with uow_factory.reader() as uow:
        assert uow.session.scalars(select(Customer)).all() == []


def test_a_read_proceeds_while_a_write_transaction_is_open(
    uow_factory: UnitOfWorkFactory, factories: Factories
) -> None:
    world = factories.tenant()
    factories.customer(world, name="已有客户")
    with uow_factory() as writer:
        writer.session.execute(text("SELECT 1"))  # holds the write lock on SQLite
        writer.session.add(Customer(tenant_id=world.tenant_id, name="未提交"))
        writer.session.flush()
        started = time.monotonic()
        with uow_factory.reader() as reader:
            names = reader.session.scalars(select(Customer.name)).all()
        assert time.monotonic() - started < 2  # did not wait for the writer
        assert names == ["已有客户"]  # and saw only committed data


def test_a_reader_cannot_commit(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory.reader() as uow, pytest.raises(RuntimeError):
        uow.commit()
