"""The alert mail: claim it, compose it, record that it went (or why not).

Each alert has two mails at most: to the responsible coordinators, and (escalated) to the
admins. A claim is a conditional update committed before the SMTP server is contacted, and the
time it went is written after, so a retried or doubled job never mails twice; a claim older than
a job's time limit belongs to a worker that died and may be taken again (the sweep does).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from fieldreport.alerts.models import Alert
from fieldreport.config import Settings
from fieldreport.db import utcnow
from fieldreport.i18n import translations
from fieldreport.reports.models import Report
from fieldreport.reports.taxonomy import category_label, subcategory_label
from fieldreport.sectors.models import Sector

EXCERPT_CHARS = 600


def _columns(escalation: bool) -> tuple[str, str]:
    return (
        ("escalation_claimed_at", "escalation_mailed_at")
        if escalation
        else (
            "mail_claimed_at",
            "mailed_at",
        )
    )


def is_sent(alert: Alert, *, escalation: bool) -> bool:
    return getattr(alert, _columns(escalation)[1]) is not None


def claim(session: Session, alert_id: int, *, escalation: bool, stale_before: datetime) -> bool:
    """Take the mail for sending; False when it went already or another worker holds it."""
    claimed, sent = (getattr(Alert, name) for name in _columns(escalation))
    return bool(
        session.execute(
            update(Alert)
            .where(
                Alert.id == alert_id,
                sent.is_(None),
                or_(claimed.is_(None), claimed < stale_before),
            )
            .values({claimed: utcnow()})
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def record_sent(session: Session, alert_id: int, *, escalation: bool, count: int) -> None:
    """The mail went to ``count`` addresses (0: nobody to mail, nothing to retry)."""
    values: dict[str, object] = {_columns(escalation)[1]: utcnow()}
    if not escalation:
        values.update(mailed_to=count, mail_error=None)
    session.execute(update(Alert).where(Alert.id == alert_id).values(values))


def release(session: Session, alert_id: int, *, escalation: bool, error: str) -> None:
    """The SMTP server refused or was away: free the claim so a retry can send it."""
    claimed = getattr(Alert, _columns(escalation)[0])
    session.execute(
        update(Alert).where(Alert.id == alert_id).values({claimed: None, "mail_error": error[:500]})
    )


def compose(
    session: Session, settings: Settings, alert: Alert, to: list[str], *, escalation: bool
) -> EmailMessage:
    """One message to all recipients: each sees who else was told (and may take the alert)."""
    gettext = translations(settings.languages[0]).gettext
    report = session.get_one(Report, alert.report_id)
    sector = session.get(Sector, alert.sector_id) if alert.sector_id else None
    what = f"{gettext(category_label(report.category))} · " + gettext(
        subcategory_label(report.category, report.subcategory)
    )
    where = sector.code if sector else gettext("outside every sector")
    subject = gettext("Urgent report: %(what)s, %(where)s") % {"what": what, "where": where}
    if escalation:
        subject = gettext("Not acknowledged: %(subject)s") % {"subject": subject}
    message = EmailMessage()
    message["Subject"] = f"{settings.mission_name}: {subject}"
    message["From"] = settings.smtp_sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.smtp_sender.rpartition("@")[2] or None)
    lines = [
        subject,
        "",
        gettext("Event time (UTC): %(time)s") % {"time": report.occurred_at.isoformat()},
        gettext("Team: %(team)s") % {"team": report.team_code or "-"},
        "",
        report.narrative[:EXCERPT_CHARS],
        "",
        *where_to_act(gettext, settings, report.id, what=what, where=where),
    ]
    message.set_content("\n".join(lines))
    return message


def where_to_act(
    gettext: Callable[[str], str], settings: Settings, report_id: int, *, what: str, where: str
) -> list[str]:
    """Links to the report and the alerts page, or (no public address set) the way there in
    words: a relative path means nothing to a mail client, and the report's number is shown
    nowhere in the app, but the alerts page lists this alert by what and where it was."""
    report_link = settings.public_link(f"/reports/{report_id}")
    alerts_link = settings.public_link("/alerts")
    if report_link and alerts_link:
        return [
            gettext("Open the report: %(url)s") % {"url": report_link},
            gettext("Acknowledge it on the alerts page: %(url)s") % {"url": alerts_link},
        ]
    return [
        gettext(
            "In fieldreport, open “%(alerts)s” in the menu at the top: this alert is listed "
            "there as “%(what)s”, %(where)s."
        )
        % {"alerts": gettext("Alerts"), "what": what, "where": where},
        gettext("Open it to read the report; “%(take)s” acknowledges it.")
        % {"take": gettext("I take it")},
    ]
