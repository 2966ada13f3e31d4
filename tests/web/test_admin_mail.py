"""Admin: mailboxes (settings with write-only passwords, IMAP state) and the quarantine
(inbound mail that did not become a ticket: listed safely, reprocessed or released)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from activities.mailbox import MailboxActivities
from tempodesk.core.models import Attachment, InboundMessage, Mailbox, Message
from tempodesk.core.temporal import EngineUnavailable
from tempodesk.mail import mailboxes
from tests.dovecot import DovecotServer
from tests.helpers import Stack, csrf_token
from tests.web.test_inbound_email import mail, post, someone

HOSTILE = "<script>alert(1)</script>"


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def _fields(**overrides: str | None) -> dict[str, str]:
    """Everything the mailbox form sends; a None override leaves the field out (unticked)."""
    fields: dict[str, str | None] = {
        "address": f"help-{_tag()}@tempodesk.localhost",
        "label": "Test mailbox",
        "group_name": "Support",
        "owner": "agent1",
        "process_name": "",
        "enabled": "on",
        "imap_host": "",
        "imap_port": "993",
        "imap_security": "tls",
        "imap_username": "",
        "imap_password": "",
        "imap_verify": "on",
        "folder": "INBOX",
        "processed_folder": "",
        "poll_seconds": "60",
        "smtp_host": "",
        "smtp_port": "587",
        "smtp_security": "starttls",
        "smtp_username": "",
        "smtp_password": "",
        "from_name": "",
        "signature": "",
        "acknowledge": "on",
        "create_contacts": "on",
        "closed_policy": "reopen_within",
        "reopen_days": "14",
        "order_pattern": r"\b(ORD-\d{3,})\b",
        "max_message_mb": "25",
        "blocklist": "",
    }
    fields.update(overrides)
    return {key: value for key, value in fields.items() if value is not None}


def _post(client: FlaskClient, url: str, data: dict[str, str], page: str = "/admin/") -> Any:
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def _box(stack: Stack, name: str) -> Mailbox:
    with stack.sessions() as session:
        box = mailboxes.row(session, name)
        assert box is not None
        session.expunge(box)
        return box


def _inbound(stack: Stack, raw: bytes) -> InboundMessage:
    with stack.sessions() as session:
        row = session.scalar(select(InboundMessage).where(InboundMessage.raw == raw))
        assert row is not None
        session.expunge(row)
        return row


def _broken() -> bytes:
    return b"this is not a mail at all \x00\xff " + _tag().encode()


def _hostile() -> bytes:
    """Parseable, but its sender address is not usable: quarantined with what it says."""
    return (
        f'From: "{HOSTILE}" <someone@localhost>\r\nTo: support@tempodesk.localhost\r\n'
        f"Subject: {HOSTILE} {_tag()}\r\nMessage-ID: <{_tag()}@localhost>\r\n\r\nhello\r\n"
    ).encode()


# ------------------------------------------------------------------------------ rights


@pytest.mark.parametrize("username", ["agent1", "limited"])
def test_non_admins_get_403_on_every_mail_route(stack: Stack, username: str) -> None:
    client = stack.login(username)
    token = csrf_token(client.get("/desk/").get_data(as_text=True))
    for method, url in (
        ("GET", "/admin/mailboxes"),
        ("GET", "/admin/mailboxes/new"),
        ("POST", "/admin/mailboxes/new"),
        ("GET", "/admin/mailboxes/support"),
        ("POST", "/admin/mailboxes/support"),
        ("POST", "/admin/mailboxes/support/poll"),
        ("GET", "/admin/quarantine"),
        ("GET", "/admin/quarantine/1"),
        ("GET", "/admin/quarantine/1/raw"),
        ("POST", "/admin/quarantine/1/reprocess"),
        ("POST", "/admin/quarantine/1/release"),
    ):
        data = {"csrf_token": token, **_fields(name="sneaky")} if method == "POST" else None
        response = client.open(url, method=method, data=data)
        assert response.status_code == 403, (method, url)
    with stack.sessions() as session:
        assert mailboxes.channel(session, "sneaky") is None


# ------------------------------------------------------------------------------ mailboxes


def test_a_mailbox_created_through_the_form_stores_its_passwords_encrypted(
    stack: Stack,
) -> None:
    name = f"form-{_tag()}"
    client = stack.login("admin")
    response = _post(
        client,
        "/admin/mailboxes/new",
        _fields(
            name=name,
            imap_host="imap.invalid",
            imap_username="helpdesk",
            imap_password="Imap-Secret-1",
            smtp_host="smtp.invalid",
            smtp_password="Smtp-Secret-2",
            enabled=None,  # not polled: imap.invalid does not exist
            blocklist="spam@example.com\r\n\r\n  @junk.example  \r\n",
        ),
    )
    assert response.status_code == 302 and response.location.endswith(f"/admin/mailboxes/{name}")
    box = _box(stack, name)
    assert box.imap_secret and "Imap-Secret-1" not in box.imap_secret
    assert box.smtp_secret and "Smtp-Secret-2" not in box.smtp_secret
    assert mailboxes.imap_password(box, stack.settings) == "Imap-Secret-1"
    assert mailboxes.smtp_password(box, stack.settings) == "Smtp-Secret-2"
    assert (box.imap_host, box.imap_username, box.enabled) == ("imap.invalid", "helpdesk", False)
    assert box.blocklist == "spam@example.com\n@junk.example"
    with stack.sessions() as session:
        channel = mailboxes.channel(session, name)
        assert channel is not None
        assert (channel.group_name, channel.owner, channel.label) == (
            "Support",
            "agent1",
            "Test mailbox",
        )


def test_the_edit_page_never_contains_the_password_nor_its_ciphertext(stack: Stack) -> None:
    name = f"form-{_tag()}"
    client = stack.login("admin")
    _post(
        client,
        "/admin/mailboxes/new",
        _fields(name=name, imap_host="imap.invalid", imap_password="Imap-Secret-3", enabled=None),
    )
    box = _box(stack, name)
    html = client.get(f"/admin/mailboxes/{name}").get_data(as_text=True)
    assert "Imap-Secret-3" not in html and box.imap_secret not in html
    assert box.imap_secret[:20] not in html
    assert "stored — leave empty to keep it" in html
    assert '<input type="password" id="imap_password" name="imap_password" value=""' in html
    assert 'name="clear_imap_password" value="on"> Clear the stored IMAP password' in html
    # Without a stored SMTP password there is nothing to keep or clear.
    assert 'name="clear_smtp_password"' not in html


def test_saving_with_the_password_empty_keeps_it_and_clear_removes_it(stack: Stack) -> None:
    name = f"form-{_tag()}"
    client = stack.login("admin")
    fields = _fields(name=name, imap_host="imap.invalid", enabled=None)
    _post(client, "/admin/mailboxes/new", {**fields, "imap_password": "Imap-Secret-4"})
    secret = _box(stack, name).imap_secret
    url = f"/admin/mailboxes/{name}"
    assert _post(client, url, {**fields, "folder": "Support"}).status_code == 302
    box = _box(stack, name)
    assert (box.imap_secret, box.folder) == (secret, "Support")
    assert mailboxes.imap_password(box, stack.settings) == "Imap-Secret-4"
    assert _post(client, url, {**fields, "clear_imap_password": "on"}).status_code == 302
    box = _box(stack, name)
    assert box.imap_secret == "" and mailboxes.imap_password(box, stack.settings) == ""
    html = client.get(url).get_data(as_text=True)
    assert "stored — leave empty to keep it" not in html


def test_the_form_never_accepts_state_or_secrets_it_does_not_show(stack: Stack) -> None:
    name = f"form-{_tag()}"
    client = stack.login("admin")
    fields = _fields(name=name, imap_host="imap.invalid", enabled=None)
    _post(client, "/admin/mailboxes/new", {**fields, "imap_password": "Imap-Secret-5"})
    before = _box(stack, name)
    forged = {
        **fields,
        "last_uid": "999",
        "uidvalidity": "12345",
        "imap_secret": "forged",
        "smtp_secret": "forged",
        "last_error": "forged",
        "channel_id": "1",
        "id": "1",
        "name": "support",
        "poll_seconds": "30",
    }
    assert _post(client, f"/admin/mailboxes/{name}", forged).status_code == 302
    after = _box(stack, name)
    assert (after.last_uid, after.uidvalidity, after.last_error) == (
        before.last_uid,
        before.uidvalidity,
        before.last_error,
    )
    assert (after.imap_secret, after.smtp_secret) == (before.imap_secret, "")
    assert (after.id, after.channel_id, after.poll_seconds) == (before.id, before.channel_id, 30)
    with stack.sessions() as session:
        support = mailboxes.channel(session, "support")
        assert support is not None and support.label != "Test mailbox"


def test_validation_errors_are_shown_next_to_their_fields(stack: Stack) -> None:
    client = stack.login("admin")
    response = _post(
        client,
        "/admin/mailboxes/new",
        _fields(
            name="Not A Name!",
            address="not-an-address",
            imap_host="imap.invalid",
            imap_port="abc",
            imap_security="ssl",
            poll_seconds="5",
            smtp_port="70000",
            closed_policy="sometimes",
            reopen_days="-1",
            max_message_mb="500",
            order_pattern="(a)(b)",
            group_name="NoSuchGroup",
            imap_password="Imap-Secret-6",
        ),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for field, text in (
        ("name", "Use a-z, 0-9, - and _, starting with a letter."),
        ("address", "Enter the mailbox's email address."),
        ("imap_port", "Use a whole number from 1 to 65535."),
        ("imap_security", "Use tls, starttls or none."),
        ("poll_seconds", "Use a whole number from 10 to 86400."),
        ("smtp_port", "Use a whole number from 1 to 65535."),
        ("closed_policy", "Use reopen, new or reopen_within."),
        ("reopen_days", "Use a whole number from 0 to 3650."),
        ("max_message_mb", "Use a whole number from 1 to 150."),
        ("order_pattern", "The pattern needs exactly one (group): the number."),
        ("group_name", "Choose one of the groups."),
    ):
        assert f'<p class="field-error" id="{field}-error" role="alert">{escape(text)}</p>' in html
        assert re.search(
            rf'id="{field}"[^>]*aria-invalid="true" aria-describedby="{field}-error', html
        ), field
    assert "Imap-Secret-6" not in html  # a typed password is not echoed back either
    assert 'value="abc"' in html  # what was typed stays, to be corrected
    with stack.sessions() as session:
        assert mailboxes.channel(session, "Not A Name!") is None


def test_a_new_mailbox_cannot_take_an_existing_or_reserved_name(stack: Stack) -> None:
    client = stack.login("admin")
    for name, text in (
        ("support", "There is a mailbox 'support' already."),
        ("new", "'new' is reserved; choose another."),
        ("web", "'web' is a web channel, not a mailbox."),
    ):
        response = _post(client, "/admin/mailboxes/new", _fields(name=name))
        assert response.status_code == 422
        assert str(escape(text)) in response.get_data(as_text=True)
    with stack.sessions() as session:
        support = mailboxes.channel(session, "support")
        assert support is not None and support.label == "Support mailbox"


def test_a_wrong_imap_password_shows_as_the_last_error_on_both_pages(
    stack: Stack, dovecot: DovecotServer
) -> None:
    tag = _tag()
    name, user = f"dove-{tag}", f"adm{tag}"
    dovecot.add_user(user, "right-pass")
    client = stack.login("admin")
    fields = _fields(
        name=name,
        imap_host=dovecot.host,
        imap_port=str(dovecot.port),
        imap_security="none",
        imap_username=user,
        poll_seconds="10",
    )
    response = _post(client, "/admin/mailboxes/new", {**fields, "imap_password": "wrong-pass"})
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert f"The mailbox &#39;{name}&#39; is saved." in page
    assert "not answering" not in page  # its polling workflow was started
    try:
        result = MailboxActivities(stack.settings, stack.sessions, stack.runtime.inbound).poll_once(
            name
        )
        assert result.error and result.fetched == 0
        error = _box(stack, name).last_error
        assert error and "login" in error
        edit = client.get(f"/admin/mailboxes/{name}").get_data(as_text=True)
        assert f"<strong>Last error:</strong> {escape(error)}" in edit
        listing = client.get("/admin/mailboxes").get_data(as_text=True)
        assert f"<strong>Last error:</strong> {escape(error)}" in listing
        assert f"<code>{user}@{dovecot.host}:{dovecot.port}/INBOX</code>" in listing
        assert "API only" in listing  # the demo's support mailbox has no IMAP settings
        checked = _post(client, f"/admin/mailboxes/{name}/poll", {})
        assert checked.status_code == 302
        assert "is checking for new mail now" in client.get(checked.location).get_data(as_text=True)
    finally:  # switched off: its polling workflow stops at its next poll
        off = {key: value for key, value in fields.items() if key != "enabled"}
        assert _post(client, f"/admin/mailboxes/{name}", off).status_code == 302
        assert not _box(stack, name).enabled


def _engine_down(*_args: Any) -> None:
    raise EngineUnavailable("Temporal is not answering")


def test_a_mailbox_saved_while_temporal_is_down_polls_when_it_is_back(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack.runtime.temporal, "ensure_mailbox", _engine_down)
    name = f"down-{_tag()}"
    client = stack.login("admin")
    fields = _fields(name=name, imap_host="imap.invalid", imap_password="Imap-Secret-7")
    response = _post(client, "/admin/mailboxes/new", fields)
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert f"The mailbox &#39;{name}&#39; is saved." in page
    assert "polling starts when they are back" in page
    assert _box(stack, name).enabled
    checked = _post(client, f"/admin/mailboxes/{name}/poll", {})
    assert "polling starts when they are back" in client.get(checked.location).get_data(
        as_text=True
    )
    off = {key: value for key, value in fields.items() if key != "enabled"}
    assert _post(client, f"/admin/mailboxes/{name}", off).status_code == 302


def test_check_mail_now_on_a_mailbox_without_imap_says_so(stack: Stack) -> None:
    client = stack.login("admin")
    response = _post(client, "/admin/mailboxes/support/poll", {})
    assert response.status_code == 302
    assert "has no IMAP settings switched on" in client.get(response.location).get_data(
        as_text=True
    )
    assert _post(client, "/admin/mailboxes/nothing-here/poll", {}).status_code == 404
    assert client.get("/admin/mailboxes/nothing-here").status_code == 404
    assert client.get("/admin/mailboxes/web").status_code == 404  # not an email channel


# ------------------------------------------------------------------------------ quarantine


def test_broken_mail_is_listed_with_its_reason_and_counted(stack: Stack) -> None:
    raw = _broken()
    assert post(stack, raw).get_json()["outcome"] == "quarantined"
    row = _inbound(stack, raw)
    client = stack.login("admin")
    html = client.get("/admin/quarantine?mailbox=support").get_data(as_text=True)
    assert f"/admin/quarantine/{row.id}" in html and str(escape(row.reason)) in html
    assert f"/admin/quarantine/{row.id}" in client.get("/admin/quarantine").get_data(as_text=True)
    other = client.get("/admin/quarantine?mailbox=nothing-here").get_data(as_text=True)
    assert f"/admin/quarantine/{row.id}" not in other
    listing = client.get("/admin/mailboxes").get_data(as_text=True)
    assert "/admin/quarantine?mailbox=support" in listing
    detail = client.get(f"/admin/quarantine/{row.id}").get_data(as_text=True)
    assert str(escape(row.reason)) in detail and "The message cannot be parsed:" in detail
    assert f"/admin/quarantine/{row.id}/raw" in detail
    health = stack.client().get("/readyz").get_json()  # from loopback: the details
    assert health["quarantined_mail"] > 0


def test_the_raw_source_is_served_as_plain_text_with_nosniff(stack: Stack) -> None:
    raw = _hostile()
    post(stack, raw)
    row = _inbound(stack, raw)
    response = stack.login("admin").get(f"/admin/quarantine/{row.id}/raw")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.data == raw  # as it arrived, never rendered
    broken = _broken()
    post(stack, broken)
    text = stack.login("admin").get(f"/admin/quarantine/{_inbound(stack, broken).id}/raw")
    assert text.get_data(as_text=True).startswith("this is not a mail at all \x00\ufffd")


def test_hostile_subject_and_sender_are_shown_escaped(stack: Stack) -> None:
    raw = _hostile()
    result = post(stack, raw).get_json()
    assert result["outcome"] == "quarantined" and "someone@localhost" in result["reason"]
    row = _inbound(stack, raw)
    assert HOSTILE in row.subject
    client = stack.login("admin")
    for url in ("/admin/quarantine", f"/admin/quarantine/{row.id}"):
        html = client.get(url).get_data(as_text=True)
        assert HOSTILE not in html and "<script>alert" not in html
        assert str(escape(HOSTILE)) in html
    detail = client.get(f"/admin/quarantine/{row.id}").get_data(as_text=True)
    assert "<dt>From</dt>" in detail and "<dt>Message-ID</dt>" in detail


def test_reprocessing_a_still_broken_message_keeps_it_quarantined(stack: Stack) -> None:
    raw = _broken()
    post(stack, raw)
    row = _inbound(stack, raw)
    client = stack.login("admin")
    url = f"/admin/quarantine/{row.id}"
    response = _post(client, f"{url}/reprocess", {}, page=url)
    assert response.status_code == 302 and response.location.endswith(url)
    page = client.get(url).get_data(as_text=True)
    assert "Reprocessed: quarantined" in page
    again = _inbound(stack, raw)
    assert again.status == "quarantined" and again.reason == row.reason


def test_releasing_makes_a_ticket_with_the_original_attached(stack: Stack) -> None:
    raw = _broken()
    post(stack, raw)
    row = _inbound(stack, raw)
    client = stack.login("admin")
    url = f"/admin/quarantine/{row.id}"
    response = _post(client, f"{url}/release", {}, page=url)
    assert response.status_code == 302
    released = _inbound(stack, raw)
    assert released.status == "ticket" and released.ticket_number
    number = released.ticket_number
    page = client.get(url).get_data(as_text=True)
    assert f'Released as ticket <a href="/desk/tickets/{number}">{number}</a>.' in page
    with stack.sessions() as session:
        files = session.scalars(
            select(Attachment.filename)
            .join(Message, Message.id == Attachment.message_id)
            .where(Message.ticket_number == number)
        ).all()
    assert "original.eml" in files
    assert client.get(f"/desk/tickets/{number}").status_code == 200
    # Handled now: no second ticket, and no buttons.
    assert "Release as ticket" not in page
    again = _post(client, f"{url}/release", {}, page=url)
    assert "already handled" in client.get(again.location).get_data(as_text=True)
    assert _inbound(stack, raw).ticket_number == number


def test_an_ignored_auto_reply_is_listed_under_ignored_and_can_be_released(
    stack: Stack,
) -> None:
    sender = someone()
    raw = mail(sender, subject=f"Automatic reply {_tag()}", headers={"X-Autoreply": "yes"})
    assert post(stack, raw).get_json()["outcome"] == "ignored"
    row = _inbound(stack, raw)
    client = stack.login("admin")
    ignored = client.get("/admin/quarantine?status=ignored").get_data(as_text=True)
    assert f"/admin/quarantine/{row.id}" in ignored and sender in ignored
    quarantined = client.get("/admin/quarantine").get_data(as_text=True)
    assert f'/admin/quarantine/{row.id}"' not in quarantined
    url = f"/admin/quarantine/{row.id}"
    _post(client, f"{url}/release", {}, page=url)
    released = _inbound(stack, raw)
    assert released.status == "ticket" and released.ticket_number
    ticket = (
        stack.client()
        .get(f"/api/v1/tickets/{released.ticket_number}", headers=stack.api())
        .get_json()
    )
    assert ticket["customer"]["email"] == sender


def test_unknown_inbound_messages_are_404(stack: Stack) -> None:
    client = stack.login("admin")
    assert client.get("/admin/quarantine/999999999").status_code == 404
    assert client.get("/admin/quarantine/999999999/raw").status_code == 404
    assert _post(client, "/admin/quarantine/999999999/release", {}).status_code == 404


def test_release_and_reprocess_while_the_engine_is_down_change_nothing(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = _broken()
    post(stack, raw)
    row = _inbound(stack, raw)
    monkeypatch.setattr(stack.runtime.inbound, "release", _engine_down)
    monkeypatch.setattr(stack.runtime.inbound, "reprocess", _engine_down)
    client = stack.login("admin")
    url = f"/admin/quarantine/{row.id}"
    for action, done in (("release", "released"), ("reprocess", "reprocessed")):
        response = _post(client, f"{url}/{action}", {}, page=url)
        assert response.status_code == 302
        page = client.get(response.location).get_data(as_text=True)
        assert f"The ticket engine is not answering, so the message was not {done}." in page
    assert _inbound(stack, raw).status == "quarantined"


def test_an_order_pattern_that_backtracks_without_end_is_refused_at_save(stack: Stack) -> None:
    client = stack.login("admin")
    name = f"box-{_tag()}"
    response = _post(client, "/admin/mailboxes/new", _fields(name=name, order_pattern=r"(a+)+$"))
    assert response.status_code == 422
    message = (
        "The pattern takes too long on some text (nested repeats such as (a+)+ backtrack "
        "without end); write it without them."
    )
    html = response.get_data(as_text=True)
    assert (
        f'<p class="field-error" id="order_pattern-error" role="alert">{escape(message)}</p>'
        in (html)
    )
    with stack.sessions() as session:
        assert mailboxes.channel(session, name) is None
