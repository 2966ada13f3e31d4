"""The languages a helpdesk offers: every enabled language answers the public form in itself,
and the switch, the profiles, forms, mailboxes and contacts offer only the enabled ones."""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.helpers import Stack, csrf_token
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
