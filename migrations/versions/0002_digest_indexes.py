"""Indexes for the daily digest's reads of one day of reports; when a digest build began.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fieldreport.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("started_at", fieldreport.db.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reports_digest_status_day",
            [
                "status",
                "occurred_at",
                "category",
                "subcategory",
                "sector_id",
                "urgent",
                "observer_id",
                "attribution_party",
                "attribution_confidence",
                "longitude",
                "latitude",
            ],
            unique=False,
        )
        batch_op.create_index(
            "ix_reports_digest_category_day",
            ["category", "status", "occurred_at", "subcategory"],
            unique=False,
        )
        batch_op.create_index(
            "ix_reports_digest_urgent_day", ["urgent", "occurred_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_digest_urgent_day")
        batch_op.drop_index("ix_reports_digest_category_day")
        batch_op.drop_index("ix_reports_digest_status_day")
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.drop_column("started_at")
