"""Days in a time zone: the pages and figures of the sectors domain count by the event's day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fieldreport.db import utcnow


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where ``day`` in ``zone`` begins and the next day begins."""
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def today_in(zone: ZoneInfo) -> date:
    """Today's date in ``zone`` (an observer's own zone, or the mission's)."""
    return utcnow().astimezone(zone).date()
