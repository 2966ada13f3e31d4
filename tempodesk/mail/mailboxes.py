"""Mailboxes: an email channel plus how to read it (IMAP) and answer from it (SMTP).

The admin's form and lists of mailboxes and of quarantined mail are ``tempodesk.mail.admin``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tempodesk.core.languages import LANGUAGES
from tempodesk.core.models import (
    Channel,
    Mailbox,
    Ticket,
)
from tempodesk.core.outbound import is_private_host as is_private_host  # one rule for all
from tempodesk.core.settings import Settings
from tempodesk.core.vault import seal, unseal
from tempodesk.mail.patterns import pattern_problem
from tempodesk.people.addresses import is_valid_email, normalize_email

SECURITY = ("tls", "starttls", "none")
CLOSED_POLICIES = ("reopen", "new", "reopen_within")
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


class MailboxInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


PRIVATE_HOST = (
    "This host is in a private, loopback or link-local range; set "
    "TEMPODESK_ALLOW_PRIVATE_MAIL_HOSTS=true to use it."
)


def refused_host(host: str, settings: Settings) -> bool:
    """A mailbox host the settings do not let us connect to (``is_private_host``)."""
    return not settings.allow_private_mail_hosts and is_private_host(host)


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
    language: str = ""  # a new contact's language when the mail's is unknown ("": default)
    closed_policy: str = "reopen_within"
    reopen_days: int = 14
    order_pattern: str = r"\b(ORD-\d{3,})\b"
    max_bytes: int = 25 * 1024 * 1024
    blocklist: frozenset[str] = field(default_factory=frozenset)
    own_addresses: frozenset[str] = field(default_factory=frozenset)

    @property
    def if_closed(self) -> str:
        """What a follow-up does to its ticket if it closes before taking it (its run still
        sending its last mail): the policy, as at the moment of closing ("new" or "reopen")."""
        return "new" if self.closed_policy == "new" else "reopen"


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
        result.language = box.language
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
    for key in ("imap_host", "smtp_host"):
        if refused_host(str(values.get(key) or ""), settings):
            errors[key] = PRIVATE_HOST
    if errors:
        raise MailboxInvalid(errors)
    found = _email_channel(session, name, address, values)
    box = session.scalar(select(Mailbox).where(Mailbox.channel_id == found.id))
    if box is None:
        box = Mailbox(channel_id=found.id)
        session.add(box)
    for key, value in values.items():
        if key in MAILBOX_FIELDS:
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
    if values.get("language", "") not in ("", *LANGUAGES):
        errors["language"] = f"Use one of: {', '.join(LANGUAGES)}."
    for key, low, high in _RANGES:
        if key in values and not (isinstance(values[key], int) and low <= values[key] <= high):
            errors[key] = f"Use a whole number from {low} to {high}."
    pattern = values.get("order_pattern")
    if pattern is not None:
        try:
            if re.compile(pattern).groups != 1:
                errors["order_pattern"] = "The pattern needs exactly one (group): the number."
            elif problem := pattern_problem(pattern):
                errors["order_pattern"] = problem
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


#: The settings of a mailbox that ``save`` writes to its row (the rest go to its channel).
MAILBOX_FIELDS = {
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
    "language",
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
