"""Sectors of the area of responsibility, and who is assigned where."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fieldreport.db import Base, UTCDateTime, utcnow


class Sector(Base):
    __tablename__ = "sectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16), default="sector")
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Assignment(Base):
    __tablename__ = "assignments"
    # Coverage asks, for each observer, "assigned on this day?": only assignments not yet ended
    # are read, not the observer's whole history of them.
    __table_args__ = (Index("ix_assignments_observer_ends", "observer_id", "ends_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    observer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    sector_id: Mapped[int] = mapped_column(ForeignKey("sectors.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    # Current and coming assignments, and a week's roster, read from here: old ones are skipped.
    ends_on: Mapped[date] = mapped_column(Date, index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    allow_overlap: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CoordinatorSector(Base):
    """Limits a coordinator to some sectors; a coordinator with no rows sees all of them."""

    __tablename__ = "coordinator_sectors"
    __table_args__ = (UniqueConstraint("user_id", "sector_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    sector_id: Mapped[int] = mapped_column(ForeignKey("sectors.id"))
