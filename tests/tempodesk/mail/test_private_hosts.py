"""Mailbox hosts in private, loopback or link-local ranges (the metadata service, the
database, an internal relay) are refused unless TEMPODESK_ALLOW_PRIVATE_MAIL_HOSTS is set."""

from __future__ import annotations

import uuid

import pytest

from activities.mailbox import MailboxActivities
from tempodesk.core.db import transaction
from tempodesk.mail import mailboxes
from tests.helpers import Stack


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "10.1.2.3", "192.168.0.10", "169.254.169.254", "::1"]
)
def test_private_and_loopback_hosts_are_recognised(host: str) -> None:
    assert mailboxes.is_private_host(host)


@pytest.mark.parametrize("host", ["93.184.216.34", "2606:2800:220:1::1", ""])
def test_public_addresses_are_not_private(host: str) -> None:
    assert not mailboxes.is_private_host(host)


def test_saving_a_private_mailbox_host_needs_the_setting(stack: Stack) -> None:
    strict = stack.settings.model_copy(update={"allow_private_mail_hosts": False})
    name = f"private-{uuid.uuid4().hex[:8]}"
    values = {"imap_host": "169.254.169.254", "smtp_host": "10.0.0.5", "enabled": False}
    with pytest.raises(mailboxes.MailboxInvalid) as refused, transaction(stack.sessions) as session:
        mailboxes.save(session, name, strict, address=f"{name}@example.org", values=values)
    assert set(refused.value.errors) == {"imap_host", "smtp_host"}
    assert "TEMPODESK_ALLOW_PRIVATE_MAIL_HOSTS" in refused.value.errors["imap_host"]
    assert stack.settings.allow_private_mail_hosts  # the test stack talks to a local Dovecot
    with transaction(stack.sessions) as session:
        mailboxes.save(session, name, stack.settings, address=f"{name}@example.org", values=values)


def test_polling_refuses_a_host_that_became_private_without_the_setting(stack: Stack) -> None:
    name = f"rebind-{uuid.uuid4().hex[:8]}"
    with transaction(stack.sessions) as session:  # saved while allowed (or DNS moved since)
        mailboxes.save(
            session,
            name,
            stack.settings,
            address=f"{name}@example.org",
            values={"imap_host": "127.0.0.1", "imap_port": 9, "enabled": True},
            imap_password="x",
        )
    strict = stack.settings.model_copy(update={"allow_private_mail_hosts": False})
    try:
        MailboxActivities(strict, stack.sessions, stack.runtime.inbound).poll_once(name)
    except Exception as exc:  # the error is recorded either way; what matters is below
        assert "private" in str(exc)
    with stack.sessions() as session:
        box = mailboxes.row(session, name)
        assert box is not None and "TEMPODESK_ALLOW_PRIVATE_MAIL_HOSTS" in box.last_error
    with transaction(stack.sessions) as session:
        box = mailboxes.row(session, name)
        assert box is not None
        box.enabled = False


def test_replies_never_go_to_a_private_mailbox_smtp_host_without_the_setting(
    stack: Stack,
) -> None:
    from sqlalchemy import update

    from activities.mail import MailActivities
    from tempodesk.core.models import Ticket
    from tests.web.test_desk import new_ticket

    name = f"relay-{uuid.uuid4().hex[:8]}"
    with transaction(stack.sessions) as session:
        mailboxes.save(
            session,
            name,
            stack.settings,
            address=f"{name}@example.org",
            values={"smtp_host": "10.9.8.7", "smtp_port": 2525, "enabled": False},
        )
    number = new_ticket(stack)
    with transaction(stack.sessions) as session:  # as if the ticket came in through it
        session.execute(update(Ticket).where(Ticket.number == number).values(mailbox=name))
    strict = stack.settings.model_copy(update={"allow_private_mail_hosts": False})
    with stack.sessions() as session:
        allowed = MailActivities(stack.sessions, stack.settings)._sender(session, number)
        refused = MailActivities(stack.sessions, strict)._sender(session, number)
    assert (allowed.host, allowed.port) == ("10.9.8.7", 2525)
    assert (refused.host, refused.port) == (strict.smtp_host, strict.smtp_port)
    assert refused.address == f"{name}@example.org"  # still from the mailbox's address
