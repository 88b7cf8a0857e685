"""When the nightly digest is due: at ``settings.digest_hour`` in the commission's zone, for
the day before. Pure time arithmetic and one query; the jobs that act on it are in ``tasks.py``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldreport.config import Settings
from fieldreport.digests import service
from fieldreport.digests.models import DigestSend


def nightly_run(settings: Settings, day: date) -> datetime:
    """The UTC instant ``day``'s digest is due: the next day at ``digest_hour``, local time."""
    local = datetime.combine(day + timedelta(days=1), time(settings.digest_hour), settings.zone)
    return local.astimezone(UTC)


def due_day(settings: Settings, now: datetime) -> date:
    """The latest day whose digest is due at ``now``."""
    today = now.astimezone(settings.zone).date()
    yesterday = today - timedelta(days=1)
    return yesterday if nightly_run(settings, yesterday) <= now else yesterday - timedelta(days=1)


def next_nightly(settings: Settings, now: datetime) -> tuple[date, datetime]:
    """The next day whose digest is not due yet, and when it will be."""
    day = due_day(settings, now) + timedelta(days=1)
    return day, nightly_run(settings, day)


def is_over(settings: Settings, day: date, now: datetime) -> bool:
    """Whether ``day`` has ended in the commission's zone (only then can it be digested)."""
    return day < now.astimezone(settings.zone).date()


def needs_nightly(session: Session, settings: Settings, day: date, now: datetime) -> bool:
    """Whether the nightly run still has work for ``day``: a build, or the email."""
    digest = service.get_digest(session, day)
    if digest is None:
        return True
    if digest.state == "building":
        # Its worker died (a live build ends or fails well within the job timeout).
        limit = timedelta(seconds=settings.job_timeout_s * 2)
        return digest.started_at is None or now - digest.started_at > limit
    if digest.state != "ready" or not settings.digest_recipients:
        return False  # building, failed (coordinators told), sending or sent
    sent = session.scalar(
        select(DigestSend.id).where(DigestSend.digest_id == digest.id, DigestSend.state == "sent")
    )
    return sent is None
