"""The phone's clock beside the server's: what a coordinator needs to trust an event time.

The outbox sends the phone's own time with each report (header ``X-Phone-Sent-At``). It is
kept as given beside ``received_at`` and never used to "fix" either (DESIGN.md §9, Time); their
difference, ``clock_skew_s``, flags a report whose event time may be off by as much.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fieldreport.reports.models import Report

# Beyond this the observer is warned on the phone and the coordinator sees a flag.
SKEW_WARNING = timedelta(minutes=5)
# Network time, queueing and retries come on top of the skew; a plausible send time only.
MAX_PLAUSIBLE_SKEW = timedelta(days=366)


def parse_phone_time(raw: str | None) -> datetime | None:
    """An ISO 8601 time with its zone, or None for anything else (the header is optional)."""
    if not raw or len(raw) > 40:
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        # "0001-01-01T00:00+05:00" is valid ISO 8601 and has no UTC time: refused, not a 500.
        return value.astimezone(UTC) if value.tzinfo is not None else None
    except (ValueError, OverflowError):
        return None


def record_phone_time(report: Report, raw: str | None) -> None:
    """Keep the phone's send time of a newly stored report and how far its clock was off."""
    sent_at = parse_phone_time(raw)
    if sent_at is None or report.received_at is None:
        return
    skew = sent_at - report.received_at.astimezone(UTC)
    if abs(skew) > MAX_PLAUSIBLE_SKEW:
        return
    report.phone_sent_at = sent_at
    report.clock_skew_s = round(skew.total_seconds())
