"""The customer portal's requests: "my requests" in the customer's wording, one request's public
history with its attachments, and replies (with files) into the ticket's workflow."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from tempodesk.core.db import transaction
from tempodesk.core.models import Message
from tempodesk.mail.sink import MailSink
from tempodesk.tickets import processes
from tests.helpers import Stack, csrf_token
from tests.web.portal_helpers import (
    ask_for_link,
    create,
    eventually,
    link_in_mail,
    open_link,
    portal_client,
    unique_email,
)


def test_my_requests_lists_only_my_tickets_in_customer_wording(any_stack: Stack) -> None:
    mine, theirs = unique_email(), unique_email()
    first = create(any_stack, mine, subject="First kettle")
    second = create(any_stack, mine, subject="Second kettle")
    other = create(any_stack, theirs, subject="Somebody else's kettle")
    page = portal_client(any_stack, mine).get("/portal/tickets").get_data(as_text=True)
    assert page.index(second) < page.index(first)  # newest first
    assert "Received" in page and ">New<" not in page  # the state's customer_label
    assert other not in page and "Somebody else" not in page


def test_another_customers_number_is_not_found(any_stack: Stack) -> None:
    mine, theirs = unique_email(), unique_email()
    create(any_stack, mine)
    other = create(any_stack, theirs)
    client = portal_client(any_stack, mine)
    assert client.get(f"/portal/tickets/{other}").status_code == 404
    assert client.get("/portal/tickets/NO-SUCH-1").status_code == 404
    page = client.get(f"/portal/tickets/{other}")
    token = csrf_token(client.get("/portal/tickets").get_data(as_text=True))
    posted = client.post(f"/portal/tickets/{other}", data={"body": "x", "csrf_token": token})
    assert posted.status_code == 404 and page.status_code == 404


def test_the_request_page_shows_no_internal_note(any_stack: Stack) -> None:
    email = unique_email()
    number = create(any_stack, email, body="My kettle is broken")
    for action, text in (("comment", "SECRET-NOTE customer is rude"), ("reply", "PUBLIC-REPLY")):
        done = any_stack.client().post(
            f"/api/v1/tickets/{number}/actions/{action}",
            json={"fields": {"body": text}},
            headers=any_stack.api(),
        )
        assert done.status_code == 200, done.get_json()
    page = portal_client(any_stack, email).get(f"/portal/tickets/{number}").get_data(True)
    assert "My kettle is broken" in page and "PUBLIC-REPLY" in page
    assert "SECRET-NOTE" not in page and "agent1" not in page


def test_a_portal_reply_reaches_the_desk_as_a_customer_message(any_stack: Stack) -> None:
    email = unique_email()
    number = create(any_stack, email)
    client = portal_client(any_stack, email)
    page = client.get(f"/portal/tickets/{number}").get_data(as_text=True)
    sent = client.post(
        f"/portal/tickets/{number}",
        data={"body": "It still does not heat.", "csrf_token": csrf_token(page), "state": "closed"},
    )
    assert sent.status_code == 302

    def on_the_desk() -> bool:
        detail = any_stack.client().get(f"/api/v1/tickets/{number}", headers=any_stack.api())
        return any(
            m["body"] == "It still does not heat." and m["sender_role"] == "customer"
            for m in detail.get_json()["messages"]
        )

    eventually(on_the_desk)
    detail = any_stack.client().get(f"/api/v1/tickets/{number}", headers=any_stack.api())
    assert detail.get_json()["state"] != "closed"  # a message, never a state write
    desk = any_stack.login("agent1").get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert "It still does not heat." in desk
    with any_stack.sessions() as session:
        stored = session.scalar(select(Message).where(Message.body == "It still does not heat."))
        assert stored is not None and stored.channel == "portal" and stored.author == email


def test_a_reply_to_a_closed_request_is_refused_on_the_page(any_stack: Stack) -> None:
    email = unique_email()
    number = create(any_stack, email)
    client = portal_client(any_stack, email)
    page = client.get(f"/portal/tickets/{number}").get_data(as_text=True)
    closed = any_stack.client().post(
        f"/api/v1/tickets/{number}/actions/close_without_reply",
        json={"fields": {"reason": "no_action"}},
        headers=any_stack.api(),
    )
    assert closed.status_code == 200, closed.get_json()
    sent = client.post(
        f"/portal/tickets/{number}", data={"body": "Late words", "csrf_token": csrf_token(page)}
    )
    assert sent.status_code == 409
    assert "it takes no more messages" in sent.get_data(as_text=True)


def test_a_forged_reply_without_csrf_token_is_refused(any_stack: Stack) -> None:
    email = unique_email()
    number = create(any_stack, email)
    client = portal_client(any_stack, email)
    forged = client.post(f"/portal/tickets/{number}", data={"body": "forged"})
    assert forged.status_code == 400
    with any_stack.sessions() as session:
        assert session.scalar(select(Message).where(Message.body == "forged")) is None


def test_hostile_text_is_rendered_inert(any_stack: Stack) -> None:
    email = unique_email()
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    number = create(any_stack, email, subject=hostile, body=hostile)
    client = portal_client(any_stack, email)
    for path in ("/portal/tickets", f"/portal/tickets/{number}"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;" in page


PORTAL_PROCESS = """
name: portal_answers
label: Answers in the portal (portal tests)
initial: new
states:
  new:
    label: New
    customer_label: We are on it
    category: new
    actions: [answer]
  answered:
    label: Answered in the portal
    customer_label: Answered
    category: pending
    actions: [answer, close]
  closed:
    label: Closed
    category: closed
actions:
  close:
    label: Close
    target: closed
  answer:
    label: Answer in the portal
    target: answered
    fields:
      - {id: body, type: longtext, label: Answer, required: true}
    effects:
      - {type: portal_reply, body_field: body, template: portal_reply}
"""


def test_the_link_a_portal_reply_mails_opens_the_answer_in_the_portal(
    stack: Stack, sink: MailSink
) -> None:
    with transaction(stack.sessions) as session:
        processes.publish(session, PORTAL_PROCESS, author="tests")
    email = unique_email()
    created = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": "Kettle",
            "body": "Help",
            "customer": {"email": email},
            "process": "portal_answers",
        },
        headers=stack.api(),
    )
    assert created.status_code == 201, created.get_json()
    number = created.get_json()["number"]
    answered = stack.client().post(
        f"/api/v1/tickets/{number}/actions/answer",
        json={"fields": {"body": "ANSWER-ONLY-IN-PORTAL"}},
        headers=stack.api(),
    )
    assert answered.status_code == 200, answered.get_json()
    found: list[Any] = []

    def mailed() -> bool:
        found[:] = [m for m in list(sink.caught) if email in m.recipients]
        return bool(found)

    eventually(mailed)
    text = found[0].message.get_body(("plain",)).get_content()
    assert "ANSWER-ONLY-IN-PORTAL" not in text
    match = re.search(r"http://desk\.test(/portal/tickets/\S+)", text)
    assert match and match.group(1) == f"/portal/tickets/{number}", text
    client = stack.client()
    to_login = client.get(match.group(1))
    assert to_login.status_code == 302
    sink.caught.clear()
    ask_for_link(client, email, match.group(1))
    assert open_link(client, link_in_mail(sink, email)).headers["Location"] == match.group(1)
    page = client.get(match.group(1)).get_data(as_text=True)
    assert "ANSWER-ONLY-IN-PORTAL" in page and "Answered" in page


def test_a_double_submitted_reply_is_one_message(any_stack: Stack) -> None:
    email = unique_email()
    number = create(any_stack, email)
    client = portal_client(any_stack, email)
    page = client.get(f"/portal/tickets/{number}").get_data(as_text=True)
    submission = re.search(r'name="submission" type="hidden" value="([^"]+)"', page)
    assert submission, page
    data = {"body": "Clicked twice", "csrf_token": csrf_token(page), "submission": submission[1]}
    assert [client.post(f"/portal/tickets/{number}", data=data).status_code for _ in "12"] == [
        302,
        302,
    ]
    with any_stack.sessions() as session:
        stored = session.scalars(select(Message).where(Message.ticket_number == number)).all()
        assert [m.body for m in stored].count("Clicked twice") == 1


def test_a_form_sent_again_with_other_text_asks_before_sending_it_too(any_stack: Stack) -> None:
    email = unique_email()
    number = create(any_stack, email)
    client = portal_client(any_stack, email)
    page = client.get(f"/portal/tickets/{number}").get_data(as_text=True)
    submission = re.search(r'name="submission" type="hidden" value="([^"]+)"', page)
    assert submission, page
    data = {"csrf_token": csrf_token(page), "submission": submission[1]}
    assert client.post(f"/portal/tickets/{number}", data={**data, "body": "One"}).status_code == 302
    again = client.post(f"/portal/tickets/{number}", data={**data, "body": "Two"})
    assert again.status_code == 422 and "already sent with other content" in again.get_data(True)
    fresh = re.search(r'name="submission" type="hidden" value="([^"]+)"', again.get_data(True))
    assert fresh and fresh[1] != submission[1]


def test_the_customer_downloads_the_attachments_of_their_request_only(any_stack: Stack) -> None:
    from tests.web.test_inbound_email import mail, post

    email, other = unique_email(), unique_email()
    raw = mail(email, attachment=("invoice.pdf", b"%PDF-1.4 mine"))
    answer = post(any_stack, raw)
    assert answer.status_code in (200, 201, 202), answer.get_json()
    number = answer.get_json()["ticket"]
    client = portal_client(any_stack, email)

    def listed() -> bool:
        return "invoice.pdf" in client.get(f"/portal/tickets/{number}").get_data(as_text=True)

    eventually(listed)
    page = client.get(f"/portal/tickets/{number}").get_data(as_text=True)
    match = re.search(r'href="(/portal/tickets/[^"]+/attachments/\d+)"', page)
    assert match, page
    download = client.get(match[1])
    assert download.status_code == 200 and download.data == b"%PDF-1.4 mine"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["Content-Type"] == "application/octet-stream"
    create(any_stack, other)
    assert portal_client(any_stack, other).get(match[1]).status_code == 404
    elsewhere = match[1].replace(number, create(any_stack, email))
    assert client.get(elsewhere).status_code == 404


def test_a_portal_reply_moves_the_request_as_the_process_says(any_stack: Stack) -> None:
    email = unique_email()
    number = create(any_stack, email)
    replied = any_stack.client().post(
        f"/api/v1/tickets/{number}/actions/reply",
        json={"fields": {"body": "Is it plugged in?"}},
        headers=any_stack.api(),
    )
    assert replied.status_code == 200, replied.get_json()
    client = portal_client(any_stack, email)
    page = client.get(f"/portal/tickets/{number}").get_data(as_text=True)
    assert "Waiting for your reply" in page and "Is it plugged in?" in page
    data = {"body": "Yes, it is.", "csrf_token": csrf_token(page)}
    assert client.post(f"/portal/tickets/{number}", data=data).status_code == 302

    def in_progress() -> bool:
        return "In progress" in client.get("/portal/tickets").get_data(as_text=True)

    eventually(in_progress)  # waiting_for_customer: on_customer_message -> open


def test_a_portal_reply_carries_attachments_to_the_desk(any_stack: Stack) -> None:
    import io

    email = unique_email()
    number = create(any_stack, email)
    client = portal_client(any_stack, email)
    page = client.get(f"/portal/tickets/{number}").get_data(as_text=True)
    sent = client.post(
        f"/portal/tickets/{number}",
        data={
            "body": "Photo attached.",
            "csrf_token": csrf_token(page),
            "attachments": (io.BytesIO(b"\x89PNG photo"), "../kettle<1>.png"),
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)

    def listed() -> bool:
        return "kettle_1_.png" in client.get(f"/portal/tickets/{number}").get_data(as_text=True)

    eventually(listed)
    desk = any_stack.login("agent1").get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert "Photo attached." in desk and "kettle_1_.png" in desk
    with any_stack.sessions() as session:
        stored = session.scalar(select(Message).where(Message.body == "Photo attached."))
        assert stored is not None and [a.data for a in stored.attachments] == [b"\x89PNG photo"]


def test_a_portal_attachment_over_the_limit_is_refused(
    any_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr(any_stack.settings, "max_attachment_bytes", 10)
    email = unique_email()
    number = create(any_stack, email)
    client = portal_client(any_stack, email)
    page = client.get(f"/portal/tickets/{number}").get_data(as_text=True)
    sent = client.post(
        f"/portal/tickets/{number}",
        data={
            "body": "Too big",
            "csrf_token": csrf_token(page),
            "attachments": (io.BytesIO(b"x" * 100), "big.bin"),
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 413
    with any_stack.sessions() as session:
        assert session.scalar(select(Message).where(Message.body == "Too big")) is None
