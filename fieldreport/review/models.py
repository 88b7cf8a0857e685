"""Review events: every change of a report's status, and questions to its observer; the review
desk's figures per (status, category, urgency, sector), kept by the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from fieldreport.db import Base, UTCDateTime, utcnow

EVENT_KINDS = ("status", "question", "answer", "edit", "reopen")


class ReviewEvent(Base):
    __tablename__ = "review_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(12), default="status")
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)


# Reports outside every sector are counted under this key (sector ids start at 1): a key
# column of the counts cannot be NULL, or two "outside" rows would never meet in one.
OUTSIDE_SECTOR = 0


class ReviewCount(Base):
    """How many reports there are of each (status, category, urgency, sector): the review desk's
    filter figures, read from at most statuses × categories × 2 × sectors rows however long the
    mission's history is (issue 12).

    The database keeps the figures itself: triggers on ``reports`` (:data:`COUNT_TRIGGERS`) add
    and take away one in the same statement that inserts, deletes or changes a report, so every
    writer (the review use cases, amendments, the sector repair's bulk UPDATE, imports, the bench's
    Core INSERTs) keeps them exact without knowing about them; tests/test_review_counts.py checks
    them against a recount.
    """

    __tablename__ = "review_counts"

    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    urgent: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    sector_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer)


_KEY = "status, category, urgent, sector_key"


def _add(row: str) -> str:
    # Only the fixed words NEW and OLD are put into this SQL.
    return (
        f"INSERT INTO review_counts ({_KEY}, number) VALUES ({row}.status, {row}.category, "  # noqa: S608
        f"{row}.urgent, coalesce({row}.sector_id, {OUTSIDE_SECTOR}), 1) "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET number = review_counts.number + 1;"
    )


def _take(row: str) -> str:
    return (
        f"UPDATE review_counts SET number = number - 1 WHERE status = {row}.status AND "  # noqa: S608
        f"category = {row}.category AND urgent = {row}.urgent AND "
        f"sector_key = coalesce({row}.sector_id, {OUTSIDE_SECTOR});"
    )


_CHANGED = (
    "OLD.status IS DISTINCT FROM NEW.status OR OLD.category IS DISTINCT FROM NEW.category OR "
    "OLD.urgent IS DISTINCT FROM NEW.urgent OR OLD.sector_id IS DISTINCT FROM NEW.sector_id"
)
_WATCHED = "status, category, urgent, sector_id"

# Kept in step with migrations/versions/0013_review_counts.py (which has its own frozen copy);
# tests/test_review_counts.py runs the same checks on a migrated and on a create_all schema.
COUNT_TRIGGERS: dict[str, list[str]] = {
    "sqlite": [
        f"CREATE TRIGGER review_counts_insert AFTER INSERT ON reports BEGIN {_add('NEW')} END",
        f"CREATE TRIGGER review_counts_delete AFTER DELETE ON reports BEGIN {_take('OLD')} END",
        f"CREATE TRIGGER review_counts_update AFTER UPDATE OF {_WATCHED} ON reports "
        f"WHEN {_CHANGED.replace('IS DISTINCT FROM', 'IS NOT')} "
        f"BEGIN {_take('OLD')} {_add('NEW')} END",
    ],
    "postgresql": [
        # Rows are locked in key order (the smaller key first) so that two moves between the same
        # two figures in opposite directions (a decision and a reopening) cannot deadlock.
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


@event.listens_for(Base.metadata, "after_create")
def _create_count_triggers(target: Any, connection: Any, **_: Any) -> None:
    """``create_all`` (bench/review_desk.py) makes the triggers too, as the migration does."""
    for statement in COUNT_TRIGGERS.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)
