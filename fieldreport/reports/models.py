"""Reports and their ledger of versions.

A report's row holds its identity, workflow state and current content (for fast queries); every
version of the content is kept, unchanged, as a :class:`ReportVersion` whose hash chains to the
entry before it. An edit appends a version; nothing already recorded is overwritten.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fieldreport.db import Base, UTCDateTime, utcnow
from fieldreport.reports.changes import watch

STATUSES = ("submitted", "in_review", "verified", "disputed", "rejected", "needs_info")
MAP_INDEX_COLUMNS = (
    "occurred_at", "sector_id", "status", "category", "urgent", "latitude", "longitude", "id",
)  # fmt: skip


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_occurred_at_status", "occurred_at", "status"),
        Index("ix_reports_observer_received", "observer_id", "received_at"),
        # The review desk (review/desk.py): the queue's order within a status, read in index
        # order page after page; the counts beside its filters, read from the index alone.
        Index("ix_reports_review_queue", "status", "urgent", "occurred_at", "id"),
        Index("ix_reports_review_counts", "status", "category", "urgent", "sector_id"),
        # The lists, newest event first, for each kind of reader (fieldreport/reports/lists.py):
        # every keyset page walks one of these from its cursor and reads only a page of rows.
        Index("ix_reports_event_order", "occurred_at", "id"),
        Index("ix_reports_sector_event", "sector_id", "occurred_at", "id"),
        Index("ix_reports_observer_event", "observer_id", "occurred_at", "id"),
        Index("ix_reports_status_event", "status", "occurred_at", "id"),
        Index("ix_reports_changes", "change_seq", "id"),
        Index("ix_reports_sector_changes", "sector_id", "change_seq", "id"),
        # The map (sectors/map_points.py): a day's rows read from the index alone, with what the
        # viewer's filters ask (sector, status, category) and every column the map shows.
        Index("ix_reports_map", *MAP_INDEX_COLUMNS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(36), unique=True)
    observer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    team_code: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    subcategory: Mapped[str] = mapped_column(String(48))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    occurred_offset_minutes: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    position_source: Mapped[str] = mapped_column(String(8), default="manual")
    sector_id: Mapped[int | None] = mapped_column(ForeignKey("sectors.id"), index=True)
    basis: Mapped[str] = mapped_column(String(16))
    attribution_party: Mapped[str | None] = mapped_column(String(64))
    attribution_confidence: Mapped[str | None] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    narrative: Mapped[str] = mapped_column(Text, default="")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="submitted", index=True)
    clock_skew_s: Mapped[int | None] = mapped_column(Integer)
    # The phone's clock when it sent the report (beside received_at, the server's): see
    # reports/phone_clock.py. Neither is ever "fixed"; their difference is clock_skew_s.
    phone_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    content_sha256: Mapped[str] = mapped_column(String(64))
    prev_sha256: Mapped[str | None] = mapped_column(String(64))
    # The order in which changes were committed (fieldreport/reports/changes.py): what the API's
    # ``since`` walks. Stamped at commit; 0 only for rows written before it existed.
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


watch(Report)


class ReportVersion(Base):
    """One immutable version of a report's content: an entry in the evidence ledger."""

    __tablename__ = "report_versions"
    __table_args__ = (UniqueConstraint("report_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    prev_sha256: Mapped[str | None] = mapped_column(String(64))
    # sha256(prev_sha256 + content_sha256): each entry seals the whole chain before it.
    entry_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
