"""Two-step log-in secrets sealed at rest: ``users.totp_secret`` grows from 64 to 128
characters to hold ``v1:<key id>:<nonce and ciphertext>`` (accounts/totp_sealing.py).

The secrets already stored are sealed by the app, not here: the key lives in the data directory,
which a migration does not know (``fieldreport.migrate.upgrade`` gets a database URL only, and
``alembic upgrade`` can be run from any machine). A migration that guessed the directory could
make a new key in the wrong place and seal every secret with it, locking everyone out. So
``fieldreport init-db`` seals them right after migrating, and the app at start
(accounts/totp_startup.py); until then a clear secret still works, and is sealed at its next use.

Revision ID: 0012_totp_sealed
Revises: 0011_map_points
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_totp_sealed"
down_revision = "0011_map_points"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "totp_secret",
            existing_type=sa.String(length=64),
            type_=sa.String(length=128),
            existing_nullable=True,
        )


def downgrade() -> None:
    """Only while no sealed secret is stored: the older code cannot read one, and a sealed
    value does not fit 64 characters. Reset two-step log-in first (``fieldreport
    reset-two-factor --all``) to go back."""
    sealed = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM users WHERE totp_secret LIKE 'v1:%'")
    )
    if sealed:
        raise RuntimeError(
            f"{sealed} two-step log-in secrets are sealed; the schema before 0012 cannot hold "
            "them. Run `fieldreport reset-two-factor --all` first."
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "totp_secret",
            existing_type=sa.String(length=128),
            type_=sa.String(length=64),
            existing_nullable=True,
        )
