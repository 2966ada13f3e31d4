"""A customer's language is remembered on the contact (from the form, the portal, or an
inbound mail's header and text) and chooses the template language; dates and money are
written in the viewer's locale."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from babel.numbers import format_currency
from sqlalchemy import select

from tempodesk.core.models import Contact
from tempodesk.messaging import templates
from tests.helpers import Stack
from tests.web.test_inbound_email import mail, mails_to, post, someone
from tests.web.test_public_form import form_fields
from web import i18n


def contact_language(stack: Stack, email: str) -> str:
    with stack.sessions() as session:
        contact = session.scalar(select(Contact).where(Contact.email == email))
        assert contact is not None
        return contact.language


def test_a_new_customer_of_the_public_form_speaks_the_pages_language(stack: Stack) -> None:
    email = someone()
    client = stack.client()
    headers = {"Accept-Language": "cs"}
    page = client.get("/support/new", headers=headers).get_data(as_text=True)
    response = client.post(
        "/support/new",
        headers=headers,
        data={
            **form_fields(page),
            "name": "Karel",
            "email": email,
            "subject": "Konvice",
            "message": "Nehřeje.",
            "order_number": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert contact_language(stack, email) == "cs"


def test_a_new_customers_mail_is_answered_in_the_language_it_was_written_in(
    stack: Stack, sink: Any
) -> None:
    sender = someone()
    czech = mail(
        sender,
        subject="Rychlovarná konvice nehřeje",
        body="Dobrý den, moje konvice nehřeje. Prosím o pomoc, děkuji.\n",
    )
    response = post(stack, czech)
    assert response.status_code == 202
    number = response.get_json()["ticket"]
    assert contact_language(stack, sender) == "cs"
    [ack] = mails_to(sink, sender, 1)
    czech_subject = templates.BUNDLED["ticket_received"]["texts"]["cs"][0]
    assert ack.subject == czech_subject.replace("{{ ticket.number }}", number)


def test_a_mails_content_language_header_wins_over_its_text(stack: Stack) -> None:
    sender = someone()
    # (EmailMessage.set_content drops Content-* headers set before it: put it on top.)
    headed = b"Content-Language: uk\n" + mail(sender, body="Hello, it does not work.\n")
    assert post(stack, headed).status_code == 202
    assert contact_language(stack, sender) == "uk"


def test_a_template_falls_back_to_the_helpdesks_default_then_english() -> None:
    from tempodesk.core.models import MessageTemplate, TemplateText

    template = MessageTemplate(name="t", channel="email")
    template.texts = [
        TemplateText(language="en", subject="Hi", body="Hello"),
        TemplateText(language="cs", subject="Ahoj", body="Dobrý den"),
    ]
    assert template.text("cs").subject == "Ahoj"  # type: ignore[union-attr]
    assert template.text("de", "cs").subject == "Ahoj"  # type: ignore[union-attr]
    assert template.text("de").subject == "Hi"  # type: ignore[union-attr]
    context = templates.sample_context()
    assert templates.render_template(template, "lt", context, default="cs")[0] == "Ahoj"


def test_dates_and_money_are_written_in_the_viewers_locale(stack: Stack) -> None:
    moment = datetime(2026, 12, 5, 9, 40, tzinfo=UTC)
    shown = {}
    for language in ("en", "cs", "de"):
        headers = {"Accept-Language": language}
        with stack.app.test_request_context("/support/new", headers=headers):
            shown[language] = (i18n.format_when(moment), i18n.format_money("1 290 CZK"))
            assert shown[language][1] == format_currency(1290, "CZK", locale=language)
    assert shown["en"][0] == "Dec 5, 2026 9:40\u202fAM UTC" or "Dec 5, 2026" in shown["en"][0]
    assert re.match(r"^5\. ?12\. ?2026 9:40 UTC$", shown["cs"][0]), shown["cs"][0]
    assert shown["de"][0].startswith("05.12.2026 09:40")
    with stack.app.test_request_context("/support/new", headers={"Accept-Language": "de"}):
        assert i18n.format_money("free shipping") == "free shipping"
        assert i18n.format_number(1290.5) == "1.290,5"


def test_a_mailbox_has_a_language_for_new_contacts_whose_mail_does_not_tell(
    stack: Stack,
) -> None:
    from tempodesk.mail import mailboxes
    from tests.web.test_admin_mail import _fields, _post, _tag

    name = f"lang-{_tag()}"
    client = stack.login("admin")
    refused = _post(client, "/admin/mailboxes/new", _fields(name=name, language="xx"))
    assert refused.status_code == 422
    created = _post(client, "/admin/mailboxes/new", _fields(name=name, language="lt"))
    assert created.status_code == 302
    page = client.get(f"/admin/mailboxes/{name}").get_data(as_text=True)
    assert '<option value="lt" selected' in page
    with stack.sessions() as session:
        assert mailboxes.config(session, name, stack.settings).language == "lt"
    sender = someone()
    assert post(stack, mail(sender, subject="?", body="...\n"), mailbox=name).status_code == 202
    assert contact_language(stack, sender) == "lt"
