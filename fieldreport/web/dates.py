"""One way to write a time on every page: "3 Dec 2026, 14:05 (UTC+2)".

Day, month in words (the reader's language: "3 груд. 2026"), year, a 24-hour clock and the
offset from UTC, in the mission's time zone (``FIELDREPORT_TIME_ZONE``; a user's own zone where
one is set). No order of day and month to guess, no AM/PM, no zone abbreviation that reads
differently in each language. static/js/i18n.js ``formatTime`` writes the same on the phone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask_babel import format_date, format_datetime, get_timezone

DATE_PATTERN = "d MMM y"
TIME_PATTERN = "d MMM y, HH:mm"


def utc_offset(moment: datetime) -> str:
    """ "UTC+2", "UTC+5:30", "UTC-3" or "UTC" for an aware time."""
    offset = moment.utcoffset()
    minutes = round(offset.total_seconds() / 60) if offset is not None else 0
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def local_time(value: datetime | None, style: str | None = None) -> str:
    """A stored (UTC) time in the one format; ``style`` is accepted and ignored (one format)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(get_timezone())
    return f"{format_datetime(value, TIME_PATTERN)} ({utc_offset(local)})"


def local_date(value: date | datetime | None) -> str:
    """A day in the one format ("3 Dec 2026"); a time is first put in the mission's zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(get_timezone())
        value = value.date()
    return str(format_date(value, DATE_PATTERN))


def short_day(day: date) -> str:
    """A column heading in the viewer's language ("Mon 23 Nov")."""
    return str(format_date(day, "EEE d MMM"))


def time_zone_name() -> str:
    """The zone the pages' times are in (for the scripts' Intl.DateTimeFormat)."""
    return str(get_timezone().zone) if hasattr(get_timezone(), "zone") else str(get_timezone())
