"""What the admin area (web/admin/) reads and edits of mail: a mailbox's settings form, the
mailboxes with their IMAP state and counts, and the quarantine's list of inbound mail.

Nothing here returns or accepts a stored secret: the form says only whether one is stored.
Saving goes through ``tempodesk.mail.mailboxes.save``, which checks what a mailbox is; the
form adds what only a form can get wrong (lengths, choices that do not exist).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tempodesk.core.models import (
    Channel,
    Group,
    InboundMessage,
    Mailbox,
    ProcessVersion,
    SmtpAlert,
    User,
)
from tempodesk.mail import MailRejected, parse
from tempodesk.mail.mailboxes import MAILBOX_FIELDS, channel, row

REVIEWABLE = ("quarantined", "ignored")  # the outcomes the quarantine page lists
# What an admin may reprocess or release: those, and a message whose last attempt stopped
# halfway (e.g. Temporal was down); every step of the pipeline is idempotent.
ACTIONABLE = (*REVIEWABLE, "stored")
_FORM_TEXT = {  # field: the column it is stored in (for its length)
    "label": Channel.__table__.c.label,
    "imap_host": Mailbox.__table__.c.imap_host,
    "imap_username": Mailbox.__table__.c.imap_username,
    "folder": Mailbox.__table__.c.folder,
    "processed_folder": Mailbox.__table__.c.processed_folder,
    "smtp_host": Mailbox.__table__.c.smtp_host,
    "smtp_username": Mailbox.__table__.c.smtp_username,
    "from_name": Mailbox.__table__.c.from_name,
    "order_pattern": Mailbox.__table__.c.order_pattern,
}
_FORM_LINES = ("signature", "blocklist")
_FORM_CHOICES = (
    "group_name",
    "owner",
    "process_name",
    "imap_security",
    "smtp_security",
    "closed_policy",
    "language",
)
_FORM_INTS = ("imap_port", "smtp_port", "poll_seconds", "reopen_days", "max_message_mb")
_FORM_BOOLS = ("enabled", "imap_verify", "import_existing", "acknowledge", "create_contacts")
_WHOLE = re.compile(r"^\d{1,9}$")


@dataclass
class MailboxForm:
    """What an admin's form asks for; ``None`` passwords keep the stored ones."""

    address: str
    values: dict[str, Any]
    imap_password: str | None = None
    smtp_password: str | None = None


def form_defaults() -> dict[str, Any]:
    """The settings a new mailbox starts with (the columns' defaults)."""
    values: dict[str, Any] = {"address": "", "label": ""}
    values.update({key: None for key in ("group_name", "owner", "process_name")})
    for key in MAILBOX_FIELDS:
        default = Mailbox.__table__.c[key].default
        values[key] = getattr(default, "arg", None)
    return values


def form_values(session: Session, name: str) -> dict[str, Any] | None:
    """A mailbox's current settings for its form (no secrets); None if there is none."""
    found = channel(session, name)
    if found is None:
        return None
    values = form_defaults()
    values.update(
        address=found.address,
        label=found.label,
        group_name=found.group_name,
        owner=found.owner,
        process_name=found.process_name,
    )
    box = session.scalar(select(Mailbox).where(Mailbox.channel_id == found.id))
    if box is not None:
        values.update({key: getattr(box, key) for key in MAILBOX_FIELDS})
    return values


def stored_passwords(session: Session, name: str) -> dict[str, bool]:
    """Whether an IMAP / SMTP password is stored (never what it is)."""
    box = row(session, name)
    return {
        "imap": bool(box is not None and box.imap_secret),
        "smtp": bool(box is not None and box.smtp_secret),
    }


def read_form(form: Any) -> MailboxForm:
    """Only the listed fields of a submitted form, coerced; anything else is ignored.

    ``form`` is a mapping of field names to text (a ticked checkbox sends "on"). A number
    that is not one is passed on as text, so :func:`save` names the field. A password field
    left empty keeps the stored password; ``clear_imap_password`` / ``clear_smtp_password``
    remove it, unless a new one is typed at the same time.
    """

    def text(key: str) -> str:
        value = form.get(key)
        return value.replace("\r\n", "\n") if isinstance(value, str) else ""

    values: dict[str, Any] = {}
    for key in _FORM_TEXT:
        values[key] = text(key).strip()
    for key in _FORM_CHOICES:
        values[key] = text(key).strip()
    values["signature"] = text("signature").rstrip()
    values["blocklist"] = "\n".join(
        line.strip() for line in text("blocklist").splitlines() if line.strip()
    )
    for key in _FORM_INTS:
        raw = text(key).strip()
        values[key] = int(raw) if _WHOLE.match(raw) else raw
    for key in _FORM_BOOLS:
        values[key] = form.get(key) == "on"
    passwords: list[str | None] = []
    for kind in ("imap", "smtp"):
        typed = text(f"{kind}_password")
        if typed:
            passwords.append(typed)
        elif form.get(f"clear_{kind}_password") == "on":
            passwords.append("")
        else:
            passwords.append(None)
    return MailboxForm(text("address").strip(), values, passwords[0], passwords[1])


def check_form(session: Session, form: MailboxForm) -> dict[str, str]:
    """What :func:`save` does not check: lengths and that the chosen group, agent and
    process exist. Refused choices are removed from ``form.values``."""
    errors: dict[str, str] = {}
    for key, column in _FORM_TEXT.items():
        limit = getattr(column.type, "length", None)
        if limit and len(form.values.get(key) or "") > limit:
            errors[key] = f"Use at most {limit} characters."
    if len(form.values.get("blocklist", "")) > 100_000:
        errors["blocklist"] = "The blocklist is too long."
    if len(form.address) > 254:
        errors["address"] = "Enter the mailbox's email address."
    for key, attribute, message in (
        ("group_name", Group.name, "Choose one of the groups."),
        ("owner", User.username, "Choose one of the agents."),
        ("process_name", ProcessVersion.name, "Choose a published process."),
    ):
        chosen = form.values.get(key)
        if chosen and session.scalar(select(attribute).where(attribute == chosen).limit(1)) is None:
            errors[key] = message
            form.values.pop(key)
    return errors


@dataclass
class MailboxSummary:
    name: str
    label: str
    address: str
    imap: str  # user@host:port/folder; empty: mail arrives only through the API
    enabled: bool
    poll_seconds: int | None
    last_poll_at: datetime | None
    last_error: str
    counts: dict[str, int]


def smtp_alerts(session: Session) -> list[SmtpAlert]:
    """SMTP servers refusing us (our login, sender or connection), the mail to them retrying."""
    return list(session.scalars(select(SmtpAlert).order_by(SmtpAlert.server)))


def summaries(session: Session) -> list[MailboxSummary]:
    """Every email channel with its IMAP state and its inbound mail counted by outcome."""
    counts: dict[str, dict[str, int]] = {}
    for mailbox, status, count in session.execute(
        select(InboundMessage.mailbox, InboundMessage.status, func.count())
        .where(InboundMessage.status.in_(("ticket", "follow_up", "ignored", "quarantined")))
        .group_by(InboundMessage.mailbox, InboundMessage.status)
    ):
        counts.setdefault(mailbox, {})[status] = count
    result = []
    for found, box in session.execute(
        select(Channel, Mailbox)
        .outerjoin(Mailbox, Mailbox.channel_id == Channel.id)
        .where(Channel.kind == "email")
        .order_by(Channel.name)
    ):
        imap = ""
        if box is not None and box.imap_host:
            imap = f"{box.imap_username}@{box.imap_host}:{box.imap_port}/{box.folder}"
        result.append(
            MailboxSummary(
                name=found.name,
                label=found.label,
                address=found.address,
                imap=imap,
                enabled=box.enabled if box is not None else True,
                poll_seconds=box.poll_seconds if box is not None and box.imap_host else None,
                last_poll_at=box.last_poll_at if box is not None else None,
                last_error=box.last_error if box is not None else "",
                counts=counts.get(found.name, {}),
            )
        )
    return result


def inbound_page(
    session: Session,
    *,
    status: str,
    mailbox: str = "",
    before: int | None = None,
    limit: int = 100,
) -> list[Any]:
    """Inbound messages with one outcome, newest first, ``limit`` at a time (keyset on id:
    pass the last id shown as ``before``); rows without their raw bytes."""
    query = (
        select(
            InboundMessage.id,
            InboundMessage.mailbox,
            InboundMessage.sender,
            InboundMessage.subject,
            InboundMessage.size,
            InboundMessage.reason,
            InboundMessage.status,
            InboundMessage.attempts,
            InboundMessage.received_at,
        )
        .where(InboundMessage.status == status)
        .order_by(InboundMessage.id.desc())
        .limit(limit)
    )
    if mailbox:
        query = query.where(InboundMessage.mailbox == mailbox)
    if before is not None:
        query = query.where(InboundMessage.id < before)
    return list(session.execute(query))


HEADERS_SHOWN = ("From", "To", "Cc", "Subject", "Date", "Message-ID")


def mail_headers(raw: bytes) -> tuple[list[tuple[str, str]], str]:
    """The main headers of a stored message as decoded text, or why it cannot be parsed."""
    try:
        mail = parse(raw, max_bytes=max(len(raw), 1))
    except MailRejected as exc:
        return [], exc.reason
    except Exception as exc:  # a parser bug must not break the admin's page
        return [], f"{type(exc).__name__}: {exc}"
    shown = []
    for name in HEADERS_SHOWN:
        values = mail.header_values(name)
        if values:
            shown.append((name, ", ".join(values)))
    return shown, ""
