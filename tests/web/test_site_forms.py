"""Forms an admin configures per site: /support/<slug>, its embedded twin, internal forms."""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tempodesk.core.db import transaction
from tempodesk.core.models import Contact, Message, Ticket
from tempodesk.tickets import forms
from tempodesk.tickets.form_fields import FormField
from tests.helpers import Stack, csrf_token
from tests.web.portal_helpers import create, issue, open_link, unique_email

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def make_form(stack: Stack, **changes: Any) -> str:
    slug = changes.pop("slug", f"f-{uuid.uuid4().hex[:8]}")
    settings = forms.FormSettings(
        slug=slug,
        title="Suppliers write",
        confirmation="Our purchasing team answers within two days.",
        group="Billing",
        owner="agent2",
        fields=[
            FormField("serial", "Serial number", "text", required=True, max_length=40),
            FormField("delivery", "Delivery", "select", choices=("Courier", "Post office")),
            FormField("quantity", "Quantity", "number"),
            FormField("urgent", "Urgent", "checkbox"),
        ],
    )
    for name, value in changes.items():
        setattr(settings, name, value)
    with transaction(stack.sessions) as session:
        forms.save(session, settings, max_attachment_bytes=stack.settings.max_attachment_bytes)
    return slug


def submission(html: str) -> str:
    found = re.search(r'name="submission" type="hidden" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def post(
    stack: Stack, slug: str, client: FlaskClient | None = None, **fields: Any
) -> tuple[FlaskClient, Any]:
    client = client or stack.client()
    page = client.get(f"/support/{slug}").get_data(as_text=True)
    data: dict[str, Any] = {
        "csrf_token": csrf_token(page),
        "submission": submission(page),
        "name": "Petr Dodavatel",
        "email": f"{uuid.uuid4().hex[:8]}@supplier.example",
        "subject": "Delivery of 40 chairs",
        "message": "The chairs leave our warehouse on Monday.",
        "serial": "SN-4711-X",
        "delivery": "Courier",
        "quantity": "3",
    }
    data.update(fields)
    return client, client.post(f"/support/{slug}", data=data)


def filed(client: FlaskClient, response: Any) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    found = re.search(r'class="ticket-number">([^<]+)<', page)
    assert found is not None
    return found.group(1)


def ticket(stack: Stack, number: str) -> Ticket:
    with stack.sessions() as session:
        found = session.scalar(select(Ticket).where(Ticket.number == number))
        assert found is not None
        return found


def messages(stack: Stack) -> int:
    with stack.sessions() as session:
        return session.scalar(select(func.count()).select_from(Message)) or 0


def test_a_form_files_a_ticket_whose_fields_are_searchable_and_labelled(stack: Stack) -> None:
    slug = make_form(stack)
    client, response = post(stack, slug, urgent="y")
    number = filed(client, response)
    confirmation = client.get(f"/support/{slug}/submitted").get_data(as_text=True)
    assert "Our purchasing team answers within two days." in confirmation
    found = ticket(stack, number)
    assert found.form == slug and found.channel == "web"
    assert found.fields == {
        "serial": "SN-4711-X",
        "delivery": "Courier",
        "quantity": 3,
        "urgent": True,
    }
    # The form's channel chose the group and the owner (no account owner for this customer).
    assert (found.group_name, found.assignee) == ("Billing", "agent2")
    agent = stack.login("admin")
    page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert "<dt>Serial number</dt><dd>SN-4711-X</dd>" in page
    assert number in agent.get("/desk/search?q=SN-4711-X").get_data(as_text=True)
    api = stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api()).get_json()
    assert api["form"] == slug and api["fields"]["serial"] == "SN-4711-X"


def test_a_forged_choice_or_a_wrong_type_is_refused_and_files_nothing(stack: Stack) -> None:
    slug = make_form(stack)
    before = messages(stack)
    _, response = post(stack, slug, delivery="Teleport", quantity="many", serial="")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for error in (
        "Choose one of the offered values.",
        "Enter a number.",
        "This field is required.",
    ):
        assert error in html
    assert messages(stack) == before


def test_a_post_without_its_csrf_token_is_refused(stack: Stack) -> None:
    slug = make_form(stack)
    client = stack.client()
    page = client.get(f"/support/{slug}").get_data(as_text=True)
    before = messages(stack)
    response = client.post(
        f"/support/{slug}",
        data={"submission": submission(page), "email": "x@example.org", "subject": "forged"},
    )
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)
    assert messages(stack) == before


HOSTILE = "<script>alert(1)</script>{{ ''.__class__ }}\u202egnp.exe"


def test_hostile_text_in_every_field_is_stored_as_text_and_shown_inert(stack: Stack) -> None:
    slug = make_form(
        stack,
        fields=[
            FormField("note", "Note", "longtext", max_length=500),
            FormField("ref", "Reference", "text", max_length=100),
        ],
    )
    refused = post(stack, slug, email=HOSTILE)[1]
    assert refused.status_code == 422
    assert "Enter a valid email address." in refused.get_data(as_text=True)
    client, response = post(
        stack,
        slug,
        name=HOSTILE,
        subject=HOSTILE,
        message=HOSTILE,
        note=HOSTILE,
        ref=HOSTILE,
        order_number="<b>ORD</b>{{7*7}}",
    )
    number = filed(client, response)
    assert ticket(stack, number).fields == {"note": HOSTILE, "ref": HOSTILE}
    html = stack.login("admin").get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{ &#39;&#39;.__class__ }}" in html
    assert "&lt;class" not in html and "<class" not in html
    assert "<b>ORD</b>" not in html and "{{7*7}}" in html


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("message", "NUL \x00 inside", "Some fields are not filled in correctly."),
        ("subject", "x" * 400, "At most 300 characters."),
        ("serial", "x" * 41, "At most 40 characters."),
    ],
)
def test_unstorable_or_over_long_text_is_refused(
    stack: Stack, field: str, value: str, error: str
) -> None:
    slug = make_form(stack)
    before = messages(stack)
    _, response = post(stack, slug, **{field: value})
    assert response.status_code in (400, 422)
    assert error in response.get_data(as_text=True)
    assert messages(stack) == before


def test_files_are_checked_against_the_forms_size_and_types(stack: Stack) -> None:
    slug = make_form(stack, max_attachment_bytes=1024, attachment_types="pdf")
    before = messages(stack)
    cases = [
        ((PDF * 100, "big.pdf"), "is larger than 1 KB"),
        ((b"MZ\x90\x00", "tool.exe"), "allowed are pdf"),
        ((PNG, "photo.pdf"), "is not what its name says"),
    ]
    for (data, name), error in cases:
        _, response = post(stack, slug, attachments=(io.BytesIO(data), name))
        assert response.status_code == 422, name
        assert error in response.get_data(as_text=True)
    assert messages(stack) == before
    client, response = post(stack, slug, attachments=(io.BytesIO(PDF), "invoice.pdf"))
    number = filed(client, response)
    with stack.sessions() as session:
        message = session.scalar(select(Message).where(Message.ticket_number == number))
        assert message is not None
        assert [a.filename for a in message.attachments] == ["invoice.pdf"]


def test_a_form_without_files_refuses_one(stack: Stack) -> None:
    slug = make_form(stack)
    _, response = post(stack, slug, attachments=(io.BytesIO(PDF), "invoice.pdf"))
    assert response.status_code == 422
    assert "This form takes no files." in response.get_data(as_text=True)


def test_spam_is_refused_by_links_blocked_words_and_the_trap(stack: Stack) -> None:
    slug = make_form(stack, blocked_words="casino\ncheap watches", max_links=1)
    before = messages(stack)
    for fields, error in [
        ({"message": "See https://a.example and https://b.example"}, "At most 1 links"),
        ({"message": "Best CASINO bonus"}, "could not be sent"),
        ({"message": "https://a.example/x"}, "not only links"),
        ({"website": "http://bot.example"}, "could not be sent"),
    ]:
        _, response = post(stack, slug, **fields)
        assert response.status_code == 422
        assert error in response.get_data(as_text=True)
    assert messages(stack) == before


def test_one_address_sending_too_often_is_limited(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack.settings, "public_form_address_rate_limit", "2/minute")
    slug = make_form(stack)
    address = f"{uuid.uuid4().hex[:8]}@flood.example"
    statuses = [post(stack, slug, email=address)[1].status_code for _ in range(3)]
    assert statuses == [302, 302, 429]


def test_only_the_embedded_form_may_be_framed_and_only_by_its_origins(stack: Stack) -> None:
    slug = make_form(stack, embed_origins="https://shop.example.com\nhttps://b2b.example.com")
    client = stack.client()
    embedded = client.get(f"/support/{slug}/embed")
    policy = embedded.headers["Content-Security-Policy"]
    assert "frame-ancestors https://shop.example.com https://b2b.example.com" in policy
    assert "script-src 'self'" in policy and "X-Frame-Options" not in embedded.headers
    assert 'class="top"' not in embedded.get_data(as_text=True)  # no site navigation
    own = client.get(f"/support/{slug}")
    assert "frame-ancestors 'none'" in own.headers["Content-Security-Policy"]
    assert own.headers["X-Frame-Options"] == "DENY"
    script = client.get(f"/support/{slug}/embed.js")
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]
    assert "iframe" in script.get_data(as_text=True)
    nowhere = make_form(stack)
    assert (
        "frame-ancestors 'none'"
        in (client.get(f"/support/{nowhere}/embed").headers["Content-Security-Policy"])
    )


def embedded_fields(html: str) -> dict[str, str]:
    return {
        "submission": submission(html),
        "name": "Eva",
        "email": "eva.embedded@example.com",
        "subject": "From the shop's page",
        "message": "Sent from the iframe.",
        "serial": "SN-EMBED-1",
    }


def test_an_embedded_form_works_without_our_session_and_a_forged_one_fails(
    stack: Stack,
) -> None:
    slug = make_form(stack, embed_origins="https://shop.example.com")
    html = stack.client().get(f"/support/{slug}/embed").get_data(as_text=True)
    assert 'name="csrf_token"' not in html
    # Another client: the third-party iframe's post carries none of our cookies.
    response = stack.client().post(
        f"/support/{slug}/embed",
        data=embedded_fields(html),
        headers={"Origin": "https://shop.example.com"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "frame-ancestors https://shop.example.com" in response.headers["Content-Security-Policy"]
    number = re.search(r'class="ticket-number">([^<]+)<', response.get_data(as_text=True))
    assert number is not None and ticket(stack, number.group(1)).fields["serial"] == "SN-EMBED-1"
    before = messages(stack)
    forged = {**embedded_fields(html), "submission": "made-up"}
    assert stack.client().post(f"/support/{slug}/embed", data=forged).status_code == 422
    other = make_form(stack)  # a key of another form does not fit this one
    other_html = stack.client().get(f"/support/{other}").get_data(as_text=True)
    moved = {**embedded_fields(html), "submission": submission(other_html)}
    assert stack.client().post(f"/support/{slug}/embed", data=moved).status_code == 422
    elsewhere = stack.client().post(
        f"/support/{slug}/embed",
        data=embedded_fields(stack.client().get(f"/support/{slug}/embed").get_data(as_text=True)),
        headers={"Origin": "https://evil.example"},
    )
    assert elsewhere.status_code == 403
    assert messages(stack) == before


def test_an_internal_form_asks_to_sign_in_and_files_as_the_signed_in_contact(
    stack: Stack,
) -> None:
    slug = make_form(stack, internal=True)
    response = stack.client().get(f"/support/{slug}")
    assert response.status_code == 302
    assert f"/portal/login?next=/support/{slug}" in response.headers["Location"]
    assert stack.client().get(f"/support/{slug}/embed").status_code == 404
    email = unique_email()
    create(stack, email)
    client = stack.client()
    back = open_link(client, f"/portal/login/{issue(stack, email)}?next=/support/{slug}")
    assert back.status_code == 302 and back.headers["Location"].endswith(f"/support/{slug}")
    assert "Signed in as" in client.get(f"/support/{slug}").get_data(as_text=True)
    client, response = post(stack, slug, client, email="someone.else@example.com", name="X")
    number = filed(client, response)
    assert ticket(stack, number).customer_email == email


def test_a_form_speaks_its_language_and_new_contacts_get_it(stack: Stack) -> None:
    slug = make_form(stack, language="cs")
    page = stack.client().get(f"/support/{slug}", headers={"Accept-Language": "en"})
    assert 'lang="cs"' in page.get_data(as_text=True)
    address = f"{uuid.uuid4().hex[:8]}@novy.example"
    client, response = post(stack, slug, email=address)
    filed(client, response)
    with stack.sessions() as session:
        contact = session.scalar(select(Contact).where(Contact.email == address))
        assert contact is not None and contact.language == "cs"


def test_an_inactive_or_unknown_form_is_not_found(stack: Stack) -> None:
    slug = make_form(stack, active=False)
    assert stack.client().get(f"/support/{slug}").status_code == 404
    assert stack.client().get("/support/no-such-form").status_code == 404
    assert stack.client().get("/support/new").status_code == 200


def admin_post(client: FlaskClient, path: str, **data: Any) -> Any:
    page = client.get(path).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_token(page), **data})


def test_admin_creates_edits_and_deactivates_a_form(stack: Stack) -> None:
    admin = stack.login("admin")
    slug = f"a-{uuid.uuid4().hex[:8]}"
    base = {
        "title": "Candidates write",
        "slug": slug,
        "active": "y",
        "ask_order": "y",
        "max_links": "3",
        "max_attachment_kb": "0",
        "fields-0-key": "position",
        "fields-0-label": "Position",
        "fields-0-type": "select",
        "fields-0-choices": "Developer\r\nTester",
        "fields-0-max_length": "100",
        "fields-0-order": "1",
        "fields-1-key": "",
        "fields-1-label": "",
    }
    refused = admin_post(
        admin,
        "/admin/forms/new",
        **{**base, "fields-0-key": "email", "embed_origins": "javascript:alert(1)"},
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "This key belongs to the form itself" in html
    assert "Not an origin like https://shop.example.com" in html
    saved = admin_post(admin, "/admin/forms/new", **base)
    assert saved.status_code == 302
    with stack.sessions() as session:
        found = forms.find(session, slug)
        assert found is not None and [f.key for f in found.fields] == ["position"]
    assert "Developer" in stack.client().get(f"/support/{slug}").get_data(as_text=True)
    renamed = admin_post(admin, f"/admin/forms/{slug}", **{**base, "slug": "other"})
    assert renamed.status_code == 422
    assert "A form&#39;s address stays" in renamed.get_data(as_text=True)
    listing = admin.get("/admin/forms").get_data(as_text=True)
    assert "Candidates write" in listing
    response = admin.post(
        f"/admin/forms/{slug}/active", data={"csrf_token": csrf_token(listing), "active": "0"}
    )
    assert response.status_code == 302
    assert stack.client().get(f"/support/{slug}").status_code == 404


def test_agents_may_not_open_the_forms_admin(stack: Stack) -> None:
    assert stack.login("agent1").get("/admin/forms").status_code == 403


def test_the_demo_seeds_a_shop_form(stack: Stack) -> None:
    page = stack.client().get("/support/shop")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Questions about an order" in html and "Pick-up point" in html
    embedded = stack.client().get("/support/shop/embed")
    assert "frame-ancestors https://shop.example.com" in embedded.headers["Content-Security-Policy"]
