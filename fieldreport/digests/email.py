"""The digest email: a plain-text part, an HTML part and the PDF, sent with smtplib."""

from __future__ import annotations

import smtplib
import ssl
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from smtplib import SMTPException

from fieldreport.config import Settings
from fieldreport.i18n import translations

__all__ = ["SMTPException", "compose", "deliver"]

SMTP_TIMEOUT_S = 30


def compose(settings: Settings, *, day: date, html: str, text: str, pdf: bytes) -> EmailMessage:
    """One message to all recipients: the commission's members see who else received it."""
    message = EmailMessage()
    gettext = translations(settings.languages[0]).gettext
    message["Subject"] = gettext("%(mission)s: daily digest %(day)s") % {
        "mission": settings.mission_name,
        "day": day.isoformat(),
    }
    message["From"] = settings.smtp_sender
    message["To"] = ", ".join(settings.digest_recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.smtp_sender.rpartition("@")[2] or None)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=f"digest-{day.isoformat()}.pdf"
    )
    return message


def deliver(settings: Settings, message: EmailMessage) -> str:
    """Hand the message to the SMTP server; returns its Message-ID. Raises on refusal."""
    assert settings.smtp_host
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_S) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        refused = smtp.send_message(message)
    if refused:
        raise SMTPException(f"recipients refused: {', '.join(sorted(refused))}")
    return str(message["Message-ID"])
