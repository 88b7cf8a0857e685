"""One day in the commission's zone, and the SQL pieces every digest query is built from.

A day is local midnight to local midnight, as UTC instants (23 or 25 hours at DST changes). The
predicates say which reports count (rejected ones never do) and which are verified, spelled so
the database can answer from the digest's indexes (``models.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from fieldreport.reports.models import STATUSES, Report
from fieldreport.sectors.models import Sector

NO_SECTOR = "—"


@dataclass(frozen=True)
class DayRange:
    """Day ``day`` in ``zone`` as the UTC instants [start, end): 23 or 25 hours at DST changes."""

    day: date
    zone: ZoneInfo
    start: datetime
    end: datetime

    @classmethod
    def of(cls, day: date, zone: ZoneInfo) -> DayRange:
        return cls(day, zone, midnight_utc(day, zone), midnight_utc(day + timedelta(days=1), zone))

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)


def midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``zone``."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def occurred_in(start: datetime, end: datetime) -> ColumnElement[bool]:
    """Reports whose event happened in [start, end)."""
    return and_(Report.occurred_at >= start, Report.occurred_at < end)


# Spelled as IN (…), not != 'rejected': an equality on the index's first column lets the
# database read the day's rows from ix_reports_digest_status_day alone.
COUNTED_STATUSES = tuple(status for status in STATUSES if status != "rejected")


def counted_in(day: DayRange) -> ColumnElement[bool]:
    """The day's reports that count at all: rejected ones are not counted anywhere."""
    return and_(Report.status.in_(COUNTED_STATUSES), occurred_in(day.start, day.end))


def verified_in(day: DayRange) -> ColumnElement[bool]:
    """The day's verified reports: the only ones the commission's lists show."""
    return and_(occurred_in(day.start, day.end), Report.status == "verified")


IS_VERIFIED = case((Report.status == "verified", 1), else_=0)


def int_detail(name: str) -> ColumnElement[int]:
    """The sum of a whole-number detail field (0 where none has it)."""
    return func.coalesce(func.sum(Report.details[name].as_integer()), 0)


def sector_codes(session: Session) -> dict[int, str]:
    """Sector id → code, so figures name sectors as the commission's maps do."""
    return {sector_id: code for sector_id, code in session.execute(select(Sector.id, Sector.code))}


def local_time(day: DayRange, moment: datetime) -> str:
    """``moment`` as the commission's clock shows it (HH:MM)."""
    return day.local(moment).strftime("%H:%M")
