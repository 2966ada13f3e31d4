"""The languages Tempodesk speaks, the enabled ones (``TEMPODESK_LANGUAGES``) and the fallback
chain every choice of language follows."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tempodesk.core import languages
from tempodesk.core.settings import Settings


def test_enabled_languages_keep_their_order_once_each_and_the_first_is_the_default() -> None:
    assert languages.parse_enabled(" de, EN,de ,cs") == ("de", "en", "cs")
    assert languages.parse_enabled("") == ("en",)
    settings = Settings(languages="uk,en")
    assert settings.enabled_languages == ("uk", "en")
    assert settings.default_language == "uk"
    assert Settings().enabled_languages == languages.LANGUAGES


def test_an_unknown_language_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="Unknown language 'fr'"):
        Settings(languages="en,fr")


def test_texts_fall_back_from_the_viewer_to_the_default_to_english_to_the_first() -> None:
    texts = {"cs": "Nový", "en": "New", "de": "Neu"}
    assert languages.pick(texts, "de", "cs") == "Neu"
    assert languages.pick(texts, "uk", "cs") == "Nový"
    assert languages.pick(texts, "uk", "lt") == "New"
    assert languages.pick({"el": "Νέο", "ru": "Новый"}, "uk", "lt") == "Νέο"
    assert languages.pick({"de": ""}, "de") is None
    assert languages.chain("en", "en") == ("en",)


def test_a_choice_offers_the_enabled_languages_and_keeps_one_no_longer_enabled() -> None:
    assert languages.offered(("en", "de"), "ru") == ["en", "de", "ru"]
    assert languages.offered(("en", "de"), "de") == ["en", "de"]
    assert languages.offered(("en", "de"), "xx") == ["en", "de"]
