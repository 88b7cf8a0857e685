"""Spot-report alerts: one per urgent report (mail, acknowledgement, escalation), and where each
coordinator or admin wants alerts mailed; the review desk's two indexes on reports.

Revision ID: 0010_alerts
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fieldreport.db

revision = "0010_alerts"
down_revision = "0009_places"
branch_labels = None
depends_on = None


def _time(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, fieldreport.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("sector_id", sa.Integer(), nullable=True),
        _time("raised_at", nullable=False),
        _time("mail_claimed_at"),
        _time("mailed_at"),
        sa.Column("mailed_to", sa.Integer(), nullable=False),
        sa.Column("mail_error", sa.Text(), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        _time("acknowledged_at"),
        _time("escalated_at"),
        _time("escalation_claimed_at"),
        _time("escalation_mailed_at"),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"], ["users.id"], name=op.f("fk_alerts_acknowledged_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_alerts_report_id_reports")
        ),
        sa.ForeignKeyConstraint(
            ["sector_id"], ["sectors.id"], name=op.f("fk_alerts_sector_id_sectors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("report_id", name=op.f("uq_alerts_report_id")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_raised_at"), ["raised_at"], unique=False)
    op.create_table(
        "alert_addresses",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        _time("updated_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_alert_addresses_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_alert_addresses")),
    )

    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reports_review_queue", ["status", "urgent", "occurred_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_reports_review_counts", ["status", "category", "urgent", "sector_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_review_counts")
        batch_op.drop_index("ix_reports_review_queue")
    op.drop_table("alert_addresses")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_raised_at"))
    op.drop_table("alerts")
