"""A mail that belongs to no ticket, sent at once over the default SMTP server (the portal's
sign-in links). Tickets' mail goes through the workflow's outbox instead; this is for mail a
person waits for at the screen, where a retry later would be worth nothing.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from tempodesk.core.settings import Settings

log = logging.getLogger(__name__)


def send_now(settings: Settings, to: str, subject: str, body: str) -> bool:
    """Send a plain-text mail to ``to``; False (logged) when the server did not take it."""
    mail = EmailMessage()
    mail["From"] = formataddr((settings.mail_from_name, settings.mail_from))
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = make_msgid(domain=settings.message_id_domain)
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(body)
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(mail, from_addr=settings.mail_from, to_addrs=[to])
    except (OSError, smtplib.SMTPException) as exc:
        log.error("could not send a mail to %s: %s", to, exc)
        return False
    return True
