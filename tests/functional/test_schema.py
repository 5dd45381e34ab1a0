"""The migrations and the models describe the same schema, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from api.migrations.env_compare import compare_options
from api.models import Base


def test_migrations_produce_exactly_the_models_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=compare_options())
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], (
        "models changed without a migration: run `fieldline db revision -m ...`"
    )
