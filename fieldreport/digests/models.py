"""Daily digests for the commission, and the record of each time one was sent."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fieldreport.db import Base, UTCDateTime, utcnow
from fieldreport.reports.models import Report

# "sending" is held while one worker emails the digest: the claim that stops a second send.
DIGEST_STATES = ("building", "ready", "failed", "sending", "sent")


class Digest(Base):
    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12), default="building")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    # When the latest build began: a "building" row far older than a job's timeout lost its worker.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    generated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    figures: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ledger_head: Mapped[str | None] = mapped_column(String(64))
    signature: Mapped[str | None] = mapped_column(String(128))
    html_key: Mapped[str | None] = mapped_column(String(128))
    pdf_key: Mapped[str | None] = mapped_column(String(128))
    map_key: Mapped[str | None] = mapped_column(String(128))


class DigestSend(Base):
    __tablename__ = "digest_sends"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recipients: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12))
    error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(255))


# The digest reads one day of reports many ways; these indexes let it do so from the index alone
# (every column the figures and the map need) or from the few rows of one category, on SQLite
# and PostgreSQL: 100,000 reports are aggregated in well under a second.
# They are declared here, on the reports table, because only the digest needs them.
Index(
    "ix_reports_digest_status_day",
    Report.status,
    Report.occurred_at,
    Report.category,
    Report.subcategory,
    Report.sector_id,
    Report.urgent,
    Report.observer_id,
    Report.attribution_party,
    Report.attribution_confidence,
    Report.longitude,
    Report.latitude,
)
Index(
    "ix_reports_digest_category_day",
    Report.category,
    Report.status,
    Report.occurred_at,
    Report.subcategory,
)
Index("ix_reports_digest_urgent_day", Report.urgent, Report.occurred_at)
