"""The phone's own send time beside the server's receipt time (the clock-skew flag).

Revision ID: 0007_phone_clock
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fieldreport.db

revision = "0007_phone_clock"
down_revision = "0006_list_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("phone_sent_at", fieldreport.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_column("phone_sent_at")
