"""The gazetteer: named places that reports are described from ("4 km north-east of Arezzo").

Revision ID: 0009_places
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_places"
down_revision = "0007_phone_clock"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "places",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("admin1", sa.String(length=100), nullable=False),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_places")),
    )
    op.create_index(
        "ix_places_latitude_longitude", "places", ["latitude", "longitude"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_places_latitude_longitude", table_name="places")
    op.drop_table("places")
