"""The review desk's figures per (status, category, urgency, sector), kept by triggers on reports
(issue 12: the desk's filter counts must not grow with the mission's history).

The table is filled from the reports already there, in the same transaction that makes the
triggers, so no report is counted twice or missed. The trigger text is a frozen copy of
``fieldreport.review.models.COUNT_TRIGGERS`` (tests/test_review_counts.py compares the two).

Revision ID: 0013_review_counts
Revises: 0012_totp_sealed
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_review_counts"
down_revision = "0012_totp_sealed"
branch_labels = None
depends_on = None

_KEY = "status, category, urgent, sector_key"


def _add(row: str) -> str:
    # Only the fixed words NEW and OLD are put into this SQL.
    return (
        f"INSERT INTO review_counts ({_KEY}, number) VALUES ({row}.status, {row}.category, "  # noqa: S608
        f"{row}.urgent, coalesce({row}.sector_id, 0), 1) "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET number = review_counts.number + 1;"
    )


def _take(row: str) -> str:
    return (
        f"UPDATE review_counts SET number = number - 1 WHERE status = {row}.status AND "  # noqa: S608
        f"category = {row}.category AND urgent = {row}.urgent AND "
        f"sector_key = coalesce({row}.sector_id, 0);"
    )


_CHANGED = (
    "OLD.status IS DISTINCT FROM NEW.status OR OLD.category IS DISTINCT FROM NEW.category OR "
    "OLD.urgent IS DISTINCT FROM NEW.urgent OR OLD.sector_id IS DISTINCT FROM NEW.sector_id"
)
_WATCHED = "status, category, urgent, sector_id"
TRIGGERS = {
    "sqlite": [
        f"CREATE TRIGGER review_counts_insert AFTER INSERT ON reports BEGIN {_add('NEW')} END",
        f"CREATE TRIGGER review_counts_delete AFTER DELETE ON reports BEGIN {_take('OLD')} END",
        f"CREATE TRIGGER review_counts_update AFTER UPDATE OF {_WATCHED} ON reports "
        f"WHEN {_CHANGED.replace('IS DISTINCT FROM', 'IS NOT')} "
        f"BEGIN {_take('OLD')} {_add('NEW')} END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION review_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "IF TG_OP = 'INSERT' THEN " + _add("NEW") + " "
        "ELSIF TG_OP = 'DELETE' THEN " + _take("OLD") + " "
        "ELSIF ROW(OLD.status, OLD.category, OLD.urgent, coalesce(OLD.sector_id, 0)) < "
        "ROW(NEW.status, NEW.category, NEW.urgent, coalesce(NEW.sector_id, 0)) THEN "
        + _take("OLD")
        + " "
        + _add("NEW")
        + " "
        "ELSE " + _add("NEW") + " " + _take("OLD") + " "
        "END IF; RETURN NULL; END $$",
        "CREATE TRIGGER review_counts_insert_delete AFTER INSERT OR DELETE ON reports "
        "FOR EACH ROW EXECUTE FUNCTION review_counts_follow()",
        f"CREATE TRIGGER review_counts_update AFTER UPDATE OF {_WATCHED} ON reports "
        f"FOR EACH ROW WHEN ({_CHANGED}) EXECUTE FUNCTION review_counts_follow()",
    ],
}
FILL = (
    f"INSERT INTO review_counts ({_KEY}, number) "  # noqa: S608
    "SELECT status, category, urgent, coalesce(sector_id, 0), count(*) FROM reports "
    "GROUP BY status, category, urgent, coalesce(sector_id, 0)"
)


def upgrade() -> None:
    op.create_table(
        "review_counts",
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("sector_key", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "status", "category", "urgent", "sector_key", name=op.f("pk_review_counts")
        ),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":  # no report may change between the fill and the triggers
        op.execute("LOCK TABLE reports IN SHARE ROW EXCLUSIVE MODE")
    op.execute(FILL)
    for statement in TRIGGERS[bind.dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS review_counts_{name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS review_counts_insert_delete ON reports")
        op.execute("DROP TRIGGER IF EXISTS review_counts_update ON reports")
        op.execute("DROP FUNCTION IF EXISTS review_counts_follow()")
    op.drop_table("review_counts")
