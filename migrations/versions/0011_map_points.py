"""The map's covering index on reports: the first map request of a day reads its rows (event
time, sector, status, category, urgency, position, id) from the index alone, not the table.

Revision ID: 0011_map_points
Revises: 0010_alerts
"""

from __future__ import annotations

from alembic import op

revision = "0011_map_points"
down_revision = "0010_alerts"
branch_labels = None
depends_on = None

# The same columns as fieldreport.reports.models.MAP_INDEX_COLUMNS, written out: a migration
# keeps the schema of its day even when the models change later.
COLUMNS = [
    "occurred_at", "sector_id", "status", "category", "urgent", "latitude", "longitude", "id",
]  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index("ix_reports_map", COLUMNS, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_map")
