"""The evidence log (issue 11): leaves, stored tree nodes, signed tree heads, phones' keys and
the signatures they made.

Revision ID: 0005_ledger
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fieldreport.db

revision = "0005_ledger"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_heads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tree_size", sa.Integer(), nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("key_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("digest_day", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_heads")),
    )
    with op.batch_alter_table("ledger_heads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_heads_digest_day"), ["digest_day"], unique=False
        )

    op.create_table(
        "ledger_leaves",
        sa.Column("leaf_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("leaf_hash", sa.String(length=64), nullable=False),
        sa.Column("appended_at", fieldreport.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_ledger_leaves")),
    )
    with op.batch_alter_table("ledger_leaves", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_leaves_kind_subject", ["kind", "subject_id"], unique=False)

    op.create_table(
        "ledger_nodes",
        sa.Column("node_key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("node_key", name=op.f("pk_ledger_nodes")),
    )
    op.create_table(
        "device_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("public_key_spki", sa.Text(), nullable=False),
        sa.Column("created_at", fieldreport.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_device_keys_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_keys")),
        sa.UniqueConstraint("key_id", name=op.f("uq_device_keys_key_id")),
    )
    with op.batch_alter_table("device_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_keys_user_id"), ["user_id"], unique=False)

    op.create_table(
        "device_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_version_id", sa.Integer(), nullable=False),
        sa.Column("device_key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("signed_body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_version_id"],
            ["report_versions.id"],
            name=op.f("fk_device_signatures_report_version_id_report_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_signatures")),
        sa.UniqueConstraint(
            "report_version_id", name=op.f("uq_device_signatures_report_version_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("device_signatures")
    with op.batch_alter_table("device_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_keys_user_id"))

    op.drop_table("device_keys")
    op.drop_table("ledger_nodes")
    with op.batch_alter_table("ledger_leaves", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_leaves_kind_subject")

    op.drop_table("ledger_leaves")
    with op.batch_alter_table("ledger_heads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_heads_digest_day"))

    op.drop_table("ledger_heads")
