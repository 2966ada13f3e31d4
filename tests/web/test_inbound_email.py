"""Email intake through the inbound MIME endpoint: the same pipeline the IMAP poller uses.

New mail → ticket (+ acknowledgement); reply → same ticket; auto-reply → no acknowledgement;
bounce → marked; spam → spam state; duplicates → one ticket; hostile and broken mail →
a safe result with a reason.
"""

from __future__ import annotations

import time
import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from sqlalchemy import func, select

from tempodesk.contracts import CustomerRef
from tempodesk.core.db import transaction
from tempodesk.core.models import Contact, InboundMessage, Message, Ticket, User
from tempodesk.people import accounts
from tempodesk.tickets.intake import NewTicket
from tests.helpers import Stack

SUPPORT = "support@tempodesk.localhost"


def inbound_token(stack: Stack) -> dict[str, str]:
    if "inbound" not in stack.tokens:
        with transaction(stack.sessions) as session:
            admin = session.scalar(select(User).where(User.username == "admin"))
            assert admin is not None
            stack.tokens["inbound"] = accounts.create_token(
                session, admin, "mail provider", scopes=("inbound",)
            )
    return {"Authorization": f"Bearer {stack.tokens['inbound']}"}


def mail(
    sender: str,
    subject: str = "My kettle is broken",
    body: str = "It stopped heating.\n",
    *,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
    html: str | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = SUPPORT
    message["Subject"] = subject
    if message_id != "":
        message["Message-ID"] = message_id or make_msgid(domain="customer.example")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype="html")
    if attachment:
        message.add_attachment(
            attachment[1], maintype="application", subtype="pdf", filename=attachment[0]
        )
    return message.as_bytes()


def post(stack: Stack, raw: bytes, mailbox: str = "support", **headers: str) -> Any:
    return stack.client().post(
        f"/api/v1/inbound/email?mailbox={mailbox}",
        data=raw,
        headers={"Content-Type": "message/rfc822", **inbound_token(stack), **headers},
    )


def mails_to(sink: Any, address: str, count: int, timeout: float = 20.0) -> list[Any]:
    """The mail caught for one address (other tests' mail may still be arriving)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in list(sink.caught) if address in m.recipients]
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"expected {count} mails to {address}, caught {len(found)}")


def someone() -> str:
    return f"customer-{uuid.uuid4().hex[:8]}@customer.example"


def ticket(stack: Stack, number: str) -> dict[str, Any]:
    response = stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api())
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    return body


def wait_for_state(stack: Stack, number: str, state: str) -> dict[str, Any]:
    for _ in range(150):
        current = ticket(stack, number)
        if current["state"] == state:
            return current
        time.sleep(0.05)
    raise AssertionError(f"{number} never reached {state}: {current['state']}")


def test_new_mail_becomes_a_ticket_and_is_acknowledged(stack: Stack, sink: Any) -> None:
    sender = someone()
    response = post(
        stack,
        mail(
            f"Jana Example <{sender}>",
            subject="Order ORD-1001: kettle broken",
            html="<p>It <b>stopped</b> heating.<script>alert(1)</script></p>",
            attachment=("receipt.pdf", b"%PDF-1.4 receipt"),
        ),
    )
    assert response.status_code == 202
    result = response.get_json()
    assert result["outcome"] == "ticket" and result["ticket"]
    created = ticket(stack, result["ticket"])
    assert created["channel"] == "email" and created["customer"]["email"] == sender
    assert created["customer"]["name"] == "Jana Example"
    [first] = created["messages"]
    assert first["body"].strip() == "It stopped heating."
    with stack.sessions() as session:
        message = session.get(Message, first["id"])
        assert message is not None and message.html is not None
        assert "<script>" not in message.html and "<b>stopped</b>" in message.html
        assert [a.filename for a in message.attachments] == ["receipt.pdf"]
    [ack] = mails_to(sink, sender, 1)
    assert ack.message["Auto-Submitted"] == "auto-replied"
    assert "stopped heating" not in ack.text()  # never quotes the request (Ticket Trick)
    assert ack.subject.startswith(f"[{result['ticket']}]")


def test_the_same_mail_twice_is_one_ticket_and_one_message(stack: Stack) -> None:
    raw = mail(someone())
    first = post(stack, raw).get_json()
    second = post(stack, raw).get_json()
    assert first == second
    with stack.sessions() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.ticket_number == first["ticket"])
                .where(Message.sender_role == "customer")
            )
            == 1
        )


def test_mail_without_message_id_twice_is_one_ticket(stack: Stack) -> None:
    raw = mail(someone(), message_id="")
    assert post(stack, raw).get_json() == post(stack, raw).get_json()


def test_a_list_copy_with_other_headers_but_the_same_id_is_the_same_mail(stack: Stack) -> None:
    sender = someone()
    message_id = make_msgid(domain="customer.example")
    first = post(stack, mail(sender, message_id=message_id)).get_json()
    copy = post(
        stack, mail(sender, message_id=f"  {message_id}  ", headers={"X-Copied": "list"})
    ).get_json()
    assert copy["ticket"] == first["ticket"]


def test_a_reused_message_id_from_another_sender_is_not_merged(stack: Stack) -> None:
    message_id = make_msgid(domain="customer.example")
    first = post(stack, mail(someone(), message_id=message_id)).get_json()
    spoof = post(stack, mail(someone(), message_id=message_id, body="Other")).get_json()
    assert spoof["outcome"] == "ticket" and spoof["ticket"] != first["ticket"]


def test_a_reply_to_our_reply_continues_the_ticket(stack: Stack, sink: Any) -> None:
    sender = someone()
    number = post(stack, mail(sender)).get_json()["ticket"]
    mails_to(sink, sender, 1)  # the acknowledgement
    stack.client().post(
        f"/api/v1/tickets/{number}/actions/reply",
        json={"fields": {"body": "Please send a photo."}},
        headers=stack.api(),
    )
    reply_mail = mails_to(sink, sender, 2)[1]
    assert reply_mail.message["In-Reply-To"]  # threads under the customer's mail
    answer = mail(
        sender,
        subject=f"Re: {reply_mail.subject}",
        body="Here is the photo.\n\nOn Monday you wrote:\n> Please send a photo.\n",
        headers={"In-Reply-To": reply_mail.message_id, "References": reply_mail.message_id},
    )
    result = post(stack, answer).get_json()
    assert result == {"outcome": "follow_up", "ticket": number, "reason": None}
    current = wait_for_state(stack, number, "open")
    assert current["messages"][-1]["body"].startswith("Here is the photo.")
    time.sleep(0.3)
    assert len(mails_to(sink, sender, 2)) == 2  # no acknowledgement for a follow-up


def test_the_ticket_tag_from_its_customer_continues_the_ticket(stack: Stack) -> None:
    sender = someone()
    number = post(stack, mail(sender)).get_json()["ticket"]
    result = post(stack, mail(sender, subject=f"Re: [{number}] kettle")).get_json()
    assert result["outcome"] == "follow_up" and result["ticket"] == number


def test_someone_elses_ticket_tag_opens_a_new_ticket(stack: Stack) -> None:
    number = post(stack, mail(someone())).get_json()["ticket"]
    result = post(stack, mail(someone(), subject=f"Re: [{number}] let me in")).get_json()
    assert result["outcome"] == "ticket" and result["ticket"] != number
    assert "the sender is not its customer" in result["reason"]
    messages = ticket(stack, number)["messages"]
    assert [m["sender_role"] for m in messages if m["sender_role"] == "customer"] == ["customer"]


def test_an_auto_reply_is_recorded_but_moves_nothing_and_is_not_acknowledged(
    stack: Stack, sink: Any
) -> None:
    sender = someone()
    number = post(stack, mail(sender)).get_json()["ticket"]
    stack.client().post(
        f"/api/v1/tickets/{number}/actions/reply",
        json={"fields": {"body": "Could you call us?"}},
        headers=stack.api(),
    )
    ours = mails_to(sink, sender, 2)[1]
    out_of_office = mail(
        sender,
        subject="Out of office",
        body="I am away until Monday.",
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": ours.message_id},
    )
    result = post(stack, out_of_office).get_json()
    assert result["outcome"] == "follow_up"
    time.sleep(0.5)
    current = ticket(stack, number)
    assert current["state"] == "waiting_for_customer"
    assert current["events"][-1]["data"] == {"auto_reply": True}
    assert len(mails_to(sink, sender, 2)) == 2


def test_an_auto_reply_to_nothing_of_ours_is_ignored(stack: Stack, sink: Any) -> None:
    sender = someone()
    result = post(
        stack, mail(sender, subject="Automatic reply", headers={"X-Autoreply": "yes"})
    ).get_json()
    assert result["outcome"] == "ignored" and result["reason"].startswith("auto-reply")
    time.sleep(0.5)
    assert [m for m in sink.caught if sender in m.recipients] == []


def test_a_bounce_marks_the_customers_address(stack: Stack) -> None:
    address = someone()
    with transaction(stack.sessions) as session:
        session.add(Contact(email=address, name="Gone"))
    report = (
        "From: MAILER-DAEMON@mx.example\r\nTo: support@tempodesk.localhost\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce-"
        + uuid.uuid4().hex
        + "@mx.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n"
        f"Final-Recipient: rfc822; {address}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "--B--\r\n"
    ).encode()
    result = post(stack, report).get_json()
    assert result["outcome"] == "ignored" and address in result["reason"]
    with stack.sessions() as session:
        contact = session.scalar(select(Contact).where(Contact.email == address))
        assert contact is not None and contact.bounced_at is not None


def test_spam_lands_in_the_spam_state_without_acknowledgement(stack: Stack, sink: Any) -> None:
    sender = someone()
    result = post(stack, mail(sender, headers={"X-Spam-Flag": "YES"})).get_json()
    assert result["outcome"] == "ticket" and result["reason"].startswith("spam")
    wait_for_state(stack, result["ticket"], "spam")
    time.sleep(0.3)
    assert [m for m in sink.caught if sender in m.recipients] == []


def test_our_own_mail_coming_back_is_a_loop_and_ignored(stack: Stack, sink: Any) -> None:
    result = post(stack, mail(SUPPORT, subject="[HD-2026-000001] Re: something")).get_json()
    assert result["outcome"] == "ignored" and result["reason"].startswith("mail loop")


def test_broken_mail_is_quarantined_with_its_reason_and_raw_bytes(stack: Stack) -> None:
    raw = b"this is not a mail at all \x00\xff"
    result = post(stack, raw).get_json()
    assert result["outcome"] == "quarantined" and result["reason"]
    with stack.sessions() as session:
        row = session.scalar(
            select(InboundMessage).where(InboundMessage.raw == raw).order_by(InboundMessage.id)
        )
        assert row is not None and row.status == "quarantined"


def test_a_reply_to_a_closed_ticket_reopens_it(stack: Stack, sink: Any) -> None:
    sender = someone()
    number = post(stack, mail(sender)).get_json()["ticket"]
    closed = stack.client().post(
        f"/api/v1/tickets/{number}/actions/close_without_reply",
        json={"fields": {"reason": "no_action"}},
        headers=stack.api(),
    )
    assert closed.status_code == 200
    time.sleep(0.5)  # the workflow completes
    result = post(stack, mail(sender, subject=f"Re: [{number}] still broken")).get_json()
    assert result["outcome"] == "follow_up" and result["ticket"] == number
    current = wait_for_state(stack, number, "open")
    kinds = [e["kind"] for e in current["events"]]
    assert kinds[-2:] == ["reopened", "customer_message"]
    assert (
        stack.client()
        .post(
            f"/api/v1/tickets/{number}/actions/comment",
            json={"fields": {"body": "Back again."}},
            headers=stack.api(),
        )
        .status_code
        == 200
    )


def test_an_auto_reply_to_a_closed_ticket_is_ignored_and_reopens_nothing(
    stack: Stack, sink: Any
) -> None:
    sender = someone()
    number = post(stack, mail(sender)).get_json()["ticket"]
    acknowledgement = mails_to(sink, sender, 1)[0]
    closed = stack.client().post(
        f"/api/v1/tickets/{number}/actions/close_without_reply",
        json={"fields": {"reason": "no_action"}},
        headers=stack.api(),
    )
    assert closed.status_code == 200
    out_of_office = mail(
        sender,
        subject="Out of office",
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": acknowledgement.message_id},
    )
    result = post(stack, out_of_office).get_json()
    assert result["outcome"] == "ignored" and result["ticket"] == number
    assert result["reason"].startswith(f"auto-reply to the closed ticket {number}")
    time.sleep(0.5)
    current = ticket(stack, number)
    assert current["state"] == "closed"
    assert "reopened" not in [e["kind"] for e in current["events"]]


def test_a_reply_to_a_ticket_accepted_but_not_started_yet_starts_it_with_the_reply(
    stack: Stack,
) -> None:
    # Temporal was away when the form was sent: the number was given, the start waits.
    sender = someone()
    accepted = stack.runtime.intake.accept(
        NewTicket(
            subject="Kettle",
            body="It stopped heating.",
            customer=CustomerRef(email=sender),
            channel="web",
            idempotency_key=f"web:{uuid.uuid4()}",
        )
    )
    assert accepted.start is not None and accepted.fresh
    reply = mail(sender, subject=f"Re: [{accepted.number}] a photo", body="Here is a photo.")
    result = post(stack, reply).get_json()
    assert result["outcome"] == "follow_up" and result["ticket"] == accepted.number
    for _ in range(150):  # started by the delivery, then told: both land on its timeline
        found = stack.client().get(f"/api/v1/tickets/{accepted.number}", headers=stack.api())
        current = found.get_json() if found.status_code == 200 else {"messages": []}
        customer = [m for m in current["messages"] if m["sender_role"] == "customer"]
        if len(customer) == 2 and len(current["events"]) == 2:
            break
        time.sleep(0.05)
    written = [m["body"].strip() for m in customer]
    assert written == ["It stopped heating.", "Here is a photo."]
    assert [e["kind"] for e in current["events"]] == ["created", "customer_message"]


def test_only_tokens_with_the_inbound_right_may_post_mail(stack: Stack) -> None:
    response = stack.client().post(
        "/api/v1/inbound/email?mailbox=support",
        data=mail(someone()),
        headers={"Content-Type": "message/rfc822", **stack.api()},
    )
    assert response.status_code == 401
    reading = stack.client().get("/api/v1/tickets", headers=inbound_token(stack))
    assert reading.status_code == 401


def test_unknown_mailbox_wrong_type_and_empty_body_are_refused(stack: Stack) -> None:
    assert post(stack, mail(someone()), mailbox="nope").status_code == 404
    wrong = stack.client().post(
        "/api/v1/inbound/email?mailbox=support",
        data="hello",
        headers={"Content-Type": "text/plain", **inbound_token(stack)},
    )
    assert wrong.status_code == 415
    assert post(stack, b"").status_code == 400


def test_mail_above_the_mailbox_limit_is_413(stack: Stack) -> None:
    huge = mail(someone(), body="x" * (26 * 1024 * 1024))
    response = post(stack, huge)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    with stack.sessions() as session:
        assert (
            session.scalar(select(func.count()).select_from(Ticket).where(Ticket.subject == "x"))
            == 0
        )


def test_a_reply_while_the_closed_ticket_still_sends_its_last_mail_reopens_it(
    stack: Stack, sink: Any
) -> None:
    sender = someone()
    number = post(stack, mail(sender)).get_json()["ticket"]
    mails_to(sink, sender, 1)  # the acknowledgement
    sink.delay = 2.0  # the reply below takes a while to leave: the closed run is still busy
    api = stack.client()
    url = f"/api/v1/tickets/{number}/actions"
    replied = api.post(f"{url}/reply", json={"fields": {"body": "Reset it."}}, headers=stack.api())
    assert replied.status_code == 200
    assert api.post(f"{url}/close", json={}, headers=stack.api()).status_code == 200
    result = post(stack, mail(sender, subject=f"Re: [{number}] still broken")).get_json()
    assert result["outcome"] == "follow_up" and result["ticket"] == number
    current = wait_for_state(stack, number, "open")  # the mailbox's policy: reopen
    kinds = [e["kind"] for e in current["events"]]
    assert kinds.index("reopened") == kinds.index("customer_message") - 1
    assert current["messages"][-1]["body"].startswith("It stopped heating.")
    mails_to(sink, sender, 2)  # and the reply still went out


def test_a_reply_a_closed_ticket_redirects_becomes_one_new_ticket_with_a_note(
    stack: Stack, sink: Any
) -> None:
    sender = someone()
    number = post(stack, mail(sender)).get_json()["ticket"]
    reply = mail(sender, subject=f"Re: [{number}] still broken", body="Still cold.\n")
    assert post(stack, reply).get_json()["outcome"] == "follow_up"
    with stack.sessions() as session:
        message_id = session.scalar(
            select(Message.id)
            .where(Message.ticket_number == number)
            .where(Message.body.startswith("Still cold."))
        )
    assert message_id is not None
    # What the ticket's run asks when the reply reaches it closed, in a "new ticket" mailbox:
    inbound = stack.runtime.inbound
    route = inbound.redirect(number, message_id)
    assert route is not None and route.start is not None and route.number != number
    again = inbound.redirect(number, message_id)  # a retried activity: the same new ticket
    assert again is not None and again.number == route.number
    inbound.deliver_now(route)
    opened = ticket(stack, route.number)
    assert opened["customer"]["email"] == sender
    assert opened["messages"][0]["body"].startswith("Still cold.")
    assert f"A reply to the closed ticket {number}." in opened["messages"][0]["body"]
    with stack.sessions() as session:
        row = session.scalar(
            select(InboundMessage).where(InboundMessage.ticket_number == route.number)
        )
    assert row is not None and row.status == "ticket"


def test_a_follow_up_carries_what_its_mailbox_does_if_the_ticket_closes_first(
    stack: Stack,
) -> None:
    from tempodesk.core.models import Channel, Mailbox

    sender = someone()
    number = post(stack, mail(sender)).get_json()["ticket"]
    inbound = stack.runtime.inbound
    first = inbound.take("support", mail(sender, subject=f"Re: [{number}] one"))
    assert first.route is not None and first.route.message is not None
    assert first.route.message.if_closed == "reopen"  # the default: reopen within 14 days
    with transaction(stack.sessions) as session:
        support = session.scalar(select(Channel).where(Channel.name == "support"))
        assert support is not None
        session.add(Mailbox(channel_id=support.id, enabled=False, closed_policy="new"))
    try:
        second = inbound.take("support", mail(sender, subject=f"Re: [{number}] two"))
    finally:
        with transaction(stack.sessions) as session:
            box = session.scalar(select(Mailbox).where(Mailbox.channel_id == support.id))
            session.delete(box)
    assert second.route is not None and second.route.message is not None
    assert second.route.message.if_closed == "new"


def test_a_reply_reaching_a_closing_ticket_in_a_new_ticket_mailbox_becomes_a_new_ticket(
    stack: Stack, sink: Any
) -> None:
    from tempodesk.core.models import Channel, Mailbox

    sender = someone()
    number = post(stack, mail(sender)).get_json()["ticket"]
    mails_to(sink, sender, 1)  # the acknowledgement
    with transaction(stack.sessions) as session:
        support = session.scalar(select(Channel).where(Channel.name == "support"))
        assert support is not None
        session.add(Mailbox(channel_id=support.id, enabled=False, closed_policy="new"))
    try:
        # Routed while the ticket is open; delivered once it is closed and still sending.
        routed = stack.runtime.inbound.take(
            "support", mail(sender, subject=f"Re: [{number}] late", body="Late news.\n")
        )
    finally:
        with transaction(stack.sessions) as session:
            session.delete(session.scalar(select(Mailbox).where(Mailbox.channel_id == support.id)))
    assert routed.outcome.outcome == "follow_up"
    sink.delay = 2.0
    api = stack.client()
    url = f"/api/v1/tickets/{number}/actions"
    replied = api.post(f"{url}/reply", json={"fields": {"body": "Reset it."}}, headers=stack.api())
    assert replied.status_code == 200
    assert api.post(f"{url}/close", json={}, headers=stack.api()).status_code == 200
    stack.runtime.inbound.deliver_now(routed.route)
    for _ in range(200):
        events = ticket(stack, number)["events"]
        if any(e["kind"] == "message_redirected" for e in events):
            break
        time.sleep(0.05)
    [redirected] = [e for e in events if e["kind"] == "message_redirected"]
    new_number = redirected["data"]["ticket"]
    assert new_number != number and "customer_message" not in [e["kind"] for e in events]
    for _ in range(200):  # the new ticket's workflow projects it (a busy worker: later)
        found = stack.client().get(f"/api/v1/tickets/{new_number}", headers=stack.api())
        if found.status_code == 200 and found.get_json()["messages"]:
            break
        time.sleep(0.05)
    opened = ticket(stack, new_number)
    assert opened["messages"][0]["body"].startswith("Late news.")
    page = stack.login("agent1").get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert f'href="/desk/tickets/{new_number}"' in page
    assert ticket(stack, number)["state"] == "closed"
    mails_to(sink, sender, 2)  # the reply still left (the new ticket's acknowledgement: the
    #                            address had today's already)
