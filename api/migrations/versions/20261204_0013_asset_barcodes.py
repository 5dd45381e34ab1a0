"""asset barcodes: GS1 fields, provisional assets, label tokens, repeat-issue settings

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-04 06:00:00

Assets gain the GS1 fields parsed from their barcode (AI 01 GTIN, 21 serial,
10 lot, 17 expiry), a ``provisional`` flag for assets a scan of an unknown code
created, and ``label_token``, the unguessable token their public repair-request
QR label carries (existing assets get one each here). Tenants gain the window
and threshold of repeat-issue detection and whether it opens a preventive order.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gs1_gtin", sa.String(length=14), nullable=True))
        batch_op.add_column(sa.Column("gs1_serial", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("gs1_lot", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("gs1_expires_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("provisional", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("label_token", sa.String(length=43), nullable=True))
    connection = op.get_bind()
    assets = sa.table("assets", sa.column("id", sa.Uuid()), sa.column("label_token", sa.String()))
    for (asset_id,) in connection.execute(sa.select(assets.c.id)).all():
        connection.execute(
            assets.update()
            .where(assets.c.id == asset_id)
            .values(label_token=secrets.token_urlsafe(24))
        )
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.alter_column("provisional", existing_type=sa.Boolean(), server_default=None)
        batch_op.alter_column("label_token", existing_type=sa.String(length=43), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_assets_label_token"), ["label_token"])
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("repeat_window_days", sa.Integer(), nullable=False, server_default="3")
        )
        batch_op.add_column(
            sa.Column("repeat_threshold", sa.Integer(), nullable=False, server_default="3")
        )
        batch_op.add_column(
            sa.Column(
                "repeat_opens_preventive", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        for column in ("repeat_window_days", "repeat_threshold"):
            batch_op.alter_column(column, existing_type=sa.Integer(), server_default=None)
        batch_op.alter_column(
            "repeat_opens_preventive", existing_type=sa.Boolean(), server_default=None
        )


def downgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("repeat_opens_preventive")
        batch_op.drop_column("repeat_threshold")
        batch_op.drop_column("repeat_window_days")
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_assets_label_token"), type_="unique")
        batch_op.drop_column("label_token")
        batch_op.drop_column("provisional")
        batch_op.drop_column("gs1_expires_on")
        batch_op.drop_column("gs1_lot")
        batch_op.drop_column("gs1_serial")
        batch_op.drop_column("gs1_gtin")
