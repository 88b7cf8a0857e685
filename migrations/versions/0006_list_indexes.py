"""Lists whose cost does not grow with history: the indexes of the keyset pages (reports by event
time for each kind of reader, the audit log by user or event, assignments by end), and the
reports' change key for incremental sync (fieldreport/reports/changes.py).

Revision ID: 0006_list_indexes
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_list_indexes"
down_revision = "0005_ledger"
branch_labels = None
depends_on = None

REPORT_INDEXES = {
    "ix_reports_event_order": ["occurred_at", "id"],
    "ix_reports_sector_event": ["sector_id", "occurred_at", "id"],
    "ix_reports_observer_event": ["observer_id", "occurred_at", "id"],
    "ix_reports_status_event": ["status", "occurred_at", "id"],
    "ix_reports_changes": ["change_seq", "id"],
    "ix_reports_sector_changes": ["sector_id", "change_seq", "id"],
}
AUDIT_INDEXES = {
    "ix_audit_log_username_id": ["username", "id"],
    "ix_audit_log_action_id": ["action", "id"],
}


def upgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("change_seq", sa.BigInteger(), server_default="0", nullable=False)
        )
        for name, columns in REPORT_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        for name, columns in AUDIT_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index("ix_assignments_ends_on", ["ends_on"], unique=False)
        batch_op.create_index(
            "ix_assignments_observer_ends", ["observer_id", "ends_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_assignments_observer_ends")
        batch_op.drop_index("ix_assignments_ends_on")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        for name in AUDIT_INDEXES:
            batch_op.drop_index(name)
    with op.batch_alter_table("reports", schema=None) as batch_op:
        for name in REPORT_INDEXES:
            batch_op.drop_index(name)
        batch_op.drop_column("change_seq")
