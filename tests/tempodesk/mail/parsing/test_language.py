# ruff: noqa: RUF001  (Greek and Cyrillic letters are the point here)
"""Which language an inbound mail is in: its Content-Language header, else a small
deterministic guess from its text (script, letters only one language has, common words)."""

from __future__ import annotations

import pytest

from tempodesk.mail.parsing.language import detect, header_language, mail_language

SAMPLES = {
    "en": "Hello, my kettle does not work any more. Please help, thank you.",
    "cs": "Dobrý den, moje rychlovarná konvice nehřeje. Prosím o pomoc, děkuji.",
    "de": "Guten Tag, mein Wasserkocher funktioniert nicht mehr. Bitte helfen Sie, danke.",
    "lt": "Laba diena, mano virdulys neveikia. Prašau padėti, ačiū.",
    "el": "Καλημέρα, ο βραστήρας μου δεν ζεσταίνει. Παρακαλώ βοηθήστε με.",
    "uk": "Добрий день, мій чайник не працює. Будь ласка, допоможіть, дякую.",
    "ru": "Здравствуйте, мой чайник не работает. Пожалуйста, помогите, спасибо.",
}


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_each_language_is_recognised_from_a_short_request(language: str) -> None:
    assert detect(SAMPLES[language]) == language


def test_ukrainian_and_russian_are_told_apart_by_their_own_letters() -> None:
    assert detect("Їжак і єнот ґудзик") == "uk"
    assert detect("Съешь этих мягких булок, ещё") == "ru"


def test_too_little_text_is_no_guess() -> None:
    assert detect("") == ""
    assert detect("OK") == ""
    assert detect("Привет") == ""  # Cyrillic, but Ukrainian or Russian?
    assert detect("12345 !!!") == ""


def test_the_header_wins_when_it_names_a_language_we_speak() -> None:
    assert header_language("de-AT, en;q=0.5") == "de"
    assert header_language("fr, uk") == "uk"
    assert header_language("fr") == ""
    assert mail_language("cs", "Hello", SAMPLES["en"]) == "cs"
    assert mail_language("fr", "", SAMPLES["lt"]) == "lt"
    assert mail_language(None, "Re: objednávka", "Dobrý den, děkuji") == "cs"
