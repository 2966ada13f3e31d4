"""Mail from a real IMAP server (a private Dovecot) to tickets: zero loss, zero duplicates.

The poll is the same activity the MailboxWorkflow runs; most tests call it directly so they
control when it happens, one test lets the workflow do it, and the crash test runs it in a
separate process that dies between storing a message and flagging it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowExecutionStatus

from activities.mailbox import MailboxActivities
from tempodesk.contracts import SIGNAL_STOP, MailboxPollResult
from tempodesk.core.db import transaction
from tempodesk.core.failpoints import ENV as FAILPOINT
from tempodesk.core.ids import mailbox_workflow_id, ticket_workflow_id
from tempodesk.core.models import Contact, InboundMessage, Ticket
from tempodesk.core.temporal import AsyncFacade
from tempodesk.mail import mailboxes
from tempodesk.mail.imap import ImapMailbox, ImapUnavailable
from tests.dovecot import DovecotServer
from tests.helpers import Stack
from tests.reliability.ledger import Ledger, assert_clean
from tests.web.test_inbound_email import mail, mails_to, someone, ticket, wait_for_state

PROCESSED = "$TempodeskProcessed"


@dataclass
class Box:
    name: str
    user: str
    address: str


def save_mailbox(
    stack: Stack, dovecot: DovecotServer, box: Box, password: str, **values: Any
) -> None:
    settings: dict[str, Any] = {
        "imap_host": dovecot.host,
        "imap_port": dovecot.port,
        "imap_security": "none",
        "imap_username": box.user,
        "folder": "INBOX",
        "poll_seconds": 10,
        "import_existing": True,
    }
    settings.update(values)
    with transaction(stack.sessions) as session:
        mailboxes.save(
            session,
            box.name,
            stack.settings,
            address=box.address,
            values=settings,
            imap_password=password,
        )


@pytest.fixture
def box(stack: Stack, dovecot: DovecotServer) -> Iterator[Box]:
    tag = uuid.uuid4().hex[:8]
    created = Box(f"imap-{tag}", f"box{tag}", f"help-{tag}@tempodesk.localhost")
    dovecot.add_user(created.user, "secret-pass")
    save_mailbox(stack, dovecot, created, "secret-pass")
    yield created
    with transaction(stack.sessions) as session:  # no workflow keeps polling it afterwards
        mailboxes.save(
            session,
            created.name,
            stack.settings,
            address=created.address,
            values={"enabled": False},
        )


def poll(stack: Stack, name: str) -> MailboxPollResult:
    return MailboxActivities(stack.settings, stack.sessions, stack.runtime.inbound).poll_once(name)


def inbound_rows(stack: Stack, mailbox: str) -> list[InboundMessage]:
    with stack.sessions() as session:
        return list(
            session.scalars(
                select(InboundMessage)
                .where(InboundMessage.mailbox == mailbox)
                .order_by(InboundMessage.id)
            )
        )


def flags(dovecot: DovecotServer, user: str) -> list[set[str]]:
    return [set(flagged) for _uid, flagged, _raw in dovecot.messages(user)]


def test_new_mail_becomes_a_ticket_and_is_flagged_never_marked_read(
    stack: Stack, dovecot: DovecotServer, box: Box
) -> None:
    dovecot.append(box.user, mail(someone(), subject="Printer on fire"))
    result = poll(stack, box.name)
    assert (result.fetched, result.error) == (1, "")
    [row] = inbound_rows(stack, box.name)
    assert row.status == "ticket" and row.source == "imap" and row.imap_uid == 1
    with stack.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == row.ticket_number))
        assert ticket is not None and ticket.mailbox == box.name and ticket.channel == "email"
    [seen] = flags(dovecot, box.user)
    assert PROCESSED in seen and "\\Seen" not in seen
    assert poll(stack, box.name).fetched == 0  # nothing new


def test_mail_someone_already_read_is_still_fetched(
    stack: Stack, dovecot: DovecotServer, box: Box
) -> None:
    dovecot.append(box.user, mail(someone()), flags=("\\Seen",))
    assert poll(stack, box.name).fetched == 1
    assert inbound_rows(stack, box.name)[0].status == "ticket"


def test_a_reply_continues_the_ticket(
    stack: Stack, dovecot: DovecotServer, box: Box, sink: Any
) -> None:
    sender = someone()
    dovecot.append(box.user, mail(sender))
    poll(stack, box.name)
    number = inbound_rows(stack, box.name)[0].ticket_number
    stack.client().post(
        f"/api/v1/tickets/{number}/actions/reply",
        json={"fields": {"body": "Which model is it?"}},
        headers=stack.api(),
    )
    ours = mails_to(sink, sender, 2)[-1]
    assert ours.message["From"].addresses[0].addr_spec == box.address  # from its mailbox
    dovecot.append(
        box.user,
        mail(
            sender,
            subject=f"Re: {ours.subject}",
            body="The X200.",
            headers={"In-Reply-To": ours.message_id},
        ),
    )
    poll(stack, box.name)
    rows = inbound_rows(stack, box.name)
    assert [r.status for r in rows] == ["ticket", "follow_up"]
    assert rows[1].ticket_number == number


def test_an_auto_reply_gets_no_acknowledgement_and_a_bounce_marks_the_address(
    stack: Stack, dovecot: DovecotServer, box: Box, sink: Any
) -> None:
    sender = someone()
    gone = someone()
    with transaction(stack.sessions) as session:
        session.add(Contact(email=gone, name="Gone"))
    dovecot.append(box.user, mail(sender, headers={"Auto-Submitted": "auto-replied"}))
    dovecot.append(
        box.user,
        (
            "From: MAILER-DAEMON@mx.example\r\nTo: x@tempodesk.localhost\r\n"
            "Subject: Undelivered\r\nMessage-ID: <dsn-" + uuid.uuid4().hex + "@mx.example>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;"
            ' boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nFailed.\r\n'
            "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
            f"Final-Recipient: rfc822; {gone}\r\nAction: failed\r\nStatus: 5.1.1\r\n--B--\r\n"
        ).encode(),
    )
    poll(stack, box.name)
    assert [r.status for r in inbound_rows(stack, box.name)] == ["ignored", "ignored"]
    time.sleep(0.5)
    assert [m for m in sink.caught if sender in m.recipients] == []
    with stack.sessions() as session:
        contact = session.scalar(select(Contact).where(Contact.email == gone))
        assert contact is not None and contact.bounced_at is not None


def test_the_same_message_delivered_twice_is_one_ticket(
    stack: Stack, dovecot: DovecotServer, box: Box
) -> None:
    """R5 (b): the same message twice in the mailbox (two aliases, a list copy)."""
    ledger = Ledger(stack, "R5", "twice in the mailbox")
    token = ledger.token()
    raw = mail(someone(), subject=f"Twice {token}", body=f"Once only {token}\n")
    dovecot.append(box.user, raw)
    dovecot.append(box.user, raw)
    assert poll(stack, box.name).fetched == 2
    [row] = inbound_rows(stack, box.name)
    assert row.status == "ticket"
    assert all(PROCESSED in f for f in flags(dovecot, box.user))
    assert_clean(ledger)


def test_first_contact_with_a_full_mailbox_imports_only_new_mail(
    stack: Stack, dovecot: DovecotServer
) -> None:
    tag = uuid.uuid4().hex[:8]
    fresh = Box(f"imap-{tag}", f"box{tag}", f"help-{tag}@tempodesk.localhost")
    dovecot.add_user(fresh.user, "secret-pass")
    dovecot.append(fresh.user, mail(someone(), subject="old one"))
    dovecot.append(fresh.user, mail(someone(), subject="old two"))
    save_mailbox(stack, dovecot, fresh, "secret-pass", import_existing=False)
    assert poll(stack, fresh.name).fetched == 0
    dovecot.append(fresh.user, mail(someone(), subject="new one"))
    assert poll(stack, fresh.name).fetched == 1
    assert [r.subject for r in inbound_rows(stack, fresh.name)] == ["new one"]


def test_a_uidvalidity_change_makes_no_duplicates(
    stack: Stack, dovecot: DovecotServer, box: Box
) -> None:
    dovecot.append(box.user, mail(someone()))
    dovecot.append(box.user, mail(someone()))
    poll(stack, box.name)
    with dovecot.session(box.user) as conn:  # a restore that lost our keyword on one
        conn.select("INBOX")
        conn.uid("STORE", "2", "-FLAGS", f"({PROCESSED})")
    dovecot.recreate_folder(box.user)  # same messages, new UIDVALIDITY, UIDs from 1 again
    assert poll(stack, box.name).fetched == 1  # the flagged one is not even read again
    assert [r.status for r in inbound_rows(stack, box.name)] == ["ticket", "ticket"]
    assert all(PROCESSED in f for f in flags(dovecot, box.user))


def test_a_uidvalidity_change_imports_no_mail_that_first_contact_skipped(
    stack: Stack, dovecot: DovecotServer
) -> None:
    """R19: old mail skipped at first contact must not come in when UIDVALIDITY changes."""
    tag = uuid.uuid4().hex[:8]
    fresh = Box(f"imap-{tag}", f"box{tag}", f"help-{tag}@tempodesk.localhost")
    dovecot.add_user(fresh.user, "secret-pass")
    for n in range(3):  # mail from before the helpdesk was connected
        dovecot.append(fresh.user, mail(someone(), subject=f"old {n}"), arrived=yesterday())
    save_mailbox(stack, dovecot, fresh, "secret-pass", import_existing=False)
    assert poll(stack, fresh.name).fetched == 0
    dovecot.recreate_folder(fresh.user)
    poll(stack, fresh.name)
    imported = [r.subject for r in inbound_rows(stack, fresh.name)]
    assert imported == [], f"imported without consent: {imported}"


def test_a_worker_killed_between_storing_and_flagging_leaves_exactly_one_ticket(
    stack: Stack, dovecot: DovecotServer, box: Box
) -> None:
    dovecot.append(box.user, mail(someone(), subject="Crash window"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPODESK_")}
    env.update(
        TEMPODESK_DATABASE_URL=stack.settings.db_url,
        TEMPODESK_TEMPORAL_ADDRESS=stack.settings.temporal_target,
        TEMPODESK_TEMPORAL_NAMESPACE=stack.settings.temporal_namespace,
        TEMPODESK_SECRET_KEY=stack.settings.session_secret(),
        TEMPODESK_SMTP_PORT=str(stack.settings.smtp_port),
        TEMPODESK_VAR_DIR=str(stack.settings.var_dir),
        TEMPODESK_ALLOW_PRIVATE_MAIL_HOSTS="true",  # Dovecot listens on 127.0.0.1
        **{FAILPOINT: "imap_after_store"},
    )
    crashed = subprocess.run(
        [sys.executable, "-m", "tempodesk.app.cli", "mailbox", "poll", box.name],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert crashed.returncode == 137, crashed.stderr.decode()[-2000:]
    [row] = inbound_rows(stack, box.name)
    assert row.status == "ticket"  # stored and routed ...
    assert PROCESSED not in flags(dovecot, box.user)[0]  # ... but never flagged
    assert poll(stack, box.name).fetched == 1  # after the restart: fetched again
    [again] = inbound_rows(stack, box.name)
    assert again.id == row.id and again.attempts == 2
    with stack.sessions() as session:
        count = session.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.subject == "Crash window")
        )
    assert count == 1
    assert PROCESSED in flags(dovecot, box.user)[0]


def test_an_imap_outage_is_recorded_and_polling_resumes(
    stack: Stack, dovecot: DovecotServer, box: Box
) -> None:
    """R19: the password is rotated; the error is recorded, the mail waits and comes in."""
    ledger = Ledger(stack, "R19", "credentials rotated")
    token = ledger.token()
    dovecot.append(box.user, mail(someone(), subject=f"Waiting {token}", body=f"{token}\n"))
    save_mailbox(stack, dovecot, box, "wrong-password")
    failed = poll(stack, box.name)
    assert failed.error and "wrong-password" not in failed.error
    with stack.sessions() as session:
        stored = mailboxes.row(session, box.name)
        assert stored is not None and stored.last_error == failed.error
    save_mailbox(stack, dovecot, box, "secret-pass")
    dovecot.append(box.user, mail(someone()))
    assert poll(stack, box.name).fetched == 2
    with stack.sessions() as session:
        stored = mailboxes.row(session, box.name)
        assert stored is not None and stored.last_error == ""
    assert_clean(ledger)


def test_the_mailbox_workflow_polls_by_itself(
    stack: Stack, dovecot: DovecotServer, box: Box
) -> None:
    dovecot.append(box.user, mail(someone(), subject="Found by the workflow"))
    stack.runtime.temporal.ensure_mailbox(box.name)
    # Stored and routed, delivered (the ticket's workflow started), then flagged; the ticket's
    # own opening projects it meanwhile (no poll waits for that).
    opened = None
    for _ in range(600):
        rows = inbound_rows(stack, box.name)
        if rows and rows[0].status == "ticket" and PROCESSED in flags(dovecot, box.user)[0]:
            with stack.sessions() as session:
                number = rows[0].ticket_number
                opened = session.scalar(select(Ticket).where(Ticket.number == number))
            if opened is not None:
                break
        time.sleep(0.1)
    assert [r.subject for r in rows] == ["Found by the workflow"]
    assert PROCESSED in flags(dovecot, box.user)[0]
    assert opened is not None and opened.subject == "Found by the workflow"

    async def stop(temporal: AsyncFacade) -> Any:
        handle = temporal.client.get_workflow_handle(mailbox_workflow_id(box.name))
        await handle.signal(SIGNAL_STOP)
        await asyncio.wait_for(handle.result(), 30)
        return (await handle.describe()).status

    assert stack.runtime.temporal.run(stop) == WorkflowExecutionStatus.COMPLETED


def test_a_batch_reads_its_mailbox_settings_once_not_once_a_message(
    stack: Stack, dovecot: DovecotServer, box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(3):
        dovecot.append(box.user, mail(someone()))
    inbound = stack.runtime.inbound
    read: list[str] = []
    original = inbound.config
    monkeypatch.setattr(inbound, "config", lambda name: read.append(name) or original(name))
    assert poll(stack, box.name).fetched == 3
    assert read == [box.name]
    rows = inbound_rows(stack, box.name)
    assert [r.status for r in rows] == ["ticket"] * 3
    with stack.sessions() as session:
        numbers = [r.ticket_number for r in rows]
        tickets = session.scalars(select(Ticket).where(Ticket.number.in_(numbers))).all()
        assert len(tickets) == 3 and {t.mailbox for t in tickets} == {box.name}


def test_a_reply_in_the_same_batch_as_its_first_mail_continues_that_ticket(
    stack: Stack, dovecot: DovecotServer, box: Box
) -> None:
    # "Forgot the attachment": the customer answers their own mail before we polled once.
    sender = someone()
    first = f"<first-{uuid.uuid4().hex}@customer.example>"
    dovecot.append(box.user, mail(sender, subject="Kettle", message_id=first))
    dovecot.append(
        box.user, mail(sender, subject="Re: Kettle", body="Photo.", headers={"In-Reply-To": first})
    )
    assert poll(stack, box.name).fetched == 2
    rows = inbound_rows(stack, box.name)
    assert [r.status for r in rows] == ["ticket", "follow_up"]
    assert rows[0].ticket_number == rows[1].ticket_number
    for _ in range(150):
        messages = ticket(stack, rows[0].ticket_number)["messages"]
        written = [m["body"].strip() for m in messages if m["sender_role"] == "customer"]
        if len(written) == 2:
            break
        time.sleep(0.05)
    assert written == ["It stopped heating.", "Photo."]


def test_the_mailbox_workflow_reopens_a_closed_ticket_with_the_reply(
    stack: Stack, dovecot: DovecotServer, box: Box, sink: Any
) -> None:
    sender = someone()
    dovecot.append(box.user, mail(sender, subject="Broken lid"))
    poll(stack, box.name)
    number = inbound_rows(stack, box.name)[0].ticket_number
    closed = stack.client().post(
        f"/api/v1/tickets/{number}/actions/close_without_reply",
        json={"fields": {"reason": "duplicate"}},
        headers=stack.api(),
    )
    assert closed.status_code == 200 and closed.get_json()["state"] == "closed"
    wait_for_ended(stack, number)
    acknowledgement = mails_to(sink, sender, 1)[0]
    dovecot.append(
        box.user,
        mail(
            sender,
            subject=f"Re: {acknowledgement.subject}",
            body="It broke again.",
            headers={"In-Reply-To": acknowledgement.message_id},
        ),
    )
    stack.runtime.temporal.ensure_mailbox(box.name)  # the workflow delivers this one
    wait_for_state(stack, number, "open")
    for _ in range(150):  # restarted (reopened), then told
        reopened = ticket(stack, number)
        if reopened["events"][-1]["kind"] == "customer_message":
            break
        time.sleep(0.05)
    assert [e["kind"] for e in reopened["events"]][-2:] == ["reopened", "customer_message"]
    assert reopened["messages"][-1]["body"].strip() == "It broke again."


def wait_for_ended(stack: Stack, number: str) -> None:
    """Until the ticket's workflow has completed (its run is over, not just closed)."""

    async def status(temporal: AsyncFacade) -> Any:
        handle = temporal.client.get_workflow_handle(ticket_workflow_id(number))
        return (await handle.describe()).status

    for _ in range(200):
        if stack.runtime.temporal.run(status) == WorkflowExecutionStatus.COMPLETED:
            return
        time.sleep(0.05)
    raise AssertionError(f"the workflow of {number} never ended")


def test_a_message_that_fails_to_download_is_read_again_never_skipped(
    stack: Stack, dovecot: DovecotServer, box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    for subject in ("first", "second", "third"):
        dovecot.append(box.user, mail(someone(), subject=subject))
    real_fetch = ImapMailbox.fetch

    def fetch(self: ImapMailbox, uid: int) -> bytes:
        if uid == 2:
            raise ImapUnavailable("connection reset while fetching")
        return real_fetch(self, uid)

    with monkeypatch.context() as patched:
        patched.setattr(ImapMailbox, "fetch", fetch)
        failed = poll(stack, box.name)
    assert failed.error and failed.uids == [1] and failed.last_uid == 1
    assert [r.subject for r in inbound_rows(stack, box.name)] == ["first"]
    with stack.sessions() as session:
        stored = mailboxes.row(session, box.name)
        assert stored is not None and stored.last_uid == 1
    assert [PROCESSED in f for f in flags(dovecot, box.user)] == [True, False, False]
    assert poll(stack, box.name).fetched == 2  # the second and the third, now
    # (routed side by side, two senders: stored in either order)
    assert sorted(r.subject for r in inbound_rows(stack, box.name)) == ["first", "second", "third"]
    assert all(PROCESSED in f for f in flags(dovecot, box.user))


# ------------------------------------------------------------------ poison messages (R13)


def poison_then_normal(dovecot: DovecotServer, box: Box, ledger: Ledger, poison: bytes) -> str:
    dovecot.append(box.user, poison)
    token = ledger.token()
    dovecot.append(box.user, mail(someone(), subject=f"Behind {token}", body=f"{token}\n"))
    return token


def test_a_message_the_parser_rejects_is_quarantined_and_mail_behind_it_flows(
    stack: Stack, dovecot: DovecotServer, box: Box
) -> None:
    """R13: the parser refuses a message; it is kept with its bytes and reason, the next one
    becomes a ticket in the same poll."""
    ledger = Ledger(stack, "R13", "parser rejects")
    poison = b"From: nobody\r\nSubject: " + ledger.token().encode() + b"\r\n\r\n\x00\xff"
    poison_then_normal(dovecot, box, ledger, poison)
    assert poll(stack, box.name).fetched == 2
    first, second = inbound_rows(stack, box.name)
    held = dovecot.messages(box.user)[0][2]  # as the server keeps it (it replaces NUL bytes)
    assert first.status == "quarantined" and first.reason and first.raw == held
    assert second.status == "ticket"
    assert_clean(ledger)


def test_a_message_that_breaks_storing_is_quarantined_after_bounded_retries(
    stack: Stack, dovecot: DovecotServer, box: Box
) -> None:
    """R13: an inline part whose Content-ID is longer than its column makes the database
    refuse the message; after at most three polls it is quarantined and the mail behind it
    is a ticket."""
    ledger = Ledger(stack, "R13", "Content-ID over its column")
    message = EmailMessage()
    message["From"], message["To"] = someone(), box.address
    message["Subject"] = f"Poison {ledger.token()}"
    message["Message-ID"] = make_msgid(domain="poison.example")
    message.set_content("see the picture")
    message.add_related(b"\x89PNG", maintype="image", subtype="png", cid=f"<{'c' * 300}@x>")
    poison_then_normal(dovecot, box, ledger, message.as_bytes())
    for _ in range(3):
        with contextlib.suppress(Exception):  # the activity retries: it must get past it
            poll(stack, box.name)
    statuses = [r.status for r in inbound_rows(stack, box.name)]
    assert statuses == ["quarantined", "ticket"] or statuses == ["ticket", "ticket"]
    assert_clean(ledger)


def yesterday() -> datetime:
    return datetime.now(UTC) - timedelta(days=1)
