"""What ops watch in the database: quarantined mail, pending and dead-lettered starts,
failing mailboxes and SMTP servers. One read for /readyz, /metrics (web and worker) and the
admin's operations page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.orm import Session

from tempodesk.core.models import (
    Channel,
    InboundMessage,
    Mailbox,
    Message,
    PendingStart,
    SmtpAlert,
    Ticket,
)

#: The failed starts the operations page lists at most (the oldest first).
FAILED_STARTS_SHOWN = 200


@dataclass
class Health:
    quarantined_mail: int = 0
    pending_starts: int = 0
    dead_letter_starts: int = 0
    failing_smtp_servers: int = 0
    sla_breached: int = 0
    mailbox_errors: dict[str, str] = field(default_factory=dict)
    mailboxes: list[str] = field(default_factory=list)  # every enabled one

    @property
    def troubled(self) -> bool:
        """Something an operator should look at (the service still works)."""
        return bool(self.mailbox_errors or self.dead_letter_starts or self.failing_smtp_servers)

    def counts(self) -> dict[str, float]:
        """The numbers, keyed as ``tempodesk.core.metrics.GAUGES`` (without its prefix)."""
        return {
            "quarantined_mail": self.quarantined_mail,
            "pending_starts": self.pending_starts,
            "dead_letter_starts": self.dead_letter_starts,
            "failing_mailboxes": len(self.mailbox_errors),
            "failing_smtp_servers": self.failing_smtp_servers,
            "sla_breached_tickets": self.sla_breached,
        }


def _count(session: Session, model: type, *where: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def read(session: Session) -> Health:
    """The figures now (a database that does not answer raises, as any query would)."""
    session.execute(text("SELECT 1"))
    enabled = session.execute(
        select(Channel.name, Mailbox.last_error)
        .join(Mailbox, Mailbox.channel_id == Channel.id)
        .where(Mailbox.enabled.is_(True))
        .order_by(Channel.name)
    ).all()
    return Health(
        quarantined_mail=_count(session, InboundMessage, InboundMessage.status == "quarantined"),
        pending_starts=_count(session, PendingStart, PendingStart.dead_at.is_(None)),
        dead_letter_starts=_count(session, PendingStart, PendingStart.dead_at.is_not(None)),
        failing_smtp_servers=_count(session, SmtpAlert),
        sla_breached=_count(
            session,
            Ticket,
            Ticket.sla_breached.is_(True),
            Ticket.state_category.not_in(("closed", "merged")),
        ),
        mailboxes=[name for name, _error in enabled],
        mailbox_errors={name: error for name, error in enabled if error},
    )


def failed_starts(session: Session) -> list[PendingStart]:
    """Starts that failed at least once (dead-lettered or backing off), oldest first."""
    return list(
        session.scalars(
            select(PendingStart)
            .where(PendingStart.attempts > 0)
            .order_by(PendingStart.created_at)
            .limit(FAILED_STARTS_SHOWN)
        )
    )


def smtp_alerts(session: Session) -> list[SmtpAlert]:
    return list(session.scalars(select(SmtpAlert).order_by(SmtpAlert.server)))


def tickets_with_queued_mail(session: Session, older_than: timedelta, limit: int) -> list[str]:
    """Numbers of tickets with a mail still queued after ``older_than`` (newest first): where
    a send activity is likely retrying (the operations page asks Temporal about these)."""
    cutoff = datetime.now(UTC) - older_than
    rows = session.execute(
        select(Message.ticket_number, func.max(Message.created_at))
        .where(Message.delivery_status == "queued")
        .where(Message.created_at <= cutoff)
        .group_by(Message.ticket_number)
        .order_by(func.max(Message.created_at).desc())
        .limit(limit)
    )
    return [number for number, _at in rows]
