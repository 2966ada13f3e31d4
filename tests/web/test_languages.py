"""The languages a helpdesk offers: every enabled language answers the public form in itself,
and the switch, the profiles, forms, mailboxes and contacts offer only the enabled ones."""

from __future__ import annotations

import html
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import yaml
from sqlalchemy import select

from statemachines import bundled
from tempodesk.core.db import transaction
from tempodesk.core.models import Ticket, User
from tempodesk.tickets import processes
from tests.helpers import Stack, csrf_token
from tests.web.portal_helpers import portal_client, unique_email
from tests.web.test_i18n import TRANSLATED, catalog_of, po_path
from web import i18n


@contextmanager
def enabled(stack: Stack, languages: str) -> Iterator[None]:
    """The helpdesk with only ``languages`` enabled (all seven again afterwards)."""
    before = stack.settings.languages
    stack.settings.languages = languages
    try:
        yield
    finally:
        stack.settings.languages = before


def test_every_language_is_named_in_itself() -> None:
    assert i18n.LANGUAGES == {
        "en": "English",
        "cs": "Čeština",
        "de": "Deutsch",
        "uk": "Українська",
        "lt": "Lietuvių",
        "el": "Ελληνικά",
        "ru": "Русский",
    }


@pytest.mark.parametrize("language", TRANSLATED)
def test_support_form_answers_in_the_browsers_language(stack: Stack, language: str) -> None:
    page = stack.client().get("/support/new", headers={"Accept-Language": language})
    text = html.unescape(page.get_data(as_text=True))
    assert f'<html lang="{language}">' in text
    if po_path(language).exists():  # the translators' catalog has landed
        translated = catalog_of(language).get("Contact support").string
        assert translated and translated != "Contact support"
        assert translated in text and "Contact support" not in text


def test_a_helpdesk_offers_only_the_languages_it_enabled(stack: Stack) -> None:
    with enabled(stack, "de,en"):
        page = stack.client().get("/support/new", headers={"Accept-Language": "cs"})
        text = page.get_data(as_text=True)
        assert '<html lang="de">' in text  # not enabled: the helpdesk's default language
        assert 'hreflang="en"' in text and "Čeština" not in text
        refused = stack.client().get("/language/cs?next=/support/new")
        assert "lang=" not in refused.headers.get("Set-Cookie", "")
        chosen = stack.client()
        chosen.get("/language/en?next=/support/new")
        assert '<html lang="en">' in chosen.get("/support/new").get_data(as_text=True)

        profile = stack.login("agent2").get("/desk/profile").get_data(as_text=True)
        assert 'value="de"' in profile and 'value="cs"' not in profile
        contact_form = stack.login("agent1").get("/desk/contacts/new").get_data(as_text=True)
        assert 'value="de"' in contact_form and 'value="uk"' not in contact_form


def test_the_profile_refuses_a_language_not_enabled(stack: Stack) -> None:
    with enabled(stack, "en,de"):
        client = stack.login("agent2")
        page = client.get("/desk/profile").get_data(as_text=True)
        response = client.post(
            "/desk/profile",
            data={"csrf_token": csrf_token(page), "display_name": "", "language": "ru"},
        )
        assert response.status_code == 422
        assert "Use one of: en, de." in response.get_data(as_text=True)


# ------------------------------------------------------------ process texts per language


def multilingual_process(stack: Stack) -> str:
    """A copy of the support process whose new state, spam button and reply field speak
    German and Czech (and English), published under a fresh name."""
    data = yaml.safe_load(bundled("support"))
    data["name"] = name = f"speaks_{uuid.uuid4().hex[:8]}"
    data["states"]["new"]["label"] = {"en": "New", "de": "Neu", "cs": "Nový požadavek"}
    data["states"]["new"]["customer_label"] = {"en": "Received", "de": "Eingegangen"}
    spam = data["actions"]["mark_spam"]
    spam["label"] = {"en": "Mark as spam", "de": "Als Spam markieren"}
    spam["confirm"] = {"en": "Spam?", "de": "Wirklich Spam?"}
    data["actions"]["reply"]["fields"][0]["label"] = {"en": "Answer", "de": "Antwort"}
    with transaction(stack.sessions) as session:
        processes.publish(session, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return name


def ticket_in(stack: Stack, process: str, email: str) -> str:
    response = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": "Sprache",
            "body": "Hallo",
            "customer": {"email": email},
            "process": process,
        },
        headers=stack.api(),
    )
    assert response.status_code == 201, response.get_json()
    number: str = response.get_json()["number"]
    return number


def desk_page(stack: Stack, number: str) -> str:
    return html.unescape(stack.login("agent2").get(f"/desk/tickets/{number}").get_data(True))


@contextmanager
def desk_language(stack: Stack, username: str, language: str) -> Iterator[None]:
    with transaction(stack.sessions) as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        before, user.language = user.language, language
    try:
        yield
    finally:
        with transaction(stack.sessions) as session:
            user = session.scalar(select(User).where(User.username == username))
            assert user is not None
            user.language = before


def test_the_desk_shows_a_processs_labels_in_the_agents_language(stack: Stack) -> None:
    number = ticket_in(stack, multilingual_process(stack), unique_email())
    with desk_language(stack, "agent2", "de"):
        page = desk_page(stack, number)
    assert ">Neu<" in page and "Als Spam markieren" in page
    assert 'data-confirm="Wirklich Spam?"' in page and "Antwort" in page
    assert "Nový požadavek" not in page


def test_a_language_the_labels_lack_falls_back_to_the_default_then_english(stack: Stack) -> None:
    number = ticket_in(stack, multilingual_process(stack), unique_email())
    with desk_language(stack, "agent2", "lt"), enabled(stack, "cs,en,lt"):
        page = desk_page(stack, number)  # Czech is the helpdesk's default
        assert ">Nový požadavek<" in page
        assert "Mark as spam" in page  # no Czech, no Lithuanian: the English
    with desk_language(stack, "agent2", "lt"):
        assert ">New<" in desk_page(stack, number)  # the default is English
    context = stack.app.test_request_context("/desk/", headers={"Accept-Language": "de"})
    with context, stack.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert i18n.state_text(ticket) == "Neu"


def test_the_portal_shows_the_customer_label_in_the_customers_language(stack: Stack) -> None:
    email = unique_email()
    number = ticket_in(stack, multilingual_process(stack), email)
    client = portal_client(stack, email)
    client.get("/language/de?next=/portal/")
    page = html.unescape(client.get(f"/portal/tickets/{number}").get_data(as_text=True))
    assert "Eingegangen" in page and "Received" not in page
    listing = html.unescape(client.get("/portal/tickets").get_data(as_text=True))
    assert "Eingegangen" in listing


def test_the_process_editor_warns_about_enabled_languages_a_text_lacks(stack: Stack) -> None:
    name = multilingual_process(stack)
    client = stack.login("admin")
    with enabled(stack, "en,de,cs"):
        page = html.unescape(client.get(f"/admin/processes/{name}/yaml").get_data(as_text=True))
        assert 'id="language-warnings"' in page
        assert "No text in cs." in page  # the spam button speaks English and German only
        form = html.unescape(client.get(f"/admin/processes/{name}/edit").get_data(as_text=True))
        assert 'id="language-warnings"' in form
        assert 'value="en: New | de: Neu | cs: Nový požadavek"' in form
    with enabled(stack, "en"):
        page = client.get(f"/admin/processes/{name}/yaml").get_data(as_text=True)
        assert 'id="language-warnings"' not in page
