"""Mailboxes: an email channel plus how to read it (IMAP) and answer from it (SMTP)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
    Ticket,
    User,
)
from tempodesk.core.settings import Settings
from tempodesk.core.vault import seal, unseal
from tempodesk.mail import MailRejected, parse
from tempodesk.people.addresses import is_valid_email, normalize_email

SECURITY = ("tls", "starttls", "none")
CLOSED_POLICIES = ("reopen", "new", "reopen_within")
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


class MailboxInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class UnknownMailbox(LookupError):
    pass


@dataclass
class MailboxConfig:
    """What intake needs to know about a mailbox (no secrets)."""

    name: str
    address: str
    process: str = ""
    acknowledge: bool = True
    create_contacts: bool = True
    closed_policy: str = "reopen_within"
    reopen_days: int = 14
    order_pattern: str = r"\b(ORD-\d{3,})\b"
    max_bytes: int = 25 * 1024 * 1024
    blocklist: frozenset[str] = field(default_factory=frozenset)
    own_addresses: frozenset[str] = field(default_factory=frozenset)


def channel(session: Session, name: str) -> Channel | None:
    return session.scalar(
        select(Channel).where(Channel.name == name).where(Channel.kind == "email")
    )


def row(session: Session, name: str) -> Mailbox | None:
    found = channel(session, name)
    if found is None:
        return None
    return session.scalar(select(Mailbox).where(Mailbox.channel_id == found.id))


def own_addresses(session: Session, settings: Settings) -> frozenset[str]:
    addresses = {normalize_email(settings.mail_from)}
    for address in session.scalars(select(Channel.address).where(Channel.kind == "email")):
        if address:
            addresses.add(normalize_email(address))
    return frozenset(addresses)


def config(session: Session, name: str, settings: Settings) -> MailboxConfig:
    """The intake settings of a mailbox; defaults where it has no IMAP settings yet."""
    found = channel(session, name)
    if found is None:
        raise UnknownMailbox(f"There is no mailbox '{name}'.")
    box = session.scalar(select(Mailbox).where(Mailbox.channel_id == found.id))
    result = MailboxConfig(
        name=name,
        address=found.address,
        process=found.process_name or "",
        own_addresses=own_addresses(session, settings),
    )
    if box is not None:
        result.acknowledge = box.acknowledge
        result.create_contacts = box.create_contacts
        result.closed_policy = box.closed_policy
        result.reopen_days = box.reopen_days
        result.order_pattern = box.order_pattern
        result.max_bytes = box.max_message_mb * 1024 * 1024
        result.blocklist = frozenset(
            line.strip().lower() for line in box.blocklist.splitlines() if line.strip()
        )
    return result


def save(
    session: Session,
    name: str,
    settings: Settings,
    *,
    address: str,
    values: dict[str, Any],
    imap_password: str | None = None,
    smtp_password: str | None = None,
) -> Mailbox:
    """Create or update a mailbox. ``None`` passwords keep the stored ones (never shown back)."""
    address = normalize_email(address)
    errors = _invalid(name, address, values)
    if errors:
        raise MailboxInvalid(errors)
    found = _email_channel(session, name, address, values)
    box = session.scalar(select(Mailbox).where(Mailbox.channel_id == found.id))
    if box is None:
        box = Mailbox(channel_id=found.id)
        session.add(box)
    for key, value in values.items():
        if key in _MAILBOX_FIELDS:
            setattr(box, key, value)
    secret = settings.session_secret()
    if imap_password is not None:
        box.imap_secret = seal(imap_password, secret)
    if smtp_password is not None:
        box.smtp_secret = seal(smtp_password, secret)
    session.flush()
    return box


_RANGES = (
    ("imap_port", 1, 65535),
    ("smtp_port", 1, 65535),
    ("poll_seconds", 10, 86400),
    ("reopen_days", 0, 3650),
    ("max_message_mb", 1, 150),
)


def _invalid(name: str, address: str, values: dict[str, Any]) -> dict[str, str]:
    """What is wrong with a mailbox's settings, by field (empty: nothing)."""
    errors: dict[str, str] = {}
    if not _NAME.match(name):
        errors["name"] = "Use a-z, 0-9, - and _, starting with a letter."
    if not is_valid_email(address):
        errors["address"] = "Enter the mailbox's email address."
    if values.get("imap_security", "tls") not in SECURITY:
        errors["imap_security"] = "Use tls, starttls or none."
    if values.get("smtp_security", "starttls") not in SECURITY:
        errors["smtp_security"] = "Use tls, starttls or none."
    if values.get("closed_policy", "reopen_within") not in CLOSED_POLICIES:
        errors["closed_policy"] = "Use reopen, new or reopen_within."
    for key, low, high in _RANGES:
        if key in values and not (isinstance(values[key], int) and low <= values[key] <= high):
            errors[key] = f"Use a whole number from {low} to {high}."
    pattern = values.get("order_pattern")
    if pattern is not None:
        try:
            if re.compile(pattern).groups != 1:
                errors["order_pattern"] = "The pattern needs exactly one (group): the number."
        except re.error as exc:
            errors["order_pattern"] = f"Not a valid pattern: {exc}."
    return errors


def _email_channel(session: Session, name: str, address: str, values: dict[str, Any]) -> Channel:
    """The mailbox's channel, created when new, with its address, label and routing written."""
    found = session.scalar(select(Channel).where(Channel.name == name))
    if found is None:
        found = Channel(name=name, kind="email", label=values.get("label") or name)
        session.add(found)
        session.flush()
    elif found.kind != "email":
        raise MailboxInvalid({"name": f"'{name}' is a {found.kind} channel, not a mailbox."})
    found.address = address
    if "label" in values:
        found.label = values["label"] or name
    for key in ("group_name", "owner", "process_name"):
        if key in values:
            setattr(found, key, values[key] or None)
    return found


_MAILBOX_FIELDS = {
    "enabled",
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_username",
    "imap_verify",
    "folder",
    "processed_folder",
    "poll_seconds",
    "import_existing",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "from_name",
    "signature",
    "acknowledge",
    "create_contacts",
    "closed_policy",
    "reopen_days",
    "order_pattern",
    "max_message_mb",
    "blocklist",
}


def imap_password(box: Mailbox, settings: Settings) -> str:
    return unseal(box.imap_secret, settings.session_secret())


def smtp_password(box: Mailbox, settings: Settings) -> str:
    return unseal(box.smtp_secret, settings.session_secret())


def pollable(session: Session) -> list[str]:
    """Mailboxes with IMAP settings that are switched on."""
    return list(
        session.scalars(
            select(Channel.name)
            .join(Mailbox, Mailbox.channel_id == Channel.id)
            .where(Mailbox.enabled.is_(True))
            .where(Mailbox.imap_host != "")
            .order_by(Channel.name)
        )
    )


# ------------------------------------------------------------------------------ admin pages
# Reads and form handling for the admin area (web/admin/mail.py). Nothing here returns or
# accepts a stored secret: the form says only whether one is stored.

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
    for key in _MAILBOX_FIELDS:
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
        values.update({key: getattr(box, key) for key in _MAILBOX_FIELDS})
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


@dataclass
class ReplySender:
    """Where a reply to this ticket leaves from (as the send_mail activity will send it)."""

    address: str
    name: str
    signature: str
    mailbox: str = ""


def reply_sender(session: Session, settings: Settings, ticket: Ticket) -> ReplySender:
    """The ticket's mailbox (address, sender name, signature), else the global sender."""
    default = ReplySender(settings.mail_from, settings.mail_from_name, "")
    if not ticket.mailbox:
        return default
    found = channel(session, ticket.mailbox)
    if found is None:
        return default
    box = row(session, ticket.mailbox)
    return ReplySender(
        address=found.address or default.address,
        name=(box.from_name if box else "") or default.name,
        signature=box.signature if box else "",
        mailbox=found.label or found.name,
    )
