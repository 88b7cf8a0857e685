"""Spot-report alerts: raise one for an urgent report, say who must hear of it, acknowledge it.

Who is responsible for a report's sector: the coordinators limited to that sector. A report with
no sector, or in a sector no coordinator is limited to, falls to the coordinators without limits
(they see every report). Admins hear of an alert only when nobody acknowledged it in time
(``escalate_minutes``). The banner and the mail use the same rule (:func:`responsible_for`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from fieldreport.accounts.models import User
from fieldreport.accounts.roles import ADMIN, COORDINATOR
from fieldreport.accounts.service import audit
from fieldreport.alerts.models import Alert, AlertAddress
from fieldreport.db import utcnow
from fieldreport.reports.models import Report
from fieldreport.reports.taxonomy import ALWAYS_URGENT
from fieldreport.sectors.limits import visible_sector_ids
from fieldreport.sectors.models import CoordinatorSector, Sector

MAX_EMAIL = 254


class AlertInvalid(ValueError):
    """A request about alerts that cannot be honoured (an address that is not one)."""


def alerts(report: Report) -> bool:
    """Marked urgent by the observer, or of a kind that always is (casualties, a threat)."""
    return report.urgent or (report.category, report.subcategory) in ALWAYS_URGENT


def raise_alert(session: Session, report: Report) -> Alert | None:
    """The alert of an urgent report, written in the report's transaction (None: not urgent).

    Unique per report: a second call (a repeat submission) answers with the stored row.
    """
    if not alerts(report):
        return None
    existing = session.scalar(select(Alert).where(Alert.report_id == report.id))
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            alert = Alert(report_id=report.id, sector_id=report.sector_id, raised_at=utcnow())
            session.add(alert)
            session.flush()
    except IntegrityError:
        return session.scalar(select(Alert).where(Alert.report_id == report.id))
    return alert


def _sector_has_coordinators(sector_id: ColumnElement[int | None]) -> ColumnElement[bool]:
    return exists().where(CoordinatorSector.sector_id == sector_id)


def responsible_for(session: Session, user: User) -> ColumnElement[bool] | None:
    """The condition on ``Alert`` of the alerts ``user`` must hear of (None: none at all)."""
    if user.role == ADMIN:
        return Alert.escalated_at.is_not(None)
    if user.role != COORDINATOR:
        return None
    limits = visible_sector_ids(session, user)
    if limits is not None:
        return Alert.sector_id.in_(limits)
    return or_(Alert.sector_id.is_(None), ~_sector_has_coordinators(Alert.sector_id))


def recipients(session: Session, alert: Alert, *, escalation: bool = False) -> list[str]:
    """The addresses to mail: the responsible coordinators, or the admins for an escalation."""
    query = select(AlertAddress.email).join(User, User.id == AlertAddress.user_id)
    query = query.where(User.active.is_(True))
    if escalation:
        query = query.where(User.role == ADMIN)
    else:
        limited = select(CoordinatorSector.user_id).where(
            CoordinatorSector.sector_id == alert.sector_id
        )
        any_limit = select(CoordinatorSector.user_id)
        if alert.sector_id is not None and session.scalar(limited.limit(1)) is not None:
            query = query.where(User.role == COORDINATOR, User.id.in_(limited))
        else:
            query = query.where(User.role == COORDINATOR, User.id.not_in(any_limit))
    return sorted(set(session.scalars(query)))


@dataclass(frozen=True)
class AlertView:
    """What the banner and the alerts page show of one alert."""

    id: int
    report_id: int
    category: str
    subcategory: str
    sector_code: str | None
    raised_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    escalated: bool


def alerts_for(
    session: Session,
    user: User,
    *,
    taken: bool | None = None,
    alert_id: int | None = None,
    limit: int = 50,
) -> list[AlertView]:
    """The alerts ``user`` is responsible for, newest first, in one query.

    ``taken``: only the acknowledged ones (True) or only the open ones (False).
    """
    condition = responsible_for(session, user)
    if condition is None:
        return []
    acker = aliased(User)
    query = (
        select(Alert, Report.category, Report.subcategory, Sector.code, acker.display_name)
        .join(Report, Report.id == Alert.report_id)
        .outerjoin(Sector, Sector.id == Alert.sector_id)
        .outerjoin(acker, acker.id == Alert.acknowledged_by_id)
        .where(condition)
        .order_by(Alert.raised_at.desc(), Alert.id.desc())
        .limit(limit)
    )
    if taken is not None:
        query = query.where(
            Alert.acknowledged_at.is_not(None) if taken else Alert.acknowledged_at.is_(None)
        )
    if alert_id is not None:
        query = query.where(Alert.id == alert_id)
    return [_view(*row) for row in session.execute(query)]


def _view(
    alert: Alert, category: str, subcategory: str, code: str | None, name: str | None
) -> AlertView:
    return AlertView(
        alert.id,
        alert.report_id,
        category,
        subcategory,
        code,
        alert.raised_at,
        name,
        alert.acknowledged_at,
        alert.escalated_at is not None,
    )


def acknowledge(session: Session, user: User, alert_id: int) -> AlertView | None:
    """``user`` takes the alert; the first to do so is kept (None: not theirs to take).

    A conditional update, so two coordinators clicking at once leave one name on it.
    """
    condition = responsible_for(session, user)
    if (
        condition is None
        or session.scalar(select(Alert.id).where(Alert.id == alert_id, condition)) is None
    ):
        return None
    taken = session.execute(
        update(Alert)
        .where(Alert.id == alert_id, Alert.acknowledged_at.is_(None))
        .values(acknowledged_by_id=user.id, acknowledged_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken:
        audit(session, "alert.acknowledged", user=user, detail={"alert": alert_id})
    session.expire_all()
    found = alerts_for(session, user, alert_id=alert_id)
    return found[0] if found else None


def due_for_escalation(session: Session, minutes: float, now: datetime) -> list[int]:
    """Alerts nobody acknowledged within ``minutes`` and not yet escalated."""
    before = now - timedelta(minutes=minutes)
    return list(
        session.scalars(
            select(Alert.id).where(
                Alert.acknowledged_at.is_(None),
                Alert.escalated_at.is_(None),
                Alert.raised_at <= before,
            )
        )
    )


def mark_escalated(session: Session, alert_id: int) -> bool:
    """Escalate once (a conditional update); False when acknowledged or escalated meanwhile."""
    return bool(
        session.execute(
            update(Alert)
            .where(
                Alert.id == alert_id,
                Alert.acknowledged_at.is_(None),
                Alert.escalated_at.is_(None),
            )
            .values(escalated_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def unsent(session: Session, stale_before: datetime) -> tuple[list[int], list[int]]:
    """Alerts whose mail (to coordinators; to admins) is neither sent nor being sent."""
    free = or_(Alert.mail_claimed_at.is_(None), Alert.mail_claimed_at < stale_before)
    first = select(Alert.id).where(Alert.mailed_at.is_(None), free)
    free_esc = or_(
        Alert.escalation_claimed_at.is_(None), Alert.escalation_claimed_at < stale_before
    )
    second = select(Alert.id).where(
        and_(Alert.escalated_at.is_not(None), Alert.escalation_mailed_at.is_(None), free_esc)
    )
    return list(session.scalars(first)), list(session.scalars(second))


def address_of(session: Session, user: User) -> str:
    row = session.get(AlertAddress, user.id)
    return row.email if row else ""


def set_address(session: Session, user: User, email: str) -> None:
    """Where ``user`` wants alerts mailed; an empty address stops the mail (the banner stays)."""
    email = email.strip()
    if email and ("@" not in email or len(email) > MAX_EMAIL or any(c.isspace() for c in email)):
        raise AlertInvalid("an email address such as name@example.org")
    row = session.get(AlertAddress, user.id)
    if not email:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(AlertAddress(user_id=user.id, email=email))
    else:
        row.email = email
    audit(session, "alert.address", user=user)
    session.flush()
