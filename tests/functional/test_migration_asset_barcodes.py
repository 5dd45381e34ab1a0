"""Migration 0013 on a database with assets: each gets its own label token, and the
asset keeps everything it had; down and up again leaves a working registry."""

from __future__ import annotations

from sqlalchemy import Engine, select, text

from api.assets.models import Asset
from api.db import UnitOfWorkFactory
from api.migrations import migrate, upgrade
from tests.support.factories import Factories


def test_existing_assets_get_distinct_label_tokens_and_keep_their_barcodes(
    own_engine: Engine,
) -> None:
    upgrade(own_engine)
    factories = Factories(UnitOfWorkFactory(own_engine))
    world = factories.tenant()
    site = factories.site(world, factories.customer(world))
    assets = [factories.asset(world, site, barcode_value=f"TAG-{n}") for n in range(3)]

    migrate(own_engine, "downgrade", "0010")  # before asset barcodes
    with own_engine.connect() as connection:
        columns = set(connection.execute(text("SELECT * FROM assets LIMIT 0")).keys())
    assert "label_token" not in columns and "gs1_gtin" not in columns
    upgrade(own_engine)

    with own_engine.connect() as connection:
        rows = connection.execute(
            select(Asset.id, Asset.label_token, Asset.barcode_value, Asset.provisional)
        ).all()
    tokens = [row.label_token for row in rows]
    assert len(set(tokens)) == len(assets) and all(len(t) >= 32 for t in tokens)
    assert {row.barcode_value for row in rows} == {"TAG-0", "TAG-1", "TAG-2"}
    assert not any(row.provisional for row in rows)
    # New assets after the upgrade get tokens of their own too.
    later = factories.asset(world, site, barcode_value="TAG-3")
    with own_engine.connect() as connection:
        token = connection.scalar(select(Asset.label_token).where(Asset.id == later.id))
    assert token and token not in tokens
