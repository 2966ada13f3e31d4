"""One mail to one recipient over SMTP, and what the server's answer means for a retry.

- The mail's own problem is permanent (``PermanentDeliveryFailure``, never retried): its
  recipient refused with 5xx after RCPT, its content refused with 5xx at DATA, an
  internationalised address the server cannot carry (no SMTPUTF8).
- Ours is a configuration problem (``SmtpConfiguration``): the server refused the connection
  (554 greeting), our login (535), our sender address or our HELO with 5xx, or lacks STARTTLS
  or AUTH we are set up for. Every mail would fail alike until an admin fixes it, so the mail
  is retried like an outage (never failed for good) and the server gets an ``SmtpAlert`` that
  /readyz shows; the next mail that goes through that server clears it.
- 4xx anywhere, a timeout, a refused or dropped connection: retried (``SmtpTemporaryFailure``,
  ``SmtpUnavailable``).
"""

from __future__ import annotations

import contextvars
import smtplib
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from tempodesk.core import failpoints, metrics
from tempodesk.core.db import transaction, upsert
from tempodesk.core.models import SmtpAlert, utcnow

PERMANENT = "PermanentDeliveryFailure"
CONFIGURATION = "SmtpConfiguration"
# While a server is talked to, the activity heartbeats this often (seconds): every step may
# take the client's whole timeout, yet a live attempt never looks dead to Temporal.
BEAT_EVERY = 5.0


@dataclass
class Sender:
    """Where a ticket's mail comes from: its mailbox's address and SMTP, else the defaults."""

    address: str
    name: str
    signature: str = ""
    host: str = ""
    port: int = 0
    security: str = "none"
    username: str = ""
    password: str = ""

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"


def send(
    sessions: sessionmaker[Session],
    mail: EmailMessage,
    to: str,
    sender: Sender,
    timeout: float,
    bcc: Sequence[str] = (),
) -> str:
    """Send ``mail`` to ``to`` (and blind copies to ``bcc``: in the envelope only); the
    server's acceptance, or an ``ApplicationError`` typed as above (a configuration problem
    also raises the server's alert)."""
    try:
        with _beating(f"talking to {sender.server} for {to}"):
            detail = _transmit(mail, to, sender, timeout, bcc)
    except ApplicationError as exc:
        if exc.type == CONFIGURATION:
            _raise_alert(sessions, sender.server, exc.message)
        metrics.MAILS_OUT.labels("failed" if exc.type == PERMANENT else "retry").inc()
        raise
    metrics.MAILS_OUT.labels("sent").inc()
    _clear_alert(sessions, sender.server)
    return detail


@contextmanager
def _beating(detail: str) -> Iterator[None]:
    """Heartbeat every ``BEAT_EVERY`` seconds from a side thread while the block runs (in
    an activity; elsewhere nothing)."""
    if not activity.in_activity():
        yield
        return
    done = threading.Event()

    def beat() -> None:
        while not done.wait(BEAT_EVERY):
            activity.heartbeat(detail)

    activity.heartbeat(detail)
    ticker = threading.Thread(target=contextvars.copy_context().run, args=(beat,), daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()


def _transmit(
    mail: EmailMessage, to: str, sender: Sender, timeout: float, bcc: Sequence[str] = ()
) -> str:
    try:
        smtp_class = smtplib.SMTP_SSL if sender.security == "tls" else smtplib.SMTP
        with smtp_class(sender.host, sender.port, timeout=timeout) as smtp:
            if sender.security == "starttls":
                smtp.starttls()
            if sender.username:
                smtp.login(sender.username, sender.password)
            if not (to.isascii() and sender.address.isascii()):
                smtp.ehlo_or_helo_if_needed()
                if not smtp.has_extn("smtputf8"):
                    raise ApplicationError(
                        f"The address {to} needs SMTPUTF8, which {sender.server} does not "
                        "offer: it cannot be sent there.",
                        type=PERMANENT,
                        non_retryable=True,
                    )
            smtp.send_message(mail, from_addr=sender.address, to_addrs=[to, *bcc])
            failpoints.hit("smtp_after_accept")  # R1 window (a): 250 OK, not reported
            return f"accepted by {sender.server}"
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        raise _answer(code, reply, the_mails=True) from None
    except smtplib.SMTPDataError as exc:
        raise _answer(exc.smtp_code, exc.smtp_error, the_mails=True) from None
    except smtplib.SMTPResponseException as exc:  # greeting, HELO, STARTTLS, AUTH, MAIL FROM
        raise _answer(exc.smtp_code, exc.smtp_error, the_mails=False) from None
    except smtplib.SMTPNotSupportedError as exc:  # STARTTLS or AUTH we need is not offered
        raise ApplicationError(f"SMTP server {sender.server}: {exc}", type=CONFIGURATION) from None
    except (TimeoutError, OSError, smtplib.SMTPException) as exc:
        # Connection refused, timeouts, dropped connections: retried with backoff.
        raise ApplicationError(f"SMTP server unavailable: {exc}", type="SmtpUnavailable") from None


def _answer(code: int, reply: bytes | str, *, the_mails: bool) -> ApplicationError:
    """A 5xx is permanent when it is about this mail, a configuration problem when it is
    about us; a 4xx is temporary either way."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    message = f"SMTP {code}: {text}"
    if 500 <= code < 600 and the_mails:
        return ApplicationError(message, type=PERMANENT, non_retryable=True)
    if 500 <= code < 600:
        return ApplicationError(message, type=CONFIGURATION)
    return ApplicationError(message, type="SmtpTemporaryFailure")


def _raise_alert(sessions: sessionmaker[Session], server: str, error: str) -> None:
    now = utcnow()
    with transaction(sessions) as session:
        upsert(
            session,
            SmtpAlert,
            {"server": server[:300], "error": error[:500], "since": now, "last_seen_at": now},
            on=["server"],
            update=["error", "last_seen_at"],
        )


def _clear_alert(sessions: sessionmaker[Session], server: str) -> None:
    with transaction(sessions) as session:
        session.execute(delete(SmtpAlert).where(SmtpAlert.server == server[:300]))
