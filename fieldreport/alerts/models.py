"""Spot-report alerts: one row per urgent report, and where each coordinator wants alerts mailed.

The alert row is written in the report's own transaction, so an alert exists exactly when its
report does; the mail, the acknowledgement and the escalation are recorded on the row, which is
what makes the jobs idempotent and lets the sweep find what Redis lost.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fieldreport.db import Base, UTCDateTime, utcnow


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: a report alerts once, however often it is submitted, amended or the job retried.
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), unique=True)
    # The report's sector when it became urgent (on arrival, or by an amendment): who is
    # responsible does not move with later edits.
    sector_id: Mapped[int | None] = mapped_column(ForeignKey("sectors.id"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The coordinators' mail: claimed (a worker is sending), sent (never again), the last error.
    mail_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mailed_to: Mapped[int] = mapped_column(Integer, default=0)
    mail_error: Mapped[str | None] = mapped_column(Text)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Unacknowledged too long: the admins are told, once.
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalation_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalation_mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertAddress(Base):
    """The address a coordinator or admin wants spot-report alerts mailed to (none: in-app only)."""

    __tablename__ = "alert_addresses"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
