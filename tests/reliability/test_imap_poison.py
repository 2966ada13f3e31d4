"""One bad message never blocks its mailbox (issue 10, item 1; RELIABILITY R13).

Real parts: a private Dovecot, PostgreSQL (whose VARCHAR limits raise, where SQLite's do
not), the poll activity the MailboxWorkflow runs. An error routing one message leaves it
stored and unflagged; the next polls retry it from the database, and its third attempt
quarantines it with its reason. The mail behind it is read, routed and flagged meanwhile,
and the mailbox says what went wrong.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tempodesk.app.cli import main
from tempodesk.core.db import transaction
from tempodesk.core.models import Attachment, Message, Ticket
from tempodesk.mail import inbound, mailboxes
from tempodesk.mail.routing import Router
from tests.dovecot import DovecotServer
from tests.helpers import Stack
from tests.reliability.test_imap_intake import (
    PROCESSED,
    Box,
    flags,
    inbound_rows,
    poll,
    save_mailbox,
)
from tests.web.test_inbound_email import SUPPORT, mail, post, someone


@pytest.fixture
def box(stack: Stack, dovecot: DovecotServer) -> Iterator[Box]:
    """A mailbox of its own on the Dovecot, switched off again afterwards."""
    tag = uuid.uuid4().hex[:8]
    created = Box(f"poison-{tag}", f"poison{tag}", f"help-{tag}@tempodesk.localhost")
    dovecot.add_user(created.user, "secret-pass")
    save_mailbox(stack, dovecot, created, "secret-pass")
    yield created
    save_mailbox(stack, dovecot, created, "secret-pass", enabled=False)


def inline_image(sender: str, content_id: str) -> bytes:
    """An HTML mail with an inline image whose Content-ID is ``content_id``, written out by
    hand: the stdlib would fold a long id into encoded words, a mail client does not."""
    return (
        f"From: {sender}\r\nTo: {SUPPORT}\r\nSubject: Screenshot of the error\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@customer.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/related; boundary="R"\r\n\r\n'
        "--R\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        f'<p>See <img src="cid:{content_id}"></p>\r\n'
        "--R\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
        f"Content-ID: <{content_id}>\r\nContent-Disposition: inline\r\n\r\n"
        "iVBORw0KGgpmYWtl\r\n--R--\r\n"
    ).encode()


def plain(sender: str, subject: str, message_id: str, **headers: str) -> bytes:
    """A text mail with its headers verbatim (ids longer than a line stay one token)."""
    extra = "".join(f"{name.replace('_', '-')}: {value}\r\n" for name, value in headers.items())
    return (
        f"From: {sender}\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\n{extra}\r\nSee above.\r\n"
    ).encode()


def cli_environment(stack: Stack) -> dict[str, str]:
    """The environment the `tempodesk` command needs to work on this stack."""
    return {
        "TEMPODESK_DATABASE_URL": stack.settings.db_url,
        "TEMPODESK_TEMPORAL_ADDRESS": stack.settings.temporal_target,
        "TEMPODESK_TEMPORAL_NAMESPACE": stack.settings.temporal_namespace,
        "TEMPODESK_SECRET_KEY": stack.settings.session_secret(),
        "TEMPODESK_SMTP_PORT": str(stack.settings.smtp_port),
        "TEMPODESK_VAR_DIR": str(stack.settings.var_dir),
    }


def mailbox_error(stack: Stack, name: str) -> str:
    with stack.sessions() as session:
        found = mailboxes.row(session, name)
        assert found is not None
        return found.last_error


def test_an_inline_part_with_a_content_id_over_its_column_becomes_a_ticket(
    stack: Stack, dovecot: DovecotServer, box: Box
) -> None:
    content_id = "part." + "x" * 400 + "@customer.example"  # attachments.content_id: 255
    dovecot.append(box.user, inline_image(someone(), content_id))
    dovecot.append(box.user, mail(someone(), subject="Behind the long Content-ID"))
    result = poll(stack, box.name)
    assert (result.fetched, result.error) == (2, "")
    rows = inbound_rows(stack, box.name)
    assert [r.status for r in rows] == ["ticket", "ticket"]
    with stack.sessions() as session:
        stored = session.scalars(
            select(Attachment)
            .join(Message, Message.id == Attachment.message_id)
            .where(Message.ticket_number == rows[0].ticket_number)
        ).all()
    [image] = stored
    assert image.inline and image.content_id is not None
    assert len(image.content_id) <= Attachment.__table__.c.content_id.type.length
    assert image.content_id.startswith("part.xxx")  # recognisable, and unique by its hash
    assert all(PROCESSED in f for f in flags(dovecot, box.user))


def test_a_reply_to_a_message_id_longer_than_its_column_still_threads(
    stack: Stack, dovecot: DovecotServer, box: Box
) -> None:
    sender = someone()
    first = "<" + "long." * 120 + uuid.uuid4().hex + "@customer.example>"  # ~650 characters
    dovecot.append(box.user, plain(sender, "Kettle", first))
    poll(stack, box.name)
    reply = f"<{uuid.uuid4().hex}@customer.example>"
    dovecot.append(box.user, plain(sender, "Re: Kettle", reply, In_Reply_To=first))
    poll(stack, box.name)
    rows = inbound_rows(stack, box.name)
    assert [r.status for r in rows] == ["ticket", "follow_up"]
    assert rows[0].ticket_number == rows[1].ticket_number


def test_a_message_that_keeps_failing_is_quarantined_after_three_attempts_and_mail_flows(
    stack: Stack, dovecot: DovecotServer, box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_route = Router.route

    def route(self: Router, inbound_id: int, config: Any, parsed: Any, into: Any) -> Any:
        if parsed.subject == "Poison":
            raise RuntimeError("a routing bug")
        return real_route(self, inbound_id, config, parsed, into)

    monkeypatch.setattr(Router, "route", route)
    dovecot.append(box.user, mail(someone(), subject="Poison"))
    subjects = []
    for attempt in (1, 2, 3):
        subjects.append(f"After the poison {attempt}")
        dovecot.append(box.user, mail(someone(), subject=subjects[-1]))
        result = poll(stack, box.name)
        poison, *rest = inbound_rows(stack, box.name)
        assert poison.attempts == attempt
        assert [r.status for r in rest] == ["ticket"] * attempt  # the mail behind it flows
        if attempt < 3:
            assert poison.status == "stored"
            assert "RuntimeError: a routing bug" in result.error
            assert "RuntimeError: a routing bug" in mailbox_error(stack, box.name)
            assert PROCESSED not in flags(dovecot, box.user)[0]  # taken again next poll
            health = stack.client().get("/readyz").get_json()  # loopback: the details
            assert "routing bug" in health["mailbox_errors"][box.name]
            outside = stack.client().get("/readyz", environ_base={"REMOTE_ADDR": "192.0.2.9"})
            assert outside.get_json() == {"status": "degraded"}
        with stack.sessions() as session:  # stored, so reading goes on past it; it is
            stored = mailboxes.row(session, box.name)  # retried from the database
            assert stored is not None and stored.last_uid == attempt + 1
    assert poison.status == "quarantined"
    assert "RuntimeError: a routing bug" in poison.reason and "3 attempts" in poison.reason
    assert all(PROCESSED in f for f in flags(dovecot, box.user))
    assert poll(stack, box.name).fetched == 0  # nothing is read again
    assert stack.client().get("/readyz").get_json()["quarantined_mail"] >= 1
    outside = stack.client().get("/readyz", environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert "routing bug" not in outside.get_data(as_text=True)  # no details for outsiders

    monkeypatch.setattr(Router, "route", real_route)  # the bug is fixed: reprocess it
    for key, value in cli_environment(stack).items():
        monkeypatch.setenv(key, value)
    done = CliRunner().invoke(main, ["mailbox", "reprocess", box.name])
    assert done.exit_code == 0, done.output
    with stack.sessions() as session:
        poisoned = session.scalars(  # this mailbox's: other tests file "Poison" tickets too
            select(Ticket).where(Ticket.subject == "Poison", Ticket.mailbox == box.name)
        ).all()
    assert done.output.split() == [f"{poison.id}:", "ticket", poisoned[0].number]
    assert len(poisoned) == 1  # exactly one ticket
    again = CliRunner().invoke(main, ["mailbox", "reprocess", box.name])
    assert again.output.strip() == f"{box.name}: nothing to reprocess."


def test_reprocessing_a_message_that_still_fails_quarantines_it_with_the_reason(
    stack: Stack, dovecot: DovecotServer, box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    def route(self: Router, inbound_id: int, config: Any, parsed: Any, into: Any) -> Any:
        raise RuntimeError("still broken")

    monkeypatch.setattr(Router, "route", route)
    dovecot.append(box.user, mail(someone(), subject="Poison"))
    for _ in range(3):
        poll(stack, box.name)
    [row] = inbound_rows(stack, box.name)
    assert row.status == "quarantined"
    outcome = stack.runtime.inbound.reprocess(row.id)
    assert outcome.outcome == "quarantined" and "still broken" in (outcome.reason or "")
    [again] = inbound_rows(stack, box.name)
    assert again.status == "quarantined" and "still broken" in again.reason


def test_pushed_mail_that_fails_to_route_answers_503_until_it_is_quarantined(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    def route(self: Router, inbound_id: int, config: Any, parsed: Any, into: Any) -> Any:
        raise RuntimeError("a routing bug")

    monkeypatch.setattr(Router, "route", route)
    raw = mail(someone(), subject="Pushed poison")
    answers = [post(stack, raw) for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 202]
    assert answers[0].headers["Retry-After"] == "60"
    assert answers[0].get_json()["error"]["code"] == "not_routed"
    assert answers[2].get_json()["outcome"] == "quarantined"
    assert "RuntimeError: a routing bug" in answers[2].get_json()["reason"]


def test_a_message_the_database_refuses_to_store_is_kept_raw_and_quarantined(
    stack: Stack, dovecot: DovecotServer, box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbound, "fit", lambda _column, value: value)  # a fitting bug
    dovecot.append(box.user, mail(someone(), subject="word " * 80))  # 400 > VARCHAR(300)
    dovecot.append(box.user, mail(someone(), subject="Behind it"))
    assert poll(stack, box.name).error == ""
    refused, behind = inbound_rows(stack, box.name)
    assert refused.status == "quarantined" and refused.dedupe_key.startswith("raw:")
    assert "cannot be stored: StringDataRightTruncation" in refused.reason
    assert refused.subject == "" and refused.raw.startswith(b"From: ")
    assert behind.status == "ticket"
    assert all(PROCESSED in f for f in flags(dovecot, box.user))


def test_the_mailbox_workflow_quarantines_a_poison_message_and_delivers_the_rest(
    stack: Stack, dovecot: DovecotServer, box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_route = Router.route

    def route(self: Router, inbound_id: int, config: Any, parsed: Any, into: Any) -> Any:
        if parsed.subject == "Poison":
            raise RuntimeError("a routing bug")
        return real_route(self, inbound_id, config, parsed, into)

    monkeypatch.setattr(Router, "route", route)  # the worker runs in this process
    dovecot.append(box.user, mail(someone(), subject="Poison"))
    dovecot.append(box.user, mail(someone(), subject="Behind the poison"))
    stack.runtime.temporal.ensure_mailbox(box.name)
    deadline = time.monotonic() + 60  # three polls, 10 s apart
    while time.monotonic() < deadline:
        rows = inbound_rows(stack, box.name)
        if (
            rows
            and rows[0].status == "quarantined"
            and all(PROCESSED in f for f in flags(dovecot, box.user))
        ):
            break
        time.sleep(0.5)
    poison, behind = inbound_rows(stack, box.name)
    assert (poison.status, poison.attempts) == ("quarantined", 3)
    assert behind.status == "ticket" and behind.attempts == 1  # read once, at the first poll
    assert all(PROCESSED in f for f in flags(dovecot, box.user))
    with stack.sessions() as session:
        opened = session.scalar(select(Ticket).where(Ticket.number == behind.ticket_number))
        stored = mailboxes.row(session, box.name)
    assert opened is not None and opened.subject == "Behind the poison"
    assert stored is not None and stored.last_uid == 2


def test_a_stored_message_retried_and_read_again_in_one_poll_is_taken_once(
    stack: Stack, dovecot: DovecotServer, box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_route = Router.route

    def route(self: Router, inbound_id: int, config: Any, parsed: Any, into: Any) -> Any:
        raise RuntimeError("a routing bug")

    dovecot.append(box.user, mail(someone(), subject="Stored, not routed"))
    with monkeypatch.context() as patched:
        patched.setattr(Router, "route", route)
        poll(stack, box.name)
    with transaction(stack.sessions) as session:  # e.g. its route was not delivered: the
        found = mailboxes.row(session, box.name)  # workflow acknowledged up to before it
        assert found is not None
        found.last_uid = 0
    monkeypatch.setattr(Router, "route", real_route)
    assert poll(stack, box.name).error == ""
    [row] = inbound_rows(stack, box.name)
    assert (row.status, row.attempts) == ("ticket", 2)
    assert all(PROCESSED in f for f in flags(dovecot, box.user))
