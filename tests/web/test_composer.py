"""The composer of the ticket page: canned answers, drafts, attachments, reply vs note."""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from tempodesk.core.db import transaction
from tempodesk.core.models import Attachment, CannedAnswer, Draft, Message
from tempodesk.mail import mailboxes
from tests.helpers import Stack, csrf_token


def new_ticket(stack: Stack, **extra: Any) -> str:
    email = extra.pop("email", "jana.novakova@example.com")
    response = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": "The kettle stopped heating",
            "body": "After one week it does not heat any more.",
            "customer": {"email": email, "name": "Jana"},
            "order_number": "ORD-1001",
            **extra,
        },
        headers=stack.api(),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    number: str = response.get_json()["number"]
    return number


def action_form(html: str, action: str) -> dict[str, str]:
    match = re.search(
        rf'<form method="post" action="[^"]*/actions/{action}"[^>]*>(.*?)</form>', html, re.S
    )
    assert match, f"no form for {action}"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', match.group(1)))


def canned_answer(stack: Stack, title: str, body: str, **sharing: Any) -> Any:
    admin = stack.login("admin")
    page = admin.get("/admin/canned/new").get_data(as_text=True)
    return admin.post(
        "/admin/canned/new",
        data={
            "csrf_token": csrf_token(page),
            "title": title,
            "body": body,
            "language": "en",
            "sharing": sharing.get("sharing", "everyone"),
            "groups": sharing.get("groups", []),
            "owner": sharing.get("owner", ""),
        },
    )


def answer_id(stack: Stack, title: str) -> int:
    with stack.sessions() as session:
        found = session.scalar(select(CannedAnswer.id).where(CannedAnswer.title == title))
        assert found is not None
        return int(found)


def json_post(client: FlaskClient, url: str, page: str, body: dict[str, Any]) -> Any:
    return client.post(url, json=body, headers={"X-CSRFToken": csrf_token(page)})


def message_count(stack: Stack, number: str) -> int:
    with stack.sessions() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Message).where(Message.ticket_number == number)
            )
            or 0
        )


# --------------------------------------------------------------------------- canned answers


def test_canned_answer_is_inserted_with_variables_filled_from_the_ticket(stack: Stack) -> None:
    title = f"Kettle replacement {uuid.uuid4().hex[:6]}"
    saved = canned_answer(
        stack,
        title,
        "Hello {{ customer.name }},\nabout {{ ticket.number }} ({{ order.number }}): "
        "a new kettle is on its way.\n{{ agent.name }}",
    )
    assert saved.status_code == 302
    number = new_ticket(stack)
    agent = stack.login("agent1")
    page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert title in page and "Canned answers" in page
    response = agent.get(f"/desk/tickets/{number}/canned/{answer_id(stack, title)}")
    assert response.status_code == 200
    assert response.get_json()["text"] == (
        f"Hello Jana Nováková,\nabout {number} (ORD-1001): a new kettle is on its way.\nAlice Agent"
    )


def test_hostile_canned_body_is_refused_at_save(stack: Stack) -> None:
    title = f"Hostile {uuid.uuid4().hex[:6]}"
    response = canned_answer(stack, title, "{{ ''.__class__.__mro__[1].__subclasses__() }}")
    assert response.status_code == 422
    assert "Not allowed" in response.get_data(as_text=True)
    with stack.sessions() as session:
        assert session.scalar(select(CannedAnswer).where(CannedAnswer.title == title)) is None


def test_canned_body_with_a_misspelt_variable_is_refused_at_its_field(stack: Stack) -> None:
    response = canned_answer(stack, "Typo", "Hello {{ custmer.name }}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'name="body"[^>]*aria-invalid=true', html)
    assert "custmer" in html


def test_agent_never_sees_a_canned_answer_not_shared_with_them(stack: Stack) -> None:
    suffix = uuid.uuid4().hex[:6]
    billing, personal = f"Refund policy {suffix}", f"Bob personal {suffix}"
    assert (
        canned_answer(
            stack, billing, "Refunds take 5 days.", sharing="groups", groups=["Billing"]
        ).status_code
        == 302
    )
    assert (
        canned_answer(
            stack, personal, "Cheers, Bob", sharing="personal", owner="agent2"
        ).status_code
        == 302
    )
    number = new_ticket(stack)
    agent1, agent2 = stack.login("agent1"), stack.login("agent2")
    page = agent1.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert billing not in page and personal not in page
    for title in (billing, personal):
        assert (
            agent1.get(f"/desk/tickets/{number}/canned/{answer_id(stack, title)}").status_code
            == 404
        )
    page = agent2.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert billing in page and personal in page
    text = agent2.get(f"/desk/tickets/{number}/canned/{answer_id(stack, billing)}").get_json()
    assert text == {"text": "Refunds take 5 days."}


def test_email_template_is_inserted_rendered_for_the_ticket(stack: Stack) -> None:
    number = new_ticket(stack)
    response = stack.login("agent1").get(f"/desk/tickets/{number}/template/ticket_received")
    assert response.status_code == 200
    assert f"Your request has the number {number}" in response.get_json()["text"]


def test_insert_without_javascript_adds_the_text_to_the_draft(stack: Stack) -> None:
    title = f"Thanks {uuid.uuid4().hex[:6]}"
    canned_answer(stack, title, "Thank you, {{ customer.name }}!")
    number = new_ticket(stack)
    agent = stack.login("agent1")
    page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
    response = agent.post(
        f"/desk/tickets/{number}/drafts/reply/insert",
        data={
            **action_form(page, "reply"),
            "body": "Dear customer,",
            "compose_target": "body",
            "compose_insert_body": f"canned:{answer_id(stack, title)}",
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("#action-reply")
    page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert "Dear customer,\n\nThank you, Jana Nováková!</textarea>" in page


# ----------------------------------------------------------------------------------- drafts


def test_draft_survives_a_reload_and_is_gone_after_sending(stack: Stack, sink: Any) -> None:
    number = new_ticket(stack)
    agent = stack.login("agent1")
    page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
    saved = json_post(
        agent, f"/desk/tickets/{number}/drafts/reply", page, {"fields": {"body": "Half a reply"}}
    )
    assert saved.status_code == 200 and saved.get_json() == {"saved": True}

    page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)  # a reload
    assert ">Half a reply</textarea>" in page
    assert re.search(r'<details class="action action-primary" open>\s*<summary[^>]*>Reply', page)
    # Another agent's page shows nothing of it.
    other = stack.login("admin").get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert "Half a reply" not in other

    sent = agent.post(
        f"/desk/tickets/{number}/actions/reply",
        data={**action_form(page, "reply"), "body": "Half a reply, finished."},
    )
    assert sent.status_code == 302
    with stack.sessions() as session:
        assert session.scalar(select(Draft).where(Draft.ticket_number == number)) is None
    assert "Half a reply</textarea>" not in agent.get(f"/desk/tickets/{number}").get_data(
        as_text=True
    )
    sink.wait_for(1)


def test_discard_draft_button_throws_the_draft_away(stack: Stack) -> None:
    number = new_ticket(stack)
    agent = stack.login("agent1")
    page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
    json_post(agent, f"/desk/tickets/{number}/drafts/comment", page, {"fields": {"body": "Hmm"}})
    page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert "Discard draft" in page and ">Hmm</textarea>" in page
    response = agent.post(
        f"/desk/tickets/{number}/drafts/comment/discard", data=action_form(page, "comment")
    )
    assert response.status_code == 302
    assert ">Hmm</textarea>" not in agent.get(f"/desk/tickets/{number}").get_data(as_text=True)


def test_draft_keeps_only_the_fields_of_its_action(stack: Stack) -> None:
    number = new_ticket(stack)
    agent = stack.login("agent1")
    page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
    json_post(
        agent,
        f"/desk/tickets/{number}/drafts/reply",
        page,
        {"fields": {"body": "Text", "state": "closed", "assignee": "agent2"}},
    )
    with stack.sessions() as session:
        draft = session.get(Draft, ("agent1", number, "reply"))
        assert draft is not None and draft.fields == {"body": "Text"}
    assert (
        json_post(agent, f"/desk/tickets/{number}/drafts/nope", page, {"fields": {}}).status_code
        == 404
    )


def test_draft_save_without_csrf_token_is_refused(stack: Stack) -> None:
    number = new_ticket(stack)
    response = stack.login("agent1").post(
        f"/desk/tickets/{number}/drafts/reply", json={"fields": {"body": "x"}}
    )
    assert response.status_code == 400


# ------------------------------------------------------------------------------ attachments


def test_reply_with_an_attachment_reaches_the_customer_and_the_timeline_links_it(
    stack: Stack, sink: Any
) -> None:
    number = new_ticket(stack)
    agent = stack.login("agent1")
    page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    response = agent.post(
        f"/desk/tickets/{number}/actions/reply",
        data={
            **action_form(page, "reply"),
            "body": "The return label is attached.",
            "attachments": [
                (io.BytesIO(b"%PDF-1.4 label"), "../../Return label.pdf", "application/pdf")
            ],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    [mail] = sink.wait_for(1)
    assert "The return label is attached." in mail.text()
    [part] = list(mail.message.iter_attachments())
    assert part.get_filename() == "Return label.pdf"
    assert part.get_content_type() == "application/pdf"
    assert part.get_content() == b"%PDF-1.4 label"

    page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
    link = re.search(r'<a href="(/desk/attachments/\d+)">Return label.pdf</a>', page)
    assert link, "the timeline links the attachment"
    download = agent.get(link.group(1))
    assert download.data == b"%PDF-1.4 label"
    assert download.headers["Content-Disposition"].startswith("attachment;")


def test_oversized_attachment_is_413_without_half_created_messages(stack: Stack) -> None:
    number = new_ticket(stack)
    agent = stack.login("agent1")
    page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
    before = message_count(stack, number)
    limit = stack.settings.max_attachment_bytes
    response = agent.post(
        f"/desk/tickets/{number}/actions/comment",
        data={
            **action_form(page, "comment"),
            "body": "See the photo.",
            "attachments": [(io.BytesIO(b"x" * (limit + 1)), "photo.jpg", "image/jpeg")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    # The whole request above the per-request limit is refused before the form is read.
    stack.settings.max_upload_bytes, saved = 64 * 1024, stack.settings.max_upload_bytes
    try:
        response = agent.post(
            f"/desk/tickets/{number}/actions/comment",
            data={
                **action_form(page, "comment"),
                "body": "See the photo.",
                "attachments": [(io.BytesIO(b"x" * 100_000), "photo.jpg", "image/jpeg")],
            },
            content_type="multipart/form-data",
        )
    finally:
        stack.settings.max_upload_bytes = saved
    assert response.status_code == 413
    assert message_count(stack, number) == before
    with stack.sessions() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(Attachment)
                .join(Message)
                .where(Message.ticket_number == number)
            )
            == 0
        )


def test_files_without_a_text_are_refused_at_the_text_field(stack: Stack) -> None:
    number = new_ticket(stack)
    agent = stack.login("agent1")
    page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
    response = agent.post(
        f"/desk/tickets/{number}/actions/resolve",
        data={
            **action_form(page, "resolve"),
            "attachments": [(io.BytesIO(b"data"), "notes.txt", "text/plain")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Write a text to go with the files." in response.get_data(as_text=True)


# ---------------------------------------------------------------------- reply versus note


def test_reply_and_note_forms_say_who_reads_them_and_where_the_reply_leaves_from(
    stack: Stack,
) -> None:
    number = new_ticket(stack)
    page = stack.login("agent1").get(f"/desk/tickets/{number}").get_data(as_text=True)
    reply = re.search(r'id="action-reply".*?</form>', page, re.S)
    note = re.search(r'id="action-comment".*?</form>', page, re.S)
    assert reply and note
    assert "Sent to <strong>jana.novakova@example.com</strong>" in reply.group(0)
    assert "Leaves from <strong>Tempodesk Support &lt;" in reply.group(0)
    assert "Only agents see this" not in reply.group(0)
    assert "Only agents see this" in note.group(0) and "Sent to" not in note.group(0)
    assert 'class="action-form compose-note"' in note.group(0)


def test_reply_leaves_from_the_tickets_mailbox_with_its_signature(stack: Stack) -> None:
    from tempodesk.core.models import Channel, Mailbox, Ticket

    name = f"shop-{uuid.uuid4().hex[:6]}"
    with transaction(stack.sessions) as session:
        channel = Channel(name=name, kind="email", label="Shop", address=f"{name}@shop.example")
        session.add(channel)
        session.flush()
        session.add(
            Mailbox(channel_id=channel.id, enabled=False, from_name="Shop", signature="Shop team")
        )
    with stack.sessions() as session:
        sender = mailboxes.reply_sender(session, stack.settings, Ticket(mailbox=name))
        default = mailboxes.reply_sender(session, stack.settings, Ticket(mailbox=None))
    assert (sender.address, sender.name, sender.signature) == (
        f"{name}@shop.example",
        "Shop",
        "Shop team",
    )
    assert (default.address, default.signature) == (stack.settings.mail_from, "")
